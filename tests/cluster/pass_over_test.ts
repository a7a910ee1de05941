/**
 * A shared registration passes over a busy callee on another node (`pass_over.ts`), sans-I/O: the
 * callee's node sends the call back, the caller's node routes it to the next free callee.
 */

import { deepEqual, equal } from "node:assert/strict";
import { Dealer } from "../../router/core/dealer/dealer.ts";
import type { BusyEnvelope } from "../../router/core/dealer/pass_over.ts";
import type { CalleeEntry } from "../../router/core/dealer/remote.ts";
import { dealerSession } from "../../router/core/dealer/pending_calls.ts";
import type { ClusterSend, Output } from "../../router/core/output.ts";
import {
  type CallMessage,
  type Dict,
  ErrorUri,
  type InvocationPolicy,
  MessageType,
  sequentialIdGenerator,
} from "../../wamp/mod.ts";
import { sessionInfo } from "../_helpers/session_info.ts";

const CALLER = sessionInfo(2, ["caller"]);
const LOCAL = sessionInfo(11, ["callee"]);

/** Node "a" with local callee 11 and callees `remote` (session → node) of com.rr. */
function nodeA(remote: Record<number, string>, busy: Set<number>, invoke: InvocationPolicy) {
  const dealer = new Dealer({
    registrationIds: sequentialIdGenerator(),
    now: () => 0,
    busy: (session) => busy.has(session),
  });
  const cluster = dealer.joinCluster({
    node: "a",
    realm: "realm1",
    claim: () => Promise.resolve(undefined),
  });
  dealer.register(LOCAL, {
    type: MessageType.REGISTER,
    request: 1,
    options: { invoke },
    procedure,
  });
  const entries = Object.entries(remote).map(([session, node], at): CalleeEntry => ({
    node,
    session: Number(session),
    at: at + 1,
    options: {},
    features: dealerSession(LOCAL).features,
  }));
  cluster.sync(procedure, "exact", invoke, entries);
  return { dealer, cluster };
}

const procedure = "com.rr";
const call = (request: number, options: Dict = {}): CallMessage => ({
  type: MessageType.CALL,
  request,
  options,
  procedure,
});

/** Where an output sends its call: a local INVOCATION, a node, or an ERROR. */
function routed(out: Output): string {
  const sent = out.effects.find((e) => e.kind === "cluster") as ClusterSend | undefined;
  if (sent !== undefined) return `${(sent.envelope as { k: string }).k} to ${sent.node}`;
  const msg = out.messages[0]?.msg;
  if (msg?.type === MessageType.INVOCATION) return `INVOCATION to ${out.messages[0]!.to}`;
  return msg?.type === MessageType.ERROR ? msg.error : "nothing";
}

/** The call `out` forwards, sent back by its busy callee's node. */
function back(out: Output): BusyEnvelope {
  const sent = out.effects.find((e) => e.kind === "cluster") as ClusterSend;
  const call = sent.envelope as BusyEnvelope["call"];
  return { k: "busy", realm: "realm1", from: sent.node, call };
}

Deno.test("pass over: the callee's node sends back a new call for a busy callee of a shared registration", () => {
  const busy = new Set([11]);
  const { cluster } = nodeA({ 20: "b" }, busy, "roundrobin");
  const passes = (msg: CallMessage, callee: number) => cluster.passes(msg, callee);
  equal(passes(call(1), 11), true);
  equal(passes(call(1), 20), false, "not this node's callee");
  equal(passes(call(1), 0), false, "a further chunk");
  equal(passes(call(1, { progress: true }), 11), false, "a progressive call invocation");
  equal(passes(call(1, { runmode: "partition", rkey: "k" }), 11), false, "a partitioned call");
  busy.clear();
  equal(passes(call(1), 11), false, "not busy");
  const single = nodeA({}, new Set([11]), "single");
  equal(single.cluster.passes(call(1), 11), false, "not shared");
});

Deno.test("pass over: a call sent back goes to the next free callee, as on one router", () => {
  const { dealer, cluster } = nodeA({ 20: "b" }, new Set(), "roundrobin");
  // Round-robin over [11 (local), 20 (on b, busy)]: every call reaches 11.
  equal(routed(dealer.call(CALLER, call(1))), "INVOCATION to 11");
  const forwarded = dealer.call(CALLER, call(2));
  equal(routed(forwarded), "call to b");
  equal(routed(cluster.bounced(back(forwarded))), "INVOCATION to 11");
  const again = dealer.call(CALLER, call(3)); // the cursor went on after 11, as on one router
  equal(routed(again), "call to b");
  equal(routed(cluster.bounced(back(again))), "INVOCATION to 11");
  equal(routed(cluster.bounced(back(again))), "nothing", "sent back twice: routed once");
});

