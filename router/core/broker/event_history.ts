/**
 * Event history (feature key `event_history`, spec "Event History",
 * https://wamp-proto.org/wamp_latest_ietf.html#name-event-history): the
 * last `limit` publications of each history-enabled subscription, in the
 * order the broker received them, and the queries of
 * `wamp.subscription.get_events`.
 *
 * @module
 */

import { type Dict, ErrorUri, isValidUri, type MatchPolicy } from "../../../wamp/mod.ts";
import { CallError } from "../errors.ts";
import {
  eventFor,
  type EventSubscription,
  keptPublicationSize,
  type Publication,
} from "./publication.ts";
import type { Output } from "../output.ts";
import { deferred, type RouterProcedure } from "../procedures.ts";
import type { SessionInfo } from "../types.ts";
import { preview } from "../../../wamp/preview.ts";
import { Fifo } from "../fifo.ts";
import { AnswerBudget } from "./history_answer.ts";

/**
 * What a kept event costs beyond what it carries, against `historyBytes`:
 * its objects and its slots (200,000 events without payload took 42.4 MiB,
 * ~222 bytes each, when they counted nothing).
 */
export const HISTORY_EVENT_OVERHEAD = 256;

/** A realm's event-history rule: keep the last `limit` events of a topic or pattern. */
export interface EventHistoryRule {
  /** The topic, or the pattern under `match`. */
  topic: string;
  /**
   * How `topic` matches.
   * @default {"exact"}
   */
  match?: MatchPolicy;
  /**
   * How many events to keep (1 or more).
   * @default {100}
   */
  limit?: number;
}

/** One event of a `wamp.subscription.get_events` result. */
export interface HistoryEvent extends Dict {
  /** When the broker received it (RFC 3339). */
  timestamp: string;
  /** The subscription ID. */
  subscription: number;
  /** The publication ID. */
  publication: number;
  /** EVENT.Details, as the subscription's subscribers got them. */
  details: Dict;
}

const TIME_KEYS = ["from_time", "after_time", "before_time", "until_time"] as const;
const PUBLICATION_KEYS = [
  "from_publication",
  "after_publication",
  "before_publication",
  "until_publication",
] as const;

/** One subscription's kept events, with their estimated sizes. */
interface Store {
  readonly limit: number;
  readonly maxBytes: number;
  bytes: number;
  readonly events: Fifo<Publication>;
  readonly sizes: Fifo<number>;
}

/** The history stores of a broker, one per history-enabled subscription. */
export class EventHistory {
  #stores = new Map<number, Store>();
  /**
   * Cluster mode with a durable history: the broker's own recording is off
   * and the shell feeds every store, in the cluster's order, through
   * {@linkcode EventHistory.append} (`cluster/history.ts`).
   */
  external = false;

  /**
   * Turns history on for a subscription.
   *
   * @param subscription The subscription ID.
   * @param limit How many events to keep.
   * @param maxBytes The estimated size they may have together (limit
   * `historyBytes`).
   */
  enable(subscription: number, limit: number, maxBytes = Infinity): void {
    const store = {
      limit,
      maxBytes,
      bytes: 0,
      events: new Fifo<Publication>(),
      sizes: new Fifo<number>(),
    };
    this.#stores.set(subscription, store);
  }

  /**
   * Whether a subscription keeps history.
   *
   * @param subscription The subscription ID.
   * @returns True when it does.
   */
  has(subscription: number): boolean {
    return this.#stores.has(subscription);
  }

  /**
   * Keeps a publication for a subscription (a no-op without history),
   * dropping the oldest beyond the limit.
   *
   * @param subscription The subscription ID.
   * @param pub The publication.
   */
  record(subscription: number, pub: Publication): void {
    if (!this.external) this.append(subscription, pub);
  }

  /**
   * Keeps a publication for a subscription whatever the mode (a no-op
   * without history, or for a publication that excludes or admits
   * sessions by ID or by a custom key: `PublishFilter.storable`), dropping
   * the oldest beyond the limit.
   *
   * @param subscription The subscription ID.
   * @param pub The publication.
   */
  append(subscription: number, pub: Publication): void {
    const store = this.#stores.get(subscription);
    if (store === undefined || (pub.filter !== undefined && !pub.filter.storable)) return;
    const size = HISTORY_EVENT_OVERHEAD + keptPublicationSize(pub, store.maxBytes);
    if (size > store.maxBytes) return; // delivered, never kept
    store.events.push(pub);
    store.sizes.push(size);
    store.bytes += size;
    while (store.events.length > store.limit || store.bytes > store.maxBytes) {
      store.events.shift();
      store.bytes -= store.sizes.shift()!;
    }
  }

