/**
 * RPC across cluster nodes: caller on one node, callee on another, our
 * client over WebSocket (json, msgpack, cbor), a real nats-server.
 */

import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { ApplicationError } from "../../mod.ts";
import { until } from "../_helpers/router.ts";
import { joinNode, seen, startCluster } from "./_cluster.ts";

function isUri(uri: string) {
  return (e: unknown) => {
    ok(e instanceof ApplicationError, `expected ApplicationError ${uri}, got ${e}`);
    equal(e.uri, uri);
    return true;
  };
}

for (const serializer of ["json", "msgpack", "cbor"] as const) {
  Deno.test(`[${serializer}] a call on node A reaches a callee on node B`, async () => {
    await using c = await startCluster(2);
    const [a, b] = c.nodes;
    const callee = await joinNode(b!, serializer);
    const caller = await joinNode(a!, serializer);
    await callee.register("com.example.add", (args, kwargs) => ({
      args: [Number(args[0]) + Number(args[1])],
      kwargs: { echo: kwargs },
    }));
    await seen(a!, "com.example.add", 1);
    const result = await caller.call("com.example.add", { args: [2, 3], kwargs: { x: [1, "y"] } });
    deepEqual(result.args, [5]);
    deepEqual(result.kwargs, { echo: { x: [1, "y"] } });
    await rejects(
      caller.call("com.example.missing"),
      isUri("wamp.error.no_such_procedure"),
    );
    await callee.close();
    await caller.close();
  });
}
