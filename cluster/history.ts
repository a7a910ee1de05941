/**
 * Event history cluster-wide and durable: a JetStream stream per realm
 * (`clv_<name>_history_<realm>`, file storage) holds every publication that
 * one of the realm's `eventHistory` rules covers, wherever it was
 * published, and nothing else. It captures the publication subjects
 * (`cluster/pubsub.ts`) of the rules whose subject is theirs exactly
 * (`interestExact`); a rule whose subject is wider (a prefix ending inside
 * a component: `com.example.log` has all of `com.example.>`) would let
 * publications no rule covers push the rule's out, so for it the origin
 * node sends a copy of what the rule covers (and no captured subject
 * does) on `clv.<name>.history.<realm>.<topic>`
 * ({@linkcode ClusterHistory.copyOf}), which the stream captures instead.
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

import type { EventHistoryRule } from "../router/core/broker/event_history.ts";
import { publicationFrom } from "../router/core/broker/publication.ts";
import { captures } from "../router/core/permissions.ts";
import type { Realm } from "../router/core/realm.ts";
import type { Logger } from "../router/core/types.ts";
import type { ClusterNode } from "./node.ts";
import { decodeEnvelopes } from "./pubsub.ts";
import { escapeToken, interestExact, interestSubjects } from "./subjects.ts";

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

/** What a realm's publications are checked against for a copy ({@linkcode ClusterHistory.copyOf}). */
interface Copies {
  /** The rules whose publication subjects the stream captures. */
  readonly captured: readonly EventHistoryRule[];
  /** The rules whose publications are copied. */
  readonly copied: readonly EventHistoryRule[];
  /** The realm's publication subjects' prefix, `clv.<name>.pub.<realm>`. */
  readonly pub: string;
  /** The copies' subjects' prefix, `clv.<name>.history.<realm>`. */
  readonly history: string;
}

/** Whether a rule covers a topic (the broker's matching). */
function covered(rule: EventHistoryRule, topic: string): boolean {
  return captures(rule.topic, rule.match, topic);
}

/** Milliseconds a starting node waits for a stream to be read back. */
const CATCH_UP_MS = 5000;

/** The durable event history of one cluster. */
export class ClusterHistory {
  #messages: Messages[] = [];
  /** By realm name, the realms with rules whose publications are copied. */
  #copies = new Map<string, Copies>();

  private constructor() {}

  /**
   * Where the origin node sends a copy of a publication for its realm's
   * stream: when a rule of the realm covers it whose subject is wider
   * than the rule, and no rule whose subject the stream captures covers
   * it (the stream has it then already).
   *
   * @param realm The realm's name.
   * @param topic The publication's topic.
   * @param subject Its publication subject, `clv.<name>.pub.<realm>.<topic>`.
   * @returns `clv.<name>.history.<realm>.<topic>`, or undefined: no copy.
   */
  copyOf(realm: string, topic: string, subject: string): string | undefined {
    const copies = this.#copies.get(realm);
    if (copies === undefined || !copies.copied.some((rule) => covered(rule, topic))) return;
    if (copies.captured.some((rule) => covered(rule, topic))) return;
    return copies.history + subject.slice(copies.pub.length);
  }

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
      const pub = node.subject("pub", token);
      const captured: EventHistoryRule[] = [];
      const copied: EventHistoryRule[] = [];
      const subjects: string[] = [];
      let perSubject = 0;
      for (const rule of rules) {
        const match = rule.match ?? "exact";
        if (interestExact(rule.topic, match)) {
          captured.push(rule);
          subjects.push(...interestSubjects(pub, rule.topic, match));
        } else copied.push(rule);
        perSubject = Math.max(perSubject, rule.limit ?? 100);
      }
      if (copied.length > 0) {
        const copies = { captured, copied, pub, history: node.subject("history", token) };
        subjects.push(`${copies.history}.>`);
        history.#copies.set(realm.name, copies);
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
