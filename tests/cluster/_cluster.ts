/** Test harness: routers joined as one cluster over a real nats-server. */

import { connect, type Session } from "../../mod.ts";
import { realmOf } from "../../router/router.ts";
import type { SerializerName } from "../../wamp/mod.ts";
import { type NatsServer, startNats } from "../_helpers/nats.ts";
import { startRouter, type TestRouter, until } from "../_helpers/router.ts";

/** Heartbeat and node timeout the cluster tests use (ms). */
export const TIMING = { heartbeat: 100, nodeTimeout: 800 } as const;

/** A NATS server and routers joined through it. */
export interface TestCluster extends AsyncDisposable {
  nats: NatsServer;
  nodes: TestRouter[];
}

/**
 * Starts nats-server and `n` routers in one cluster (realm1 each).
 *
 * @param n How many nodes.
 * @returns The cluster, torn down with `await using`.
 */
export async function startCluster(n: number, name = "t"): Promise<TestCluster> {
  const nats = await startNats();
  const nodes: TestRouter[] = [];
  for (let i = 0; i < n; i++) {
    const node = await startRouter({ cluster: { servers: [nats.url], name, ...TIMING } });
    await node.router.ready;
    nodes.push(node);
  }
  return {
    nats,
    nodes,
    async [Symbol.asyncDispose]() {
      for (const node of nodes) await node[Symbol.asyncDispose]();
      await nats.stop();
    },
  };
}

/** Joins realm1 of a node over WebSocket with one serializer. */
export function joinNode(node: TestRouter, serializer: SerializerName = "json"): Promise<Session> {
  return connect(node.listener.urls.websocket!, { realm: "realm1", serializers: [serializer] });
}

/** Waits until a router's view of `procedure` has `callees` callees. */
export async function seen(
  node: TestRouter,
  procedure: string,
  callees: number,
  match: "exact" | "prefix" | "wildcard" = "exact",
): Promise<void> {
  const dealer = realmOf(node.router, "realm1")!.dealer;
  await until(
    () => (dealer.lookup(procedure, match)?.callees.length ?? 0) === callees,
    5000,
    `${procedure} with ${callees} callees`,
  );
}
