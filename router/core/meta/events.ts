/**
 * Meta events and testaments go out through the realm's broker like any
 * publication, so black/white lists, pattern subscriptions and history
 * apply to them. They wait until the realm has added the reply that caused
 * them to its output (a session learns its subscription ID from SUBSCRIBED
 * before any event names it); {@linkcode MetaEvents.flush} then appends
 * them.
 *
 * Who pays for them: the meta events of a session's own message (SUBSCRIBE,
 * REGISTER, a join) all go out in that message's turn, so the pacing of its
 * connection counts them. A session that leaves has a lane of its own
 * (`event_lanes.ts`): the meta events of everything it held, its
 * testaments, then its `on_leave`, in that order; those the realm publishes
 * on no one's behalf have one too. What a lane gets goes out up to a budget
 * with the turn that caused it, the rest in later turns, lanes taking
 * turns: no other session's message waits behind them or pays for them,
 * and a session's testaments wait for none of another's events. While
 * what waits is over {@linkcode MAX_QUEUED_BYTES}, new subscriptions and
 * registrations are refused ({@linkcode MetaEvents.congested}): each would
 * add to it when its session leaves.
 *
 * @module
 */

import { type Dict, MessageType, type PublishMessage } from "../../../wamp/mod.ts";
import type { Broker, Subscription } from "../broker/broker.ts";
import { keptPayloadSize } from "../limits.ts";
import type { Effect, Output } from "../output.ts";
import type { Outbound, SessionInfo } from "../types.ts";
import { Lanes } from "./event_lanes.ts";
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

/** A publication waiting to go out: a meta event, or a testament published as its session. */
interface Pending {
  readonly from: SessionInfo;
  readonly msg: PublishMessage;
  readonly internal: boolean;
  readonly disclose?: boolean;
  /** Estimated bytes, while it waits in a lane ({@linkcode QUEUED_EVENT_BYTES}, topic and payload). */
  readonly size: number;
}

/**
 * The EVENTs what lanes hold (a leaving session's meta events and
 * testaments, the realm's own meta events) may lead to in one turn before
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

/**
 * What a meta event waiting for a later turn counts besides its topic and
 * payload: 282 bytes of heap each, measured, for an `on_unsubscribe`.
 */
export const QUEUED_EVENT_BYTES = 256;

/**
 * The estimated size of a realm's meta events waiting for later turns past
 * which new subscriptions and registrations are refused (about 60,000
 * events). Only leaving sessions make them wait, each with the events of
 * what it held; a connection that subscribes to 1,000 topics and leaves,
 * again and again, watched by 45 sessions with 25 pattern subscriptions
 * each, grew the router's heap from 13 to 147 MiB in 22 s before.
 */
export const MAX_QUEUED_BYTES = 16 * 1024 * 1024;

/** The realm's outbox for meta events and testaments. */
export class MetaEvents {
  #broker: () => Broker;
  #publisher: () => SessionInfo;
  #resume: (() => Output) | undefined;
  /** Meta events of the message being handled ({@linkcode MetaEvents.paying}): all go out with it. */
  #now: Pending[] = [];
  /** The others: by the session that left (its testaments too), or the realm's own. */
  #lanes = new Lanes<Pending>();
  /**
   * How many session messages (or joins) are being handled (the realm
   * counts each up before and down after): the meta events they cause all
   * go out at the next flush, in the turn that handles them, however many
   * EVENTs they lead to (those of sessions they make leave excepted). A
   * counter rather than a callback: it is on every message's path.
   */
  paying = 0;

  /**
   * Runs a session's join as {@linkcode MetaEvents.paying} counts a message.
   *
   * @param fn Joins it.
   */
  paid(fn: () => void): void {
    this.paying++;
    try {
      fn();
    } finally {
      this.paying--;
    }
  }
  /** The session leaving now ({@linkcode MetaEvents.departing}): its lane takes the events. */
  #leaving: number | undefined;
  /** Whether the timer fired: the next flush serves the waiting lanes. */
  #due = false;
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
   * flush publishes everything queued.
   */
  constructor(broker: () => Broker, publisher: () => SessionInfo, resume?: () => Output) {
    this.#broker = broker;
    this.#publisher = publisher;
    this.#resume = resume;
  }

