/**
 * What a connection received and has not yet handed to its handler: what
 * came before the handler was bound, and, on a connection that can stop
 * reading, what came after its arrivals ran for a whole turn of the event
 * loop.
 *
 * One chunk read from a socket can hold a thousand small messages; a
 * message that costs the router a millisecond (a SUBSCRIBE asking for the
 * retained events of a pattern, a PUBLISH matched against many patterns)
 * would otherwise hold every other connection for a second. Past
 * {@linkcode TURN_MS} the inbox keeps the rest, stops reading, and goes on
 * in a later turn, after other connections had theirs.
 *
 * @module
 */

import { type PeerHandler, ProtocolViolationError, type WampMessage } from "../../wamp/mod.ts";

/**
 * How long one connection's arrivals may run in one turn of the event loop,
 * in milliseconds, before the rest wait for a later turn. A later turn
 * costs about 1 ms of Deno's timers, and a publisher at full speed has
 * turns of 10-20 ms: at 10 ms such a publisher lost 3-5% of its throughput.
 */
export const TURN_MS = 20;

/** The clock is read at every (this + 1)th arrival: `Date.now()` costs 36 ns. */
const CLOCK_EVERY = 7;

/**
 * How an inbox stops its connection's reading: a {@linkcode Wire} is one.
 * What it keeps counts as unread: it goes on only once the connection
 * would read again.
 */
export interface InboxReading {
  /** Stops (`true`) or restarts (`false`) reading, for the inbox's own reasons. */
  hold(held: boolean): void;
  /** Resolves once the connection's outbound backlog no longer stops reading. */
  drained(): Promise<void>;
}

/** What arrives on a connection: a message, or a frame that could not be decoded. */
export type Arrival = WampMessage | ProtocolViolationError;

/**
 * What a frame that could not be decoded (or split, or read as UTF-8)
 * becomes: the `ProtocolViolationError` the session answers with ABORT.
 *
 * @param error What decoding threw.
 * @returns It, when it is one already; else one wrapping it.
 */
export function asProtocolViolation(error: unknown): ProtocolViolationError {
  if (error instanceof ProtocolViolationError) return error;
  const why = error instanceof Error ? error.message : String(error);
  return new ProtocolViolationError(`Cannot decode message: ${why}`, { cause: error });
}

/**
 * Hands arrivals to the connection's handler, in order, keeping them until
 * {@linkcode Inbox.bind} sets one. After a failure nothing more is handed
 * on: the session ends with it, and what follows a bad frame is not read.
 *
 * Given a way to stop reading, it hands on at most {@linkcode TURN_MS} of
 * arrivals per turn: it then stops reading, keeps what the current chunk
 * still holds, and goes on in a `setTimeout` (Deno runs a `setImmediate`
 * before any pending I/O: other connections would still wait).
 *
 * @example
 * ```ts
 * import { Inbox } from "./inbox.ts";
 * import { MessageType, type PeerHandler, type WampMessage } from "../../wamp/mod.ts";
 * import { equal } from "node:assert/strict";
 *
 * const got: WampMessage[] = [];
 * const handler: PeerHandler = { receive: (m) => got.push(m), fail() {}, closed() {} };
 * const inbox = new Inbox();
 * inbox.deliver({ type: MessageType.GOODBYE, details: {}, reason: "wamp.close.normal" });
 * equal(got.length, 0); // kept until bound
 * inbox.bind(handler, false);
 * equal(got.length, 1);
 * ```
 */
export class Inbox {
  #handler: PeerHandler | undefined;
  /** Arrivals not handed on yet, from `#next` on; while any are, new ones join them. */
  #kept: Arrival[] = [];
  #next = 0;
  #failed = false;
  /** The connection is gone: the handler hears it once `#kept` is handed on. */
  #gone = false;
  #reading: InboxReading | undefined;
  /** Whether reading is stopped until `#kept` is handed on. */
  #held = false;
  /** `Date.now()` when this turn's first arrival was handed on; 0 between turns. */
  #turnStart = 0;
  /** Arrivals handed on so far: its low bits pace the clock reads. */
  #handed = 0;
  #drainWaiters: (() => void)[] = [];

