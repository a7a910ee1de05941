/**
 * Meta events and testaments go out through the realm's broker like any
 * publication, so black/white lists, pattern subscriptions and history
 * apply to them. They wait in a queue until the realm has added the
 * reply that caused them to its output (a session learns its subscription
 * ID from SUBSCRIBED before any event names it); {@linkcode MetaEvents.flush}
 * then appends them.
 *
 * @module
 */

import { type Dict, MessageType, type PublishMessage } from "../../../wamp/mod.ts";
import type { Broker, Subscription } from "../broker/broker.ts";
import type { Outbound, SessionInfo } from "../types.ts";
import type { RemoteSubscriptions } from "./remote_subscriptions.ts";

/**
 * Cluster mode: what the subscription meta API shares with the other
 * nodes (see `cluster_sessions.ts`).
 */
export interface SubscriptionShare {
  /** A local session joined (`on`) or left a local subscription. */
  changed(session: number, sub: Subscription, on: boolean): void;
  /** The other nodes' subscriptions. */
  readonly remote: RemoteSubscriptions;
}

interface Pending {
  readonly from: SessionInfo;
  readonly msg: PublishMessage;
  readonly internal: boolean;
  readonly disclose?: boolean;
}

/** The realm's outbox for meta events and testaments. */
export class MetaEvents {
  #broker: () => Broker;
  #publisher: () => SessionInfo;
  #queue: Pending[] = [];
  #muted = 0;
  /** Cluster mode: the subscription meta API across nodes. */
  share: SubscriptionShare | undefined;

  /**
   * Creates the outbox.
   *
   * @param broker The realm's broker (read when events are published).
   * @param publisher The realm's internal session, which publishes meta
   * events (asked for when the first one is published).
   */
  constructor(broker: () => Broker, publisher: () => SessionInfo) {
    this.#broker = broker;
    this.#publisher = publisher;
  }

  /** Whether events are queued. */
  get pending(): boolean {
    return this.#queue.length > 0;
  }

  /**
   * Queues a meta event, unless nobody could receive it: then the payload
   * is never built.
   *
   * @param topic A `wamp.` topic.
   * @param args Builds the event's positional arguments.
   */
  publish(topic: string, args: () => unknown[]): void {
    const broker = this.#broker();
    if (this.#muted > 0 || !broker.watchesMeta || !broker.hasSubscribers(topic)) return;
    this.#queue.push({
      from: this.#publisher(),
      msg: { type: MessageType.PUBLISH, request: 1, options: {}, topic, args: args() },
      internal: true,
    });
  }

  /**
   * Queues a publication on a session's behalf (a testament).
   *
   * @param from The session it is published as.
   * @param topic The topic.
   * @param args Positional arguments.
   * @param kwargs Keyword arguments.
   * @param options PUBLISH options (`acknowledge` is ignored).
   * @param disclose Disclose the publisher, as if it had set `disclose_me`
   * (its role's permission forces it).
   */
  publishAs(
    from: SessionInfo,
    topic: string,
    args: unknown[],
    kwargs: Dict,
    options: Dict,
    disclose = false,
  ): void {
    if (this.#muted > 0) return;
    const { acknowledge: _, ...rest } = options;
    this.#queue.push({
      from,
      msg: { type: MessageType.PUBLISH, request: 1, options: rest, topic, args, kwargs },
      internal: false,
      disclose,
    });
  }

  /** Whether meta events are suppressed now (see {@linkcode MetaEvents.muted}). */
  get silent(): boolean {
    return this.#muted > 0;
  }

  /**
   * Runs `fn` with meta events and testaments suppressed
   * (`wamp.session.kill_all` fires none).
   */
  muted(fn: () => void): void {
    this.#muted++;
    try {
      fn();
    } finally {
      this.#muted--;
    }
  }

  /**
   * Publishes what is queued, in order (events it causes queue behind),
   * appending the broker's EVENTs to `out`.
   *
   * @param out Where the EVENTs go.
   */
  flush(out: Outbound[]): void {
    // Runs after every entry point: the common case, nothing queued, costs one check.
    if (this.#queue.length === 0) return;
    try {
      for (let i = 0; i < this.#queue.length; i++) {
        const { from, msg, internal, disclose } = this.#queue[i]!;
        const how = { internal, disclose: disclose === true };
        for (const o of this.#broker().publish(from, msg, how)) out.push(o);
      }
    } finally {
      this.#queue.length = 0;
    }
  }
}