  /** Whether the next flush has something to publish. */
  get pending(): boolean {
    return this.#now.length > 0 || this.#lanes.fresh || this.#due ||
      (this.closing && this.#lanes.waiting);
  }

  /**
   * Whether the meta events waiting for later turns are over
   * {@linkcode MAX_QUEUED_BYTES}: new subscriptions and registrations are
   * then refused with `limit_exceeded`.
   */
  get congested(): boolean {
    return this.#lanes.bytes > MAX_QUEUED_BYTES;
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
    const from = this.#publisher();
    const msg: PublishMessage = {
      type: MessageType.PUBLISH,
      request: 1,
      options: {},
      topic,
      args: args(),
    };
    const leaving = this.#leaving;
    if (leaving === undefined && this.paying > 0) {
      return void this.#now.push({ from, msg, internal: true, size: 0 });
    }
    this.#lanes.push(leaving ?? this, { from, msg, internal: true, size: queuedSize(msg) });
  }

  /**
   * Queues a publication on a session's behalf (a testament), in that
   * session's lane: after its own meta events, before its `on_leave`, and
   * behind no other session's.
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
    const msg: PublishMessage = {
      type: MessageType.PUBLISH,
      request: 1,
      options: rest,
      topic,
      args,
      kwargs,
    };
    this.#lanes.push(from.id, { from, msg, internal: false, disclose, size: queuedSize(msg) });
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
   * Runs `fn` as a session leaves: the meta events it causes go to that
   * session's lane (where its testaments go), behind what the lane holds.
   *
   * @param session The session that leaves.
   * @param fn Removes it (or publishes its `on_leave`).
   */
  departing(session: number, fn: () => void): void {
    const outer = this.#leaving;
    this.#leaving = session;
    try {
      fn();
    } finally {
      this.#leaving = outer;
    }
  }

  /**
   * Publishes, appending the broker's EVENTs to `out`: the meta events of
   * the message handled, all of them; then what lanes that were idle got
   * (a session that just left), until it led to
   * {@linkcode EVENTS_PER_TURN} EVENTs (each publication counting some
   * more); after the timer fired, what waits in lanes, one lane after
   * another, as many. While the realm closes, everything goes.
   *
   * @param out Where the EVENTs go.
   * @returns The timer that serves the waiting lanes in a later turn, when
   * some wait and none is armed.
   */
  flush(out: Outbound[]): Effect | undefined {
    // Runs after every entry point that queued something: the others cost one check.
    if (!this.pending) return undefined;
    const now = this.#now;
    for (let i = 0; i < now.length; i++) this.#publish(now[i]!, out);
    now.length = 0;
    const all = this.#resume === undefined || this.closing;
    let budget = all ? Infinity : EVENTS_PER_TURN;
    const next = (pending: Pending) => (budget -= this.#publish(pending, out)) > 0;
    this.#lanes.takeFresh(next);
    if (this.#due || all) this.#lanes.takeWaiting(next);
    this.#due = false;
    if (!this.#lanes.waiting || this.#armed) return undefined;
    this.#armed = true;
    const resume = this.#resume!;
    return {
      kind: "arm",
      key: this,
      ms: 0,
      fire: () => {
        this.#armed = false;
        this.#due = true;
        return resume();
      },
    };
  }

  /** Publishes one; returns what it counts against the budget. */
  #publish({ from, msg, internal, disclose }: Pending, out: Outbound[]): number {
    let weight = PUBLICATION_WEIGHT;
    for (const o of this.#broker().publish(from, msg, { internal, disclose: disclose === true })) {
      out.push(o);
      weight += typeof o.to === "number" ? 1 : o.to.length;
    }
    return weight;
  }
}

/** What a publication counts while it waits in a lane. */
function queuedSize(msg: PublishMessage): number {
  return QUEUED_EVENT_BYTES + msg.topic.length +
    keptPayloadSize(msg, Infinity, ["args", "kwargs", "options"]);
}
