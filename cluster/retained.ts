/**
 * Retained events cluster-wide, in a JetStream KV bucket
 * (`clv_<name>_retained`): the node a retained publication is made on
 * stores it under its realm and topic (one key for the topic's open event,
 * one for its newest restricted one, i.e. with black/white lists); every
 * node watches the bucket and mirrors the other nodes' retained events into
 * its brokers' stores, where `get_retained` finds them. A node that starts
 * (or restarts) reads the bucket's current values first, so retained
 * events survive any node's restart. Each node's broker bounds what it
 * mirrors by the realm's retained limits (`retainedEventBytes`,
 * `retainedBytes`).
 *
 * @module
 */

import { kvBucket } from "./kv_bucket.ts";
import { decode, encode } from "@msgpack/msgpack";
import { publicationFrom, type SharedPublication } from "../router/core/broker/publication.ts";
import type { Realm } from "../router/core/realm.ts";
import type { Logger } from "../router/core/types.ts";
import type { ClusterNode } from "./node.ts";
import { keyToken } from "./registrations.ts";

interface KvEntry {
  key: string;
  value: Uint8Array;
  operation: "PUT" | "DEL" | "PURGE";
}
interface Kv {
  status(): Promise<{ values: number }>;
  put(key: string, data: Uint8Array): Promise<number>;
  watch(options?: { key?: string }): Promise<AsyncIterable<KvEntry> & { stop(): void }>;
}

type Stored = [origin: string, realm: string, publication: SharedPublication];

/** The retained events of one cluster. */
export class ClusterRetained {
  #kv: Kv;
  #node: ClusterNode;
  #realms: (name: string) => Realm | undefined;
  #log: Logger;
  #watcher: { stop(): void } | undefined;
  #closed = false;

  private constructor(
    kv: Kv,
    node: ClusterNode,
    realms: (name: string) => Realm | undefined,
    log: Logger,
  ) {
    this.#kv = kv;
    this.#node = node;
    this.#realms = realms;
    this.#log = log;
  }

  /**
   * Opens (creating if needed) the cluster's bucket and mirrors what it
   * holds; resolves once the values there now are mirrored.
   *
   * @param node The cluster node.
   * @param realms The router's realms by name.
   * @param log Where failures are logged.
   * @returns The store.
   */
  static async open(
    node: ClusterNode,
    realms: (name: string) => Realm | undefined,
    log: Logger,
  ): Promise<ClusterRetained> {
    const kv = await kvBucket(node, `clv_${node.name}_retained`, { history: 1 });
    const store = new ClusterRetained(kv as unknown as Kv, node, realms, log);
    await store.#watch();
    return store;
  }

  /**
   * Stores a publication this node retained.
   *
   * @param realm The realm's name.
   * @param pub The publication.
   * @returns Resolves once JetStream acknowledged the write; rejects when
   * it failed (logged too).
   */
  retain(realm: string, pub: SharedPublication): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("the cluster is closing"));
    const kind = pub.lists === undefined ? "o" : "r";
    const key = `${keyToken(realm)}.${keyToken(pub.topic)}.${kind}`;
    const stored: Stored = [this.#node.id, realm, pub];
    return this.#kv.put(key, encode(stored, { ignoreUndefined: true })).then(
      () => {},
      (error) => {
        this.#log("warn", `Cluster: cannot store the retained event of "${pub.topic}": ${error}`);
        throw error;
      },
    );
  }

  /** Stops watching. */
  close(): void {
    this.#closed = true;
    this.#watcher?.stop();
  }

  async #watch(): Promise<void> {
    const { values } = await this.#kv.status();
    const watcher = await this.#kv.watch({ key: ">" });
    this.#watcher = watcher;
    const { promise: caughtUp, resolve } = Promise.withResolvers<void>();
    // A watch delivers the current values first, the last of them with
    // `delta` (pending) 0; an empty bucket has none.
    if (values === 0) resolve();
    const it = watcher as AsyncIterable<KvEntry & { delta?: number; isUpdate?: boolean }>;
    (async () => {
      for await (const entry of it) {
        try {
          if (entry.operation === "PUT") this.#mirror(decode(entry.value) as Stored);
        } catch (error) {
          this.#log("error", `Cluster: retained event ${entry.key}: ${error}`);
        }
        if (entry.delta === 0 || entry.isUpdate === true) resolve();
      }
    })().catch(() => {}).finally(resolve);
    const timer = setTimeout(resolve, 3000);
    await caughtUp;
    clearTimeout(timer);
  }

  #mirror([origin, realmName, shared]: Stored): void {
    if (origin === this.#node.id) return; // retained by this node's broker already
    const realm = this.#realms(realmName);
    const pub = publicationFrom(shared);
    if (realm === undefined || pub === undefined) return;
    const refusal = realm.broker.retained.retain(pub);
    if (refusal !== undefined) this.#log("warn", `Cluster: ${refusal}`);
  }
}
