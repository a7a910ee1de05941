/**
 * The broker: subscriptions and publications of one realm, sans-I/O. Every
 * method takes the acting session and its message, and returns the
 * messages to deliver (spec "Publish and Subscribe").
 *
 * @module
 */

import {
  type Dict,
  ErrorUri,
  type EventMessage,
  type IdGenerator,
  isReservedUri,
  isValidUri,
  type MatchPolicy,
  MessageType,
  type PublishMessage,
  type SubscribeMessage,
  type UnsubscribeMessage,
} from "../wamp/mod.ts";
import { errorReply } from "./errors.ts";
import type { Outbound, SessionInfo } from "./types.ts";

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
}

/** Options for {@linkcode Broker}. */
export interface BrokerOptions {
  /** Only `[0-9a-z_]` URI components. @default {false} */
  strictUris?: boolean;
  /** Router-scope IDs for subscriptions. */
  subscriptionIds: IdGenerator;
  /** Global-scope IDs for publications. */
  publicationIds: IdGenerator;
}

/** Publish options whose features the broker does not offer yet. */
const UNSUPPORTED_PUBLISH_OPTIONS = [
  "exclude",
  "exclude_authid",
  "exclude_authrole",
  "eligible",
  "eligible_authid",
  "eligible_authrole",
];

/** Routes events from publishers to subscribers. */
export class Broker {
  #options: BrokerOptions;
  #byTopic = new Map<string, Subscription>();
  #byId = new Map<number, Subscription>();
  #bySession = new Map<number, Set<Subscription>>();

  /**
   * Creates a broker.
   *
   * @param options URI strictness and ID generators.
   */
  constructor(options: BrokerOptions) {
    this.#options = options;
  }

  /** How many subscriptions exist. */
  get subscriptionCount(): number {
    return this.#byId.size;
  }

  /** Looks up a subscription by ID. */
  subscription(id: number): Subscription | undefined {
    return this.#byId.get(id);
  }

  /**
   * Handles SUBSCRIBE: joins the existing subscription for the topic or
   * creates one. A repeated SUBSCRIBE returns the same ID.
   *
   * @param session The subscriber.
   * @param msg The SUBSCRIBE message.
   * @returns SUBSCRIBED or ERROR.
   */
  subscribe(session: SessionInfo, msg: SubscribeMessage): Outbound[] {
    const match = (msg.options.match ?? "exact") as MatchPolicy;
    if (match !== "exact") {
      return [
        errorReply(
          session.id,
          msg.type,
          msg.request,
          ErrorUri.OPTION_NOT_ALLOWED,
          `match "${match}" is not supported by this broker`,
        ),
      ];
    }
    if (!isValidUri(msg.topic, { strict: this.#options.strictUris ?? false })) {
      return [errorReply(session.id, msg.type, msg.request, ErrorUri.INVALID_URI)];
    }
    let sub = this.#byTopic.get(msg.topic);
    if (sub === undefined) {
      sub = {
        id: this.#options.subscriptionIds(),
        topic: msg.topic,
        match,
        created: new Date().toISOString(),
        subscribers: new Set(),
      };
      this.#byTopic.set(sub.topic, sub);
      this.#byId.set(sub.id, sub);
    }
    sub.subscribers.add(session.id);
    let mine = this.#bySession.get(session.id);
    if (mine === undefined) this.#bySession.set(session.id, mine = new Set());
    mine.add(sub);
    return [{
      to: session.id,
      msg: { type: MessageType.SUBSCRIBED, request: msg.request, subscription: sub.id },
    }];
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
   * Handles PUBLISH: one EVENT per matching subscription, addressed to all
   * its subscribers but the publisher (unless `exclude_me: false`), and
   * PUBLISHED when `acknowledge` is set. Errors are only reported to
   * publishers that asked for an acknowledgement.
   *
   * @param session The publisher.
   * @param msg The PUBLISH message.
   * @returns EVENTs, then PUBLISHED or ERROR.
   */
  publish(session: SessionInfo, msg: PublishMessage): Outbound[] {
    const ack = msg.options.acknowledge === true;
    const refusal = this.#checkPublish(msg);
    if (refusal !== undefined) {
      return ack ? [errorReply(session.id, msg.type, msg.request, ...refusal)] : [];
    }
    const publication = this.#options.publicationIds();
    const out: Outbound[] = [];
    const sub = this.#byTopic.get(msg.topic);
    if (sub !== undefined) {
      const excludeMe = msg.options.exclude_me !== false;
      const to: number[] = [];
      for (const id of sub.subscribers) {
        if (!(excludeMe && id === session.id)) to.push(id);
      }
      if (to.length > 0) out.push({ to, msg: this.#event(sub, publication, msg) });
    }
    if (ack) {
      out.push({
        to: session.id,
        msg: { type: MessageType.PUBLISHED, request: msg.request, publication },
      });
    }
    return out;
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

  #checkPublish(msg: PublishMessage): [string, string?] | undefined {
    if (
      !isValidUri(msg.topic, { strict: this.#options.strictUris ?? false }) ||
      isReservedUri(msg.topic)
    ) {
      return [ErrorUri.INVALID_URI];
    }
    const unsupported = UNSUPPORTED_PUBLISH_OPTIONS.find((key) => key in msg.options);
    if (unsupported !== undefined) {
      return [ErrorUri.OPTION_NOT_ALLOWED, `option "${unsupported}" is not supported`];
    }
    return undefined;
  }

  #event(sub: Subscription, publication: number, msg: PublishMessage): EventMessage {
    const details: Dict = {};
    const event: EventMessage = {
      type: MessageType.EVENT,
      subscription: sub.id,
      publication,
      details,
    };
    if (msg.args !== undefined) event.args = msg.args;
    if (msg.kwargs !== undefined) event.kwargs = msg.kwargs;
    if (msg.payload !== undefined) {
      // An opaque payload is useless without the keys that describe it.
      event.payload = msg.payload;
      for (const key of ["enc_algo", "enc_serializer", "enc_key"]) {
        if (key in msg.options) details[key] = msg.options[key];
      }
    }
    return event;
  }

  #remove(sessionId: number, sub: Subscription): void {
    sub.subscribers.delete(sessionId);
    this.#bySession.get(sessionId)?.delete(sub);
    if (this.#bySession.get(sessionId)?.size === 0) this.#bySession.delete(sessionId);
    if (sub.subscribers.size === 0) {
      this.#byTopic.delete(sub.topic);
      this.#byId.delete(sub.id);
    }
  }
}
