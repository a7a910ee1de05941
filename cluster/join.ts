/**
 * A router's membership of a cluster, in one piece: its node (NATS),
 * its slot of global IDs, PubSub across nodes (with retained events,
 * testaments and event history), the shared registration table and RPC
 * between nodes, and the session meta API across nodes. `router/router.ts`
 * joins with {@linkcode Cluster.join}, links realms added later with
 * {@linkcode Cluster.link} and leaves with {@linkcode Cluster.close}; what
 * only the router's shell can do (deliver, hold proxies of remote callers,
 * run the cores' cluster effects) it passes in as a {@linkcode ClusterShell}.
 *
 * @module
 */

import type { Peer } from "../wamp/mod.ts";
import type { ClusterSend, ClusterSession, Output } from "../router/core/output.ts";
import type { Realm } from "../router/core/realm.ts";
import type { Logger } from "../router/core/types.ts";
import { ClusterNode, type ClusterOptions } from "./node.ts";
import { ClusterHistory } from "./history.ts";
import { ClusterSessions } from "./meta.ts";
import { ClusterPubSub } from "./pubsub.ts";
import { ClusterRegistrations } from "./registrations.ts";
import { ClusterRetained } from "./retained.ts";
import { ClusterRpc } from "./rpc.ts";
import { type ClusterIds, clusterIds } from "./session_ids.ts";
import { ClusterTestamentStore } from "./testaments.ts";

/** What the router's shell gives its cluster membership. */
export interface ClusterShell {
  /** The router's realms by name (those there now get linked while joining). */
  readonly realms: ReadonlyMap<string, Realm>;
  /** Delivers a realm's output and runs its effects (the router's runner). */
  run(out: Output): void;
  /** Adds a delivery target for a proxy of a caller on another node. */
  addProxy(session: number, peer: Peer): void;
  /** Removes a proxy's delivery target. */
  removeProxy(session: number): void;
  /**
   * Called once the node, its ID slot and PubSub are up, before any realm
   * is linked: route the cores' cluster effects to `cluster` from now on
   * (`cluster` and `cluster-session` effects are dropped until RPC and the
   * session meta API are up, later in the join).
   */
  attach(cluster: Cluster): void;
}

/** A router joined to a cluster. */
export class Cluster {
  /** The node. */
  readonly node: ClusterNode;
  /** The node's global IDs (sessions, publications), unique across the cluster. */
  readonly ids: ClusterIds;
  /** PubSub across nodes. */
  readonly pubsub: ClusterPubSub;
  #rpc: ClusterRpc | undefined;
  #sessions: ClusterSessions | undefined;
  #table: ClusterRegistrations | undefined;
  #history: ClusterHistory | undefined;
  #closing: Promise<void> | undefined;

  private constructor(node: ClusterNode, ids: ClusterIds, pubsub: ClusterPubSub) {
    this.node = node;
    this.ids = ids;
    this.pubsub = pubsub;
  }

  /** The shared registration table, once joined (for tests). */
  get registrations(): ClusterRegistrations | undefined {
    return this.#table;
  }

  /**
   * Runs a dealer's `cluster` effect (RPC across nodes).
   *
   * @param effect The effect.
   */
  sendRpc(effect: ClusterSend): void {
    this.#rpc?.send(effect);
  }

  /**
   * Runs a `cluster-session` effect (the session meta API across nodes).
   *
   * @param effect The effect.
   */
  sendSession(effect: ClusterSession): void {
    this.#sessions?.send(effect);
  }

