/**
 * Typed helpers for `wamp.subscription.*` (spec "Subscription Meta API"):
 * what is subscribed, by whom, and the events when that changes.
 *
 * @module
 */

import { type MatchPolicy, MetaProcedure, MetaTopic } from "../../wamp/mod.ts";
import type { Event, Subscription } from "../subscription.ts";
import {
  first,
  lookupArgs,
  type MatchLists,
  type MetaPeer,
  pairHandler,
  type SubscriptionDetails,
} from "./types.ts";

/** Wraps `wamp.subscription.*`: what is subscribed, and by whom. */
export class SubscriptionMetaApi {
  #peer: MetaPeer;

  /**
   * Usually reached as `session.meta.subscriptions`.
   *
   * @param peer The session that makes the calls.
   */
  constructor(peer: MetaPeer) {
    this.#peer = peer;
  }

  /**
   * Lists the subscription IDs per match policy (`wamp.subscription.list`).
   *
   * @returns The IDs.
   */
  async list(): Promise<MatchLists> {
    return first(await this.#peer.call(MetaProcedure.SUBSCRIPTION_LIST));
  }

  /**
   * Finds the subscription of exactly this URI and match policy
   * (`wamp.subscription.lookup`).
   *
   * @param topic The topic URI or pattern.
   * @param options The match policy, `exact` by default.
   * @returns The subscription ID, or `null` when there is none.
   */
  async lookup(topic: string, options: { match?: MatchPolicy } = {}): Promise<number | null> {
    const args = lookupArgs(topic, options.match);
    return first(await this.#peer.call(MetaProcedure.SUBSCRIPTION_LOOKUP, { args }));
  }

  /**
   * Finds every subscription a publication to `topic` would reach
   * (`wamp.subscription.match`).
   *
   * @param topic A concrete topic URI.
   * @returns The subscription IDs; empty when none matches (the router
   * answers `null` then).
   */
  async match(topic: string): Promise<number[]> {
    const result = await this.#peer.call(MetaProcedure.SUBSCRIPTION_MATCH, { args: [topic] });
    return first<number[] | null>(result) ?? [];
  }

  /**
   * Describes a subscription (`wamp.subscription.get`).
   *
   * @param subscription The subscription ID.
   * @returns Its details.
   * @throws {ApplicationError} `wamp.error.no_such_subscription` when unknown.
   */
  async get(subscription: number): Promise<SubscriptionDetails> {
    const result = await this.#peer.call(MetaProcedure.SUBSCRIPTION_GET, { args: [subscription] });
    return first(result);
  }

  /**
   * Lists the subscribers of a subscription
   * (`wamp.subscription.list_subscribers`).
   *
   * @param subscription The subscription ID.
   * @returns Their session IDs.
   * @throws {ApplicationError} `wamp.error.no_such_subscription` when unknown.
   */
  async listSubscribers(subscription: number): Promise<number[]> {
    const result = await this.#peer.call(MetaProcedure.SUBSCRIPTION_LIST_SUBSCRIBERS, {
      args: [subscription],
    });
    return first(result);
  }

  /**
   * Counts the subscribers of a subscription
   * (`wamp.subscription.count_subscribers`).
   *
   * @param subscription The subscription ID.
   * @returns How many subscribers it has.
   * @throws {ApplicationError} `wamp.error.no_such_subscription` when unknown.
   */
  async countSubscribers(subscription: number): Promise<number> {
    const result = await this.#peer.call(MetaProcedure.SUBSCRIPTION_COUNT_SUBSCRIBERS, {
      args: [subscription],
    });
    return first(result);
  }

  /**
   * Subscribes to `wamp.subscription.on_create`: a subscription with a new
   * URI and match policy (always followed by `on_subscribe`).
   *
   * @param handler Gets the subscribing session's ID and the details.
   * @returns The subscription.
   */
  onCreate(
    handler: (session: number, details: SubscriptionDetails, event: Event) => void | Promise<void>,
  ): Promise<Subscription> {
    return this.#peer.subscribe(MetaTopic.SUBSCRIPTION_ON_CREATE, pairHandler(handler));
  }

  /**
   * Subscribes to `wamp.subscription.on_subscribe`: a subscriber was added.
   *
   * @param handler Gets the subscriber's session ID and the subscription ID.
   * @returns The subscription.
   */
  onSubscribe(
    handler: (session: number, subscription: number, event: Event) => void | Promise<void>,
  ): Promise<Subscription> {
    return this.#peer.subscribe(MetaTopic.SUBSCRIPTION_ON_SUBSCRIBE, pairHandler(handler));
  }

  /**
   * Subscribes to `wamp.subscription.on_unsubscribe`: a subscriber was
   * removed (unsubscribed, or its session left).
   *
   * @param handler Gets the subscriber's session ID and the subscription ID.
   * @returns The subscription.
   */
  onUnsubscribe(
    handler: (session: number, subscription: number, event: Event) => void | Promise<void>,
  ): Promise<Subscription> {
    return this.#peer.subscribe(MetaTopic.SUBSCRIPTION_ON_UNSUBSCRIBE, pairHandler(handler));
  }

  /**
   * Subscribes to `wamp.subscription.on_delete`: the last subscriber is
   * gone (always preceded by `on_unsubscribe`).
   *
   * @param handler Gets the last subscriber's session ID and the
   * subscription ID.
   * @returns The subscription.
   */
  onDelete(
    handler: (session: number, subscription: number, event: Event) => void | Promise<void>,
  ): Promise<Subscription> {
    return this.#peer.subscribe(MetaTopic.SUBSCRIPTION_ON_DELETE, pairHandler(handler));
  }
}