  /**
   * The estimated bytes a subscription's history holds.
   *
   * @param subscription The subscription ID.
   * @returns The estimate (0 without history).
   */
  bytes(subscription: number): number {
    return this.#stores.get(subscription)?.bytes ?? 0;
  }

  /**
   * Answers `wamp.subscription.get_events` for one subscription: the
   * events the requester passes the original authid/authrole lists for,
   * narrowed by the spec's kwargs (combined with AND), oldest first unless
   * `reverse`, at most `limit`. An answer past `ANSWER_LIMITS`
   * (`history_answer.ts`: 4 MiB estimated, and under the decoders' limits
   * on dict keys, values and byte strings) is refused; an event no answer
   * can hold (too deep, or past a bound on its own) is left out.
   *
   * A `from_publication` / `after_publication` the store no longer holds
   * is taken as older than every kept event; a `before_publication` /
   * `until_publication` it does not hold selects nothing.
   *
   * @param sub The subscription.
   * @param requester The calling session.
   * @param kwargs The query.
   * @returns The events.
   * @throws {CallError} `wamp.error.invalid_argument` for a malformed query,
   * or when the subscription keeps no history; `cloverleaf.error.limit_exceeded`
   * when the answer would pass `ANSWER_LIMITS` (kwargs `limit`: how many
   * events fit, to ask again with).
   */
  query(sub: EventSubscription, requester: SessionInfo, kwargs: Dict): HistoryEvent[] {
    const store = this.#stores.get(sub.id);
    if (store === undefined) {
      throw new CallError(
        ErrorUri.INVALID_ARGUMENT,
        `subscription ${sub.id} keeps no event history`,
      );
    }
    const q = parseQuery(kwargs);
    const events = store.events;
    // Publication bounds: positions in the stored order.
    let start = 0;
    let end = events.length; // exclusive
    const at = (id: number) => {
      for (let i = 0; i < events.length; i++) if (events.at(i)!.id === id) return i;
      return -1;
    };
    if (q.from_publication !== undefined) {
      const i = at(q.from_publication);
      if (i >= 0) start = Math.max(start, i);
    }
    if (q.after_publication !== undefined) {
      const i = at(q.after_publication);
      if (i >= 0) start = Math.max(start, i + 1);
    }
    if (q.before_publication !== undefined) end = Math.min(end, at(q.before_publication));
    if (q.until_publication !== undefined) {
      const i = at(q.until_publication);
      end = Math.min(end, i < 0 ? -1 : i + 1);
    }
    const keep = (e: Publication) =>
      (q.topic === undefined || e.topic === q.topic) &&
      (q.from_time === undefined || e.timestamp >= q.from_time) &&
      (q.after_time === undefined || e.timestamp > q.after_time) &&
      (q.before_time === undefined || e.timestamp < q.before_time) &&
      (q.until_time === undefined || e.timestamp <= q.until_time) &&
      (e.filter === undefined || e.filter.allows(requester));
    // From the end the query reads from, stopping at `limit`: not every stored event is tested.
    const found: HistoryEvent[] = [];
    const budget = new AnswerBudget();
    const max = q.limit ?? Infinity;
    const step = q.reverse ? -1 : 1;
    for (
      let i = q.reverse ? Math.max(start, end) - 1 : start;
      i >= start && i < Math.max(start, end) && found.length < max;
      i += step
    ) {
      const pub = events.at(i)!;
      if (!keep(pub)) continue;
      const event = historyEvent(sub, pub);
      const verdict = budget.add(event);
      if (verdict === "added") found.push(event);
      else if (verdict !== "deep" && verdict !== "alone") {
        const fit = { limit: budget.events };
        throw new CallError(ErrorUri.LIMIT_EXCEEDED, budget.refusal(verdict), fit);
      }
    }
    return found;
  }
}

