/**
 * Slow consumers over every socket transport: a subscriber that stops
 * reading while 50k events flow to a healthy one is bounded by its
 * listener's outbound limits (far below 16 MB), the healthy subscriber
 * loses nothing and sees every event in order, and a caller that stops
 * reading its RESULTs is paused (the router stops reading from it) rather
 * than closed or silently denied one, as long as the replies it can have
 * in flight (`callsPerSession` of them) fit in half its outbound limit.
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import type net from "node:net";
import { connectLocal, type Session } from "../../mod.ts";
import { concat } from "../../transports/stream/bytes.ts";
import { jsonFrame, rawTcp, stalledSubscriber } from "../_helpers/raw_rawsocket.ts";
import { rawWebSocket } from "../_helpers/raw_websocket.ts";
import { startRouter, type TestRouter, until, within } from "../_helpers/router.ts";
import { realmOf } from "../../router/router.ts";

const TOTAL = 50_000;
const TOPIC = "com.example.flood";
const MAX_BACKLOG = 1024 * 1024;

/** The router-side session of the stalled subscriber. */
interface Stalled {
  droppedEvents: number;
  peer: { backlog(): number; queued(): number; info: { type: string } };
}

/** A WebSocket JSON subscriber that stops reading once subscribed. */
async function stalledWebSocket(url: string): Promise<{ destroy(): void }> {
  const raw = await rawWebSocket(url, ["wamp.2.json"]);
  await raw.send('[1, "realm1", {"roles": {"subscriber": {}}}]');
  await raw.read();
  await raw.send(`[32, 1, {}, "${TOPIC}"]`);
  await raw.read();
  return { destroy: () => raw.close() };
}

function stalledSession(t: TestRouter, type: string): Stalled | undefined {
  return [...realmOf(t.router, "realm1")!.members()].find((m) =>
    (m as unknown as Stalled).peer?.info.type === type &&
    (m as unknown as Stalled).droppedEvents > 0
  ) as unknown as Stalled | undefined;
}

/** Hands `each` every JSON message a RawSocket client reads from now on (after the handshake). */
function onMessages(socket: net.Socket, each: (msg: unknown[]) => void): void {
  let buffered = new Uint8Array(0);
  let handshake = true;
  socket.on("data", (chunk: Uint8Array) => {
    buffered = concat([buffered, chunk]);
    if (handshake && buffered.length >= 4) {
      buffered = buffered.subarray(4);
      handshake = false;
    }
    while (buffered.length >= 4) {
      const length = (buffered[1]! << 16) | (buffered[2]! << 8) | buffered[3]!;
      if (buffered.length < 4 + length) break;
      each(JSON.parse(new TextDecoder().decode(buffered.subarray(4, 4 + length))));
      buffered = buffered.subarray(4 + length);
    }
  });
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
      ? await stalledSubscriber(t.listener.urls.rawsocket!, TOPIC)
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
    stalled.destroy();
    await publisher.close();
    await healthy.close();
  });
}

/**
 * The replies a caller can have in flight: 400 pending calls of 1 KiB
 * results, under half its outbound limit (where the router stops reading
 * from it). Past that a caller that does not read is a slow consumer.
 */
const PENDING = 400;

