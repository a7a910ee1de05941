/** Test harness: shared registration tables without routers, over a real nats-server. */

import { ClusterNode } from "../../cluster/node.ts";
import { ClusterRegistrations } from "../../cluster/registrations.ts";
import type { Kv } from "../../cluster/registration_mirror.ts";
import type { CalleeEntry } from "../../router/core/dealer/remote.ts";
import type { Dict } from "../../wamp/mod.ts";
import type { NatsServer } from "../_helpers/nats.ts";
import { until } from "../_helpers/router.ts";

const quiet = () => {};

/** A cluster node with its table, and what its watcher told. */
export interface Member {
  /** The node. */
  node: ClusterNode;
  /** Its table. */
  table: ClusterRegistrations;
  /** The callees of each procedure, as this member's watcher last told. */
  seen: Map<string, readonly CalleeEntry[]>;
  /** The description of each procedure, as this member's watcher last told. */
  described: Map<string, Dict | undefined>;
}

/**
 * Connects `n` nodes of cluster `name`, each with its table watched and
 * releasing the nodes it takes for down.
 *
 * @returns The members, smallest node ID first.
 */
export async function members(url: string, name: string, n: number): Promise<Member[]> {
  const out: Member[] = [];
  for (let i = 0; i < n; i++) {
    const node = await ClusterNode.connect(
      { servers: [url], name, heartbeat: 100, nodeTimeout: 800 },
      quiet,
    );
    const table = await ClusterRegistrations.open(node, quiet);
    node.onNodeDown((id) => table.releaseNode(id).catch(() => {}));
    const member: Member = { node, table, seen: new Map(), described: new Map() };
    await table.watch((_realm, procedure, _match, _invoke, callees, description) => {
      member.seen.set(procedure, callees);
      member.described.set(procedure, description);
    });
    out.push(member);
  }
  await until(() => out.every((m) => m.node.nodes().length === n), 5000, "nodes see each other");
  return out.sort((a, b) => a.node.id < b.node.id ? -1 : 1);
}

/** A callee entry of `node` (registered at `session` ms). */
export function entry(node: string, session: number): CalleeEntry {
  return { node, session, at: session, options: {}, features: {} as CalleeEntry["features"] };
}

/** Closes every member's table and node. */
export async function close(all: Member[]): Promise<void> {
  for (const { table, node } of all) {
    table.close();
    await node.close(500);
  }
}

/** The table's bucket, straight from JetStream KV, on a connection of its own (close `nc`). */
export async function bucket(
  nats: NatsServer,
  name: string,
): Promise<{ nc: { close(): Promise<void> }; kv: Kv }> {
  const { connect } = await import("@nats-io/transport-node");
  const { Kvm } = await import("@nats-io/kv");
  const nc = await connect({ servers: [nats.url] });
  const kv = await new Kvm(nc).open(`clv_${name}_registrations`) as unknown as Kv;
  return { nc, kv };
}
