/**
 * The NATS subscriptions a node holds for publications: one per subject,
 * counted by the (realm, topic, match) pairs that need it (`subjects.ts`
 * gives each pair its subject). NATS sends a node one copy of a
 * publication per subscription whose subject matches it, so distinct
 * pattern subjects are few per realm: past {@linkcode PATTERN_SUBJECTS},
 * a further pattern shares the realm's whole subject, and the broker
 * filters what it brings.
 *
 * @module
 */

import { envelopeHead } from "./envelope_head.ts";
import type { ClusterSubscription } from "./node.ts";
import { interestSubjects } from "./subjects.ts";
import type { MatchPolicy } from "../wamp/mod.ts";

/**
 * The most distinct pattern (prefix or wildcard) subjects held per realm.
 * Before, each pattern had its own: 4,096 overlapping wildcard patterns
 * on one node made NATS send it 16,404 messages (74 MB) for 200
 * publications (18 KB), its heartbeats waited behind them, and the other
 * nodes were taken for down (audit). Now a publication reaches a node at
 * most this many times, plus twice.
 */
export const PATTERN_SUBJECTS = 16;

/** One held subject. */
export interface Held {
  /** Pairs that hold it. */
  count: number;
  /** The NATS subscription. */
  readonly sub: ClusterSubscription;
  /** Holders whose subscriptions want everything on the subject. */
  tight: number;
  /**
   * The other holders: prefixes that end inside a component (`a.bc` holds
   * `a.>`), by how many hold each. Publications none of them match are
   * dropped before they are decoded ({@linkcode wanted}).
   */
  readonly prefixes: Map<string, number>;
  /** The realm whose pattern subjects it counts among, if it is one. */
  readonly pattern: string | undefined;
}

/**
 * The prefix a (topic, match) holds its subject for when the subject is
 * wider than what it matches (a prefix ending inside a component: `a.bc`
 * holds `a.>`); undefined when it wants all of its subject.
 */
function looseness(topic: string, match: MatchPolicy): string | undefined {
  return match === "prefix" && topic !== "" && !topic.endsWith(".") ? topic : undefined;
}

/**
 * Whether a publication from another node is for one of `prefixes` (read
 * from its head only).
 *
 * @param data The envelope.
 * @param prefixes The prefixes holding its subject.
 * @param self This node's ID.
 * @returns False when none of them wants it, or it is this node's own.
 */
export function wanted(data: Uint8Array, prefixes: Map<string, number>, self: string): boolean {
  const head = envelopeHead(data);
  if (head === undefined) return true; // decoded, and refused there
  if (head.origin === self) return false;
  for (const prefix of prefixes.keys()) if (head.topic.startsWith(prefix)) return true;
  return false;
}

/** A node's subjects for publications. */
export class Interests {
  #subjects = new Map<string, Held>();
  /** Pattern subjects held, by realm. */
  #patterns = new Map<string, number>();
  /** Pairs holding their realm's whole subject instead of their own, keyed `realm match topic`. */
  #wide = new Map<string, number>();
  #subscribe: (subject: string, handler: (data: Uint8Array) => void) => ClusterSubscription;
  #receive: (realm: string, data: Uint8Array, held: Held) => void;

  /**
   * Creates the set, holding nothing.
   *
   * @param subscribe Subscribes to a subject on NATS.
   * @param receive What a publication on a held subject is handed to.
   */
  constructor(
    subscribe: (subject: string, handler: (data: Uint8Array) => void) => ClusterSubscription,
    receive: (realm: string, data: Uint8Array, held: Held) => void,
  ) {
    this.#subscribe = subscribe;
    this.#receive = receive;
  }

  /** How many subjects are held. */
  get size(): number {
    return this.#subjects.size;
  }

  /**
   * The subjects held, sorted.
   *
   * @returns Them.
   */
  subjects(): string[] {
    return [...this.#subjects.keys()].sort();
  }

  /**
   * Holds the subject a pair needs (subscribing when it is new).
   *
   * @param prefix The realm's subject prefix.
   * @param realm The realm.
   * @param topic The topic or pattern.
   * @param match Its match policy.
   */
  hold(prefix: string, realm: string, topic: string, match: MatchPolicy): void {
    let [subject] = interestSubjects(prefix, topic, match);
    let loose = looseness(topic, match);
    const pattern = match === "exact" ? undefined : realm;
    if (
      pattern !== undefined && !this.#subjects.has(subject!) &&
      (this.#patterns.get(realm) ?? 0) >= PATTERN_SUBJECTS
    ) {
      const key = `${realm} ${match} ${topic}`;
      this.#wide.set(key, (this.#wide.get(key) ?? 0) + 1);
      [subject, loose] = [`${prefix}.>`, undefined];
    }
    let held = this.#subjects.get(subject!);
    if (held === undefined) {
      const sub = this.#subscribe(subject!, (data) => this.#receive(realm, data, held!));
      held = { count: 0, sub, tight: 0, prefixes: new Map(), pattern };
      this.#subjects.set(subject!, held);
      if (pattern !== undefined) this.#patterns.set(realm, (this.#patterns.get(realm) ?? 0) + 1);
    }
    held.count++;
    if (loose === undefined) held.tight++;
    else held.prefixes.set(loose, (held.prefixes.get(loose) ?? 0) + 1);
  }

  /**
   * Lets go of what {@linkcode Interests.hold} held for a pair (and of the
   * subject, once no pair needs it).
   *
   * @param prefix The realm's subject prefix.
   * @param realm The realm.
   * @param topic The topic or pattern.
   * @param match Its match policy.
   */
  release(prefix: string, realm: string, topic: string, match: MatchPolicy): void {
    let [subject] = interestSubjects(prefix, topic, match);
    let loose = looseness(topic, match);
    const key = `${realm} ${match} ${topic}`;
    const wide = this.#wide.get(key);
    if (wide !== undefined) {
      if (wide > 1) this.#wide.set(key, wide - 1);
      else this.#wide.delete(key);
      [subject, loose] = [`${prefix}.>`, undefined];
    }
    const held = this.#subjects.get(subject!);
    if (held === undefined) return;
    if (loose === undefined) held.tight--;
    else {
      const n = (held.prefixes.get(loose) ?? 1) - 1;
      if (n > 0) held.prefixes.set(loose, n);
      else held.prefixes.delete(loose);
    }
    if (--held.count > 0) return;
    held.sub.unsubscribe();
    this.#subjects.delete(subject!);
    if (held.pattern !== undefined) {
      const n = (this.#patterns.get(held.pattern) ?? 1) - 1;
      if (n > 0) this.#patterns.set(held.pattern, n);
      else this.#patterns.delete(held.pattern);
    }
  }

  /** Lets go of every subject. */
  close(): void {
    for (const { sub } of this.#subjects.values()) sub.unsubscribe();
    this.#subjects.clear();
    this.#patterns.clear();
    this.#wide.clear();
  }
}
