/**
 * `maxSendBacklog`: a router that stops reading while it sends
 * INVOCATIONs (raw TCP on 127.0.0.1 speaking just enough WebSocket) gets
 * the session ended instead of its answers queued without end; requests
 * the application makes past it are refused without leaving a gap in the
 * request IDs, a half call, or a withdrawal undone (our router, with the
 * link's backlog raised by the test).
 */

import { equal, ok } from "node:assert/strict";
import { openLink } from "../../client/connect.ts";
import { sessionEnd } from "../../client/connection_options.ts";
import { connectGlobalWebSocket } from "../../client/links/web_socket.ts";
import { Session } from "../../client/session.ts";
import { ErrorUri } from "../../mod.ts";
import { acceptKey } from "../../transports/websocket/framing.ts";
import { startRouter, type TestRouter, within } from "../_helpers/router.ts";

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

Deno.test("a session ended because the router did not read is a lost link for a Connection: it reconnects", () => {
  const [kind] = sessionEnd({ reason: ErrorUri.LIMIT_EXCEEDED, details: {}, by: "client" });
  equal(kind, "lost");
});

/** Joins over RawSocket with `maxSendBacklog` 1000 and a backlog the test raises (a router not reading). */
async function joinBacklogged(
  t: TestRouter,
): Promise<{ session: Session; set: (n: number) => void }> {
  const link = await openLink(t.listener.urls.rawsocket!, { serializers: ["json"] });
  let extra = 0;
  const real = link.backlog.bind(link);
  link.backlog = () => real() + extra;
  const session = await Session.join(link, { realm: "realm1", maxSendBacklog: 1000 });
  return { session, set: (n) => extra = n };
}

Deno.test("a CALL or PUBLISH refused past maxSendBacklog takes no request ID: the session goes on", async () => {
  await using t = await startRouter();
  const callee = await Session.join(await openLink(t.listener.urls.rawsocket!, {}), {
    realm: "realm1",
  });
  await callee.register("com.example.echo", () => ({ args: ["ok"] }));
  const { session, set } = await joinBacklogged(t);
  set(5000);
  const refused = (e: unknown) => (e as { uri?: string }).uri === ErrorUri.LIMIT_EXCEEDED;
  ok(await session.call("com.example.echo").then(() => false, refused), "the CALL is refused");
  ok(
    await session.publish("com.example.t", { args: [1] }).then(() => false, refused),
    "the PUBLISH",
  );
  set(0);
  // The router numbers requests strictly: a skipped ID would have ended the session.
  equal((await within(session.call("com.example.echo"), 3000)).args[0], "ok");
  await session.close();
  await callee.close();
});

Deno.test("a progressive call refused mid-stream is cancelled at the router: the callee's invocation ends", async () => {
  await using t = await startRouter();
  const callee = await Session.join(await openLink(t.listener.urls.rawsocket!, {}), {
    realm: "realm1",
  });
  let signal: AbortSignal | undefined;
  await callee.register("com.example.sum", async (_args, _kwargs, _details, invocation) => {
    signal = invocation.signal;
    let sum = 0;
    for await (const chunk of invocation.chunks) sum += Number(chunk.args[0]);
    return { args: [sum] };
  });
  const { session, set } = await joinBacklogged(t);
  let release!: () => void;
  const gate = new Promise<void>((resolve) => release = resolve);
  async function* input() {
    yield { args: [1] };
    yield { args: [2] }; // the first chunk goes once the client knows more follow
    await gate;
    yield { args: [3] };
  }
  const calling = session.call("com.example.sum", input()).then(() => "result", (e) => e.uri);
  await new Promise((resolve) => setTimeout(resolve, 200));
  set(5000);
  release();
  equal(await calling, ErrorUri.LIMIT_EXCEEDED);
  set(0);
  await within(
    (async () => {
      while (signal?.aborted !== true) await new Promise((resolve) => setTimeout(resolve, 10));
    })(),
    3000,
    "the callee's invocation ends",
  );
  await session.close();
  await callee.close();
});

Deno.test("withdrawals are never refused: an unregister() past maxSendBacklog still reaches the router", async () => {
  await using t = await startRouter();
  const { session, set } = await joinBacklogged(t);
  const registration = await session.register("com.example.echo", () => ({ args: ["ok"] }));
  set(5000);
  await registration.unregister();
  set(0);
  const caller = await Session.join(await openLink(t.listener.urls.rawsocket!, {}), {
    realm: "realm1",
  });
  const outcome = await caller.call("com.example.echo").then(() => "result", (e) => e.uri);
  equal(outcome, ErrorUri.NO_SUCH_PROCEDURE);
  await caller.close();
  await session.close();
});