for (const writes of [12_000, 1_500]) {
  Deno.test(`a caller that stops reading its RESULTs is paused, bounded, and loses none of them (CALLs in writes of ${writes})`, async () => {
    await using t = await startRouter({
      realms: [{ name: "realm1", limits: { callsPerSession: PENDING } }],
      listener: { attach: { maxBacklogMessages: 2000, slowConsumer: "drop" } },
    });
    ok(PENDING * 1024 < MAX_BACKLOG / 2);
    const callee = await connectLocal(t.router, "realm1");
    await callee.register("com.example.big", () => ({ args: ["r".repeat(1000)] }));
    // A raw caller that sends 12,000 CALLs without reading a RESULT.
    const socket = await rawTcp(t.listener.urls.rawsocket!);
    socket.pause();
    socket.write(Uint8Array.of(0x7f, 0xf1, 0, 0));
    socket.write(jsonFrame([1, "realm1", { roles: { caller: {} } }]));
    const CALLS = 12_000;
    for (let i = 1; i <= CALLS; i += writes) {
      const frames = [];
      for (let j = i; j < i + writes && j <= CALLS; j++) {
        frames.push(jsonFrame([48, j, {}, "com.example.big"]));
      }
      socket.write(concat(frames));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // The kernel's buffers fill, then the router stops reading from it: its
    // queue stays near the limit.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    ok(t.listener.queuedBytes() <= 2 * MAX_BACKLOG, `${t.listener.queuedBytes()} bytes queued`);
    ok(!t.logs.some((l) => l.includes("closing session")), t.logs.join("\n"));
    // Once it reads, every CALL is answered (RESULT, or limit_exceeded past
    // callsPerSession): nothing was dropped.
    let answers = 0;
    onMessages(socket, ([type]) => {
      if (type === 50 || type === 8) answers++;
    });
    socket.resume();
    await until(() => answers === CALLS, 20_000, `${CALLS} answers`);
    equal(realmOf(t.router, "realm1")!.size, 2, "the caller is still there");
    socket.destroy();
    await callee.close();
  });
}

Deno.test("a burst of large calls to a callee that reads is refused from the caller, the callee stays", async () => {
  await using t = await startRouter({
    listener: { attach: { maxBacklog: MAX_BACKLOG, slowConsumer: "drop" } },
  });
  const { connect } = await import("../../mod.ts");
  const callee = await connect(t.listener.urls.websocket!, { realm: "realm1" });
  await callee.register("com.example.size", (args) => ({ args: [String(args[0]).length] }));
  const caller = await connectLocal(t.router, "realm1");
  // Back to back, each past the callee's outbound limit and the socket's buffer on its own: the
  // first INVOCATION is still being written when the next CALLs come.
  const big = "x".repeat(8 * 1024 * 1024);
  const outcomes = await Promise.all(
    Array.from({ length: 3 }, () =>
      caller.call("com.example.size", { args: [big] }).then(
        (r) => String(r.args[0]),
        (error) => String((error as { uri?: string }).uri ?? error),
      )),
  );
  equal(outcomes[0], String(big.length));
  ok(outcomes.includes("wamp.error.no_available_callee"), outcomes.join(", "));
  ok(outcomes.every((o) => o === String(big.length) || o === "wamp.error.no_available_callee"));
  ok(!t.logs.some((l) => l.includes("slow consumer")), t.logs.join("\n"));
  // A large call that times out at once, or is canceled at once: the INTERRUPT, owed to a callee
  // still reading the INVOCATION, is dropped rather than closing it.
  const timedOut = await caller.call("com.example.size", { args: [big] }, { timeout: 1 })
    .then(() => "result", (error) => String((error as { uri?: string }).uri ?? error));
  equal(timedOut, "wamp.error.timeout");
  const controller = new AbortController();
  const canceled = caller.call("com.example.size", { args: [big] }, { signal: controller.signal })
    .then(() => "result", (error) => String((error as { uri?: string }).uri ?? error));
  controller.abort();
  await canceled;
  ok(!t.logs.some((l) => l.includes("slow consumer")), t.logs.join("\n"));
  // Once it has read them, it takes calls again.
  let answer: unknown;
  for (let i = 0; i < 100 && answer === undefined; i++) {
    answer = await caller.call("com.example.size", { args: ["abcd"] }).then(
      (r) => r.args[0],
      () => new Promise((resolve) => setTimeout(() => resolve(undefined), 50)),
    );
  }
  equal(answer, 4);
  await caller.close();
  await callee.close();
});

Deno.test("a kill CANCEL reaches a callee past its outbound limit: the INTERRUPT is not dropped", async () => {
  await using t = await startRouter({
    listener: { attach: { maxBacklog: MAX_BACKLOG, slowConsumer: "drop" } },
  });
  const { connect } = await import("../../mod.ts");
  const callee = await connect(t.listener.urls.websocket!, { realm: "realm1" });
  let interrupted = false;
  await callee.register(
    "com.example.wait",
    (_args, _kwargs, _details, invocation) =>
      new Promise((_resolve, reject) => {
        invocation.signal.addEventListener("abort", () => {
          interrupted = true;
          reject(invocation.signal.reason);
        });
      }),
  );
  await callee.register("com.example.size", (args) => ({ args: [String(args[0]).length] }));
  const caller = await connectLocal(t.router, "realm1");
  const controller = new AbortController();
  const waiting = caller.call("com.example.wait", {}, {
    signal: controller.signal,
    cancelMode: "kill",
  })
    .then(() => "result", (error) => String((error as { uri?: string }).uri ?? error));
  await until(() => t.router.connectionCount > 0 && !interrupted, 1000);
  // The callee is past its limit while it reads a large INVOCATION; the CANCEL comes then.
  const big = caller.call("com.example.size", { args: ["x".repeat(8 * 1024 * 1024)] });
  controller.abort();
  equal(await within(waiting, 5000, "the killed call settling"), "wamp.error.canceled");
  equal(interrupted, true);
  equal((await big).args[0], 8 * 1024 * 1024);
  ok(!t.logs.some((l) => l.includes("slow consumer")), t.logs.join("\n"));
  await caller.close();
  await callee.close();
});

Deno.test("a session that reads is not closed for the RESULT that follows a large EVENT to it", async () => {
  await using t = await startRouter({
    listener: { attach: { maxBacklog: MAX_BACKLOG, slowConsumer: "drop" } },
  });
  const { connect } = await import("../../mod.ts");
  const reader = await connect(t.listener.urls.websocket!, { realm: "realm1" });
  const events: number[] = [];
  await reader.subscribe(TOPIC, (e) => void events.push(String(e.args[0]).length));
  const other = await connectLocal(t.router, "realm1");
  let answer!: () => void;
  await other.register(
    "com.example.later",
    () => new Promise((r) => answer = () => r({ args: [1] })),
  );
  const result = reader.call("com.example.later");
  await until(() => answer !== undefined, 5000, "the INVOCATION");
  // The EVENT is still being written to the reader when the RESULT comes.
  const big = "x".repeat(12 * 1024 * 1024);
  await other.publish(TOPIC, { args: [big] }, { acknowledge: true, exclude_me: true });
  answer();
  equal((await within(result, 10_000, "the RESULT")).args[0], 1);
  await until(() => events.length === 1, 10_000, "the EVENT");
  equal(events[0], big.length);
  ok(!t.logs.some((l) => l.includes("slow consumer")), t.logs.join("\n"));
  await reader.close();
  await other.close();
});

Deno.test("progressive results to a caller that stops reading end the call, not the caller", async () => {
  await using t = await startRouter({
    listener: { attach: { maxBacklog: 64 * 1024, slowConsumer: "drop" } },
  });
  const callee = await connectLocal(t.router, "realm1");
  let interrupted = false;
  let sent = 0;
  await callee.register("com.example.stream", async (_a, _k, _d, inv) => {
    inv.signal.addEventListener("abort", () => interrupted = true);
    while (!inv.signal.aborted && sent < 20_000) {
      inv.progress({ args: ["p".repeat(1000)] });
      if (++sent % 50 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    return { args: ["done"] };
  });
  const socket = await rawTcp(t.listener.urls.rawsocket!);
  socket.pause(); // never reads, until the end
  socket.write(concat([
    Uint8Array.of(0x7f, 0xf1, 0, 0),
    jsonFrame([1, "realm1", {
      roles: { caller: { features: { progressive_call_results: true } } },
    }]),
    jsonFrame([48, 1, { receive_progress: true }, "com.example.stream"]),
  ]));
  await until(() => interrupted, 10_000, "the callee's INTERRUPT");
  ok(sent < 20_000, `${sent} progressive results`);
  ok(!t.logs.some((l) => l.includes("closing session")), t.logs.join("\n"));
  equal(realmOf(t.router, "realm1")!.size, 2, "the caller is still there");
  // Reading again, it finds the results it was sent, then ERROR canceled.
  let error: unknown[] | undefined;
  onMessages(socket, (msg) => {
    if (msg[0] === 8) error = msg;
  });
  socket.resume();
  await until(() => error !== undefined, 10_000, "the ERROR");
  deepEqual(error, [8, 48, 1, {}, "wamp.error.canceled"]);
  socket.destroy();
  await callee.close();
});
