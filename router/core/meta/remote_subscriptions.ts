/**
 * Cluster mode: the subscriptions of the other nodes of a realm, as the
 * subscription meta API sees them. Each node keeps its own subscriptions
 * (with its own IDs); this table mirrors the others' (ID, topic, match,
 * created, subscribers), fed by their broadcasts (`cluster_sessions.ts`).
 *
 * @module
 */

import type { MatchPolicy } from "../../../wamp/mod.ts";
import { MatchIndex } from "../match_index.ts";
import { SortedUris } from "../sorted_uris.ts";

/** A subscription as nodes describe it to each other. */
export interface SharedSubscription {
  /** Its ID on its node. */
  readonly id: number;
  /** The topic or pattern. */
  readonly topic: string;
  /** The match policy. */
  readonly match: MatchPolicy;
  /** When it was created (ISO 8601). */
  readonly created: string;
  /** Its subscribers (session IDs). */
  readonly subscribers: readonly number[];
}

/** A subscription of another node. */
export interface RemoteSubscription {
  /** Its node. */
  readonly node: string;
  /** Its ID on that node. */
  readonly id: number;
  /** The topic or pattern. */
  readonly topic: string;
  /** The match policy. */
  readonly match: MatchPolicy;
  /** When it was created there (ISO 8601). */
  readonly created: string;
  /** Its subscribers (session IDs). */
  readonly subscribers: Set<number>;
}

/** The other nodes' subscriptions of one realm. */
export class RemoteSubscriptions {
  #byId = new Map<number, RemoteSubscription>();
  /** By (topic, match): the subscriptions of every other node to it. */
  #index = new MatchIndex<Set<RemoteSubscription>>();
  /** Their topics and patterns, in order (for `wamp.reflection.topic.list`). */
  readonly topics: SortedUris = new SortedUris();

  /** A subscription of another node, by its ID. */
  get(id: number): RemoteSubscription | undefined {
    return this.#byId.get(id);
  }

  /** The other nodes' subscriptions to exactly (topic, match). */
  of(topic: string, match: MatchPolicy): readonly RemoteSubscription[] {
    return [...this.#index.get(topic, match) ?? []];
  }

  /** Every subscription of the other nodes. */
  values(): IterableIterator<RemoteSubscription> {
    return this.#byId.values();
  }

  /**
   * The other nodes' subscriptions that a publication to `topic` matches
   * (through the core's {@linkcode MatchIndex}: the cost grows with the
   * matches, not with the subscriptions).
   */
  matching(topic: string): RemoteSubscription[] {
    const found: RemoteSubscription[] = [];
    for (const set of this.#index.matches(topic)) for (const sub of set) found.push(sub);
    return found;
  }

  /**
   * A session of `node` joined (`on`) or left a subscription there; the
   * subscription goes with its last subscriber.
   *
   * @returns What changed: the subscription, whether it was created or
   * deleted; undefined when nothing did.
   */
  change(
    node: string,
    shared: SharedSubscription,
    session: number,
    on: boolean,
  ): { sub: RemoteSubscription; created: boolean; deleted: boolean } | undefined {
    let sub = this.#byId.get(shared.id);
    const created = sub === undefined;
    if (sub === undefined) {
      if (!on) return undefined;
      sub = this.#add(node, shared);
    }
    if (on) {
      if (sub.subscribers.has(session)) return undefined;
      sub.subscribers.add(session);
      return { sub, created, deleted: false };
    }
    if (!sub.subscribers.delete(session)) return undefined;
    const deleted = sub.subscribers.size === 0;
    if (deleted) this.#remove(sub);
    return { sub, created: false, deleted };
  }

  /** Adds subscriptions of `node` (a snapshot's part; the same ID again adds subscribers). */
  addAll(node: string, subs: readonly SharedSubscription[]): void {
    for (const shared of subs) {
      const sub = this.#byId.get(shared.id);
      if (sub === undefined) {
        if (shared.subscribers.length > 0) this.#add(node, shared);
      } else for (const session of shared.subscribers) sub.subscribers.add(session);
    }
  }

  /**
   * Forgets every subscription of `node`.
   *
   * @returns The subscriptions forgotten.
   */
  dropNode(node: string): RemoteSubscription[] {
    const dropped = [...this.#byId.values()].filter((sub) => sub.node === node);
    for (const sub of dropped) this.#remove(sub);
    return dropped;
  }

  #add(node: string, shared: SharedSubscription): RemoteSubscription {
    const { id, topic, match, created } = shared;
    const sub = { node, id, topic, match, created, subscribers: new Set(shared.subscribers) };
    this.#byId.set(id, sub);
    let set = this.#index.get(topic, match);
    if (set === undefined) this.#index.set(topic, match, set = new Set());
    set.add(sub);
    this.topics.add(topic);
    return sub;
  }

  #remove(sub: RemoteSubscription): void {
    this.#byId.delete(sub.id);
    const set = this.#index.get(sub.topic, sub.match);
    set?.delete(sub);
    if (set?.size === 0) this.#index.delete(sub.topic, sub.match);
    this.topics.delete(sub.topic);
  }
}