  /**
   * Connects to NATS, leases an ID slot, opens the cluster's shared state
   * (retained events, testaments, registrations, event history) and links
   * every realm of `shell.realms`.
   *
   * @param options The cluster's options.
   * @param log Where the cluster logs.
   * @param shell The router's side.
   * @returns The membership, once the realms' interest is in place.
   * @throws {Error} When NATS cannot be reached or JetStream is unavailable
   * (what was opened is closed again).
   */
  static async join(options: ClusterOptions, log: Logger, shell: ClusterShell): Promise<Cluster> {
    const node = await ClusterNode.connect(options, log);
    let ids: ClusterIds;
    try {
      ids = await clusterIds(node, log, {
        leaseMs: Math.max(3 * (options.nodeTimeout ?? 5000), 3000),
      });
    } catch (error) {
      await node.close();
      throw new Error(`Cannot lease an ID slot (is JetStream enabled?): ${error}`);
    }
    const realms = (name: string) => shell.realms.get(name);
    const pubsub = new ClusterPubSub(node, shell, realms, log);
    try {
      pubsub.retained = await ClusterRetained.open(node, realms, log);
      pubsub.testamentStore = await ClusterTestamentStore.open(
        node,
        realms,
        (out) => shell.run(out),
        log,
      );
    } catch (error) {
      pubsub.retained?.close();
      await ids.close();
      await node.close();
      throw new Error(`Cannot open the cluster's retained events and testaments: ${error}`);
    }
    const cluster = new Cluster(node, ids, pubsub);
    try {
      await cluster.#link(shell, log);
    } catch (error) {
      await cluster.close();
      throw error;
    }
    return cluster;
  }

  /** The rest of joining: links the realms, event history, RPC, the session meta API. */
  async #link(shell: ClusterShell, log: Logger): Promise<void> {
    shell.attach(this);
    for (const realm of shell.realms.values()) this.pubsub.link(realm);
    this.pubsub.history = this.#history = await ClusterHistory.open(
      this.node,
      shell.realms.values(),
      log,
    );
    const table = this.#table = await ClusterRegistrations.open(this.node, log);
    const rpc = this.#rpc = new ClusterRpc(this.node, table, {
      run: (out) => shell.run(out),
      addProxy: (id, peer) => shell.addProxy(id, peer),
      removeProxy: (id) => shell.removeProxy(id),
      log,
    });
    this.#sessions = new ClusterSessions(this.node, (out) => shell.run(out), log);
    for (const [name, realm] of shell.realms) this.#linkRpc(name, realm);
    await table.watch((realm, procedure, match, invoke, callees, description, definer) => {
      const dealer = rpc.dealer(realm);
      if (dealer === undefined) return;
      shell.run(dealer.sync(procedure, match, invoke, callees, description, definer));
    });
    await this.node.flush(); // joined: the realms' interest (history subscriptions) is in place
  }

  /**
   * Links a realm added after joining: PubSub, RPC and the session meta
   * API across nodes for it from now on.
   *
   * @param realm The realm.
   */
  link(realm: Realm): void {
    this.pubsub.link(realm);
    this.#linkRpc(realm.name, realm);
  }

  #linkRpc(name: string, realm: Realm): void {
    this.#rpc?.link(name, realm);
    this.#sessions?.link(name, realm);
  }

  /**
   * Leaves the cluster: stops RPC and the session meta API, forgets this
   * node's testaments, stops PubSub, frees the ID slot, closes the node.
   * Closing again returns the first close.
   *
   * @returns A promise that settles once the node is closed.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.node.stopReceiving(); // nothing from NATS is handled once closing begins
    this.#table?.close();
    this.#rpc?.close();
    this.#sessions?.close();
    this.#history?.close();
    // Tidying JetStream waits for NATS, which may be gone (the supervisor
    // and its nats-server killed together): each step gets CLOSE_MS, none
    // when NATS is unreachable already.
    const ms = () => this.node.connected ? CLOSE_MS : 0;
    await atMost(this.pubsub.testamentStore?.close(), ms());
    this.pubsub.retained?.close();
    this.pubsub.close();
    await atMost(this.ids.close(), ms());
    await this.node.close(ms());
  }
}

/** How long each step of closing may wait for NATS, in ms. */
const CLOSE_MS = 2000;

/** Waits for `promise`, but no longer than `ms` (its failure is ignored). */
async function atMost(promise: Promise<unknown> | undefined, ms: number): Promise<void> {
  if (promise === undefined) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    promise.catch(() => {}),
    new Promise((resolve) => timer = setTimeout(resolve, ms)),
  ]);
  clearTimeout(timer);
}