Deno.test("pass over: a call sent back by every callee ends with no_available_callee", () => {
  const { dealer, cluster } = nodeA({ 20: "b", 21: "c" }, new Set([11]), "roundrobin");
  const first = dealer.call(CALLER, call(1)); // to 11, busy here: passed over to 20 on b
  equal(routed(first), "call to b");
  const second = cluster.bounced(back(first));
  equal(routed(second), "call to c");
  equal(routed(cluster.bounced(back(second))), ErrorUri.NO_AVAILABLE_CALLEE);
});

Deno.test("pass over: a call its caller cancelled before it came back ends with canceled", () => {
  const { dealer, cluster } = nodeA({ 20: "b" }, new Set(), "last");
  const forwarded = dealer.call(CALLER, call(1));
  equal(routed(forwarded), "call to b");
  const cancel = dealer.cancel(CALLER, { type: MessageType.CANCEL, request: 1, options: {} });
  equal(routed(cancel), "cancel to b");
  equal(routed(cluster.bounced(back(forwarded))), ErrorUri.CANCELED);
  // A call answered before anything came back is not routed again.
  const answered = dealer.call(CALLER, call(2));
  const result = { type: MessageType.RESULT, request: 2, details: {} } as const;
  deepEqual(cluster.answer(2, result).messages, [{ to: 2, msg: result }]);
  equal(routed(cluster.bounced(back(answered))), "nothing");
});

Deno.test("pass over: a call sent back leaves no timer armed for it, routed again or refused", () => {
  // The runner's timer table (output_runner.ts keeps one keyed as the effects say).
  const timers = new Map<unknown, number>();
  const run = (out: Output) => {
    for (const e of out.effects) {
      if (e.kind === "arm") timers.set(e.key, e.ms);
      if (e.kind === "cancel") timers.delete(e.key);
    }
    return out;
  };
  const { dealer, cluster } = nodeA({ 20: "b", 21: "c" }, new Set(), "last");
  const timed = (request: number) => run(dealer.call(CALLER, call(request, { timeout: 60_000 })));
  // Sent back by 21 on c, routed to 20 on b, which answers.
  const first = timed(1);
  equal(routed(first), "call to c");
  equal(timers.size, 1);
  const second = run(cluster.bounced(back(first)));
  equal(routed(second), "call to b");
  equal(timers.size, 1, "the timer of the call to c went with it");
  run(cluster.answer(2, { type: MessageType.RESULT, request: 1, details: {} }));
  equal(timers.size, 0);
  // Sent back by c, then by b, routed to local 11, which answers.
  const local = run(cluster.bounced(back(run(cluster.bounced(back(timed(2)))))));
  equal(routed(local), "INVOCATION to 11");
  equal(timers.size, 1, "the local call's own timer");
  const inv = local.messages[0]!.msg as { request: number };
  run(dealer.yield(LOCAL, { type: MessageType.YIELD, request: inv.request, options: {} }));
  equal(timers.size, 0);
  // Cancelled, then sent back: refused canceled.
  const cancelled = timed(3);
  run(dealer.cancel(CALLER, { type: MessageType.CANCEL, request: 3, options: {} }));
  equal(routed(run(cluster.bounced(back(cancelled)))), ErrorUri.CANCELED);
  equal(timers.size, 0);
});

Deno.test("pass over: a call sent back by a callee that left meanwhile goes to a free callee", () => {
  const gone = (invoke: InvocationPolicy, remote: Record<number, string>, busy: number[]) => {
    const { dealer, cluster } = nodeA(remote, new Set(busy), invoke);
    if (invoke === "roundrobin") dealer.call(CALLER, call(9)); // the turn of 11: 20's next
    const forwarded = dealer.call(CALLER, call(1));
    equal(routed(forwarded), "call to b");
    const left = Object.entries(remote).filter(([, node]) => node !== "b");
    cluster.sync(
      procedure,
      "exact",
      invoke,
      left.map(([session, node], at) => ({
        node,
        session: Number(session),
        at: at + 2,
        options: {},
        features: dealerSession(LOCAL).features,
      })),
    );
    return routed(cluster.bounced(back(forwarded)));
  };
  // [11, 20 on b]: b's busy callee 20 left; 11 is the only one, and free.
  equal(gone("last", { 20: "b" }, []), "INVOCATION to 11");
  // [11 busy, 20 on b, 21 on c]: from the oldest, 21 is the first free one.
  equal(gone("first", { 20: "b", 21: "c" }, [11]), "call to c");
  // [11, 20 on b, 21 on c]: 21's is the turn after 20's.
  equal(gone("roundrobin", { 20: "b", 21: "c" }, []), "call to c");
  // Every callee left but busy 11: refused, as on one router.
  equal(gone("last", { 20: "b" }, [11]), ErrorUri.NO_AVAILABLE_CALLEE);
});
