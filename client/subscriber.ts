/**
 * The subscriber role: SUBSCRIBE/UNSUBSCRIBE, EVENT → the subscriptions of
 * its subscription ID, and subscription revocation. Several `subscribe()`
 * calls for one topic share the router's subscription; the last one to
 * leave unsubscribes.
 *
 * @module
 */

import {
  type EventMessage,
  type MatchPolicy,
  MessageType,
  type SubscribeOptions,
  type UnsubscribedMessage,
  type WampMessage,
} from "../wamp/mod.ts";
import type { SessionContext } from "./context.ts";
import {
  deliverEvent,
  endSubscription,
  type Event,
  type EventHandler,
  rebindSubscription,
  Subscription,
} from "./subscription.ts";

/** The subscriber half of a session. Internal: the session delegates to it. */
export class Subscriber {
  #ctx: SessionContext;
  #subscriptions = new Map<number, Set<Subscription>>();
  /** The match policy of each set of subscriptions sharing an ID. */
  #policies = new WeakMap<Set<Subscription>, MatchPolicy>();
  /** Subscriptions whose UNSUBSCRIBE is out, with its request ID. */
  #unsubscribing = new Map<number, number>();

  /**
   * @param ctx The session.
   */
  constructor(ctx: SessionContext) {
    this.#ctx = ctx;
  }

  /**
   * Subscribes; see `Session.subscribe()`.
   *
   * @param topic The topic or pattern.
   * @param handler Called for each event; omit to iterate.
   * @param options SUBSCRIBE options.
   * @param durable Whether the subscription outlives the session (a `Connection`'s).
   * @returns The subscription.
   */
  async subscribe(
    topic: string,
    handler?: EventHandler,
    options: SubscribeOptions = {},
    durable = false,
  ): Promise<Subscription> {
    for (;;) {
      let sub: Subscription | undefined;
      // Attached the moment SUBSCRIBED is read, so an EVENT right behind it
      // (a retained event) finds it.
      const attach = (reply: WampMessage): string | void => {
        const { request, subscription: id } = reply as { request: number; subscription: number };
        if (this.#leaving(id, request)) return;
        if (this.#taken(id, topic, options.match)) {
          return `SUBSCRIBED with subscription ${id}, held for another topic or match`;
        }
        const report = (error: unknown, where: string) => this.#ctx.report(error, where);
        const max = this.#ctx.limits.maxQueuedEvents;
        const unsubscribe = (s: Subscription) => this.#unsubscribe(s);
        sub = new Subscription(id, topic, handler, unsubscribe, report, durable, max);
        this.#attach(sub, options.match);
      };
      await this.#ctx.request(
        (request) => ({ type: MessageType.SUBSCRIBE, request, options, topic }),
        attach,
      );
      // Answered with a subscription the last holder here unsubscribes from after this SUBSCRIBE
      // (the router handles that UNSUBSCRIBE next): SUBSCRIBE again, behind it.
      if (sub !== undefined) return sub;
    }
  }

  /**
   * Subscribes a durable subscription again, on this session: the same
   * object, handler and iterator, a new subscription ID. Unsubscribed
   * meanwhile, it is unsubscribed from the router at once.
   *
   * @param sub The subscription, made on an earlier session.
   * @param options Its SUBSCRIBE options.
   * @returns When subscribed.
   * @throws {ApplicationError} When the router refuses.
   */
  async resubscribe(sub: Subscription, options: SubscribeOptions): Promise<void> {
    let attached = false;
    const attach = (reply: WampMessage): string | void => {
      const { request, subscription: id } = reply as { request: number; subscription: number };
      if (this.#leaving(id, request)) return;
      if (this.#taken(id, sub.topic, options.match)) {
        return `SUBSCRIBED with subscription ${id}, held for another topic or match`;
      }
      const report = (error: unknown, where: string) => this.#ctx.report(error, where);
      rebindSubscription(sub, id, (s) => this.#unsubscribe(s), report);
      this.#attach(sub, options.match);
      attached = true;
    };
    // As in subscribe(): again, behind an UNSUBSCRIBE of the subscription answered.
    while (!attached) {
      await this.#ctx.request(
        (request) => ({ type: MessageType.SUBSCRIBE, request, options, topic: sub.topic }),
        attach,
      );
    }
    if (sub.done) await this.#unsubscribe(sub);
  }

  /**
   * Handles EVENT: each subscription of its subscription ID gets it.
   *
   * @param msg The EVENT.
   */
  onEvent(msg: EventMessage): void {
    const subs = this.#subscriptions.get(msg.subscription);
    if (subs === undefined) return;
    for (const sub of subs) {
      const event: Event = {
        args: msg.args ?? [],
        kwargs: msg.kwargs ?? {},
        details: msg.details,
        publication: msg.publication,
        topic: msg.details.topic ?? sub.topic,
      };
      deliverEvent(sub, event);
    }
  }

  /**
   * Handles UNSUBSCRIBED with request 0: the router revoked a subscription
   * (spec "Subscription Revocation").
   *
   * @param msg The UNSUBSCRIBED.
   */
  onRevoked(msg: UnsubscribedMessage): void {
    const id = msg.details?.subscription;
    const reason = msg.details?.reason;
    if (typeof id !== "number") return;
    for (const sub of this.#subscriptions.get(id) ?? []) {
      endSubscription(sub, typeof reason === "string" ? reason : "");
    }
    this.#subscriptions.delete(id);
  }

  /** Ends every subscription but the durable ones, which a `Connection` restores (the session ended). */
  close(): void {
    for (const subs of this.#subscriptions.values()) {
      for (const s of subs) if (!s.durable) endSubscription(s);
    }
    this.#subscriptions.clear();
  }

  /**
   * Whether another topic's subscription here holds `id`: a router gives
   * one topic and match policy one ID (`com.a` exact and `com.a` prefix
   * are two subscriptions).
   */
  #taken(id: number, topic: string, match: MatchPolicy = "exact"): boolean {
    const local = this.#subscriptions.get(id);
    for (const held of local ?? []) {
      return held.topic !== topic || this.#policies.get(local!) !== match;
    }
    return false;
  }

  #attach(sub: Subscription, match: MatchPolicy = "exact"): void {
    let local = this.#subscriptions.get(sub.id);
    if (local === undefined) {
      this.#subscriptions.set(sub.id, local = new Set());
      this.#policies.set(local, match);
    }
    local.add(sub);
  }

  /**
   * Whether a SUBSCRIBE's answer names a subscription whose UNSUBSCRIBE
   * went out after that SUBSCRIBE: the router drops it once it reads it.
   */
  #leaving(subscription: number, subscribeRequest: number): boolean {
    return (this.#unsubscribing.get(subscription) ?? 0) > subscribeRequest;
  }

  async #unsubscribe(sub: Subscription): Promise<void> {
    const local = this.#subscriptions.get(sub.id);
    if (local === undefined || !local.delete(sub)) return;
    if (local.size > 0) return;
    const id = sub.id;
    this.#subscriptions.delete(id);
    if (!this.#ctx.isOpen()) return;
    let sent = 0;
    try {
      await this.#ctx.withdraw((request) => {
        this.#unsubscribing.set(id, sent = request);
        return { type: MessageType.UNSUBSCRIBE, request, subscription: id };
      });
    } finally {
      if (this.#unsubscribing.get(id) === sent) this.#unsubscribing.delete(id);
    }
  }
}
