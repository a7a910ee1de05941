/**
 * The client's own WebSocket and RawSocket stacks against a hostile
 * server over raw TCP on 127.0.0.1 (attack review E): one that never reads
 * but floods PINGs, one that accepts TCP and never speaks TLS.
 */

import { equal, match, ok } from "node:assert/strict";
import { connectGlobalWebSocket } from "../../client/links/web_socket.ts";
import { connectRawSocket } from "../../transports/rawsocket/client.ts";
import { connectWebSocket } from "../../transports/websocket/client.ts";
import { acceptKey } from "../../transports/websocket/framing.ts";
import { TransportError } from "../../wamp/mod.ts";
import { within } from "../_helpers/router.ts";
import { silentServer } from "./_hostile.ts";

Deno.test("client wire: a router that floods PINGs and never reads gets at most maxBacklog of PONGs queued", async () => {
  const MIB = 24;
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  let conn: Deno.Conn | undefined;
  const flood = (async () => {
    conn = await listener.accept();
    const buf = new Uint8Array(4096);
    const n = (await conn.read(buf))!;
    const head = new TextDecoder().decode(buf.subarray(0, n));
    const key = /Sec-WebSocket-Key: (.*)\r\n/i.exec(head)![1]!;
    await conn.write(new TextEncoder().encode(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Accept: ${acceptKey(key)}\r\nSec-WebSocket-Protocol: wamp.2.json\r\n\r\n`,
    ));
    const ping = new Uint8Array(127);
    ping[0] = 0x89;
    ping[1] = 125;
    const chunk = new Uint8Array(127 * 8256); // 1 MiB of 125-byte PINGs
    for (let i = 0; i < 8256; i++) chunk.set(ping, i * 127);
    for (let i = 0; i < MIB; i++) {
      let off = 0;
      while (off < chunk.length) off += await conn.write(chunk.subarray(off));
    }
  })().catch(() => {/* the client closed, or the test did */});
  try {
    const link = await connectWebSocket(`ws://127.0.0.1:${port}`, {
      serializers: ["json"],
      maxBacklog: 1024 * 1024,
    });
    let closed = false;
    link.bind({ receive() {}, fail() {}, closed: () => void (closed = true) });
    let peak = 0;
    const deadline = Date.now() + 2000;
    while (Date.now() < deadline && !closed) {
      peak = Math.max(peak, link.backlog());
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    ok(peak <= 2 * 1024 * 1024, `peak backlog ${(peak / 2 ** 20).toFixed(1)} MiB`);
    link.close();
  } finally {
    conn?.close();
    listener.close();
    await flood;
  }
});

Deno.test("client wire: a server that accepts TCP and never answers TLS fails the connection after handshakeTimeout", async () => {
  await using server = silentServer();
  const { port, held } = server;
  const attempts: [string, () => Promise<unknown>][] = [
    ["wss", () => connectWebSocket(`wss://127.0.0.1:${port}`, { handshakeTimeout: 300 })],
    ["tcps", () => connectRawSocket(`tcps://127.0.0.1:${port}`, { handshakeTimeout: 300 })],
  ];
  for (const [name, attempt] of attempts) {
    const started = Date.now();
    const error = await within(attempt().then(() => undefined, (e: unknown) => e), 5000, name);
    ok(error instanceof TransportError, `${name}: ${error}`);
    match(error.message, /no TLS handshake in 300 ms/, name);
    ok(Date.now() - started < 2000, name);
  }
  equal(held.length, 2);
});

Deno.test("global WebSocket link: a server that accepts TCP and never answers the upgrade fails after handshakeTimeout", async () => {
  await using server = silentServer();
  const started = Date.now();
  const error = await within(
    connectGlobalWebSocket(`ws://127.0.0.1:${server.port}`, { handshakeTimeout: 300 })
      .then(() => undefined, (e: unknown) => e),
    5000,
    "the attempt",
  );
  ok(error instanceof TransportError, String(error));
  match(error.message, /not open in 300 ms/);
  ok(Date.now() - started < 2000);
});
