/**
 * Before its session joined, a connection's message over 64 KiB is refused
 * from its frame header (RawSocket, WebSocket) or the request head (long-poll
 * `send`), with ABORT `wamp.error.protocol_violation`: the router never
 * holds the megabytes a header announces for a connection nobody
 * authenticated (up to `maxMessageSize` each, 16 MiB by default, before).
 * Each peer here sends a header announcing 8 MiB and a few bytes of it,
 * then waits: the ABORT must come without the rest.
 */

import { equal, match, ok } from "node:assert/strict";
import net from "node:net";
import { connect } from "../../mod.ts";
import { startRouter, until, within } from "../_helpers/router.ts";

const ANNOUNCED = 8 * 1024 * 1024;

/** Writes `bytes`, then collects what comes back until it matches `done`, the router closes, or `ms` pass. */
async function exchange(
  port: number,
  bytes: Uint8Array[],
  done: RegExp,
  ms = 3000,
): Promise<string> {
  const socket = net.connect({ host: "127.0.0.1", port });
  await new Promise((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  const got: Buffer[] = [];
  const closed = new Promise<void>((resolve) => {
    socket.on("data", (chunk: Buffer) => {
      got.push(chunk);
      if (done.test(Buffer.concat(got).toString("latin1"))) socket.destroy();
    });
    socket.on("close", () => resolve());
    socket.on("error", () => {});
  });
  for (const part of bytes) {
    socket.write(part);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const timer = setTimeout(() => socket.destroy(), ms);
  await closed;
  clearTimeout(timer);
  return Buffer.concat(got).toString("latin1");
}

const ABORTED = /"wamp\.error\.protocol_violation"\]/;

const ascii = (text: string) => new TextEncoder().encode(text);

/** A WebSocket upgrade request for `wamp.2.json` on /ws. */
const UPGRADE = ascii(
  "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
    "Sec-WebSocket-Protocol: wamp.2.json\r\n\r\n",
);

function portOf(url: string): number {
  return Number(new URL(url).port);
}

Deno.test("RawSocket: a frame header announcing 8 MiB before HELLO gets ABORT at once", async () => {
  await using t = await startRouter();
  const header = Uint8Array.of(0, (ANNOUNCED >> 16) & 0xff, 0, 0);
  const got = await within(exchange(portOf(t.listener.urls.rawsocket!), [
    Uint8Array.of(0x7f, 0xf1, 0, 0),
    header,
    ascii('[1,"realm1",{"authid":"'),
  ], ABORTED));
  match(got, /"wamp\.error\.protocol_violation"/);
  match(got, /before the session joined: 8388608 bytes/);
});

Deno.test("WebSocket: a frame header announcing 8 MiB before HELLO gets ABORT and close", async () => {
  await using t = await startRouter();
  // FIN + text, masked, 64-bit length, a zero mask: the payload reads as it is.
  const header = Uint8Array.of(0x81, 0xff, 0, 0, 0, 0, 0, ANNOUNCED >> 16, 0, 0, 0, 0, 0, 0);
  const got = await within(exchange(portOf(t.listener.urls.websocket!), [
    UPGRADE,
    header,
    ascii('[1,"realm1",{"authid":"'),
  ], ABORTED));
  match(got, /^HTTP\/1\.1 101/);
  match(got, /"wamp\.error\.protocol_violation"/);
  match(got, /before the session joined: 8388608 bytes/);
});

Deno.test("long-poll: a send announcing 8 MiB before HELLO gets 413, and the session ABORT", async () => {
  await using t = await startRouter();
  const base = t.listener.urls.longpoll!;
  const opened = await fetch(`${base}/open`, {
    method: "POST",
    body: JSON.stringify({ protocols: ["wamp.2.json"] }),
  });
  const { transport } = await opened.json() as { transport: string };
  const path = `${new URL(base).pathname}/${transport}/send`;
  const got = await within(exchange(portOf(base), [
    ascii(
      `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${ANNOUNCED}\r\n\r\n`,
    ),
    ascii('[1,"realm1",{"authid":"'),
  ], /^HTTP\/1\.1 \d+[^]*\r\n\r\n[^]+/));
  match(got, /^HTTP\/1\.1 413/);
  const received = await within(fetch(`${base}/${transport}/receive`, { method: "POST" }));
  equal(received.status, 200);
  const abort = await received.json() as unknown[];
  equal(abort[0], 3);
  equal(abort[2], "wamp.error.protocol_violation");
  ok(t.logs.some((line) => /before the session joined: 8388608 bytes/.test(line)));
});

/** A JSON message framed for RawSocket, or as a masked WebSocket text frame (a zero mask). */
function framed(transport: "rawsocket" | "websocket", msg: unknown): Uint8Array {
  const body = ascii(JSON.stringify(msg));
  const n = body.length;
  const head = transport === "rawsocket"
    ? [0, n >> 16, (n >> 8) & 0xff, n & 0xff]
    : n < 126
    ? [0x81, 0x80 | n, 0, 0, 0, 0]
    : n < 65536
    ? [0x81, 0xfe, n >> 8, n & 0xff, 0, 0, 0, 0]
    : [0x81, 0xff, 0, 0, 0, 0, n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff, 0, 0, 0, 0];
  const out = new Uint8Array(head.length + n);
  out.set(head);
  out.set(body, head.length);
  return out;
}

const PADS = {
  "4 MiB of ASCII": "x".repeat(4 << 20),
  "60,000 three-byte chars": "€".repeat(60_000),
};
for (const transport of ["rawsocket", "websocket"] as const) {
  for (const [what, pad] of Object.entries(PADS)) {
    Deno.test(`${transport}: a HELLO of ${what} after GOODBYE is refused, though its header came while the session was joined`, async () => {
      await using t = await startRouter();
      const publisher = await connect(t.url, { realm: "realm1" });
      for (let i = 0; i < 3000; i++) {
        publisher.publish(`com.r.t${i}`, { args: [i] }, { retain: true });
      }
      await publisher.publish("com.r.last", { args: [0] }, { retain: true, acknowledge: true });
      const hello = [1, "realm1", { roles: { subscriber: {} } }];
      const opening = transport === "rawsocket" ? Uint8Array.of(0x7f, 0xf1, 0, 0) : UPGRADE;
      // Costly SUBSCRIBEs use up the connection's turn: the GOODBYE behind them waits for the
      // next, while the big HELLO's header is already parsed.
      const costly = Array.from(
        { length: 12 },
        (_, i) => framed(transport, [32, 1 + i, { match: "prefix", get_retained: true }, "com.r"]),
      );
      const rest = [
        framed(transport, [6, {}, "wamp.close.normal"]),
        framed(transport, [1, "realm1", {
          roles: { subscriber: {} },
          authextra: { pad },
        }]),
      ];
      const port = portOf(transport === "rawsocket" ? t.listener.urls.rawsocket! : t.url);
      const got = await within(
        exchange(
          port,
          [opening, framed(transport, hello), Buffer.concat([...costly, ...rest])],
          ABORTED,
        ),
      );
      equal(got.match(/\[2,\d+/g)?.length, 1, "one WELCOME");
      match(got, /before the session joined: \d+ bytes/);
      await publisher.close();
    });
  }
}

Deno.test("websocket: a HELLO and a 100 KiB PUBLISH sent with the upgrade request: WELCOME, PUBLISHED", async () => {
  await using t = await startRouter();
  const hello = framed("websocket", [1, "realm1", { roles: { publisher: {} } }]);
  const publish = framed("websocket", [16, 1, { acknowledge: true }, "com.example.big", [
    "y".repeat(100_000),
  ]]);
  const got = await within(
    exchange(portOf(t.url), [Buffer.concat([UPGRADE, hello, publish])], /\[17,1,/),
  );
  match(got, /\[2,\d+/);
  match(got, /\[17,1,/);
});

Deno.test("websocket batched: a large HELLO part after a GOODBYE part in one frame is refused", async () => {
  await using t = await startRouter();
  const ws = new WebSocket(t.url, ["wamp.2.json.batched"]);
  const got: string[] = [];
  ws.onmessage = (e) => got.push(...String(e.data).split("\x1e").filter((m) => m !== ""));
  const closed = new Promise<void>((resolve) => ws.onclose = () => resolve());
  await new Promise((resolve) => ws.onopen = resolve);
  ws.send(`${JSON.stringify([1, "realm1", { roles: { subscriber: {} } }])}\x1e`);
  await until(() => got.some((m) => m.startsWith("[2,")), 3000, "WELCOME");
  const pad = "x".repeat(1 << 20);
  ws.send(
    `${JSON.stringify([6, {}, "wamp.close.normal"])}\x1e` +
      `${JSON.stringify([1, "realm1", { roles: { subscriber: {} }, authextra: { pad } }])}\x1e`,
  );
  await within(closed, 5000, "the close");
  ok(got.some((m) => /^\[3,.*before the session joined/.test(m)), got.join("\n").slice(0, 500));
  equal(got.filter((m) => m.startsWith("[2,")).length, 1, "one WELCOME");
});
