/**
 * The long-poll client against a hostile HTTP server on 127.0.0.1 (attack
 * review E): bodies past the size limit are not read whole, and a server
 * answering every `receive` with 204 at once is not polled in a spin.
 */

import { equal, match, ok } from "node:assert/strict";
import { connect } from "../../mod.ts";
import { connectLongPoll } from "../../transports/longpoll/client.ts";
import { TransportError } from "../../wamp/mod.ts";
import { until, within } from "../_helpers/router.ts";
import { assertIdle } from "./_hostile.ts";

/**
 * A long-poll server whose `receive` streams `mib` MiB of JSON whitespace, answers 204, or 200
 * with nothing; a `send` it answers 204, or holds for ever.
 */
function server(
  receive: "stream" | "204" | "empty 200",
  options: { mib?: number; open?: string; holdSends?: boolean } = {},
) {
  const state = { sent: 0, receives: 0, held: 0 };
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const path = new URL(request.url).pathname;
    if (path === "/lp/open") {
      return new Response(
        options.open ?? JSON.stringify({ protocol: "wamp.2.json", transport: "t1" }),
      );
    }
    if (path === "/lp/t1/receive") {
      state.receives++;
      if (receive === "204") return new Response(null, { status: 204 });
      if (receive === "empty 200") return new Response("");
      const chunk = new Uint8Array(64 * 1024).fill(0x20);
      let left = (options.mib ?? 8) * 16;
      return new Response(
        new ReadableStream({
          pull(controller) {
            if (left-- > 0) {
              state.sent += chunk.length;
              controller.enqueue(chunk);
            } else controller.close();
          },
        }, { highWaterMark: 1 }),
      );
    }
    if (path === "/lp/t1/send" && options.holdSends) {
      state.held++;
      return new Promise<Response>((resolve) => {
        request.signal.addEventListener("abort", () => {
          state.held--;
          resolve(new Response(null, { status: 204 }));
        });
      });
    }
    return new Response(null, { status: 204 });
  });
  return { url: `http://127.0.0.1:${http.addr.port}/lp`, state, http };
}

Deno.test("long-poll client: a receive body over maxMessageSize fails the link before it is read whole", async () => {
  const lp = server("stream", { mib: 64 });
  try {
    const link = await connectLongPoll(lp.url, {
      serializers: ["json"],
      maxMessageSize: 64 * 1024,
    });
    const got: string[] = [];
    link.bind({
      receive: () => void got.push("receive"),
      fail: (error) => void got.push(`fail ${error.message}`),
      closed: () => void got.push("closed"),
    });
    await until(() => got.includes("closed"), 5000, "the link closes");
    equal(got.length, 2, JSON.stringify(got));
    match(got[0]!, /receive body over 65536 bytes/);
    // What the server could push into socket buffers before the client canceled, not 64 MiB.
    ok(lp.state.sent < 16 * 1024 * 1024, `server sent ${lp.state.sent} bytes`);
  } finally {
    await lp.http.shutdown();
  }
});

Deno.test("long-poll client: connect() hands maxMessageSize to the long-poll link", async () => {
  const lp = server("stream", { mib: 64 });
  try {
    const error = await within(
      connect(lp.url, { realm: "r", serializers: ["json"], maxMessageSize: 1024 * 1024 })
        .then(() => undefined, (e: unknown) => e),
      8000,
      "the join",
    );
    match(String(error), /receive body over 1048576 bytes/);
    ok(lp.state.sent < 16 * 1024 * 1024, `server sent ${lp.state.sent} bytes`);
  } finally {
    await lp.http.shutdown();
  }
});

Deno.test("long-poll client: an answer to open over 64 KiB is refused", async () => {
  const lp = server("204", { open: " ".repeat(200_000) + "{}" });
  try {
    const error = await within(
      connectLongPoll(lp.url, { serializers: ["json"] }).then(() => undefined, (e: unknown) => e),
      5000,
    );
    ok(error instanceof TransportError, String(error));
    match(error.message, /answer to open over 65536 bytes/);
  } finally {
    await lp.http.shutdown();
  }
});

for (const answer of ["204", "empty 200"] as const) {
  Deno.test(`long-poll client: quick ${answer}s to receive back off instead of polling in a spin`, async () => {
    const lp = server(answer);
    try {
      const link = await connectLongPoll(lp.url, { serializers: ["json"] });
      link.bind({ receive() {}, fail() {}, closed() {} });
      await new Promise((resolve) => setTimeout(resolve, 1000));
      // 25, 50, 100, 200, 400 ms of backoff fit in a second: a handful of receives, not thousands.
      ok(lp.state.receives <= 10, `${lp.state.receives} receives in 1 s`);
      ok(lp.state.receives >= 3, `${lp.state.receives} receives in 1 s`);
      link.close();
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      await lp.http.shutdown();
    }
  });
}

