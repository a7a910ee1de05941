/**
 * The broker: subscriptions and publications of one realm, sans-I/O. Every
 * method takes the acting session and its message, and returns the
 * messages to deliver (spec "Publish and Subscribe" and the Advanced
 * Profile's PubSub features).
 *
 * @module
 */

import {
  type Dict,
  ErrorUri,
  Feature,
  hasFeature,
  isValidUri,
  type MatchPolicy,
  MessageType,
  ProtocolViolationError,
  type PublishMessage,
  type SubscribeMessage,
  type UnsubscribeMessage,
} from "../../../wamp/mod.ts";
import { errorReply } from "../errors.ts";
import { EventHistory } from "./event_history.ts";
import { limitMessage, type ResolvedLimits, resolveLimits } from "../limits.ts";
import { MatchIndex } from "../match_index.ts";
import { usesPassthru } from "../passthru.ts";
import { checkPublish, eventFor, type Publication, publicationOf, stamped } from "./publication.ts";
import { BrokerSharing } from "./sharing.ts";
import { PublishFilter } from "./publish_filter.ts";
import { RetainedEvents } from "./retained.ts";
import { type BrokerOptions, mayMatchMeta, type Subscription } from "./subscription.ts";
import type { Outbound, SessionInfo } from "../types.ts";

export type {
  BrokerLimits,
  BrokerOptions,
  Subscription,
  SubscriptionObserver,
} from "./subscription.ts";

/** Routes events from publishers to subscribers. */
export class Broker {
  #options: BrokerOptions;
  #now: () => number;
  #index = new MatchIndex<Subscription>();
  #byId = new Map<number, Subscription>();
  #bySession = new Map<number, Set<Subscription>>();
  /** Subscribers' identities, for black/white lists and revocation. */
  #sessions = new Map<number, SessionInfo>();
  #history = new EventHistory();
  #retained: RetainedEvents;
  #limits: ResolvedLimits;
  /** Subscriptions that may match a `wamp.` topic (see {@linkcode watchesMeta}). */
  #metaWatchers = 0;
  /** The realm's cluster effects, in cluster mode. */
  #sharing: BrokerSharing | undefined;

  /**
   * Creates a broker, with the history-enabled subscriptions its
   * `eventHistory` rules ask for.
   *
   * @param options URI strictness, ID generators, disclosure, history.
   */
  constructor(options: BrokerOptions) {
    this.#options = options;
    this.#now = options.now;
    const limits = this.#limits = resolveLimits(options.limits);
    this.#retained = new RetainedEvents(limits);
    for (const rule of options.eventHistory ?? []) {
      const match = rule.match ?? "exact";
      const sub = this.#index.get(rule.topic, match) ?? this.#create(rule.topic, match, true);
      this.#history.enable(sub.id, rule.limit ?? 100, limits.historyBytes);
    }
  }

  /** Cluster mode: interest and shared publications queue in {@linkcode Broker.sharing}. */
  share(realm: string): BrokerSharing {
    return this.#sharing ??= new BrokerSharing(realm, (pub) => this.#fanOut(pub));
  }

  /** The cluster effects, in cluster mode. */
  get sharing(): BrokerSharing | undefined {
    return this.#sharing;
  }

  /** How many subscriptions exist. */
  get subscriptionCount(): number {
    return this.#byId.size;
  }

  /** Looks up a subscription by ID. */
  subscription(id: number): Subscription | undefined {
    return this.#byId.get(id);
  }

  /** Every subscription, in creation order. */
  subscriptions(): IterableIterator<Subscription> {
    return this.#byId.values();
  }

  /**
   * Looks up the subscription for a (topic, match) pair, without matching.
   *
   * @param topic The topic or pattern.
   * @param match The match policy.
   * @returns The subscription, or `undefined`.
   */
  lookup(topic: string, match: MatchPolicy = "exact"): Subscription | undefined {
    return this.#index.get(topic, match);
  }

