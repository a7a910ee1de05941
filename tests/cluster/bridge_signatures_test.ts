/**
 * A signed bridge request is taken once by the whole cluster: replayed to
 * another node (another `--workers` worker) it is refused as it would be
 * by the first; with NATS unreachable it is refused (503), not taken
 * unchecked.
 */

import { deepEqual, equal } from "node:assert/strict";
import { signRequest } from "../../bridge/auth.ts";
import { resolveBridgeOptions } from "../../bridge/config.ts";
import { type HttpBridge, httpBridge } from "../../bridge/mount.ts";
import { clusterSignatures } from "../../cluster/bridge_signatures.ts";
import { listen, type Listener, type Router } from "../../mod.ts";
import { clusterNodeOf } from "../../router/router.ts";
import { post } from "../bridge/_bridge.ts";
import { startCluster } from "./_cluster.ts";

const AUTH = { key: "k1", secret: "s3cret-for-the-cluster", timestampDelta: 60 };
const BODY = JSON.stringify({ topic: "com.example.signed", args: [1] });
/** realm1: anonymous sessions (the bridge's role) may publish under com. */
const PUBLISHERS = {
  roles: [{
    name: "anonymous",
    permissions: [{ uri: "com.", match: "prefix" as const, allow: { publish: true } }],
  }],
};
const PATH = { path: "/pub", type: "publisher", realm: "realm1", role: "anonymous", auth: AUTH };

/** The bridge on its own HTTP listener, sharing the node's memory of signatures. */
async function mount(router: Router): Promise<{ base: string } & AsyncDisposable> {
  const bridge: HttpBridge = httpBridge(
    router,
    [resolveBridgeOptions(PATH, "bridges[0]")],
    clusterSignatures(clusterNodeOf(router)!),
  );
  const listener: Listener = await listen(router, { port: 0, mounts: [bridge] });
  return {
    base: `http://127.0.0.1:${(listener.addr as { port: number }).port}`,
    async [Symbol.asyncDispose]() {
      await bridge.close();
      await listener.close();
    },
  };
}

Deno.test("a signed request taken by one node is refused as a replay by another", async () => {
  await using cluster = await startCluster(2, "sig", PUBLISHERS);
  await using a = await mount(cluster.nodes[0]!.router);
  await using b = await mount(cluster.nodes[1]!.router);
  const target = await signRequest("/pub", { ...AUTH, body: BODY });
  equal((await post(`${a.base}${target}`, BODY)).status, 202);
  const replay = await post(`${b.base}${target}`, BODY);
  equal(replay.status, 401);
  deepEqual(replay.body.args, ["signature already used (replayed request)"]);
  // Another request signed afresh is taken by the second node.
  const fresh = await signRequest("/pub", { ...AUTH, body: BODY, seq: 2 });
  equal((await post(`${b.base}${fresh}`, BODY)).status, 202);
  equal((await post(`${a.base}${fresh}`, BODY)).status, 401);
});

Deno.test("with NATS unreachable a signed request is refused with 503, not taken unchecked", async () => {
  await using cluster = await startCluster(1, "sig2", PUBLISHERS);
  await using a = await mount(cluster.nodes[0]!.router);
  await cluster.nats.stop();
  const target = await signRequest("/pub", { ...AUTH, body: BODY });
  const refused = await post(`${a.base}${target}`, BODY);
  equal(refused.status, 503);
  equal(refused.body.error, "cloverleaf.error.unavailable");
});
