/**
 * One client could hold every slot of an open subscriber path (a path's
 * `maxInFlight` counts open SSE streams, and an open path asks for no
 * credentials): 100 streams from one address, kept open, made every other
 * address's request 429. A source address may now have
 * `maxStreamsPerSource` (16) streams open on a path; one more is answered
 * 429 from its head, another address still opens its own, and a stream
 * that ends, however it ends, frees its place once. Raw sockets, so each
 * stream comes from the loopback address it is bound to.
 */

import { deepEqual, equal, match } from "node:assert/strict";
import type net from "node:net";
import { connectFrom, portOf, startBridge } from "./_bridge.ts";

/** An open subscriber path of role `app`, with `more` settings. */
const open = (path: string, more: Record<string, unknown> = {}) => ({
  path,
  type: "subscriber",
  realm: "realm1",
  role: "app",
  auth: "none",
  ...more,
});

/** A stream request's answer: its status, what came of its body, its connection. */
interface Answer {
  status: number;
  text: string;
  socket: net.Socket;
  /** Resolves once the server closed the connection. */
  ended: Promise<void>;
}

/**
 * GETs `target` from `localAddress` and waits for a refusal's whole body,
 * or a stream's `: subscribed` comment (its subscription made). Close an
 * open stream with `socket.destroy()`.
 */
async function get(port: number, localAddress: string, target: string): Promise<Answer> {
  const { socket, ended, until } = await connectFrom(port, localAddress);
  socket.write(`GET ${target} HTTP/1.1\r\nhost: x\r\n\r\n`);
  socket.setTimeout(5000, () => socket.destroy()); // no answer in 5 s
  const text = await until((got) => {
    const end = got.indexOf("\r\n\r\n");
    if (end < 0) return false;
    const length = /content-length: (\d+)/i.exec(got.slice(0, end))?.[1];
    const body = got.slice(end + 4);
    return length === undefined ? /: subscribed \d+\n/.test(body) : body.length >= Number(length);
  });
  socket.setTimeout(0);
  const body = text.slice(text.indexOf("\r\n\r\n") + 4);
  return { status: Number(text.slice(9, 12)), text: body, socket, ended: ended.then(() => {}) };
}

/** A request answered at once (a refusal): its status and body; its connection closed. */
async function refused(port: number, localAddress: string, target: string) {
  const answer = await get(port, localAddress, target);
  answer.socket.destroy();
  await answer.ended;
  return { status: answer.status, body: JSON.parse(answer.text) };
}

/** Closes every stream and waits until the server saw each go. */
async function closeAll(answers: Answer[]): Promise<void> {
  for (const { socket } of answers) socket.destroy();
  await Promise.all(answers.map((a) => a.ended));
}

const TOPIC = "/sse?topic=com.example.news";

Deno.test("maxStreamsPerSource: one address has at most 16 streams open on a path (429 from the head); another address still opens one", async () => {
  await using t = await startBridge([open("/sse")]);
  const port = portOf(t.base);
  const streams: Answer[] = [];
  try {
    for (let i = 0; i < 16; i++) streams.push(await get(port, "127.0.0.1", TOPIC));
    deepEqual(streams.map((s) => s.status), Array(16).fill(200));
    deepEqual(await refused(port, "127.0.0.1", TOPIC), {
      status: 429,
      body: {
        error: "cloverleaf.error.limit_exceeded",
        args: ["16 streams from your address already open on /sse"],
        kwargs: {},
      },
    });
    // Another source: its own count.
    const other = await get(port, "127.0.0.2", TOPIC);
    streams.push(other);
    equal(other.status, 200);
    match(other.text, /: subscribed \d+/);
  } finally {
    await closeAll(streams);
  }
});

Deno.test("maxStreamsPerSource: a stream that ends frees its place once (client gone, subscription revoked, refused)", async () => {
  await using t = await startBridge([open("/sse", { maxStreamsPerSource: 2, heartbeat: 100 })]);
  const port = portOf(t.base);
  const streams: Answer[] = [];
  try {
    const a = await get(port, "127.0.0.1", TOPIC);
    const b = await get(port, "127.0.0.1", TOPIC);
    streams.push(a, b);
    equal((await refused(port, "127.0.0.1", TOPIC)).status, 429);
    // The client goes: its place is free again (once the server sees it go), for one stream only.
    a.socket.destroy();
    let again = await get(port, "127.0.0.1", TOPIC);
    for (let i = 0; i < 50 && again.status !== 200; i++) {
      again.socket.destroy();
      await new Promise((r) => setTimeout(r, 20));
      again = await get(port, "127.0.0.1", TOPIC);
    }
    streams.push(again);
    equal(again.status, 200);
    equal((await refused(port, "127.0.0.1", TOPIC)).status, 429);
    // The router ends a stream (its subscription revoked; the heartbeat finds it): a place again.
    const id = Number(/: subscribed (\d+)/.exec(b.text)![1]);
    equal(t.router.revokeSubscription("realm1", id), true);
    await b.ended;
    // Every stream of the path shared that subscription: all have ended.
    await Promise.all(streams.map((s) => s.ended));
    // Requests refused after they were let in (bad match, bad topic) free their place, once each:
    // with a stream open, so that freeing one twice would let a third in.
    const c = await get(port, "127.0.0.1", TOPIC);
    streams.push(c);
    equal(c.status, 200);
    for (let i = 0; i < 3; i++) {
      equal((await refused(port, "127.0.0.1", `${TOPIC}&match=regex`)).status, 400);
      equal((await refused(port, "127.0.0.1", "/sse?topic=%00abc")).status, 400);
    }
    const d = await get(port, "127.0.0.1", TOPIC);
    streams.push(d);
    equal(d.status, 200);
    equal((await refused(port, "127.0.0.1", TOPIC)).status, 429);
  } finally {
    await closeAll(streams);
  }
});

Deno.test("maxStreamsPerSource 0 lifts the per-address limit (maxInFlight still bounds the path)", async () => {
  await using t = await startBridge([
    open("/sse", { maxStreamsPerSource: 0, maxInFlight: 20 }),
    open("/few", { maxStreamsPerSource: 1 }),
  ]);
  const port = portOf(t.base);
  const streams: Answer[] = [];
  try {
    for (let i = 0; i < 20; i++) streams.push(await get(port, "127.0.0.1", TOPIC));
    deepEqual(streams.map((s) => s.status), Array(20).fill(200));
    const full = await refused(port, "127.0.0.1", TOPIC);
    equal(full.status, 429);
    match(full.body.args[0], /20 requests already being answered on \/sse/);
    // The limit is per path: another path counts its own streams.
    streams.push(await get(port, "127.0.0.1", "/few?topic=com.example.news"));
    equal(streams.at(-1)!.status, 200);
    equal((await refused(port, "127.0.0.1", "/few?topic=com.example.news")).status, 429);
  } finally {
    await closeAll(streams);
  }
});