  /** Whether any subscription may match a `wamp.` topic (if none, no meta events are built). */
  get watchesMeta(): boolean {
    return this.#metaWatchers > 0;
  }

  /** Every subscription a publication to `topic` reaches. */
  matching(topic: string): readonly Subscription[] {
    return this.#index.matches(topic);
  }

  /** Whether a publication to `topic` would reach any subscriber. */
  hasSubscribers(topic: string): boolean {
    return this.#index.matches(topic).some((sub) => sub.subscribers.size > 0);
  }

  /** The event-history stores (`event_history`). */
  get history(): EventHistory {
    return this.#history;
  }

  /** The retained events (`event_retention`). */
  get retained(): RetainedEvents {
    return this.#retained;
  }

  /**
   * Handles SUBSCRIBE: joins the subscription for the (topic, match) pair
   * or creates one; a repeated SUBSCRIBE returns the same ID. With
   * `get_retained`, the retained events the subscriber may receive follow
   * SUBSCRIBED, flagged `retained: true`. A session holding
   * `subscriptionsPerSession` subscriptions, or a new subscription in a
   * realm holding `subscriptions` (`patternSubscriptions` for a new prefix
   * or wildcard one), is refused with
   * `cloverleaf.error.limit_exceeded` (the router's own sessions are not
   * limited per session).
   *
   * @param session The subscriber.
   * @param msg The SUBSCRIBE message.
   * @returns SUBSCRIBED (then retained EVENTs), or ERROR.
   */
  subscribe(session: SessionInfo, msg: SubscribeMessage): Outbound[] {
    const match = msg.options.match ?? "exact";
    if (match !== "exact" && match !== "prefix" && match !== "wildcard") {
      return [
        errorReply(
          session.id,
          msg.type,
          msg.request,
          ErrorUri.OPTION_NOT_ALLOWED,
          `match "${match}" is not a match policy`,
        ),
      ];
    }
    if (!isValidUri(msg.topic, { strict: this.#options.strictUris ?? false, match })) {
      return [errorReply(session.id, msg.type, msg.request, ErrorUri.INVALID_URI)];
    }
    const existing = this.#index.get(msg.topic, match);
    const refusal = this.#overLimit(session, existing, msg.topic, match);
    if (refusal !== undefined) {
      return [errorReply(session.id, msg.type, msg.request, ErrorUri.LIMIT_EXCEEDED, refusal)];
    }
    const sub = existing ?? this.#create(msg.topic, match, false);
    const joined = !sub.subscribers.has(session.id);
    sub.subscribers.add(session.id);
    this.#sessions.set(session.id, session);
    let mine = this.#bySession.get(session.id);
    if (mine === undefined) this.#bySession.set(session.id, mine = new Set());
    mine.add(sub);
    if (joined) this.#options.observer?.subscribed(session.id, sub, existing === undefined);
    const out: Outbound[] = [{
      to: session.id,
      msg: { type: MessageType.SUBSCRIBED, request: msg.request, subscription: sub.id },
    }];
    if (msg.options.get_retained === true) {
      for (const pub of this.#retained.for(sub.topic, sub.match, session)) {
        out.push({ to: session.id, msg: eventFor(sub, pub, { retained: true }) });
      }
    }
    if (this.#sharing?.hold(sub, session.id, out)) return [];
    return out;
  }

  /**
   * Handles UNSUBSCRIBE.
   *
   * @param session The subscriber.
   * @param msg The UNSUBSCRIBE message.
   * @returns UNSUBSCRIBED, or ERROR `no_such_subscription`.
   */
  unsubscribe(session: SessionInfo, msg: UnsubscribeMessage): Outbound[] {
    const sub = this.#byId.get(msg.subscription);
    if (sub === undefined || !sub.subscribers.has(session.id)) {
      return [errorReply(session.id, msg.type, msg.request, ErrorUri.NO_SUCH_SUBSCRIPTION)];
    }
    this.#remove(session.id, sub);
    return [{ to: session.id, msg: { type: MessageType.UNSUBSCRIBED, request: msg.request } }];
  }

  /**
   * Handles PUBLISH: one EVENT per matching subscription (exact, prefix and
   * wildcard alike), addressed to its subscribers that pass publisher
   * exclusion and the black/white lists; history and retention are
   * updated; PUBLISHED follows when `acknowledge` is set. Refusals are
   * only reported to publishers that asked for an acknowledgement. A
   * PUBLISH with `retain` that the retained events' limits cannot take
   * (`retainedEventBytes`, `retainedBytes`) is refused as a whole (no
   * EVENT either), with `cloverleaf.error.limit_exceeded`.
   *
   * @param session The publisher.
   * @param msg The PUBLISH message.
   * @param how `internal`: the router itself publishes (meta events) and
   * may use the reserved `wamp.` topics; `disclose`: disclose the
   * publisher as if it had set `disclose_me` (an authorization permission
   * says so), unless the realm never discloses.
   * @returns EVENTs, then PUBLISHED or ERROR.
   * @throws {ProtocolViolationError} When the publisher uses payload
   * passthru mode without announcing it.
   */
  publish(
    session: SessionInfo,
    msg: PublishMessage,
    how: { internal?: boolean; disclose?: boolean } = {},
  ): Outbound[] {
    const options = msg.options;
    const ack = options.acknowledge === true;
    if (
      usesPassthru(options) &&
      !hasFeature(session.roles, "publisher", Feature.PAYLOAD_PASSTHRU_MODE)
    ) {
      throw new ProtocolViolationError(
        "PUBLISH uses payload passthru mode, but the publisher did not announce payload_passthru_mode",
      );
    }
    const checked = checkPublish(msg, how.internal === true, this.#options);
    if (!(checked instanceof PublishFilter) && checked !== undefined) {
      return ack ? [errorReply(session.id, msg.type, msg.request, ...checked)] : [];
    }
    const pub = publicationOf(session, msg, checked, how.disclose === true, this.#options);
    if (options.retain === true) {
      const refusal = this.#retained.retain(pub);
      if (refusal !== undefined) {
        return ack
          ? [errorReply(session.id, msg.type, msg.request, ErrorUri.LIMIT_EXCEEDED, refusal)]
          : [];
      }
    }
    const out = this.#fanOut(pub);
    // Clustered, PUBLISHED waits for NATS to accept the publication.
    if (this.#sharing !== undefined && !how.internal) {
      this.#sharing.publish(stamped(pub, this.#now), msg, session.id);
    } else if (ack) {
      out.push({
        to: session.id,
        msg: { type: MessageType.PUBLISHED, request: msg.request, publication: pub.id },
      });
    }
    return out;
  }

  /**
   * Revokes a subscription (feature key `subscription_revocation`): every
   * subscriber is removed; those that announced `subscription_revocation`
   * get `UNSUBSCRIBED [35, 0, {subscription, reason}]`, the others are
   * removed silently (spec "Subscription Revocation").
   *
   * @param subscription The subscription ID.
   * @param reason Why, for the subscribers.
   * @returns The UNSUBSCRIBED to deliver, or `undefined` when there is no
   * such subscription.
   */
  revoke(subscription: number, reason?: string): Outbound[] | undefined {
    const sub = this.#byId.get(subscription);
    if (sub === undefined) return undefined;
    const notify: number[] = [];
    for (const id of [...sub.subscribers]) {
      const roles = this.#sessions.get(id)?.roles ?? {};
      if (hasFeature(roles, "subscriber", Feature.SUBSCRIPTION_REVOCATION)) notify.push(id);
      this.#remove(id, sub);
    }
    if (notify.length === 0) return [];
    const details: Dict = { subscription };
    if (reason !== undefined) details.reason = reason;
    return [{ to: notify, msg: { type: MessageType.UNSUBSCRIBED, request: 0, details } }];
  }

  /**
   * Drops every subscription of a session that left.
   *
   * @param sessionId The session that left.
   */
  removeSession(sessionId: number): void {
    const mine = this.#bySession.get(sessionId);
    if (mine === undefined) return;
    for (const sub of [...mine]) this.#remove(sessionId, sub);
  }

  /** Why `session` may not join `existing` (or a new subscription on `topic`), if it may not. */
  #overLimit(
    session: SessionInfo,
    existing: Subscription | undefined,
    topic: string,
    match: MatchPolicy,
  ): string | undefined {
    if (existing?.subscribers.has(session.id)) return undefined;
    const held = this.#bySession.get(session.id)?.size ?? 0;
    const limits = this.#limits;
    if (held >= limits.subscriptionsPerSession && session.transport !== "internal") {
      return limitMessage("subscribe", "subscriptionsPerSession", limits.subscriptionsPerSession);
    }
    if (existing !== undefined) return undefined;
    if (this.#byId.size >= limits.subscriptions) {
      return limitMessage("subscribe", "subscriptions", limits.subscriptions);
    }
    if (match !== "exact" && this.#index.patterns >= limits.patternSubscriptions) {
      return limitMessage("subscribe", "patternSubscriptions", limits.patternSubscriptions);
    }
    if (match === "wildcard" && this.#index.wildcardFull(topic, limits.wildcardComponents)) {
      return limitMessage("subscribe", "wildcardComponents", limits.wildcardComponents);
    }
    return undefined;
  }

  /** One EVENT per subscription matching `pub`, to the subscribers it may reach; history kept. */
  #fanOut(pub: Publication): Outbound[] {
    const out: Outbound[] = [];
    for (const sub of this.#index.matches(pub.topic)) {
      if (this.#history.has(sub.id)) {
        this.#history.record(sub.id, stamped(pub, this.#now));
      }
      const to = this.#recipients(sub, pub);
      if (to.length > 0) out.push({ to, msg: eventFor(sub, pub) });
    }
    return out;
  }

  /** The subscribers of `sub` that may receive `pub`. */
  #recipients(sub: Subscription, pub: Publication): number[] {
    const to: number[] = [];
    const filter = pub.filter;
    const waiting = this.#sharing?.waiting(sub);
    for (const id of sub.subscribers) {
      if (id === pub.excluded) continue;
      if (waiting !== undefined && waiting.has(id)) continue;
      if (filter !== undefined && !filter.allows(this.#sessions.get(id)!)) continue;
      to.push(id);
    }
    return to;
  }

  #create(topic: string, match: MatchPolicy, persistent: boolean): Subscription {
    const sub: Subscription = {
      id: this.#options.subscriptionIds(),
      topic,
      match,
      created: new Date(this.#now()).toISOString(),
      subscribers: new Set(),
      persistent,
    };
    this.#index.set(topic, match, sub);
    this.#byId.set(sub.id, sub);
    if (mayMatchMeta(topic, match)) this.#metaWatchers++;
    this.#sharing?.created(sub);
    return sub;
  }

  #remove(sessionId: number, sub: Subscription): void {
    sub.subscribers.delete(sessionId);
    const mine = this.#bySession.get(sessionId);
    mine?.delete(sub);
    if (mine?.size === 0) {
      this.#bySession.delete(sessionId);
      this.#sessions.delete(sessionId);
    }
    const deleted = sub.subscribers.size === 0 && !sub.persistent;
    if (deleted) {
      this.#index.delete(sub.topic, sub.match);
      this.#byId.delete(sub.id);
      if (mayMatchMeta(sub.topic, sub.match)) this.#metaWatchers--;
      this.#sharing?.deleted(sub);
    } else this.#sharing?.left(sub, sessionId);
    this.#options.observer?.unsubscribed(sessionId, sub, deleted);
  }
}
