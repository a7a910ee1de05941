/**
 * Cluster RPC in the dealer ({@linkcode RemoteRpc}, `DealerCluster`),
 * without NATS: which nodes are told that a caller left, and what a node
 * taken for down is told, at once and when it is heard again; the caller's
 * node's timer for a forwarded call's timeout.
 */
import { deepEqual, deepEqual as assertEquals, equal, ok } from "node:assert/strict";
import { Dealer } from "../../router/core/dealer/dealer.ts";
import { TIMEOUT_GRACE } from "../../router/core/dealer/forwarded.ts";
import { type CalleeEntry, RemoteRpc, type RpcEnvelope } from "../../router/core/dealer/remote.ts";
import type { RpcFeatures } from "../../router/core/dealer/pending_calls.ts";
import type { Effect, Output } from "../../router/core/output.ts";
import type { SessionInfo } from "../../router/core/types.ts";
import { ErrorUri, MessageType, sequentialIdGenerator, type WampMessage } from "../../wamp/mod.ts";

const caller: SessionInfo = {
  id: 7,
  realm: "r",
  authid: "a",
  authrole: "anonymous",
  authmethod: "anonymous",
  authprovider: "static",
  roles: {},
  transport: "websocket",
};

function remote(): RemoteRpc {
  const rpc = new RemoteRpc(
    { node: "A", realm: "r", claim: () => Promise.resolve(undefined) },
    Date.now,
  );
  const features = { progressiveInvocations: true, calleePassthru: true } as RpcFeatures;
  const entry: CalleeEntry = { node: "B", session: 9, at: 0, options: {}, features };
  rpc.callees.set(9, entry);
  return rpc;
}

function gone(effects: Effect[]): string[] {
  return effects.flatMap((e) =>
    e.kind === "cluster" && (e.envelope as { k: string }).k === "gone" ? [e.node] : []
  );
}

Deno.test("a caller whose forwarded calls all finished still tells the callee's node it left", () => {
  const rpc = remote();
  rpc.forward(
    caller,
    { type: MessageType.CALL, request: 1, options: {}, procedure: "p" },
    9,
    false,
  );
  rpc.answer(7, { type: MessageType.RESULT, request: 1, details: {} });
  assertEquals(rpc.forwarded.size, 0);
  const effects: Effect[] = [];
  rpc.callerLeft(7, effects);
  assertEquals(gone(effects), ["B"]); // the proxy of caller 7 on B goes
  assertEquals(rpc.proxiedAt.size, 0);
});

Deno.test("a node that went down is not told a caller left", () => {
  const rpc = remote();
  rpc.forward(
    caller,
    { type: MessageType.CALL, request: 1, options: {}, procedure: "p" },
    9,
    false,
  );
  assertEquals(rpc.nodeDown("B").messages.length, 1);
  const effects: Effect[] = [];
  rpc.callerLeft(7, effects);
  assertEquals(gone(effects), []);
});

/** What an output sends: `to kind request [uri]` for each message, `node k …` for each envelope. */
function sent(out: Output): string[] {
  const line = (msg: WampMessage) => {
    if (msg.type === MessageType.ERROR) return `ERROR ${msg.error} ${msg.request}`;
    if (msg.type === MessageType.INTERRUPT) return `INTERRUPT ${msg.request} ${msg.options.reason}`;
    return `${msg.type}`;
  };
  return [
    ...out.messages.map((m) => `to ${m.to}: ${line(m.msg)}`),
    ...out.effects.flatMap((e) => {
      if (e.kind !== "cluster") return [];
      const env = e.envelope as RpcEnvelope;
      if (env.k === "cancel") {
        return [`${e.node} cancel ${env.msg.request} ${env.msg.options.mode}`];
      }
      if (env.k === "out") return [`${e.node} out to ${env.to}: ${line(env.msg)}`];
      return [`${e.node} ${env.k}`];
    }),
  ];
}

/**
 * Node A's dealer: callee 9 on node B serves `b`, local callee 2 serves
 * `a` and has INVOCATION 1 for B's caller 70; local caller 7 has call 5
 * to B's callee in flight.
 */
