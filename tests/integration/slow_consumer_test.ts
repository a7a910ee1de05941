/**
 * Slow consumers over every socket transport: a subscriber that stops
 * reading while 50k events flow to a healthy one is bounded by its
 * listener's outbound limits (far below 16 MB), the healthy subscriber
 * loses nothing and sees every event in order, and a caller over the limit
 * under `drop` is closed rather than silently losing its RESULT.
 */

import { equal, ok } from "node:assert/strict";
import net from "node:net";
import { connectLocal, type Session } from "../../mod.ts";
import { rawWebSocket } from "../_helpers/raw_websocket.ts";
import { startRouter, type TestRouter, until } from "../_helpers/router.ts";

const TOTAL = 50_000;
const TOPIC = "com.example.flood";
const MAX_BACKLOG = 1024 * 1024;

/** The router-side session of the stalled subscriber. */
interface Stalled {
  droppedEvents: number;
  peer: { backlog(): number; queued(): number; info: { type: string } };
}

/** A RawSocket JSON subscriber that stops reading once subscribed. */
async function stalledRawSocket(url: string): Promise<{ close(): void }> {
  const { hostname, port } = new URL(url);
  const socket = net.connect({ host: hostname, port: Number(port) });
  await new Promise((resolve) => socket.once("connect", resolve));
  const frame = (msg: unknown) => {
    const body = new TextEncoder().encode(JSON.stringify(msg));
    const out = new Uint8Array(4 + body.length);
    new DataView(out.buffer).setUint32(0, body.length);
    out.set(body, 4);
    return out;
  };
  socket.write(Uint8Array.of(0x7f, 0xf1, 0, 0));
  socket.write(frame([1, "realm1", { roles: { subscriber: {} } }]));
  socket.write(frame([32, 1, {}, TOPIC]));
  let seen = "";
  await new Promise<void>((resolve) => {
    const onData = (chunk: Uint8Array) => {
      seen += new TextDecoder().decode(chunk);
      if (!seen.includes("[33,1,")) return;
      socket.off("data", onData);
      resolve();
    };
    socket.on("data", onData);
  });
  socket.pause();
  return { close: () => socket.destroy() };
}

/** A WebSocket JSON subscriber that stops reading once subscribed. */
async function stalledWebSocket(url: string): Promise<{ close(): void }> {
  const raw = await rawWebSocket(url, ["wamp.2.json"]);
  await raw.send('[1, "realm1", {"roles": {"subscriber": {}}}]');
  await raw.read();
  await raw.send(`[32, 1, {}, "${TOPIC}"]`);
  await raw.read();
  return { close: () => raw.close() };
}

function stalledSession(t: TestRouter, type: string): Stalled | undefined {
  return [...t.router.realm("realm1")!.members()].find((m) =>
    (m as unknown as Stalled).peer?.info.type === type &&
    (m as unknown as Stalled).droppedEvents > 0
  ) as unknown as Stalled | undefined;
}

/** Publishes TOTAL events, paced by the healthy subscriber (a window of 500). */
async function flood(publisher: Session, received: () => number): Promise<void> {
  const payload = "x".repeat(200);
  for (let i = 0; i < TOTAL; i += 500) {
    for (let j = 0; j < 500; j++) publisher.publish(TOPIC, { args: [i + j, payload] });
    await until(() => received() >= i + 500, 10_000, `healthy subscriber at ${i + 500}`);
  }
}

for (const transport of ["rawsocket", "websocket"] as const) {
  Deno.test(`[${transport}] a subscriber that stops reading while ${TOTAL} events flow stays under its bound; the healthy one loses nothing`, async () => {
    await using t = await startRouter({
      listener: { attach: { maxBacklog: MAX_BACKLOG, slowConsumer: "drop" } },
    });
    const healthy = await connectLocal(t.router, "realm1");
    const seen: number[] = [];
    let outOfOrder = 0;
    await healthy.subscribe(TOPIC, (e) => {
      const seq = e.args[0] as number;
      if (seq !== seen.length) outOfOrder++;
      seen.push(seq);
    });
    const stalled = transport === "rawsocket"
      ? await stalledRawSocket(t.listener.urls.rawsocket!)
      : await stalledWebSocket(t.listener.urls.websocket!);
    const publisher = await connectLocal(t.router, "realm1");
    await flood(publisher, () => seen.length);
    equal(seen.length, TOTAL);
    equal(outOfOrder, 0);
    const slow = stalledSession(t, transport);
    ok(slow !== undefined, "the stalled subscriber had events dropped");
    // What the router holds for it: its outbound limit plus one message.
    ok(slow.peer.backlog() <= MAX_BACKLOG + 1024, `backlog ${slow.peer.backlog()} bytes`);
    ok(slow.droppedEvents > 0 && slow.droppedEvents < TOTAL);
    ok(t.logs.some((l) => l.includes("slow consumer")));
    stalled.close();
    await publisher.close();
    await healthy.close();
  });
}

Deno.test("a caller over its outbound limit is closed, never silently denied its RESULT", async () => {
  await using t = await startRouter({
    listener: { attach: { maxBacklogMessages: 2000, slowConsumer: "drop" } },
  });
  const callee = await connectLocal(t.router, "realm1");
  await callee.register("com.example.big", () => ({ args: ["r".repeat(1000)] }));
  // A raw caller that sends 12,000 CALLs and never reads a RESULT.
  const { hostname, port } = new URL(t.listener.urls.rawsocket!);
  const socket = net.connect({ host: hostname, port: Number(port) });
  await new Promise((resolve) => socket.once("connect", resolve));
  socket.pause(); // never reads a RESULT
  const frames: Uint8Array[] = [Uint8Array.of(0x7f, 0xf1, 0, 0)];
  const frame = (msg: unknown) => {
    const body = new TextEncoder().encode(JSON.stringify(msg));
    const out = new Uint8Array(4 + body.length);
    new DataView(out.buffer).setUint32(0, body.length);
    out.set(body, 4);
    frames.push(out);
  };
  frame([1, "realm1", { roles: { caller: {} } }]);
  for (let i = 1; i <= 12_000; i++) frame([48, i, {}, "com.example.big"]);
  let at = 0;
  const all = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  for (const f of frames) {
    all.set(f, at);
    at += f.length;
  }
  socket.write(all);
  await until(() => t.logs.some((l) => l.includes("closing session")), 20_000, "closing log");
  equal(t.router.realm("realm1")!.size, 1, "only the callee is left");
  socket.destroy();
  await callee.close();
});
