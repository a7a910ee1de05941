/**
 * A client-side subscription: a handler, or an async iterator of events.
 *
 * @module
 */

import type { Dict } from "../wamp/mod.ts";

/** An event delivered to a subscriber. */
export interface Event {
  /** Positional arguments (empty when none were published). */
  readonly args: unknown[];
  /** Keyword arguments (empty when none were published). */
  readonly kwargs: Dict;
  /** EVENT.Details. */
  readonly details: Dict;
  /** The publication ID. */
  readonly publication: number;
  /** The concrete topic. */
  readonly topic: string;
}

/** Receives events. */
export type EventHandler = (event: Event) => void | Promise<void>;

/** Where a failing event handler is reported. */
export type ErrorReporter = (error: unknown, where: string) => void;

// The subscriber role's way in, kept off the public class.
let deliverTo: (sub: Subscription, event: Event) => void;
let endOf: (sub: Subscription, revoked?: string) => void;
let rebind: (
  sub: Subscription,
  id: number,
  unsubscribe: (sub: Subscription) => Promise<void>,
  report: ErrorReporter,
) => void;

/**
 * One `subscribe()` call's subscription. With a handler, events go to it;
 * without, iterate it with `for await`. Dispose it (`await using`) or call
 * {@linkcode Subscription.unsubscribe} to stop.
 */
export class Subscription implements AsyncIterable<Event>, AsyncDisposable {
  static {
    deliverTo = (sub, event) => sub.#deliver(event);
    endOf = (sub, revoked) => sub.#end(revoked);
    rebind = (sub, id, unsubscribe, report) => {
      sub.#id = id;
      sub.#unsubscribe = unsubscribe;
      sub.#report = report;
    };
  }
  /** The topic subscribed to. */
  readonly topic: string;
  /**
   * Whether it outlives its session: made through a `Connection`, it is
   * subscribed again on each new session instead of ending with the old one.
   */
  readonly durable: boolean;
  #id: number;
  #handler: EventHandler | undefined;
  #unsubscribe: (sub: Subscription) => Promise<void>;
  #report: ErrorReporter;
  #queue: Event[] = [];
  #waiting: ((r: IteratorResult<Event>) => void) | undefined;
  #done = false;
  #revoked: string | undefined;
  #maxQueued: number;
  #dropped = 0;

  /**
   * Created by the session; not meant to be constructed directly.
   *
   * @param id The subscription ID.
   * @param topic The topic.
   * @param handler An event handler, or undefined to iterate.
   * @param unsubscribe How to unsubscribe.
   * @param report Where a failing handler is reported (`Session.onUserError`, else the logger).
   * @param durable Whether it outlives its session (see {@linkcode Subscription.durable}).
   * @param maxQueued How many unread events iteration holds (`JoinOptions.maxQueuedEvents`).
   */
  constructor(
    id: number,
    topic: string,
    handler: EventHandler | undefined,
    unsubscribe: (sub: Subscription) => Promise<void>,
    report: ErrorReporter,
    durable = false,
    maxQueued = 10_000,
  ) {
    this.#id = id;
    this.topic = topic;
    this.#handler = handler;
    this.#unsubscribe = unsubscribe;
    this.#report = report;
    this.durable = durable;
    this.#maxQueued = maxQueued;
  }

  /** The router's subscription ID (a durable subscription gets a new one per session). */
  get id(): number {
    return this.#id;
  }

  /** Whether the subscription has ended. */
  get done(): boolean {
    return this.#done;
  }

  #deliver(event: Event): void {
    if (this.#done) return;
    if (this.#handler !== undefined) {
      try {
        const r = this.#handler(event);
        if (r instanceof Promise) r.catch((e) => this.#failed(e));
      } catch (e) {
        this.#failed(e);
      }
    } else if (this.#waiting !== undefined) {
      const wake = this.#waiting;
      this.#waiting = undefined;
      wake({ value: event, done: false });
    } else {
      if (this.#queue.length >= this.#maxQueued) {
        this.#queue.shift();
        this.#dropped++;
      }
      this.#queue.push(event);
    }
  }

  /**
   * Events dropped unread: an iterated subscription holds at most
   * `JoinOptions.maxQueuedEvents` (default 10,000) not yet read, and drops
   * the oldest past that.
   */
  get dropped(): number {
    return this.#dropped;
  }

  #failed(error: unknown): void {
    const where = `event handler of ${this.topic}`;
    this.#report(error, where);
  }

  /**
   * Why the router revoked the subscription (`subscription_revocation`):
   * its reason, or `""` without one; `undefined` unless revoked.
   */
  get revoked(): string | undefined {
    return this.#revoked;
  }

  #end(revoked?: string): void {
    if (this.#done) return;
    this.#done = true;
    this.#revoked = revoked;
    const wake = this.#waiting;
    this.#waiting = undefined;
    wake?.({ value: undefined, done: true });
  }

  /** Unsubscribes; iteration ends after the events already received. */
  async unsubscribe(): Promise<void> {
    if (this.#done) return;
    this.#end();
    await this.#unsubscribe(this);
  }

  /** Iterates events until unsubscribed or the session (a durable one: its connection) closes. */
  [Symbol.asyncIterator](): AsyncIterator<Event> {
    return {
      next: () => {
        const event = this.#queue.shift();
        if (event !== undefined) return Promise.resolve({ value: event, done: false });
        if (this.#done) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => this.#waiting = resolve);
      },
      return: async () => {
        await this.unsubscribe();
        return { value: undefined, done: true };
      },
    };
  }

  /** Unsubscribes (for `await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.unsubscribe();
  }
}

/**
 * Delivers an event to a subscription: its handler, or its iterator.
 * Internal: the subscriber role calls it.
 *
 * @param sub The subscription.
 * @param event The event.
 */
export function deliverEvent(sub: Subscription, event: Event): void {
  deliverTo(sub, event);
}

/**
 * Ends a subscription: iteration ends after the events already received.
 * Internal: the subscriber role calls it when the router revokes the
 * subscription or the session ends.
 *
 * @param sub The subscription.
 * @param revoked The router's reason when it revoked the subscription.
 */
export function endSubscription(sub: Subscription, revoked?: string): void {
  endOf(sub, revoked);
}

/**
 * Moves a durable subscription to a new session: its new subscription ID,
 * the new session's way to unsubscribe and to report handler failures.
 * Internal: the subscriber role calls it when a `Connection` restores it.
 *
 * @param sub The subscription.
 * @param id The new subscription ID.
 * @param unsubscribe How to unsubscribe on the new session.
 * @param report Where handler failures go.
 */
export function rebindSubscription(
  sub: Subscription,
  id: number,
  unsubscribe: (sub: Subscription) => Promise<void>,
  report: ErrorReporter,
): void {
  rebind(sub, id, unsubscribe, report);
}
