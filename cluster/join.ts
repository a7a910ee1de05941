/**
 * A router's membership of a cluster, in one piece: its node (NATS),
 * its slot of global IDs, and PubSub across nodes. `router/router.ts`
 * joins with {@linkcode Cluster.join} and links each realm.
 *
 * @module
 */

import type { Realm } from "../router/core/realm.ts";
import type { Logger } from "../router/core/types.ts";
import { ClusterNode, type ClusterOptions } from "./node.ts";
import { ClusterHistory } from "./history.ts";
import { ClusterPubSub, type OutputSink } from "./pubsub.ts";
import { ClusterRetained } from "./retained.ts";
import { type ClusterIds, clusterIds } from "./session_ids.ts";
import { ClusterTestamentStore } from "./testaments.ts";

/** A router joined to a cluster. */
export class Cluster {
  /** The node. */
  readonly node: ClusterNode;
  /** The node's global IDs (sessions, publications), unique across the cluster. */
  readonly ids: ClusterIds;
  /** PubSub across nodes. */
  readonly pubsub: ClusterPubSub;
  #history: ClusterHistory | undefined;

  #log: Logger;

  private constructor(node: ClusterNode, ids: ClusterIds, pubsub: ClusterPubSub, log: Logger) {
    this.#log = log;
    this.node = node;
    this.ids = ids;
    this.pubsub = pubsub;
  }

  /**
   * Connects to NATS, leases an ID slot and starts PubSub across nodes.
   *
   * @param options The cluster's options.
   * @param log Where the cluster logs.
   * @param sink Where what other nodes send is delivered (the router's runner).
   * @param realms The router's realms by name.
   * @returns The membership.
   * @throws {Error} When NATS cannot be reached or JetStream is unavailable.
   */
  static async join(
    options: ClusterOptions,
    log: Logger,
    sink: OutputSink,
    realms: (name: string) => Realm | undefined,
  ): Promise<Cluster> {
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
    const pubsub = new ClusterPubSub(node, sink, realms, log);
    try {
      pubsub.retained = await ClusterRetained.open(node, realms, log);
      pubsub.testamentStore = await ClusterTestamentStore.open(
        node,
        realms,
        (out) => sink.run(out),
        log,
      );
    } catch (error) {
      pubsub.retained?.close();
      await ids.close();
      await node.close();
      throw new Error(`Cannot open the cluster's retained events and testaments: ${error}`);
    }
    return new Cluster(node, ids, pubsub, log);
  }

  /**
   * Links a realm: PubSub across nodes for it from now on.
   *
   * @param realm The realm.
   */
  link(realm: Realm): void {
    this.pubsub.link(realm);
  }

  /**
   * Makes the realms' event history (`eventHistory` rules) cluster-wide and
   * durable: a JetStream stream feeds every node's history stores.
   * Resolves once what the stream held is read back.
   *
   * @param realms The router's realms.
   */
  async openHistory(realms: Iterable<Realm>): Promise<void> {
    this.#history = await ClusterHistory.open(this.node, realms, this.#log);
  }

  /**
   * Leaves the cluster: forgets this node's testaments, stops PubSub, frees
   * the ID slot, closes the node.
   */
  async close(): Promise<void> {
    this.#history?.close();
    await this.pubsub.testamentStore?.close();
    this.pubsub.retained?.close();
    this.pubsub.close();
    await this.ids.close();
    await this.node.close();
  }
}