Deno.test("long-poll client: close() is over within its timeout though the server holds a send", async () => {
  const lp = server("204", { holdSends: true });
  try {
    const link = await connectLongPoll(lp.url, { serializers: ["json"] });
    let closed = false;
    link.bind({ receive() {}, fail() {}, closed: () => void (closed = true) });
    link.send({ type: 1, realm: "r", details: {} } as Parameters<typeof link.send>[0]);
    await until(() => lp.state.held === 1, 2000, "the held send");
    link.close();
    await within(until(() => closed, 7000, "closed"), 8000);
    await until(() => lp.state.held === 0, 2000, "the send aborted");
  } finally {
    await lp.http.shutdown();
  }
});

Deno.test("long-poll client: a server that never answers open fails connect() after handshakeTimeout", async () => {
  const held: ((response: Response) => void)[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Promise<Response>((resolve) => held.push(resolve)), // answered at the end only
  );
  try {
    const url = `http://127.0.0.1:${server.addr.port}/lp`;
    for (
      const attempt of [
        () => connectLongPoll(url, { handshakeTimeout: 300 }),
        () => connect(url, { realm: "r", handshakeTimeout: 300 }),
      ]
    ) {
      const started = Date.now();
      const error = await within(attempt().then(() => undefined, (e: unknown) => e), 5000, "open");
      ok(error instanceof TransportError, String(error));
      match(error.message, /no answer to open in 300 ms/);
      ok(Date.now() - started < 2000);
    }
  } finally {
    for (const answer of held) answer(new Response("late"));
    await server.shutdown().catch(() => {});
  }
});

Deno.test("long-poll client: close() keeps its deadline though a held send is answered just before it", async () => {
  const held: (() => void)[] = [];
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const path = new URL(request.url).pathname;
    if (path === "/lp/open") {
      return new Response(JSON.stringify({ protocol: "wamp.2.json", transport: "t1" }));
    }
    if (path === "/lp/t1/send") {
      return new Promise((resolve) =>
        setTimeout(() => resolve(new Response(null, { status: 204 })), 4500)
      );
    }
    if (path === "/lp/t1/close") {
      return new Promise<Response>((resolve) => {
        held.push(() => resolve(new Response(null, { status: 204 })));
      });
    }
    return new Response(null, { status: 204 });
  });
  try {
    const link = await connectLongPoll(`http://127.0.0.1:${http.addr.port}/lp`, {
      serializers: ["json"],
    });
    let closed = 0;
    link.bind({ receive() {}, fail() {}, closed: () => void (closed = performance.now()) });
    link.send({ type: 1, realm: "r", details: {} } as Parameters<typeof link.send>[0]);
    const started = performance.now();
    link.close();
    await within(until(() => closed > 0, 9000, "closed"), 10_000);
    ok(closed - started < 6500, `closed after ${Math.round(closed - started)} ms`);
  } finally {
    for (const release of held) release();
    await http.shutdown();
  }
});

Deno.test("long-poll client: a join that times out stops its Argon2id derivation though the server holds its send", async () => {
  const hello = Promise.withResolvers<{ authextra: { nonce: string } }>();
  let challenged = false;
  const held: (() => void)[] = []; // sends answered only at the end
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const path = new URL(request.url).pathname;
    if (path === "/lp/open") {
      return new Response(JSON.stringify({ protocol: "wamp.2.json", transport: "t1" }));
    }
    if (path === "/lp/t1/send") {
      const msg = await request.json();
      if (msg[0] === 1) hello.resolve(msg[2]);
      return new Promise<Response>((resolve) => held.push(() => resolve(new Response(null))));
    }
    if (path === "/lp/t1/receive" && !challenged) {
      challenged = true;
      const details = await hello.promise;
      const extra = {
        nonce: `${details.authextra.nonce}s`,
        salt: btoa("saltsaltsaltsalt"),
        kdf: "argon2id13",
        iterations: 16,
        memory: 65536,
      };
      return new Response(JSON.stringify([4, "wamp-scram", extra]));
    }
    return new Response(null, { status: 204 });
  });
  try {
    const joining = connect(`http://127.0.0.1:${http.addr.port}/lp`, {
      realm: "r",
      serializers: ["json"],
      authid: "a",
      password: "p",
      timeout: 500,
    });
    await within(joining.catch(() => {}), 5000, "the join's end");
    await assertIdle(); // a derivation left running stops at its next step
  } finally {
    for (const release of held) release();
    await http.shutdown();
  }
});
