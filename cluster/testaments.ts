/**
 * Testaments that outlive their node: each session's testaments are
 * mirrored into a JetStream KV bucket (`clv_<name>_testaments`, one key per
 * realm, node and session), kept up to date by the `cluster-testaments`
 * effects of the realms' testament stores. A session that leaves normally
 * fires its testaments on its own node, and its key is deleted. When a
 * node goes down (no heartbeat for `nodeTimeout`), the surviving node with
 * the smallest ID publishes the dead node's testaments (detached, then
 * destroyed, each in the order added) as their sessions, through its
 * brokers and so to every node; each key is claimed by a compare-and-set
 * delete first, so no testament fires twice. Should that survivor die
 * before it is done, the next smallest fires what is left, with its own.
 * A node cut off from NATS fires nothing: when NATS is back, every node
 * waits two heartbeats for the others to be heard from again before it
 * fires a node's testaments. A node that closes normally deletes its keys
 * first: its testaments do not fire, as on one router.
 *
 * @module
 */

import { kvBucket } from "./kv_bucket.ts";
import { decode, encode } from "@msgpack/msgpack";
import type {
  ClusterTestaments as TestamentsEffect,
  Output,
  Settled,
  SharedTestament,
} from "../router/core/output.ts";
import type { Realm } from "../router/core/realm.ts";
import type { Logger, SessionInfo } from "../router/core/types.ts";
import type { ClusterNode } from "./node.ts";
import { keyToken } from "./registrations.ts";

interface KvEntry {
  value: Uint8Array;
  revision: number;
  operation: "PUT" | "DEL" | "PURGE";
}
interface Kv {
  get(key: string): Promise<KvEntry | null>;
  put(key: string, data: Uint8Array): Promise<number>;
  delete(key: string, options?: { previousSeq?: number }): Promise<void>;
  keys(filter?: string): Promise<AsyncIterable<string>>;
}

type Stored = [session: SessionInfo, testaments: SharedTestament[]];

/** A state to write, and who waits for it to land. */
interface Write {
  effect: TestamentsEffect;
  stored: ((result: Settled<void>) => Output)[];
}

/** How long after a node's death a survivor that becomes the smallest still fires its testaments. */
const TAKEOVER_MS = 5 * 60_000;

/** The cluster's testaments. */
export class ClusterTestamentStore {
  #kv: Kv;
  #node: ClusterNode;
  #realms: (name: string) => Realm | undefined;
  #run: (out: Output) => void;
  #log: Logger;
  /**
   * Per key, the write in flight and the state waiting for it (the latest
   * only, with every caller to answer): at most two per session.
   */
  #keys = new Map<string, { next?: Write; done: Promise<void> }>();
  #closed = false;
  /** Nodes that went down while this node was cut off from NATS. */
  #pending = new Set<string>();
  /** Nodes down lately (when) whose testaments may not all have fired yet. */
  #unfired = new Map<string, number>();

