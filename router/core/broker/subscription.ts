/**
 * What the broker keeps and is configured with: subscriptions, the
 * observer told of subscribers coming and going, options and limits.
 *
 * @module
 */

import type { IdGenerator, MatchPolicy } from "../../../wamp/mod.ts";
import type { Disclosure } from "../realm_options.ts";
import type { EventHistoryRule } from "./event_history.ts";
import type { LimitOptions } from "../limits.ts";

/** A subscription: one (topic, match) pair shared by all its subscribers. */
export interface Subscription {
  /** Router-scope subscription ID. */
  readonly id: number;
  /** The topic or pattern. */
  readonly topic: string;
  /** The match policy. */
  readonly match: MatchPolicy;
  /** When it was created (ISO 8601). */
  readonly created: string;
  /** Subscribed session IDs, in subscription order. */
  readonly subscribers: Set<number>;
  /**
   * Whether it outlives its last subscriber: the realm's `eventHistory`
   * creates such subscriptions up front, so history is kept (and has an
   * ID to ask for) before anyone subscribes.
   */
  readonly persistent: boolean;
}

/**
 * Told as sessions join and leave subscriptions (the subscription meta
 * API publishes from here).
 */
export interface SubscriptionObserver {
  /** `session` joined `sub`; `created` when this made the subscription. */
  subscribed(session: number, sub: Subscription, created: boolean): void;
  /** `session` left `sub`; `deleted` when that removed the subscription. */
  unsubscribed(session: number, sub: Subscription, deleted: boolean): void;
}

/** Options for {@linkcode Broker}. */
export interface BrokerOptions {
  /** Only `[0-9a-z_]` URI components. @default {false} */
  strictUris?: boolean;
  /** Router-scope IDs for subscriptions. */
  subscriptionIds: IdGenerator;
  /** Global-scope IDs for publications. */
  publicationIds: IdGenerator;
  /**
   * Publisher identification: `request` honours `disclose_me`, `always`
   * discloses every publisher, `never` refuses `disclose_me`.
   * @default {"request"}
   */
  disclosePublisher?: Disclosure;
  /**
   * Topics and patterns whose events are kept for
   * `wamp.subscription.get_events`.
   * @default {[]}
   */
  eventHistory?: readonly EventHistoryRule[];
  /**
   * The clock for history timestamps and creation times (milliseconds
   * since the epoch); the shell passes `Date.now`.
   */
  now: () => number;
  /** Told as sessions join and leave subscriptions. */
  observer?: SubscriptionObserver;
  /**
   * Subscription and retained-event limits (the realm's `limits`); the
   * defaults of `DEFAULT_LIMITS` for those not given.
   * @default {DEFAULT_LIMITS}
   */
  limits?: BrokerLimits;
}

/** The limits a broker enforces. */
export type BrokerLimits = Pick<
  LimitOptions,
  | "subscriptionsPerSession"
  | "subscriptions"
  | "patternSubscriptions"
  | "wildcardComponents"
  | "retainedEventBytes"
  | "retainedBytes"
  | "historyBytes"
>;

/** Whether a subscription could match some topic under `wamp.`. */
export function mayMatchMeta(topic: string, match: MatchPolicy): boolean {
  switch (match) {
    case "exact":
      return topic.startsWith("wamp.");
    case "prefix":
      return topic.startsWith("wamp.") || "wamp.".startsWith(topic);
    case "wildcard": {
      const dot = topic.indexOf(".");
      return dot === 0 || (dot > 0 && topic.slice(0, dot) === "wamp");
    }
  }
}
