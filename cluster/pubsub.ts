/**
 * PubSub across the nodes of a cluster: the shell that runs the brokers'
 * `cluster-interest` and `cluster-publish` effects over NATS, and feeds
 * what other nodes publish to the realms' brokers.
 *
 * Subjects: a publication to `topic` in `realm` goes to
 * `clv.<cluster>.pub.<realm token>.<topic subject>` (`subjects.ts`), once,
 * encoded once (MessagePack, with the origin node's ID); NATS fans it out to
 * the nodes that hold a matching subscription (a copy goes to the realm's
 * history stream when a rule covers it that the stream cannot capture by
 * subject: `history.ts`). A node subscribes to a subject only while a local
 * subscription needs it: one NATS subscription per subject, counted by the
 * (topic, match) pairs that need it. Prefix
 * subscriptions take the closest NATS wildcard, and the broker filters by
 * string; on a subject only prefixes ending inside a component hold, what
 * none of them match is dropped from its head, undecoded. Past 16 pattern
 * subjects in a realm, further patterns share the realm's whole subject
 * (`interest.ts`). Several of a node's subjects may match a publication
 * (an exact and a prefix subscription): NATS then delivers it once for
 * each, and the copies after the first are dropped here (recent
 * publication IDs per origin).
 *
 * @module
 */

import { Decoder, Encoder } from "@msgpack/msgpack";
import type {
  ClusterInterest,
  ClusterPublish,
  ClusterTestaments,
  Output,
} from "../router/core/output.ts";
import { messagesOnly } from "../router/core/output.ts";
import type { SharedPublication } from "../router/core/broker/publication.ts";
import type { Realm } from "../router/core/realm.ts";
import type { Logger } from "../router/core/types.ts";
import { unbatch } from "./batch.ts";
import type { ClusterNode } from "./node.ts";
import type { ClusterRetained } from "./retained.ts";
import { escapeToken, uriSubject } from "./subjects.ts";
import { type Held, Interests, wanted } from "./interest.ts";
import type { ClusterTestamentStore } from "./testaments.ts";

/** Where outputs go (the router's `OutputRunner`). */
export interface OutputSink {
  /** Delivers the messages and runs the effects. */
  run(out: Output): void;
}

/** Counters, for tests and the benchmark. */
export interface PubSubStats {
  /** Publications this node put on NATS. */
  published: number;
  /** Publications from other nodes this node received (duplicates dropped). */
  received: number;
  /** Duplicate copies dropped. */
  duplicates: number;
  /** Publications dropped undecoded: on a subject wider than the prefixes that hold it, none matched. */
  skipped: number;
}

/** How long an acknowledgement or a subscription waits for NATS, in ms. */
const CONFIRM_MS = 3000;
/** How many recent publication IDs are remembered to drop duplicates. */
const RECENT = 4096;
/**
 * The most prefixes a publication's head is matched against one by one;
 * past it, it is decoded and the broker matches it through its index.
 */
const PEEK_PREFIXES = 64;
/** How many (realm, topic) subjects are kept computed; the cache restarts beyond. */
const SUBJECTS = 4096;

type Envelope = [
  origin: string,
  id: number,
  topic: string,
  timestamp: number,
  details: Record<string, unknown>,
  args: unknown[] | null,
  kwargs: Record<string, unknown> | null,
  payload: unknown,
  lists: Record<string, unknown> | null,
  excluded: number | null,
];

/** The one decoder of publication envelopes (decoding is synchronous: never shared mid-way). */
const decoder = new Decoder();

/**
 * Reads what a node put on NATS for publications (one, or a batch).
 *
 * @param data The bytes (MessagePack, or a batch of it: `ClusterNode.send`).
 * @returns The origin node's ID and the publication, for each.
 */
export function decodeEnvelopes(data: Uint8Array): [origin: string, pub: SharedPublication][] {
  return unbatch(data).map((one) => {
    const e = decoder.decode(one) as Envelope;
    return [e[0], sharedOfEnvelope(e)];
  });
}

