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
import { Fifo } from "../fifo.ts";
import type { Effect, Output } from "../output.ts";
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

/**
 * The EVENTs meta events and testaments may lead to in one turn before
 * the rest wait for the next (one publication that leads to more goes
 * alone): a session that leaves with the registrations and subscriptions
 * its limits allow queues 4,000 meta events, which held the router 194 ms
 * in one turn with 50 sessions watching them; 8 testaments whose topic
 * 3,000 subscriptions match held a bystander 170 ms in one turn, against
 * 50 ms one by one.
 */
export const EVENTS_PER_TURN = 1024;

/**
 * What publishing one meta event counts against that budget besides its
 * EVENTs: with one watcher, 1,024 of them held the router 34 ms in a flush.
 */
const PUBLICATION_WEIGHT = 8;

/** The realm's outbox for meta events and testaments. */
export class MetaEvents {
  #broker: () => Broker;
  #publisher: () => SessionInfo;
  #resume: (() => Output) | undefined;
  #queue = new Fifo<Pending>();
  #armed = false;
  #muted = 0;
  /** Cluster mode: the subscription meta API across nodes. */
  share: SubscriptionShare | undefined;
  /**
   * The realm closes with its router: what is queued goes out in one
   * flush, before the sessions get GOODBYE.
   */
  closing = false;

  /**
   * Creates the outbox.
   *
   * @param broker The realm's broker (read when events are published).
   * @param publisher The realm's internal session, which publishes meta
   * events (asked for when the first one is published).
   * @param resume Completes an empty output through the realm, which
   * flushes more (what a flush left for a later turn); without it, every
   * flush publishes the whole queue.
   */
  constructor(broker: () => Broker, publisher: () => SessionInfo, resume?: () => Output) {
    this.#broker = broker;
    this.#publisher = publisher;
    this.#resume = resume;
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
   * appending the broker's EVENTs to `out`, until they number
   * {@linkcode EVENTS_PER_TURN} (each publication counting some more): the
   * rest waits for a later flush. While the realm closes, everything goes.
   *
   * @param out Where the EVENTs go.
   * @returns The timer that flushes the rest in a later turn, when some is
   * left and none is armed.
   */
  flush(out: Outbound[]): Effect | undefined {
    // Runs after every entry point: the common case, nothing queued, costs one check.
    if (this.#queue.length === 0) return undefined;
    let budget = this.#resume === undefined || this.closing ? Infinity : EVENTS_PER_TURN;
    // At least one a flush, however many EVENTs it leads to.
    for (let next = this.#queue.shift(); next !== undefined; next = this.#queue.shift()) {
      const { from, msg, internal, disclose } = next;
      const how = { internal, disclose: disclose === true };
      budget -= PUBLICATION_WEIGHT;
      for (const o of this.#broker().publish(from, msg, how)) {
        out.push(o);
        budget -= typeof o.to === "number" ? 1 : o.to.length;
      }
      if (budget <= 0) break;
    }
    if (this.#queue.length === 0 || this.#armed) return undefined;
    this.#armed = true;
    const resume = this.#resume!;
    return {
      kind: "arm",
      key: this,
      ms: 0,
      fire: () => {
        this.#armed = false;
        return resume();
      },
    };
  }
}
