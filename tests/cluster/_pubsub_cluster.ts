/**
 * Test harness: a nats-server and N routers joined as one cluster, each
 * with its own listener on 127.0.0.1:0, torn down with `await using`.
 */

import type { RealmOptions } from "../../router/mod.ts";
import { type NatsServer, startNats } from "../_helpers/nats.ts";
import { startRouter, type TestRouter } from "../_helpers/router.ts";

/** A running cluster. */
export interface TestCluster extends AsyncDisposable {
  /** The nodes, in start order. */
  nodes: TestRouter[];
  /** The NATS server's URL. */
  natsUrl: string;
  /** The NATS server. */
  nats: NatsServer;
}

/**
 * Starts a nats-server and `n` routers joined to it, each serving realm1
 * with `realm` options.
 */
export async function startCluster(
  n: number,
  realm: Omit<RealmOptions, "name"> = {},
): Promise<TestCluster> {
  const nats = await startNats();
  const nodes: TestRouter[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const t = await startRouter({
        realms: [{ name: "realm1", ...realm }],
        cluster: { servers: [nats.url], name: "test", heartbeat: 100, nodeTimeout: 1000 },
      });
      nodes.push(t);
      await t.router.ready;
    }
  } catch (error) {
    for (const t of nodes) await t[Symbol.asyncDispose]();
    await nats.stop();
    throw error;
  }
  return {
    nodes,
    natsUrl: nats.url,
    nats,
    async [Symbol.asyncDispose]() {
      for (const t of nodes) await t[Symbol.asyncDispose]();
      await nats.stop();
    },
  };
}
