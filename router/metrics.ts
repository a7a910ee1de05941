/**
 * What the router counts for its operators, in one place: plain numbers
 * and small fixed arrays the shell increments (`connection.ts` and
 * `delivery.ts` through a {@linkcode SessionMeter} per connection), and
 * label sets that stay bounded (realm, reason, method: at most
 * {@linkcode MAX_LABELS} values each, then `other`), never a session or
 * a URI. Gauges (sessions, registrations, backlog) are read when scraped.
 * The dashboard's extras (rates by topic and procedure, recent errors) are
 * kept only while an admin listener asks for them ({@linkcode RouterMetrics.watch}).
 *
 * @module
 */

import {
  CloseUri,
  ErrorUri,
  MessageType,
  messageTypeName,
  type Peer,
  type WampMessage,
} from "../wamp/mod.ts";
import type { SessionInfo } from "./core/types.ts";

/** The most distinct values of one label; more are counted as `other`. */
export const MAX_LABELS = 32;
/** The upper bounds (seconds) of the call duration histogram's buckets. */
export const CALL_BUCKETS: readonly number[] = [
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
];
/** The most calls of one connection timed at once. */
const MAX_TIMED_CALLS = 4096;
/** Message type codes are below this (EVENT_RECEIVED is 337). */
const TYPE_CODES = 512;

/** The reasons of an ABORT that say the session could not authenticate. */
const AUTH_FAILURES: ReadonlySet<string> = new Set([
  ErrorUri.AUTHENTICATION_FAILED,
  ErrorUri.NOT_AUTHORIZED,
  ErrorUri.NO_AUTH_METHOD,
  ErrorUri.NO_MATCHING_AUTH_METHOD,
  ErrorUri.CANNOT_AUTHENTICATE,
  ErrorUri.NO_SUCH_ROLE,
]);
/** Method labels (anything else is `other`). */
const METHODS: ReadonlySet<string> = new Set([
  "anonymous",
  "ticket",
  "wampcra",
  "cryptosign",
  "wamp-scram",
  "cookie",
  "tls",
]);

/** A counter with one label whose values are bounded. */
export class LabelCounter {
  #counts = new Map<string, number>();

  /**
   * Counts one more for a label value (`other` once {@linkcode MAX_LABELS} are known).
   *
   * @param label The label value.
   */
  add(label: string): void {
    const counts = this.#counts;
    const n = counts.get(label);
    if (n !== undefined) counts.set(label, n + 1);
    else if (counts.size < MAX_LABELS) counts.set(label, 1);
    else counts.set("other", (counts.get("other") ?? 0) + 1);
  }

  /**
   * The count of one label value.
   *
   * @param label The label value.
   * @returns How many were counted.
   */
  get(label: string): number {
    return this.#counts.get(label) ?? 0;
  }

  /** Every label value with its count. */
  entries(): IterableIterator<[string, number]> {
    return this.#counts.entries();
  }
}

/** A histogram with fixed buckets (cumulative when exposed). */
export class Histogram {
  /** The buckets' upper bounds, ascending. */
  readonly bounds: readonly number[];
  /** Observations per bucket (not cumulative); the last is above every bound. */
  readonly counts: Float64Array;
  /** The sum of the observations. */
  sum = 0;
  /** How many observations. */
  count = 0;

  /**
   * Creates the histogram.
   *
   * @param bounds The buckets' upper bounds, ascending.
   */
  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  /**
   * Records an observation.
   *
   * @param value The value.
   */
  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

/**
 * Hits per key in the current window, for at most `max` keys (those past
 * that are counted together): the dashboard's top topics and procedures.
 */
export class RateTable {
  #window = new Map<string, number>();
  #max: number;
  /** Hits of keys that did not fit in the current window. */
  overflow = 0;

  /**
   * Creates the table.
   *
   * @param max The most keys kept in one window.
   */
  constructor(max = 256) {
    this.#max = max;
  }

