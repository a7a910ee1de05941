/**
 * Event history cluster-wide and durable: a JetStream stream
 * (`clv_<name>_history`, file storage) captures, straight from the
 * publication subjects (`cluster/pubsub.ts`), every publication that a
 * realm's `eventHistory` rule covers, wherever it was published. Each node
 * feeds its history-enabled subscriptions from the stream alone (an
 * ordered consumer from the stream's start), so `wamp.subscription.get_events`
 * returns the same events in the same order on every node, and a node
 * that restarts reads them back. The stream keeps at most the largest
 * rule's `limit` messages per subject (a message holds one publication or
 * a batch of them, `ClusterNode.send`, so every rule's newest `limit`
 * events are kept) and, per realm, at most `historyBytes` times its rules together;
 * each store trims to its rule as before.
 *
 * Not in the stream: meta events (never shared between nodes), and what a
 * node published while cut off from NATS.
 *
 * @module
 */

import { publicationFrom } from "../router/core/broker/publication.ts";
import type { Realm } from "../router/core/realm.ts";
import type { Logger } from "../router/core/types.ts";
import type { ClusterNode } from "./node.ts";
import { decodeEnvelopes } from "./pubsub.ts";
import { escapeToken, interestSubjects } from "./subjects.ts";

interface StreamConfig {
  name: string;
  subjects: string[];
  max_msgs_per_subject: number;
  max_bytes: number;
  storage: "file";
  discard: "old";
  num_replicas: number;
}
interface Jsm {
  streams: {
    add(config: StreamConfig): Promise<unknown>;
    update(name: string, config: Partial<StreamConfig>): Promise<unknown>;
    info(name: string): Promise<{ state: { last_seq: number } }>;
  };
}
interface JsMsg {
  subject: string;
  data: Uint8Array;
  seq: number;
}
interface Messages extends AsyncIterable<JsMsg> {
  stop(): void;
}

/**
 * Whether NATS subject pattern `a` covers every subject `b` matches.
 *
 * @param a A subject, `*` and `>` allowed.
 * @param b Another.
 * @returns True when `a` covers `b`.
 *
 * @example
 * ```ts
 * import { covers } from "./history.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(covers("a.>", "a.b.*"), true);
 * equal(covers("a.*", "a.>"), false);
 * ```
 */
export function covers(a: string, b: string): boolean {
  const x = a.split(".");
  const y = b.split(".");
  for (let i = 0; i < x.length; i++) {
    if (x[i] === ">") return y.length > i;
    if (i >= y.length || y[i] === ">") return false;
    if (x[i] !== "*" && x[i] !== y[i]) return false;
  }
  return x.length === y.length;
}

/** Subjects without those another one covers (a stream's subjects may not overlap). */
function disjoint(subjects: Iterable<string>): string[] {
  const all = [...new Set(subjects)];
  return all.filter((s) => !all.some((t) => t !== s && covers(t, s)));
}

/** The durable event history of one cluster. */
export class ClusterHistory {
  #messages: Messages | undefined;

  private constructor() {}

  /**
   * Creates (or updates) the cluster's history stream for the router's
   * realms' `eventHistory` rules, switches their history stores to it, and
   * resolves once what the stream held is read back. Without rules it does
   * nothing (each node keeps no history).
   *
   * @param node The cluster node.
   * @param realms The router's realms.
   * @param log Where failures are logged.
   * @returns The history.
   */
  static async open(
    node: ClusterNode,
    realms: Iterable<Realm>,
    log: Logger,
  ): Promise<ClusterHistory> {
    const history = new ClusterHistory();
    const byToken = new Map<string, Realm>();
    const subjects: string[] = [];
    let perSubject = 0;
    let bytes = 0;
    for (const realm of realms) {
      const rules = realm.options.eventHistory;
      if (rules.length === 0) continue;
      const token = escapeToken(realm.name);
      byToken.set(token, realm);
      const prefix = node.subject("pub", token);
      for (const rule of rules) {
        subjects.push(...interestSubjects(prefix, rule.topic, rule.match ?? "exact"));
        perSubject = Math.max(perSubject, rule.limit ?? 100);
        bytes += realm.options.limits.historyBytes;
      }
    }
    if (subjects.length === 0) return history;
    const { jetstream, jetstreamManager } = await import("@nats-io/jetstream");
    // deno-lint-ignore no-explicit-any
    const nc = node.connection as any;
    const jsm = await jetstreamManager(nc) as unknown as Jsm;
    const name = `clv_${node.name}_history`;
    const config: StreamConfig = {
      name,
      subjects: disjoint(subjects),
      max_msgs_per_subject: perSubject,
      max_bytes: Number.isFinite(bytes) ? bytes : -1,
      storage: "file",
      discard: "old",
      num_replicas: 1,
    };
    try {
      await jsm.streams.add(config);
    } catch {
      await jsm.streams.update(name, config); // another node (or an earlier run) made it
    }
    const last = (await jsm.streams.info(name)).state.last_seq;
    for (const realm of byToken.values()) realm.broker.history.external = true;
    const consumer = await jetstream(nc).consumers.get(name);
    const messages = await consumer.consume() as unknown as Messages;
    history.#messages = messages;
    const { promise: caughtUp, resolve } = Promise.withResolvers<void>();
    if (last === 0) resolve();
    const skip = node.subject("pub").length + 1;
    (async () => {
      for await (const m of messages) {
        try {
          const rest = m.subject.slice(skip);
          const realm = byToken.get(rest.slice(0, rest.indexOf(".")));
          if (realm !== undefined) record(realm, m.data);
        } catch (error) {
          log("error", `Cluster: history ${m.subject}: ${error}`);
        }
        if (m.seq >= last) resolve();
      }
    })().catch((error) => log("warn", `Cluster: history stream: ${error}`)).finally(resolve);
    const timer = setTimeout(resolve, 5000);
    await caughtUp;
    clearTimeout(timer);
    return history;
  }

  /** Stops reading the stream. */
  close(): void {
    this.#messages?.stop();
  }
}

/**
 * Keeps a publication from the stream for the history-enabled
 * subscriptions it matches (the broker's own matching).
 */
function record(realm: Realm, data: Uint8Array): void {
  const { broker } = realm;
  for (const [, shared] of decodeEnvelopes(data)) {
    const pub = publicationFrom(shared);
    if (pub === undefined) continue;
    for (const { id } of broker.matching(pub.topic)) {
      if (broker.history.has(id)) broker.history.append(id, pub);
    }
  }
}