function sharedOfEnvelope(e: Envelope): SharedPublication {
  return {
    id: e[1],
    topic: e[2],
    timestamp: e[3],
    details: e[4],
    ...(e[5] === null ? {} : { args: e[5] }),
    ...(e[6] === null ? {} : { kwargs: e[6] }),
    ...(e[7] === null || e[7] === undefined ? {} : { payload: e[7] }),
    ...(e[8] === null ? {} : { lists: e[8] }),
    ...(e[9] === null ? {} : { excluded: e[9] }),
  };
}

/** PubSub across nodes for one router. */
export class ClusterPubSub {
  #node: ClusterNode;
  #sink: OutputSink;
  #realms: (name: string) => Realm | undefined;
  #log: Logger;
  #interests: Interests;
  /** The subject of each recent (realm, topic), keyed `realm topic`. */
  #topicSubjects = new Map<string, string>();
  #encoder = new Encoder({ ignoreUndefined: true });
  #recent = new Map<number, string>();
  #ring: number[] = [];
  #at = 0;
  #closed = false;
  /** The cluster's retained events, once opened (`Cluster.join`). */
  retained: ClusterRetained | undefined;
  /** The cluster's testaments, once opened (`Cluster.join`). */
  testamentStore: ClusterTestamentStore | undefined;
  /**
   * Where publications its realm's history stream does not capture are
   * copied, once opened (`ClusterHistory.copyOf`, `Cluster.join`).
   */
  history:
    | { copyOf(realm: string, topic: string, subject: string): string | undefined }
    | undefined;
  /** Counters. */
  readonly stats: PubSubStats = { published: 0, received: 0, duplicates: 0, skipped: 0 };

