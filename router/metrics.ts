/**
 * What the router counts for its operators, in one place: plain numbers
 * and small fixed arrays the shell increments (`connection.ts` and
 * `target.ts` through a {@linkcode SessionMeter} per connection), and
 * label sets that stay bounded (realm, reason, method: at most
 * `MAX_LABELS` values each, then `other`), never a session or
 * a URI. Gauges (sessions, registrations, backlog) are read when scraped.
 * The dashboard's extras (recent errors, rates by topic and procedure, of
 * joined sessions' requests by URIs their realm takes) are kept only
 * while an admin listener (and for rates, a dashboard) asks.
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
import { IdTable } from "../wamp/id_table.ts";
import { cut } from "../wamp/preview.ts";
import type { SessionInfo } from "./core/types.ts";
import { Histogram, LabelCounter, LabelSet, type Rates, type Ring } from "./counters.ts";

export { Histogram, LabelCounter, LabelSet, MAX_LABELS, Rates, Ring } from "./counters.ts";

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

/** A joined session as the metrics see it (a `target.ts` `Target`). */
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

/** Recent entries, in two rings so that a burst of call errors does not hide a failed login. */
export interface Recent {
  /** ERRORs sent. */
  readonly errors: Ring<RecentEntry>;
  /** ABORTs sent and authentication failures. */
  readonly sessions: Ring<RecentEntry>;
}

/** The router's counters. */
export class RouterMetrics {
  /** Messages received, by type code. */
  readonly messagesIn: Float64Array = new Float64Array(TYPE_CODES);
  /** Messages sent, by type code. */
  readonly messagesOut: Float64Array = new Float64Array(TYPE_CODES);
  /** EVENTs dropped because their subscriber did not keep up. */
  eventsDropped = 0;
  /** The `realm` label's values, shared by every metric labelled by realm. */
  readonly realms: LabelSet = new LabelSet();
  /** Sessions joined, by realm (its label in {@linkcode RouterMetrics.realms}). */
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
  /** Seconds from CALL to its final RESULT or ERROR, of one call in `timeEvery`. */
  readonly callDuration: Histogram = new Histogram(CALL_BUCKETS);
  /** Sessions authenticated, by method. */
  readonly authSuccesses: LabelCounter = new LabelCounter();
  /** Sessions refused at HELLO or AUTHENTICATE, by method. */
  readonly authFailures: LabelCounter = new LabelCounter();
  /**
   * Refusals of the router's own as not authorized: requests its realms'
   * rules or authorizers denied (an unacknowledged PUBLISH too, which gets
   * no ERROR) and router procedures answering `wamp.error.not_authorized`
   * (`RealmContext.denied`); a callee's own ERROR with that URI is traffic.
   */
  authorizationDenials = 0;
  /** Logins refused at once: their source address had too many failed logins (`failedLogins`). */
  loginsRefused = 0;
  /** HTTP bridge requests answered, by `"<path> <status>"` (the paths are configured, so bounded). */
  readonly bridgeRequests: LabelCounter = new LabelCounter();
  /** The joined sessions. */
  readonly sessions: Set<MeteredSession> = new Set();
  /**
   * Whether calls are timed (`callDuration`): while an admin listener
   * serves, as reading the clock twice a call is the dearest part.
   */
  timing = false;
  /** One call in this many is timed (a power of two; 1: every call). */
  timeEvery = 8;
  /** Counts CALLs to pick the timed ones. */
  callTick = 0;
  /** Recent errors, aborts and authentication failures, kept while an admin listener serves. */
  recent: Recent | undefined;
  /** PUBLISHes and CALLs by URI, kept while a dashboard is open. */
  rates: Rates | undefined;
}

const ROUTERS = new WeakMap<object, RouterMetrics>();

/**
 * Creates a router's metrics (once, in its constructor).
 *
 * @param router The router.
 * @returns Its metrics.
 */
export function metricsFor(router: object): RouterMetrics {
  const metrics = new RouterMetrics();
  ROUTERS.set(router, metrics);
  return metrics;
}

/**
 * A router's metrics (`admin/` reads them). Not part of the public API.
 *
 * @param router The router.
 * @returns Its metrics.
 * @throws {TypeError} When `router` is not a `Router`.
 */
export function metricsOf(router: object): RouterMetrics {
  const metrics = ROUTERS.get(router);
  if (metrics === undefined) throw new TypeError("Cannot read metrics: not a Router");
  return metrics;
}

