/**
 * Event history cluster-wide and durable: a JetStream stream per realm
 * (`clv_<name>_history_<realm>`, file storage) captures, straight from the
 * publication subjects (`cluster/pubsub.ts`), every publication that one
 * of the realm's `eventHistory` rules covers, wherever it was published.
 * Each node feeds its history-enabled subscriptions from the streams alone
 * (an ordered consumer from each stream's start), so
 * `wamp.subscription.get_events` returns the same events in the same order
 * on every node, and a node that restarts reads them back. A stream keeps
 * at most the largest of its rules' `limit` messages per subject (a
 * message holds one publication or a batch of them, `ClusterNode.send`, so
 * every rule's newest `limit` events are kept) and at most `historyBytes`
 * times its rules; each store trims to its rule as before. The realms'
 * streams are apart so that one realm's publications never push out
 * another's (the rules of one realm still share theirs).
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
    info(name: string): Promise<{ state: { last_seq: number; messages: number } }>;
    delete(name: string): Promise<boolean>;
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

/** One realm's history stream: its rules' subjects and limits. */
interface RealmStream {
  readonly realm: Realm;
  readonly config: StreamConfig;
}

/** Milliseconds a starting node waits for a stream to be read back. */
const CATCH_UP_MS = 5000;

/** The durable event history of one cluster. */
export class ClusterHistory {
  #messages: Messages[] = [];

  private constructor() {}

  /**
   * Creates (or updates) one history stream per realm with `eventHistory`
   * rules, switches their history stores to it, and resolves once what the
   * streams held is read back. Without rules it does nothing (each node
   * keeps no history). A realm's stream holds its own rules' publications
   * only: another realm's cannot push them out.
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
    const streams: RealmStream[] = [];
    for (const realm of realms) {
      const rules = realm.options.eventHistory;
      if (rules.length === 0) continue;
      const token = escapeToken(realm.name);
      const prefix = node.subject("pub", token);
      const subjects: string[] = [];
      let perSubject = 0;
      for (const rule of rules) {
        subjects.push(...interestSubjects(prefix, rule.topic, rule.match ?? "exact"));
        perSubject = Math.max(perSubject, rule.limit ?? 100);
      }
      const bytes = rules.length * realm.options.limits.historyBytes;
      streams.push({
        realm,
        config: {
          name: `clv_${node.name}_history_${token}`,
          subjects: disjoint(subjects),
          max_msgs_per_subject: perSubject,
          max_bytes: Number.isFinite(bytes) ? bytes : -1,
          storage: "file",
          discard: "old",
          num_replicas: 1,
        },
      });
    }
    if (streams.length === 0) return history;
    const { jetstream, jetstreamManager } = await import("@nats-io/jetstream");
    // deno-lint-ignore no-explicit-any
    const nc = node.connection as any;
    const jsm = await jetstreamManager(nc) as unknown as Jsm;
    await dropShared(jsm, `clv_${node.name}_history`, log);
    const js = jetstream(nc);
    const caughtUp: Promise<void>[] = [];
    for (const { realm, config } of streams) {
      try {
        await jsm.streams.add(config);
      } catch {
        await jsm.streams.update(config.name, config); // another node (or an earlier run) made it
      }
      const last = (await jsm.streams.info(config.name)).state.last_seq;
      realm.broker.history.external = true;
      const messages = await (await js.consumers.get(config.name)).consume() as unknown as Messages;
      history.#messages.push(messages);
      caughtUp.push(readBack(messages, realm, last, log));
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<void>((resolve) => timer = setTimeout(resolve, CATCH_UP_MS));
    await Promise.race([Promise.all(caughtUp), late]);
    clearTimeout(timer);
    return history;
  }

  /** Stops reading the streams. */
  close(): void {
    for (const messages of this.#messages) messages.stop();
  }
}

/**
 * Removes the one history stream all realms shared in earlier versions:
 * its subjects overlap the realms' streams, and one realm's flood could
 * push out another realm's events there. What it held is dropped.
 */
async function dropShared(jsm: Jsm, name: string, log: Logger): Promise<void> {
  let held: number;
  try {
    held = (await jsm.streams.info(name)).state.messages;
  } catch {
    return; // none
  }
  await jsm.streams.delete(name);
  log(
    "warn",
    `Cluster: event history now has one stream per realm; ${name} (${held} messages) removed`,
  );
}

/**
 * Feeds a realm's history stores from its stream, for as long as the
 * node runs; resolves once the messages up to `last` (what the stream held
 * at the start) are read.
 */
function readBack(messages: Messages, realm: Realm, last: number, log: Logger): Promise<void> {
  const { promise, resolve } = Promise.withResolvers<void>();
  if (last === 0) resolve();
  (async () => {
    for await (const m of messages) {
      try {
        record(realm, m.data);
      } catch (error) {
        log("error", `Cluster: history ${m.subject}: ${error}`);
      }
      if (m.seq >= last) resolve();
    }
  })().catch((error) => log("warn", `Cluster: history stream: ${error}`)).finally(resolve);
  return promise;
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
