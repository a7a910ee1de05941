/**
 * A caller's identity crosses NATS once per node: later calls carry its
 * session ID alone, and a node without the caller's proxy asks for it.
 */

import { deepEqual, equal } from "node:assert/strict";
import { CallerIdentities, isBare } from "../../cluster/caller_identities.ts";
import type { CallEnvelope } from "../../cluster/caller_identities.ts";
import { MessageType } from "../../wamp/mod.ts";
import { encode } from "@msgpack/msgpack";
import { clusterNodeOf } from "../../router/router.ts";
import { joinNode, seen, startCluster } from "./_cluster.ts";

function call(id: number): CallEnvelope {
  return {
    k: "call",
    realm: "r",
    from: "A",
    caller: {
      id,
      authid: "alice",
      authrole: "user",
      authmethod: "anonymous",
      authprovider: "static",
      roles: { caller: {} },
      transport: "websocket",
    },
    callee: 9,
    msg: { type: MessageType.CALL, request: 1, options: {}, procedure: "p" },
    forced: false,
  };
}

Deno.test("caller identities: once per node, again after gone, node down or a who", () => {
  const ids = new CallerIdentities();
  equal(isBare(ids.outgoing(call(1), "B").caller), false);
  equal(isBare(ids.outgoing(call(1), "B").caller), true);
  deepEqual(ids.outgoing(call(1), "B").caller, { id: 1 });
  equal(isBare(ids.outgoing(call(1), "C").caller), false, "another node");
  ids.forget(1, "B"); // gone
  equal(isBare(ids.outgoing(call(1), "B").caller), false);
  ids.nodeDown("B");
  equal(isBare(ids.outgoing(call(1), "B").caller), false);
  const bare = ids.outgoing(call(1), "B");
  const again = ids.resend({ k: "who", realm: "r", from: "B", call: bare })!;
  deepEqual(again.caller, call(1).caller);
  equal(again.msg, bare.msg);
  equal(
    ids.resend({
      k: "who",
      realm: "r",
      from: "B",
      call: { ...bare, caller: { id: 2 } } as CallEnvelope,
    }),
    undefined,
    "a caller never seen",
  );
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
