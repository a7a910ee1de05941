/**
 * Under `--workers`, a long-poll `send` may reach another worker than its
 * transport's, which relays it. Before the transport's session joined, a
 * body over 64 KiB must be refused from the request head there too: the
 * relaying worker asks the owner first, so it never holds the megabytes a
 * head announces for a session nobody authenticated (it read them whole,
 * up to `maxMessageSize`, before). Two listeners (two "workers", each with
 * its relay on a Unix socket) in front of one router, over real sockets.
 */

import { equal, match, ok } from "node:assert/strict";
import net from "node:net";
import { Router } from "../../router/mod.ts";
import { listen, type Listener } from "../../transports/listener.ts";
import { LongPollRelay } from "../../transports/longpoll/relay.ts";
import { within } from "../_helpers/router.ts";

const ANNOUNCED = 8 * 1024 * 1024;
const ascii = (text: string) => new TextEncoder().encode(text);

interface Bed extends AsyncDisposable {
  /** Long-poll base URLs of worker 1 and worker 2. */
  one: string;
  two: string;
  logs: string[];
}

async function startBed(): Promise<Bed> {
  const logs: string[] = [];
  const router = new Router({
    realms: [{ name: "realm1" }],
    logger: (_level, text) => void logs.push(text),
  });
  const dir = await Deno.makeTempDir();
  const sockets = [`${dir}/relay-1.sock`, `${dir}/relay-2.sock`];
  const relays = [1, 2].map((worker) =>
    new LongPollRelay({ worker, sockets, secret: "s3cret-s3cret-s3cret" })
  );
  const listeners: Listener[] = [];
  for (const via of relays) {
    listeners.push(
      await listen(router, {
        port: 0,
        rawsocket: false,
        longpoll: { relay: { via, name: "0" } },
        log: (_level, text) => void logs.push(text),
      }),
    );
  }
  return {
    one: listeners[0]!.urls.longpoll!,
    two: listeners[1]!.urls.longpoll!,
    logs,
    async [Symbol.asyncDispose]() {
      for (const listener of listeners) await listener.close();
      await router.close();
      for (const relay of relays) await relay.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

async function post(url: string, body?: string): Promise<{ status: number; text: string }> {
  const res = await within(fetch(url, { method: "POST", body: body ?? null }), 5000, url);
  return { status: res.status, text: await res.text() };
}

/** Opens a JSON transport on `base`'s worker; returns its ID. */
async function open(base: string): Promise<string> {
  const opened = await post(`${base}/open`, JSON.stringify({ protocols: ["wamp.2.json"] }));
  equal(opened.status, 200, opened.text);
  return JSON.parse(opened.text).transport;
}

/** Sends a request head announcing `ANNOUNCED` bytes and a few of them; returns the answer's status line, or "" when none came in 3 s. */
async function announce(base: string, transport: string): Promise<string> {
  const url = new URL(base);
  const socket = net.connect({ host: "127.0.0.1", port: Number(url.port) });
  await new Promise((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  let got = "";
  const answered = new Promise<void>((resolve) => {
    socket.on("data", (chunk: Buffer) => {
      got += chunk.toString("latin1");
      if (got.includes("\r\n")) resolve();
    });
    socket.on("close", () => resolve());
    socket.on("error", () => {});
  });
  socket.write(ascii(
    `POST ${url.pathname}/${transport}/send HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${ANNOUNCED}\r\n\r\n` +
      '[1,"realm1",{"authid":"',
  ));
  const timer = setTimeout(() => socket.destroy(), 3000);
  await answered;
  clearTimeout(timer);
  socket.destroy();
  return got.split("\r\n")[0]!;
}

Deno.test("relayed long-poll: a send announcing 8 MiB before HELLO gets 413 from the other worker, and the session ABORT", async () => {
  await using bed = await startBed();
  const transport = await open(bed.one);
  match(await announce(bed.two, transport), /^HTTP\/1\.1 413/);
  const received = await post(`${bed.one}/${transport}/receive`);
  equal(received.status, 200);
  const abort = JSON.parse(received.text) as unknown[];
  equal(abort[0], 3);
  equal(abort[2], "wamp.error.protocol_violation");
  ok(
    bed.logs.some((line) => /before the session joined: 8388608 bytes/.test(line)),
    bed.logs.join("\n"),
  );
});

Deno.test("relayed long-poll: a send over 64 KiB to an unknown transport gets 404 from its head", async () => {
  await using bed = await startBed();
  const transport = await open(bed.one);
  match(await announce(bed.two, `${transport.slice(0, -2)}zz`), /^HTTP\/1\.1 404/);
});

Deno.test("relayed long-poll: once joined, a 1 MiB PUBLISH through the other worker is taken", async () => {
  await using bed = await startBed();
  const transport = await open(bed.one);
  const hello = JSON.stringify([1, "realm1", { roles: { publisher: {} } }]);
  equal((await post(`${bed.two}/${transport}/send`, hello)).status, 204);
  const welcome = await post(`${bed.one}/${transport}/receive`);
  equal(JSON.parse(welcome.text)[0], 2, welcome.text);
  const big = JSON.stringify([16, 1, { acknowledge: true }, "com.example.big", [
    "x".repeat(1 << 20),
  ]]);
  equal((await post(`${bed.two}/${transport}/send`, big)).status, 204);
  const published = await post(`${bed.one}/${transport}/receive`);
  equal(JSON.parse(published.text)[0], 17, published.text);
});

Deno.test("relayed long-poll: a client's request carrying the relay's admission headers is no admission query", async () => {
  await using bed = await startBed();
  const victim = await open(bed.one);
  const hello = JSON.stringify([1, "realm1", { roles: { subscriber: {} } }]);
  equal((await post(`${bed.two}/${victim}/send`, hello)).status, 204);
  equal(JSON.parse((await post(`${bed.one}/${victim}/receive`)).text)[0], 2);
  const forged = await within(
    fetch(`${bed.two}/w1-bogus/send`, {
      method: "POST",
      body: "[]",
      headers: { "x-cloverleaf-relay-transport": victim, "x-cloverleaf-relay-size": "999999999" },
    }),
    5000,
  );
  equal(forged.status, 404, await forged.text());
  // The victim's session goes on: a SUBSCRIBE is answered.
  equal((await post(`${bed.two}/${victim}/send`, '[32,1,{},"com.example.t"]')).status, 204);
  equal(JSON.parse((await post(`${bed.one}/${victim}/receive`)).text)[0], 33);
});