  /**
   * Creates an empty inbox.
   *
   * @param reading How to stop the connection's reading. Without it
   * every arrival is handed on as it comes.
   */
  constructor(reading?: InboxReading) {
    this.#reading = reading;
  }

  /**
   * Sets the handler and hands it what arrived before.
   *
   * @param handler Where messages and closure go.
   * @param closed Whether the connection is already gone.
   */
  bind(handler: PeerHandler, closed: boolean): void {
    this.#handler = handler;
    if (closed) this.#gone = true;
    this.#handOn();
  }

  /**
   * Delivers (or keeps) one arrival; nothing after a failure.
   *
   * @param item A message, or a decoding failure.
   */
  deliver(item: Arrival): void {
    if (this.#failed) return;
    if (item instanceof Error) this.#failed = true;
    const handler = this.#handler;
    if (handler === undefined || this.#held || this.#kept.length > 0) {
      this.#kept.push(item);
      return;
    }
    if (this.#reading === undefined) return hand(handler, item);
    if (this.#turnStart === 0) this.#startTurn();
    hand(handler, item);
    if (this.#overTurn()) {
      this.#held = true;
      this.#reading.hold(true);
      setTimeout(this.#later);
    }
  }

  /**
   * Delivers what decoding threw, as a {@linkcode ProtocolViolationError}.
   *
   * @param error What decoding threw.
   */
  fail(error: unknown): void {
    this.deliver(asProtocolViolation(error));
  }

  /** Whether a failure was delivered (or kept): nothing more will be. */
  get failed(): boolean {
    return this.#failed;
  }

  /** Whether a handler is set. */
  get bound(): boolean {
    return this.#handler !== undefined;
  }

  /** Whether arrivals wait for a later turn (reading is stopped meanwhile). */
  get waiting(): boolean {
    return this.#held;
  }

  /**
   * Resolves once every arrival so far has been handed on.
   *
   * @returns A promise that never rejects.
   */
  drained(): Promise<void> {
    if (this.#kept.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** Tells the handler, once what was kept is handed on, that the connection is gone. */
  closed(): void {
    this.#gone = true;
    if (this.#kept.length === 0) this.#handler?.closed();
  }

  #startTurn(): void {
    this.#turnStart = Date.now();
    queueMicrotask(this.#endTurn);
  }

  #endTurn = (): void => {
    this.#turnStart = 0;
  };

  /** Whether this turn's arrivals have run for {@linkcode TURN_MS} (the clock is read at every 8th). */
  #overTurn(): boolean {
    return (++this.#handed & CLOCK_EVERY) === 0 && Date.now() - this.#turnStart >= TURN_MS;
  }

  /** A later turn: goes on once the connection would read again. */
  #later = (): void => {
    void this.#reading!.drained().then(this.#handOn);
  };

  /** Hands on what was kept, until the turn's time is up (then goes on in a later turn). */
  #handOn = (): void => {
    const handler = this.#handler;
    if (handler === undefined) return;
    const reading = this.#reading;
    if (reading !== undefined && this.#turnStart === 0) this.#startTurn();
    while (this.#next < this.#kept.length) {
      const item = this.#kept[this.#next]!;
      this.#kept[this.#next++] = undefined!;
      hand(handler, item);
      if (this.#next < this.#kept.length && reading !== undefined && this.#overTurn()) {
        if (!this.#held) reading.hold(this.#held = true);
        setTimeout(this.#later);
        return;
      }
    }
    this.#kept = [];
    this.#next = 0;
    if (this.#held) reading!.hold(this.#held = false);
    if (this.#gone) handler.closed();
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const resolve of waiters) resolve();
  };
}

function hand(handler: PeerHandler, item: Arrival): void {
  if (item instanceof Error) handler.fail(item);
  else handler.receive(item);
}