function nodeA() {
  const dealer = new Dealer({ registrationIds: sequentialIdGenerator(), now: Date.now });
  const cluster = dealer.joinCluster({
    node: "A",
    realm: "r",
    claim: () => Promise.resolve(undefined),
  });
  const features = { cancels: true } as RpcFeatures;
  cluster.sync("b", "exact", "single", [{ node: "B", session: 9, at: 0, options: {}, features }]);
  const callee = { ...caller, id: 2, roles: { callee: { features: { call_canceling: true } } } };
  dealer.register(callee, { type: MessageType.REGISTER, request: 1, options: {}, procedure: "a" });
  const far = { ...caller, id: 70 };
  const invoked = cluster.invoke("B", far, { ...call(3, "a") }, 2, false);
  equal(invoked.messages[0]?.msg.type, MessageType.INVOCATION);
  dealer.call(caller, call(5, "b"));
  return { dealer, cluster };
}

function call(request: number, procedure: string) {
  return { type: MessageType.CALL, request, options: {}, procedure } as const;
}

Deno.test("DealerCluster.nodeDown() tells the node what ended, should it only have stalled", () => {
  const { cluster } = nodeA();
  const canceled = `ERROR ${ErrorUri.CANCELED}`;
  assertEquals(sent(cluster.nodeDown("B")), [
    `to 7: ${canceled} 5`, // the local caller's call to B's callee
    `to 2: INTERRUPT 1 ${ErrorUri.CANCELED}`, // the local callee's call from B's caller
    "B cancel 5 kill", // B's callee is interrupted once B runs again
    `B out to 70: ${canceled} 3`, // and B's caller answered
  ]);
  equal(cluster.proxies.size, 0);
  // A call sent back for its caller's identity after it ended here is not sent again.
  equal(cluster.identify(7, "B", 5), undefined);
});

Deno.test("DealerCluster.forgottenBy(): the proxies of the node that had taken this one for down go, their callees interrupted", () => {
  const { cluster } = nodeA();
  // B had taken A for down (A stalled) and hears it again: its caller 70's calls here are over.
  assertEquals(sent(cluster.forgottenBy("B")), [`to 2: INTERRUPT 1 ${ErrorUri.CANCELED}`]);
  equal(cluster.proxies.size, 0);
  assertEquals(sent(cluster.forgottenBy("B")), []);
});

Deno.test("RemoteRpc: the caller's node arms a forwarded call's timeout too, a grace later, per gap", () => {
  const rpc = remote();
  const timed = { ...call(1, "p"), options: { timeout: 1000, receive_progress: true } };
  const [, arm] = rpc.forward(caller, timed, 9, false)!.effects;
  ok(arm?.kind === "arm");
  equal(arm.ms, 1000 + TIMEOUT_GRACE);
  // A progressive RESULT starts the next gap (same key); the final one cancels it.
  const progress = { type: MessageType.RESULT, request: 1, details: { progress: true } } as const;
  const [again] = rpc.answer(7, progress).effects;
  ok(again?.kind === "arm" && again.key === arm.key);
  const [cancel] = rpc.answer(7, { type: MessageType.RESULT, request: 1, details: {} }).effects;
  deepEqual(cancel, { kind: "cancel", key: arm.key });
  assertEquals(sent(arm.fire()), [], "answered: the timer finds nothing");
  // Unanswered: the caller gets ERROR timeout (no CANCEL: the callee's node times it out itself).
  const [, second] = rpc.forward(caller, { ...timed, request: 2 }, 9, false)!.effects;
  ok(second?.kind === "arm");
  assertEquals(sent(second.fire()), [`to 7: ERROR ${ErrorUri.TIMEOUT} 2`]);
  equal(rpc.forwarded.size, 0);
  assertEquals(sent(rpc.answer(7, { type: MessageType.RESULT, request: 2, details: {} })), []);
  // No timeout, no timer; a caller leaving cancels those it has.
  equal(rpc.forward(caller, call(3, "p"), 9, false)!.effects.length, 1);
  const [, third] = rpc.forward(caller, { ...timed, request: 4 }, 9, false)!.effects;
  ok(third?.kind === "arm");
  const effects: Effect[] = [];
  rpc.callerLeft(7, effects);
  deepEqual(effects.filter((e) => e.kind === "cancel"), [{ kind: "cancel", key: third.key }]);
});