/** A subscription whose history can be read: its ID, topic or pattern, and match policy. */
export interface HistorySubscription extends EventSubscription {
  /** The topic or pattern. */
  readonly topic: string;
}

/**
 * Whether a caller may read a subscription's history: the realm answers
 * with its subscribe permission for the subscription's topic and match,
 * and continues with it.
 */
export type HistoryAccess = (
  caller: SessionInfo,
  sub: HistorySubscription,
  then: (allowed: boolean) => Output,
) => Output;

/**
 * The `wamp.subscription.get_events` procedure: `args: [subscription]`,
 * the spec's filters in kwargs; the result's args are the events.
 *
 * A caller reads only what it could have received: `mayRead` must allow it
 * to subscribe to the subscription's topic or pattern (with its match
 * policy), else the call fails with `wamp.error.not_authorized`; and each
 * event's exclude/eligible lists (session IDs, authids, authroles) are
 * applied to the caller.
 *
 * @param history The broker's history stores.
 * @param lookup Finds a subscription by ID.
 * @param mayRead Whether the caller may read a subscription's history.
 * @returns The procedure, for `Realm.provide()`.
 */
export function getEventsProcedure(
  history: EventHistory,
  lookup: (id: number) => HistorySubscription | undefined,
  mayRead: HistoryAccess = (_caller, _sub, then) => then(true),
): RouterProcedure {
  return (caller, args, kwargs) => {
    const id = args[0];
    if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 1) {
      throw invalid("args[0]", "a subscription ID", id);
    }
    const sub = lookup(id);
    if (sub === undefined) {
      throw new CallError(ErrorUri.NO_SUCH_SUBSCRIPTION, `no subscription ${id}`);
    }
    return deferred((reply) =>
      mayRead(caller, sub, (allowed) =>
        reply(() => {
          if (!allowed) throw notAuthorized(id);
          return { args: history.query(sub, caller, kwargs) };
        }))
    );
  };
}

function notAuthorized(id: number): CallError {
  return new CallError(
    ErrorUri.NOT_AUTHORIZED,
    `Cannot read the history of subscription ${id}: subscribing to its topic is not allowed`,
  );
}

interface Query {
  reverse: boolean;
  limit?: number;
  topic?: string;
  from_time?: number;
  after_time?: number;
  before_time?: number;
  until_time?: number;
  from_publication?: number;
  after_publication?: number;
  before_publication?: number;
  until_publication?: number;
}

function invalid(key: string, expected: string, value: unknown): CallError {
  return new CallError(
    ErrorUri.INVALID_ARGUMENT,
    `"${key}" must be ${expected}, got ${preview(value)}`,
  );
}

function parseQuery(kwargs: Dict): Query {
  const q: Query = { reverse: false };
  if (kwargs.reverse !== undefined) {
    if (typeof kwargs.reverse !== "boolean") throw invalid("reverse", "a boolean", kwargs.reverse);
    q.reverse = kwargs.reverse;
  }
  if (kwargs.limit !== undefined) q.limit = positive("limit", kwargs.limit);
  if (kwargs.topic !== undefined) {
    if (typeof kwargs.topic !== "string" || !isValidUri(kwargs.topic)) {
      throw invalid("topic", "a topic URI", kwargs.topic);
    }
    q.topic = kwargs.topic;
  }
  for (const key of TIME_KEYS) {
    const value = kwargs[key];
    if (value === undefined) continue;
    const time = typeof value === "string" ? Date.parse(value) : NaN;
    if (Number.isNaN(time)) throw invalid(key, "an RFC 3339 timestamp", value);
    q[key] = time;
  }
  for (const key of PUBLICATION_KEYS) {
    if (kwargs[key] !== undefined) q[key] = positive(key, kwargs[key]);
  }
  return q;
}

function positive(key: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw invalid(key, "a positive integer", value);
  }
  return value;
}

function historyEvent(sub: EventSubscription, pub: Publication): HistoryEvent {
  const event = eventFor(sub, pub);
  const out: HistoryEvent = {
    timestamp: new Date(pub.timestamp).toISOString(),
    subscription: sub.id,
    publication: pub.id,
    details: event.details,
  };
  if (pub.args !== undefined) out.args = pub.args;
  if (pub.kwargs !== undefined) out.kwargs = pub.kwargs;
  return out;
}
