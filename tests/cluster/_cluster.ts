/** Test harness: routers joined as one cluster over a real nats-server. */

import { type Kv, listKeys } from "../../cluster/registration_mirror.ts";
import { equal, ok } from "node:assert/strict";
import { ApplicationError, connect, type Session } from "../../mod.ts";
import type { RealmOptions } from "../../router/mod.ts";
import { realmOf } from "../../router/router.ts";
import type { SerializerName } from "../../wamp/mod.ts";
import { ClusterNode } from "../../cluster/node.ts";
import { type NatsServer, startNats } from "../_helpers/nats.ts";
import { startRouter, type TestRouter, until, within } from "../_helpers/router.ts";

/** Heartbeat and node timeout the cluster tests use (ms). */
export const TIMING = { heartbeat: 100, nodeTimeout: 800 } as const;

/** A NATS server and routers joined through it. */
export interface TestCluster extends AsyncDisposable {
  /** The NATS server. */
  nats: NatsServer;
  /** The nodes, in start order. */
  nodes: TestRouter[];
}

/**
 * Starts nats-server and `n` routers in one cluster, each serving realm1
 * with `realm` options.
 *
 * @param n How many nodes.
 * @param name The cluster's name.
 * @param realm realm1's options.
 * @param timing Heartbeat and node timeout.
 * @returns The cluster, torn down with `await using`.
 */
export async function startCluster(
  n: number,
  name = "t",
  realm: Omit<RealmOptions, "name"> = {},
  timing: { heartbeat: number; nodeTimeout: number } = TIMING,
): Promise<TestCluster> {
  const nats = await startNats();
  const nodes: TestRouter[] = [];
  const dispose = async () => {
    for (const node of nodes) await node[Symbol.asyncDispose]();
    await nats.stop();
  };
  try {
    for (let i = 0; i < n; i++) {
      const node = await startRouter({
        realms: [{ name: "realm1", ...realm }],
        cluster: { servers: [nats.url], name, ...timing },
      });
      nodes.push(node);
      await node.router.ready;
    }
  } catch (error) {
    await dispose();
    throw error;
  }
  return { nats, nodes, [Symbol.asyncDispose]: dispose };
}

/** A node in its own process (`_node.ts`), for the SIGKILL tests. */
export interface NodeProcess {
  /** Its WebSocket URL. */
  url: string;
  /** The process. */
  process: Deno.ChildProcess;
}

/**
 * Starts a cluster node as its own process and waits for its URL.
 *
 * @param natsUrl The NATS server.
 * @param name The cluster's name.
 * @returns The node (SIGKILL it, then await its status).
 */
export async function spawnNode(natsUrl: string, name: string): Promise<NodeProcess> {
  const process = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./_node.ts", import.meta.url).pathname,
      natsUrl,
      name,
      String(TIMING.heartbeat),
      String(TIMING.nodeTimeout),
    ],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const lines = process.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    const { value } = await within(lines.read(), 20_000, "a node process starts");
    return { url: value!.trim(), process };
  } catch (error) {
    process.kill("SIGKILL");
    await process.status;
    throw error;
  } finally {
    lines.releaseLock();
    process.stdout.cancel().catch(() => {});
  }
}

/** An `assert.rejects` check: an {@linkcode ApplicationError} with `uri`. */
export function isUri(uri: string): (e: unknown) => boolean {
  return (e: unknown) => {
    ok(e instanceof ApplicationError, `expected ApplicationError ${uri}, got ${e}`);
    equal(e.uri, uri);
    return true;
  };
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

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
    // A stalled listing (nats-server 2.9, after deletes) reads as one key more: the caller asks again.
    const listed = await listKeys(kv as unknown as Kv, ">", () => ["(listing stalled)"], () => {});
    const keys = new Set(listed);
    if (keys.has("(listing stalled)")) return [...keys];
    // Only keys whose last entry is a value: a listing can still name a key just deleted.
    const live: string[] = [];
    for (const key of keys) {
      const entry = await kv.get(key);
      if (entry !== null && entry.operation === "PUT") live.push(key);
    }
    return live;
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

/**
 * Runs `body` with two bare cluster nodes that see each other (heartbeat
 * 50 ms, node timeout 300 ms), over a nats-server of their own.
 */
export async function withTwoNodes(
  body: (a: ClusterNode, b: ClusterNode) => Promise<void>,
): Promise<void> {
  const nats = await startNats();
  const options = { servers: [nats.url], heartbeat: 50, nodeTimeout: 300 };
  const a = await ClusterNode.connect(options, () => {});
  const b = await ClusterNode.connect(options, () => {});
  try {
    await until(() => a.nodes().length === 2 && b.nodes().length === 2, 3000);
    await body(a, b);
  } finally {
    await a.close();
    await b.close();
    await nats.stop();
  }
}
