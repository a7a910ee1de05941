/**
 * A router that stops reading while it sends INVOCATIONs: the client over
 * a global `WebSocket` (which cannot stop reading) ends the session with
 * `cloverleaf.error.limit_exceeded` once `maxSendBacklog` of its answers
 * wait, instead of queueing them without end. The "router" is raw TCP on
 * 127.0.0.1 speaking just enough WebSocket.
 */

import { equal, ok } from "node:assert/strict";
import { connectGlobalWebSocket } from "../../client/links/web_socket.ts";
import { Session } from "../../client/session.ts";
import { ErrorUri } from "../../mod.ts";
import { acceptKey } from "../../transports/websocket/framing.ts";
import { within } from "../_helpers/router.ts";

const utf8 = new TextEncoder();

/** An unmasked server text frame (payload under 64 KiB). */
function textFrame(text: string): Uint8Array {
  const payload = utf8.encode(text);
  const head = payload.length < 126
    ? Uint8Array.of(0x81, payload.length)
    : Uint8Array.of(0x81, 126, payload.length >> 8, payload.length & 0xff);
  const frame = new Uint8Array(head.length + payload.length);
  frame.set(head);
  frame.set(payload, head.length);
  return frame;
}

Deno.test("a router that stops reading while it sends INVOCATIONs: the session ends past maxSendBacklog", async () => {
  const MAX = 256 * 1024;
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  let conn: Deno.Conn | undefined;
  let invocations = 0;
  const router = (async () => {
    conn = await listener.accept();
    const buf = new Uint8Array(4096);
    const n = (await conn.read(buf))!;
    const key = /Sec-WebSocket-Key: (.*)\r\n/i.exec(
      new TextDecoder().decode(buf.subarray(0, n)),
    )![1]!;
    await conn.write(utf8.encode(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Accept: ${acceptKey(key)}\r\nSec-WebSocket-Protocol: wamp.2.json\r\n\r\n`,
    ));
    await conn.read(buf); // HELLO; nothing is read after it
    await conn.write(textFrame(`[2,1,{"roles":{"dealer":{}}}]`));
    // INVOCATIONs for a registration the client does not have: each gets an ERROR.
    const batch: Uint8Array[] = [];
    for (let i = 0; i < 1000; i++) {
      batch.push(textFrame(`[68,${i + 1},9,{},[${"0,".repeat(40)}0]]`));
    }
    const chunk = new Uint8Array(batch.reduce((sum, f) => sum + f.length, 0));
    batch.reduce((at, f) => (chunk.set(f, at), at + f.length), 0);
    for (let round = 0; round < 400; round++) {
      let off = 0;
      while (off < chunk.length) off += await conn.write(chunk.subarray(off));
      invocations += 1000;
    }
  })().catch(() => {/* the client closed */});
  try {
    const link = await connectGlobalWebSocket(`ws://127.0.0.1:${port}`, {});
    const session = await Session.join(link, { realm: "realm1", maxSendBacklog: MAX });
    const closed = await within(session.closed, 20_000, "the session ends");
    equal(closed.reason, ErrorUri.LIMIT_EXCEEDED);
    const message = String(closed.details.message);
    ok(message.includes("the router is not reading"), message);
    ok(link.backlog() < MAX + 64 * 1024, `${link.backlog()} bytes wait`);
    ok(invocations < 400_000, `it ended before the router sent all ${invocations} INVOCATIONs`);
  } finally {
    conn?.close();
    listener.close();
    await router;
  }
});
