/**
 * A caller's identity crosses NATS once per node: later calls carry its
 * session ID alone, and a node without the caller's proxy asks for it. The
 * dealer's `RemoteRpc.proxiedAt` alone knows which nodes have the proxy.
 */

import { deepEqual, equal } from "node:assert/strict";
import { type CallEnvelope, isBare } from "../../cluster/caller_identities.ts";
import { type CalleeEntry, RemoteRpc } from "../../router/core/dealer/remote.ts";
import type { RpcFeatures } from "../../router/core/dealer/pending_calls.ts";
import type { Effect } from "../../router/core/output.ts";
import type { SessionInfo } from "../../router/core/types.ts";
import { MessageType } from "../../wamp/mod.ts";
import { encode } from "@msgpack/msgpack";
import { clusterNodeOf } from "../../router/router.ts";
import { joinNode, seen, startCluster } from "./_cluster.ts";

const alice: SessionInfo = {
  id: 1,
  realm: "r",
  authid: "alice",
  authrole: "user",
  authmethod: "anonymous",
  authprovider: "static",
  roles: { caller: {} },
  transport: "websocket",
};

/** A dealer's cluster state with callee 9 on node B and 10 on node C. */
function remote(): RemoteRpc {
  const rpc = new RemoteRpc(
    { node: "A", realm: "r", claim: () => Promise.resolve(undefined) },
    Date.now,
  );
  const features = {} as RpcFeatures;
  for (const [session, node] of [[9, "B"], [10, "C"]] as const) {
    rpc.callees.set(session, { node, session, at: 0, options: {}, features } as CalleeEntry);
  }
  return rpc;
}

let request = 0;
/** The caller a forwarded call carries. */
function sent(rpc: RemoteRpc, callee: number): CallEnvelope["caller"] {
  const msg = { type: MessageType.CALL, request: ++request, options: {}, procedure: "p" } as const;
  const out = rpc.forward(alice, msg, callee, false)!;
  const effect = out.effects[0] as Extract<Effect, { kind: "cluster" }>;
  return (effect.envelope as CallEnvelope).caller;
}

Deno.test("caller identities: once per node, again after the caller left or the node went down", () => {
  const rpc = remote();
  equal(isBare(sent(rpc, 9)), false);
  deepEqual(sent(rpc, 9), { id: 1 });
  equal(isBare(sent(rpc, 10)), false, "another node");
  rpc.callerLeft(1, []); // B and C are told `gone`: their proxies go
  equal(isBare(sent(rpc, 9)), false);
  rpc.nodeDown("B");
  equal(isBare(sent(rpc, 9)), false);
  equal(isBare(sent(rpc, 9)), true);
});

Deno.test("repeated calls across nodes disclose the caller each time (the proxy supplies the identity)", async () => {
  await using c = await startCluster(2, "ident");
  const [a, b] = c.nodes;
  const callee = await joinNode(b!, "msgpack");
  await callee.register("com.example.who", (_a, _k, details) => ({
    kwargs: { caller: details.caller ?? null, authrole: details.caller_authrole ?? null },
  }), { disclose_caller: true });
  await seen(a!, "com.example.who", 1);
  const caller = await joinNode(a!, "cbor");
  for (let i = 0; i < 5; i++) {
    const r = await caller.call("com.example.who");
    deepEqual(r.kwargs, { caller: caller.id, authrole: "anonymous" });
  }
  // B drops the caller's proxy (as for a `gone`) while A still thinks B has
  // it: A's next call comes bare, B sends it back, A sends the identity.
  const { connect } = await import("@nats-io/transport-node");
  const nc = await connect({ servers: [c.nats.url] });
  const [idA, idB] = [a, b].map((n) => clusterNodeOf(n!.router)!.id);
  const gone = { k: "gone", realm: "realm1", from: idA, caller: caller.id };
  nc.publish(`clv.ident.node.${idB}.rpc`, encode(gone));
  await nc.flush();
  await nc.close();
  await new Promise((resolve) => setTimeout(resolve, 100)); // B handles it
  const r = await caller.call("com.example.who");
  deepEqual(r.kwargs, { caller: caller.id, authrole: "anonymous" });
  await caller.close();
  await callee.close();
});