  /**
   * Counts a hit.
   *
   * @param key The topic or procedure.
   */
  hit(key: string): void {
    const window = this.#window;
    const n = window.get(key);
    if (n !== undefined) window.set(key, n + 1);
    else if (window.size < this.#max) window.set(key, 1);
    else this.overflow++;
  }

  /**
   * Ends the window: its `top` keys by hits, most first; a new window starts.
   *
   * @param top How many keys to return.
   * @returns The keys with their hits.
   */
  roll(top: number): [string, number][] {
    const sorted = [...this.#window].sort((a, b) => b[1] - a[1]).slice(0, top);
    this.#window.clear();
    this.overflow = 0;
    return sorted;
  }
}

/** Something that happened, for the dashboard's recent list. */
export interface RecentEntry {
  /** When (epoch milliseconds). */
  readonly time: number;
  /** `error` (an ERROR sent), `abort` (an ABORT sent) or `auth` (an authentication failure). */
  readonly kind: "error" | "abort" | "auth";
  /** The realm, when known. */
  readonly realm: string;
  /** What: URIs, authid, method and peer address; never a secret. */
  readonly text: string;
}

/** The last `size` entries. */
export class Ring<T> {
  #items: T[] = [];
  #next = 0;
  #size: number;

  /**
   * Creates the ring.
   *
   * @param size How many entries it keeps.
   */
  constructor(size: number) {
    this.#size = size;
  }

  /**
   * Adds an entry, forgetting the oldest once full.
   *
   * @param item The entry.
   */
  push(item: T): void {
    if (this.#items.length < this.#size) this.#items.push(item);
    else this.#items[this.#next] = item;
    this.#next = (this.#next + 1) % this.#size;
  }

  /** The entries, newest first. */
  list(): T[] {
    const items = this.#items;
    if (items.length < this.#size) return [...items].reverse();
    return [...items.slice(this.#next), ...items.slice(0, this.#next)].reverse();
  }
}

/** A joined session as the metrics see it (a `delivery.ts` `Target`). */
export interface MeteredSession {
  /** The session's identity. */
  readonly info: SessionInfo;
  /** Its transport (backlog, address, serializer). */
  readonly peer: Peer;
  /** EVENTs dropped for it. */
  readonly droppedEvents: number;
  /** When it joined (epoch milliseconds). */
  readonly joinedAt: number;
}

/** What the dashboard asks for while it is open. */
export interface Watch {
  /** PUBLISHes by topic. */
  readonly topics: RateTable;
  /** CALLs by procedure. */
  readonly procedures: RateTable;
  /** Recent errors, aborts and authentication failures. */
  readonly recent: Ring<RecentEntry>;
}

/** The router's counters. */
export class RouterMetrics {
  /** Messages received, by type code. */
  readonly messagesIn: Float64Array = new Float64Array(TYPE_CODES);
  /** Messages sent, by type code. */
  readonly messagesOut: Float64Array = new Float64Array(TYPE_CODES);
  /** EVENTs dropped because their subscriber did not keep up. */
  eventsDropped = 0;
  /** Sessions joined, by realm. */
  readonly joins: LabelCounter = new LabelCounter();
  /** Sessions left, by close reason (`wamp.close.transport_lost` without GOODBYE). */
  readonly leaves: LabelCounter = new LabelCounter();
  /** ABORTs sent, by reason. */
  readonly aborts: LabelCounter = new LabelCounter();
  /** Calls answered, by outcome. */
  readonly calls: { result: number; error: number; timeout: number; canceled: number } = {
    result: 0,
    error: 0,
    timeout: 0,
    canceled: 0,
  };
  /** Seconds from CALL to its final RESULT or ERROR. */
  readonly callDuration: Histogram = new Histogram(CALL_BUCKETS);
  /** Sessions authenticated, by method. */
  readonly authSuccesses: LabelCounter = new LabelCounter();
  /** Sessions refused at HELLO or AUTHENTICATE, by method. */
  readonly authFailures: LabelCounter = new LabelCounter();
  /** ERRORs `wamp.error.not_authorized` sent for requests of joined sessions. */
  authorizationDenials = 0;
  /** The joined sessions. */
  readonly sessions: Set<MeteredSession> = new Set();
  /** Set while a dashboard watches. */
  watching: Watch | undefined;
  #watchers = 0;

  /**
   * Starts keeping the dashboard's extras (until every watcher stopped).
   *
   * @returns What is kept.
   */
  watch(): Watch {
    this.#watchers++;
    return this.watching ??= {
      topics: new RateTable(),
      procedures: new RateTable(),
      recent: new Ring(50),
    };
  }

  /** A watcher stopped: the extras are dropped when it was the last. */
  unwatch(): void {
    if (--this.#watchers <= 0) {
      this.#watchers = 0;
      this.watching = undefined;
    }
  }
}

/** The metrics side of one connection: what it received and sent, its calls' timing. */
export class SessionMeter {
  #metrics: RouterMetrics;
  #session: MeteredSession;
  /** CALL request ID → when it arrived (`performance.now()`). */
  #calls: Map<number, number> | undefined;
  #method = "anonymous";
  #authid = "";
  #realm = "";
  #reason: string | undefined;

  /**
   * Creates the meter.
   *
   * @param metrics The router's counters.
   * @param session The connection's outbound end.
   */
  constructor(metrics: RouterMetrics, session: MeteredSession) {
    this.#metrics = metrics;
    this.#session = session;
  }

  /**
   * A message arrived.
   *
   * @param msg The message.
   */
  received(msg: WampMessage): void {
    const metrics = this.#metrics;
    metrics.messagesIn[msg.type]!++;
    switch (msg.type) {
      case MessageType.PUBLISH:
        metrics.watching?.topics.hit(msg.topic);
        return;
      case MessageType.CALL: {
        metrics.watching?.procedures.hit(msg.procedure);
        const calls = this.#calls ??= new Map();
        if (calls.size < MAX_TIMED_CALLS && !calls.has(msg.request)) {
          calls.set(msg.request, performance.now());
        }
        return;
      }
      case MessageType.HELLO: {
        const methods = msg.details.authmethods;
        this.#method = Array.isArray(methods) && typeof methods[0] === "string"
          ? methods[0]
          : "anonymous";
        this.#authid = typeof msg.details.authid === "string" ? msg.details.authid : "";
        this.#realm = msg.realm;
        return;
      }
      case MessageType.GOODBYE:
      case MessageType.ABORT:
        this.#reason ??= msg.reason;
        return;
    }
  }

  /**
   * A message was sent.
   *
   * @param msg The message.
   */
  sent(msg: WampMessage): void {
    const metrics = this.#metrics;
    metrics.messagesOut[msg.type]!++;
    switch (msg.type) {
      case MessageType.RESULT:
        if (msg.details.progress !== true) {
          metrics.calls.result++;
          this.#timed(msg.request);
        }
        return;
      case MessageType.ERROR:
        return this.#error(msg.requestType, msg.request, msg.error);
      case MessageType.CHALLENGE:
        this.#method = msg.authmethod;
        return;
      case MessageType.GOODBYE:
        this.#reason ??= msg.reason;
        return;
      case MessageType.ABORT:
        return this.#abort(msg.reason);
    }
  }

  /** An EVENT was dropped for this slow consumer. */
  dropped(): void {
    this.#metrics.eventsDropped++;
  }

  /**
   * The session joined.
   *
   * @param info Its identity.
   */
  joined(info: SessionInfo): void {
    const metrics = this.#metrics;
    metrics.joins.add(info.realm);
    metrics.authSuccesses.add(method(info.authmethod));
    metrics.sessions.add(this.#session);
    this.#reason = undefined;
  }

  /** The session left. */
  left(): void {
    const metrics = this.#metrics;
    metrics.leaves.add(this.#reason ?? CloseUri.TRANSPORT_LOST);
    metrics.sessions.delete(this.#session);
    this.#calls?.clear();
    this.#reason = undefined;
    this.#method = "anonymous";
  }

  #timed(request: number): void {
    const calls = this.#calls;
    const start = calls?.get(request);
    if (start === undefined) return;
    calls!.delete(request);
    this.#metrics.callDuration.observe((performance.now() - start) / 1000);
  }

  #error(requestType: number, request: number, error: string): void {
    const metrics = this.#metrics;
    if (requestType === MessageType.CALL) {
      if (error === ErrorUri.TIMEOUT) metrics.calls.timeout++;
      else if (error === ErrorUri.CANCELED) metrics.calls.canceled++;
      else metrics.calls.error++;
      this.#timed(request);
    }
    if (error === ErrorUri.NOT_AUTHORIZED) metrics.authorizationDenials++;
    const recent = metrics.watching?.recent;
    if (recent === undefined || requestType === MessageType.INVOCATION) return;
    const session = this.#session;
    recent.push({
      time: Date.now(),
      kind: "error",
      realm: session.info.realm,
      text: `${messageTypeName(requestType)} by ${session.info.authid} (${session.info.id}): ${error}`,
    });
  }

  #abort(reason: string): void {
    const metrics = this.#metrics;
    metrics.aborts.add(reason);
    const auth = metrics.sessions.has(this.#session) ? false : AUTH_FAILURES.has(reason);
    if (auth) metrics.authFailures.add(method(this.#method));
    const recent = metrics.watching?.recent;
    if (recent === undefined) return;
    const peer = this.#session.peer.info.peer ?? this.#session.peer.info.type;
    const who = this.#authid === "" ? "" : ` authid "${this.#authid}"`;
    recent.push({
      time: Date.now(),
      kind: auth ? "auth" : "abort",
      realm: this.#realm,
      text: auth
        ? `${method(this.#method)}${who} from ${peer}: ${reason}`
        : `${peer}${who}: ${reason}`,
    });
  }
}

/** An authmethod as a bounded label. */
function method(name: string): string {
  return METHODS.has(name) ? name : "other";
}