/** The metrics side of one connection: what it received and sent, its calls' timing. */
export class SessionMeter {
  #metrics: RouterMetrics;
  #in: Float64Array;
  #out: Float64Array;
  #session: MeteredSession;
  /** CALL request ID → when it arrived (`performance.now()`). */
  #calls: IdTable<number> | undefined;
  #method = "anonymous";
  #authid = "";
  #realm = "";
  #reason: string | undefined;
  /** Its realm's `strictUris` while joined: rates count only then. */
  #strict: boolean | undefined;

  /**
   * Creates the meter.
   *
   * @param metrics The router's counters.
   * @param session The connection's outbound end.
   */
  constructor(metrics: RouterMetrics, session: MeteredSession) {
    this.#metrics = metrics;
    this.#in = metrics.messagesIn;
    this.#out = metrics.messagesOut;
    this.#session = session;
  }

  /**
   * A message arrived.
   *
   * @param msg The message.
   */
  received(msg: WampMessage): void {
    this.#in[msg.type]!++;
    const metrics = this.#metrics;
    switch (msg.type) {
      case MessageType.PUBLISH:
        metrics.rates?.published(msg.topic, this.#strict);
        return;
      case MessageType.CALL: {
        if (!metrics.timing) return;
        metrics.rates?.called(msg.procedure, this.#strict);
        if ((metrics.callTick++ & (metrics.timeEvery - 1)) !== 0) return;
        const calls = this.#calls ??= new IdTable();
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
        // Kept for the dashboard's recent list: a peer's strings, so cut short.
        this.#authid = typeof msg.details.authid === "string"
          ? cut(msg.details.authid, MAX_NAME)
          : "";
        this.#realm = cut(msg.realm, MAX_NAME);
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
    this.#out[msg.type]!++;
    if (msg.type === MessageType.EVENT) return; // the fan-out: nothing more to count
    const metrics = this.#metrics;
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
   * @param strictUris Its realm's `strictUris` (the URIs its rates count by).
   */
  joined(info: SessionInfo, strictUris: boolean): void {
    const metrics = this.#metrics;
    this.#strict = strictUris;
    metrics.joins.add(metrics.realms.label(info.realm));
    metrics.authSuccesses.add(method(info.authmethod));
    metrics.sessions.add(this.#session);
    this.#reason = undefined;
  }

  /** The session left. */
  left(): void {
    const metrics = this.#metrics;
    metrics.leaves.add(reasonLabel(this.#reason ?? CloseUri.TRANSPORT_LOST));
    metrics.sessions.delete(this.#session);
    this.#calls = undefined;
    this.#reason = undefined;
    this.#strict = undefined;
    this.#method = "anonymous";
  }

  #timed(request: number): void {
    const calls = this.#calls;
    if (calls === undefined || calls.size === 0) return;
    const start = calls.get(request);
    if (start === undefined) return;
    calls.delete(request);
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
    const recent = metrics.recent?.errors;
    if (recent === undefined || requestType === MessageType.INVOCATION) return;
    const session = this.#session;
    recent.push({
      time: Date.now(),
      kind: "error",
      realm: session.info.realm,
      text: cut(
        `${messageTypeName(requestType)} by ${session.info.authid} (${session.info.id}): ${error}`,
        MAX_RECENT_TEXT,
      ),
    });
  }

  #abort(reason: string): void {
    const metrics = this.#metrics;
    metrics.aborts.add(reason);
    const auth = metrics.sessions.has(this.#session) ? false : AUTH_FAILURES.has(reason);
    if (auth) metrics.authFailures.add(method(this.#method));
    const recent = metrics.recent?.sessions;
    if (recent === undefined) return;
    const peer = this.#session.peer.info.peer ?? this.#session.peer.info.type;
    const who = this.#authid === "" ? "" : ` authid "${this.#authid}"`;
    recent.push({
      time: Date.now(),
      kind: auth ? "auth" : "abort",
      realm: this.#realm,
      text: cut(
        auth ? `${method(this.#method)}${who} from ${peer}: ${reason}` : `${peer}${who}: ${reason}`,
        MAX_RECENT_TEXT,
      ),
    });
  }
}

/**
 * The most characters a recent entry's text keeps: a callee's ERROR URI
 * may be megabytes long, and 50 of them were kept (and sent to every
 * dashboard each second).
 */
const MAX_RECENT_TEXT = 512;

/** The close reasons and errors WAMP names: the only `reason` label values (a peer's own are `other`). */
const REASONS: ReadonlySet<string> = new Set([
  ...Object.values(CloseUri),
  ...Object.values(ErrorUri),
]);

/** The most characters of a peer's authid or realm kept for the recent list. */
const MAX_NAME = 128;

function reasonLabel(reason: string): string {
  return REASONS.has(reason) ? reason : "other";
}

/** An authmethod as a bounded label. */
function method(name: string): string {
  return METHODS.has(name) ? name : "other";
}
