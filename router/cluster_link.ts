/**
 * The router's shell side of its cluster membership
 * ({@linkcode ClusterShell} for `cluster/join.ts`): proxies of remote
 * callers as delivery targets, and the cores' cluster effects run by the
 * {@linkcode OutputRunner}.
 *
 * @module
 */

import type { Cluster, ClusterShell } from "../cluster/join.ts";
import type { Realm } from "./core/realm.ts";
import type { Logger } from "./core/types.ts";
import type { Delivery } from "./delivery.ts";
import { Target } from "./target.ts";
import type { OutputRunner } from "./output_runner.ts";

/**
 * The shell a router joins its cluster with.
 *
 * @param realms The router's realms (a live map: realms added later are seen).
 * @param runner The router-wide effect runner.
 * @param delivery The router's delivery.
 * @param log Where to log.
 * @param attached Called with the membership once its effects are routed, before realms are linked.
 * @returns The shell.
 */
export function clusterShell(
  realms: ReadonlyMap<string, Realm>,
  runner: OutputRunner,
  delivery: Delivery,
  log: Logger,
  attached: (cluster: Cluster) => void,
): ClusterShell {
  const ignore = { close() {}, shutdown() {}, violate() {}, handle() {} };
  return {
    realms,
    run: (out) => runner.run(out),
    addProxy: (id, peer) => delivery.add(id, new Target(peer, {}, log, ignore)),
    removeProxy: (id) => delivery.remove(id),
    attach(cluster) {
      runner.pubsub = cluster.pubsub;
      runner.cluster = (effect) => cluster.sendRpc(effect);
      runner.sessions = (effect) => cluster.sendSession(effect);
      attached(cluster);
    },
  };
}