  /**
   * Creates the bridge.
   *
   * @param node The cluster node.
   * @param sink Where outputs go.
   * @param realms The router's realms by name.
   * @param log Where problems are logged.
   */
  constructor(
    node: ClusterNode,
    sink: OutputSink,
    realms: (name: string) => Realm | undefined,
    log: Logger,
  ) {
    this.#node = node;
    this.#sink = sink;
    this.#realms = realms;
    this.#log = log;
    this.#interests = new Interests(
      (subject, handler) => node.subscribe(subject, handler, true),
      (realm, data, held) => this.#receive(realm, data, held),
    );
  }

  /**
   * Links a realm: its broker shares from now on, and its existing
   * subscriptions (event-history ones) get their interest.
   *
   * @param realm The realm.
   */
  link(realm: Realm): void {
    realm.broker.share(realm.name);
    for (const sub of realm.broker.subscriptions()) {
      this.#hold(realm.name, sub.topic, sub.match);
    }
  }

  /** The NATS subjects this node subscribes to for publications, sorted. */
  subjects(): string[] {
    return this.#interests.subjects();
  }

  /**
   * Runs a `cluster-interest` effect.
   *
   * @param effect The effect.
   */
  interest(effect: ClusterInterest): void {
    if (!effect.on) return this.#release(effect.realm, effect.topic, effect.match);
    this.#hold(effect.realm, effect.topic, effect.match);
    const ready = effect.ready;
    if (ready !== undefined) {
      this.#confirm().then(() => this.#sink.run(ready()), () => this.#sink.run(ready()));
    }
  }

  /**
   * Runs a `cluster-publish` effect: encodes the publication once and
   * publishes it; an acknowledged one is answered once NATS accepted it.
   *
   * @param effect The effect.
   */
  publish(effect: ClusterPublish): void {
    const pub = effect.publication;
    const envelope: Envelope = [
      this.#node.id,
      pub.id,
      pub.topic,
      pub.timestamp,
      pub.details,
      pub.args ?? null,
      pub.kwargs ?? null,
      pub.payload ?? null,
      pub.lists ?? null,
      pub.excluded ?? null,
    ];
    const acknowledged = effect.acknowledged;
    let stored: Promise<void> | undefined;
    try {
      const subject = this.#topicSubject(effect.realm, pub.topic);
      const data = this.#encoder.encode(envelope);
      this.#node.send(subject, data);
      const copy = this.history?.copyOf(effect.realm, pub.topic, subject);
      if (copy !== undefined) this.#node.send(copy, data);
      this.stats.published++;
      if (effect.retain === true) {
        stored = this.retained?.retain(effect.realm, pub) ??
          Promise.reject(new Error("the retained events store is not open"));
        stored.catch(() => {}); // logged by the store; answered below when acknowledged
      }
    } catch (error) {
      this.#log("warn", `Cluster: cannot share publication ${pub.id}: ${error}`);
      if (acknowledged !== undefined) this.#sink.run(acknowledged({ ok: false, error }));
      return;
    }
    if (acknowledged === undefined) return;
    // Retained: PUBLISHED once the retained event is stored too.
    this.#confirm(stored).then(
      () => this.#sink.run(acknowledged({ ok: true, value: undefined })),
      (error) => this.#sink.run(acknowledged({ ok: false, error })),
    );
  }

  /**
   * Runs a `cluster-testaments` effect.
   *
   * @param effect The effect.
   */
  testaments(effect: ClusterTestaments): void {
    if (this.testamentStore !== undefined) return this.testamentStore.update(effect);
    const error = new Error("the testaments store is not open");
    if (effect.stored !== undefined) this.#sink.run(effect.stored({ ok: false, error }));
  }

  /** Stops receiving. */
  close(): void {
    this.#closed = true;
    this.#interests.close();
  }

  #topicSubject(realm: string, topic: string): string {
    const key = `${realm} ${topic}`; // a realm name has no space
    let subject = this.#topicSubjects.get(key);
    if (subject === undefined) {
      if (this.#topicSubjects.size >= SUBJECTS) this.#topicSubjects.clear();
      subject = `${this.#realmPrefix(realm)}.${uriSubject(topic)}`;
      this.#topicSubjects.set(key, subject);
    }
    return subject;
  }

  #realmPrefix(realm: string): string {
    return this.#node.subject("pub", escapeToken(realm));
  }

  #hold(realm: string, topic: string, match: ClusterInterest["match"]): void {
    if (!this.#closed) this.#interests.hold(this.#realmPrefix(realm), realm, topic, match);
  }

  #release(realm: string, topic: string, match: ClusterInterest["match"]): void {
    this.#interests.release(this.#realmPrefix(realm), realm, topic, match);
  }

  /**
   * Resolves once NATS has what was sent so far (and `also` resolved),
   * rejects after {@linkcode CONFIRM_MS}.
   */
  #confirm(also?: Promise<void>): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    return Promise.race([
      also === undefined
        ? this.#node.flush()
        : Promise.all([this.#node.flush(), also]).then(() => {}),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`NATS did not answer within ${CONFIRM_MS} ms`)),
          CONFIRM_MS,
        );
      }),
    ]).finally(() => clearTimeout(timer));
  }

  #receive(realmName: string, data: Uint8Array, held: Held): void {
    const loose = held.tight === 0 && held.prefixes.size <= PEEK_PREFIXES;
    if (loose && !wanted(data, held.prefixes, this.#node.id)) {
      this.stats.skipped++;
      return;
    }
    const e = decoder.decode(data) as Envelope;
    const [origin, id] = e;
    if (origin === this.#node.id) return;
    if (this.#interests.size > 1 && this.#seen(origin, id)) {
      this.stats.duplicates++;
      return;
    }
    this.stats.received++;
    const realm = this.#realms(realmName);
    if (realm === undefined) return;
    const shared = sharedOfEnvelope(e);
    const out = realm.broker.sharing?.deliver(shared) ?? [];
    if (out.length > 0) this.#sink.run(messagesOnly(out));
  }

  /** Whether this publication was seen already (and remembers it). */
  #seen(origin: string, id: number): boolean {
    if (this.#recent.get(id) === origin) return true;
    if (this.#ring.length < RECENT) this.#ring.push(id);
    else {
      this.#recent.delete(this.#ring[this.#at]!);
      this.#ring[this.#at] = id;
      this.#at = (this.#at + 1) % RECENT;
    }
    this.#recent.set(id, origin);
    return false;
  }
}
