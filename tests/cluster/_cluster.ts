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

/**
 * The keys of the cluster's shared registration table, read straight from
 * JetStream KV.
 */
export async function tableKeys(nats: NatsServer, name: string): Promise<string[]> {
  const { connect } = await import("@nats-io/transport-node");
  const { Kvm } = await import("@nats-io/kv");
  const nc = await connect({ servers: [nats.url] });
  try {
    const kv = await new Kvm(nc).open(`clv_${name}_registrations`);
    const keys: string[] = [];
    for await (const key of await kv.keys()) keys.push(key);
    return keys;
  } finally {
    await nc.close();
  }
}

/** Waits until the shared table has `n` keys. */
export async function tableHas(nats: NatsServer, name: string, n: number): Promise<void> {
  const deadline = Date.now() + 5000;
  let keys = await tableKeys(nats, name);
  while (keys.length !== n) {
    if (Date.now() > deadline) throw new Error(`table has ${keys.join(", ")}, not ${n} keys`);
    await new Promise((resolve) => setTimeout(resolve, 25));
    keys = await tableKeys(nats, name);
  }
}