  private constructor(
    kv: Kv,
    node: ClusterNode,
    realms: (name: string) => Realm | undefined,
    run: (out: Output) => void,
    log: Logger,
  ) {
    this.#kv = kv;
    this.#node = node;
    this.#realms = realms;
    this.#run = run;
    this.#log = log;
    node.onNodeDown((id) => this.#fireNode(id).catch(() => {}));
    // Nodes that went down while NATS was unreachable: decided once the
    // others are heard from again.
    node.onNodeUp((id) => {
      this.#pending.delete(id);
      this.#unfired.delete(id);
      for (const down of [...this.#pending]) this.#fireNode(down).catch(() => {});
    });
  }

  /**
   * Opens (creating if needed) the cluster's bucket.
   *
   * @param node The cluster node.
   * @param realms The router's realms by name.
   * @param run Runs an output (the router's runner).
   * @param log Where failures are logged.
   * @returns The store.
   */
  static async open(
    node: ClusterNode,
    realms: (name: string) => Realm | undefined,
    run: (out: Output) => void,
    log: Logger,
  ): Promise<ClusterTestamentStore> {
    const kv = await kvBucket(node, `clv_${node.name}_testaments`, { history: 1 });
    return new ClusterTestamentStore(kv as unknown as Kv, node, realms, run, log);
  }

  /**
   * Runs a `cluster-testaments` effect: stores or forgets a session's
   * testaments, then (for `add_testament`) answers through `stored`.
   *
   * @param effect The effect.
   */
  update(effect: TestamentsEffect): void {
    if (this.#closed) {
      const error = new Error("the cluster is closing");
      if (effect.stored !== undefined) this.#run(effect.stored({ ok: false, error }));
      return;
    }
    const key = `${keyToken(effect.session.realm)}.${this.#node.id}.${effect.session.id}`;
    const state = this.#keys.get(key);
    const stored = effect.stored === undefined ? [] : [effect.stored];
    if (state === undefined) return this.#write(key, { effect, stored });
    // A write in flight: this state waits, merged with any waiting (only the latest is written).
    if (state.next === undefined) state.next = { effect, stored };
    else {
      state.next.effect = effect;
      state.next.stored.push(...stored);
    }
  }

  /** Writes a session's testaments; then the state that waited meanwhile, if any. */
  #write(key: string, write: Write): void {
    const state: { next?: Write; done: Promise<void> } = { done: Promise.resolve() };
    this.#keys.set(key, state);
    const { session, testaments } = write.effect;
    state.done = (async () => {
      let result: Settled<void>;
      try {
        if (testaments.length === 0) await this.#kv.delete(key);
        else await this.#kv.put(key, encode([session, testaments], { ignoreUndefined: true }));
        result = { ok: true, value: undefined };
      } catch (error) {
        this.#log(
          "warn",
          `Cluster: cannot store the testaments of session ${session.id}: ${error}`,
        );
        result = { ok: false, error };
      }
      for (const stored of write.stored) this.#run(stored(result));
      this.#keys.delete(key);
      if (state.next !== undefined) this.#write(key, state.next);
    })();
  }

  /** Forgets this node's testaments (a normal close fires none elsewhere). */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#keys.size > 0) await Promise.all([...this.#keys.values()].map((k) => k.done));
    try {
      for (const key of await this.#list(this.#node.id)) await this.#kv.delete(key);
    } catch (error) {
      this.#log("warn", `Cluster: cannot forget this node's testaments: ${error}`);
    }
  }

  async #list(node: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const key of await this.#kv.keys(`*.${node}.*`)) keys.push(key);
    return keys;
  }

  /**
   * Whether a node is still down, as far as this node can tell: not heard
   * from, and this node has been connected to NATS for two heartbeats at
   * least (after a NATS outage every node looks down until the heartbeats
   * resume: their sessions are alive).
   */
  async #stillDown(node: string): Promise<boolean> {
    const settle = 2 * this.#node.heartbeat;
    for (;;) {
      if (this.#closed || !this.#node.connected) return false;
      const wait = this.#node.reconnectedAt + settle - Date.now();
      if (wait <= 0) break;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
    return !this.#node.nodes().includes(node);
  }

  /**
   * Publishes the testaments of a node that is down, if this node is the
   * survivor with the smallest ID.
   */
  async #fireNode(node: string): Promise<void> {
    const now = Date.now();
    this.#unfired.set(node, now);
    for (const [id, at] of this.#unfired) if (now - at > TAKEOVER_MS) this.#unfired.delete(id);
    if (!this.#node.connected) {
      this.#pending.add(node);
      return;
    }
    if (!await this.#stillDown(node)) return;
    this.#pending.delete(node);
    if (this.#node.nodes()[0] !== this.#node.id) return; // the smallest survivor fires them
    // With those of every node down not fired yet: the smallest before may
    // have died before it was done (each key is claimed: none fires twice).
    for (const down of [...this.#unfired.keys()]) {
      await this.#fireKeys(down);
      this.#unfired.delete(down);
    }
  }

  async #fireKeys(node: string): Promise<void> {
    for (const key of await this.#list(node)) {
      if (!await this.#stillDown(node)) return;
      const entry = await this.#kv.get(key);
      if (entry === null || entry.operation !== "PUT") continue;
      try {
        await this.#kv.delete(key, { previousSeq: entry.revision }); // the claim
      } catch {
        continue; // another node claimed it
      }
      const [session, testaments] = decode(entry.value) as Stored;
      this.#fire(session, testaments);
    }
  }

  #fire(session: SessionInfo, testaments: readonly SharedTestament[]): void {
    const realm = this.#realms(session.realm);
    if (realm === undefined) return;
    // As this node's own: the first at once, the others in rotation (a node's death fired them
    // all in one turn: 512 on a topic 3,000 wildcard subscriptions match held a bystander 1.5 s).
    this.#run(realm.fireTestaments(session, testaments));
    this.#log(
      "info",
      `Cluster: fired ${testaments.length} testament(s) of session ${session.id} (node down)`,
    );
  }
}
