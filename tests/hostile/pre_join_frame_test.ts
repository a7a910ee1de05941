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
import { startRouter, within } from "../_helpers/router.ts";

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
  match(got, /8388608 bytes before the session joined/);
});

Deno.test("WebSocket: a frame header announcing 8 MiB before HELLO gets ABORT and close", async () => {
  await using t = await startRouter();
  const upgrade = ascii(
    "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
      "Sec-WebSocket-Protocol: wamp.2.json\r\n\r\n",
  );
  // FIN + text, masked, 64-bit length, a zero mask: the payload reads as it is.
  const header = Uint8Array.of(0x81, 0xff, 0, 0, 0, 0, 0, ANNOUNCED >> 16, 0, 0, 0, 0, 0, 0);
  const got = await within(exchange(portOf(t.listener.urls.websocket!), [
    upgrade,
    header,
    ascii('[1,"realm1",{"authid":"'),
  ], ABORTED));
  match(got, /^HTTP\/1\.1 101/);
  match(got, /"wamp\.error\.protocol_violation"/);
  match(got, /8388608 bytes before the session joined/);
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
  ok(t.logs.some((line) => /body over 65540 bytes before the session joined/.test(line)));
});
