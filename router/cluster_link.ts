/**
 * Links a router's realms to its cluster: the shared registration table
 * (JetStream KV) and RPC between nodes, the session meta API across nodes, with proxies of remote callers
 * as delivery targets and the dealers' `cluster` effects run by the
 * {@linkcode OutputRunner}.
 *
 * @module
 */

import type { ClusterNode } from "../cluster/node.ts";
import { ClusterRegistrations } from "../cluster/registrations.ts";
import { ClusterRpc } from "../cluster/rpc.ts";
import { ClusterSessions } from "../cluster/meta.ts";
import type { Realm } from "./core/realm.ts";
import type { Logger } from "./core/types.ts";
import { type Delivery, Target } from "./delivery.ts";
import type { OutputRunner } from "./output_runner.ts";

/** A router's link to its cluster. */
export interface ClusterLink {
  /** Links a realm added after joining. */
  link(name: string, realm: Realm): void;
  /** Stops the link (before the node closes). */
  close(): void;
}

/**
 * Links every realm (and those added later through the returned link).
 *
 * @param node The joined node.
 * @param realms The router's realms.
 * @param runner The router-wide effect runner.
 * @param delivery The router's delivery.
 * @param log Where to log.
 * @returns The link.
 */
export async function linkCluster(
  node: ClusterNode,
  realms: ReadonlyMap<string, Realm>,
  runner: OutputRunner,
  delivery: Delivery,
  log: Logger,
): Promise<ClusterLink> {
  const table = await ClusterRegistrations.open(node, log);
  const ignore = { close() {}, shutdown() {}, violate() {} };
  const rpc = new ClusterRpc(node, table, {
    run: (out) => runner.run(out),
    addProxy: (id, peer) => delivery.add(id, new Target(peer, {}, log, ignore)),
    removeProxy: (id) => delivery.remove(id),
    log,
  });
  runner.cluster = (effect) => rpc.send(effect);
  const sessions = new ClusterSessions(node, (out) => runner.run(out), log);
  runner.sessions = (effect) => sessions.send(effect);
  for (const [name, realm] of realms) {
    rpc.link(name, realm);
    sessions.link(name, realm);
  }
  await table.watch((realm, procedure, match, invoke, callees) => {
    const dealer = rpc.dealer(realm);
    if (dealer !== undefined) runner.run(dealer.sync(procedure, match, invoke, callees));
  });
  return {
    link(name, realm) {
      rpc.link(name, realm);
      sessions.link(name, realm);
    },
    close() {
      table.close();
      rpc.close();
      sessions.close();
    },
  };
}
