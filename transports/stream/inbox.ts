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

import { Fifo } from "../../router/core/fifo.ts";
import type { PeerHandler } from "../../wamp/mod.ts";
import { type Arrival, asProtocolViolation, type InboxReading } from "./arrival.ts";
import { CLOCK_EVERY, COSTLY, LARGE_FRAME, MIN_TURN_MS, TIMED, TURN_MS } from "./turn_limits.ts";

export { type InboxReading, MIN_TURN_MS, TURN_MS };

/** What an inbox keeps: an arrival, or a link's work on a frame not read yet ({@linkcode Inbox.defer}). */
type Kept = Arrival | (() => void);

/**
 * Hands arrivals to the connection's handler, in order, keeping them until
 * {@linkcode Inbox.bind} sets one. After a failure nothing more is handed
 * on: the session ends with it, and what follows a bad frame is not read.
 *
 * Given a way to stop reading, it hands on at most {@linkcode TURN_MS} of
 * arrivals per turn. It then stops reading, and the link keeps the rest of
 * what it read as frames, undecoded ({@linkcode Inbox.waiting},
 * {@linkcode Inbox.defer}); they go on in later turns, once the
 * connection's backlog would let it read. One timer serves every waiting
 * inbox: each tick gives them turns, in order, until {@linkcode TURN_MS},
 * so other connections are read between ticks. Inboxes share the time:
 * while `n` wait, a turn lasts `TURN_MS / (n + 1)` (at least
 * {@linkcode MIN_TURN_MS}), and once the turns in one turn of the event
 * loop took `TURN_MS`, each further inbox hands on one arrival, or none
 * if its recent turns were costly (it waits for a tick). Reading stops
 * only when more arrives after a turn's time is up, so a connection that
 * sends one cheap message at a time never waits for a tick.
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
  /** Inboxes whose next turn is due, in order; a tick of one timer runs them. */
  static #due = new Fifo<Inbox>(); // a tick may take thousands: no Array.shift
  static #ticking = false;
  /**
   * When the first turn that ran a millisecond or more in this turn of the
   * event loop began (0: none yet). {@linkcode TURN_MS} after it, every
   * inbox hands on one arrival and waits: connections whose data arrive
   * together do not each take a whole turn (8 did: 0.21 s). Cleared by a
   * timer, or when a waiting inbox takes its turn.
   */
  static #loopStart = 0;
  static #loopTimer: ReturnType<typeof setTimeout> | undefined;

  #handler: PeerHandler | undefined;
  /** What waits for a later turn, from `#next` on. */
  #kept: Kept[] = [];
  #next = 0;
  /** What a turn's work deferred once its time was up: before `#kept[#next]`. */
  #front: Kept[] = [];
  #failed = false;
  /** The connection is gone: the handler hears it once what was kept is handed on. */
  #gone = false;
  #toldGone = false;
  #reading: InboxReading | undefined;
  /** Whether reading is stopped until what was kept is handed on. */
  #held = false;
  /** Whether a later turn is handing on what was kept, and whether its time is up. */
  #running = false;
  #spent = false;
  /** `Date.now()` when this turn's first arrival was handed on; 0 between turns. */
  #turnStart = 0;
  /** Arrivals handed on so far: its low bits pace the clock reads. */
  #handed = 0;
  /** The mask on `#handed` for a clock read: {@linkcode CLOCK_EVERY}, or 0 (every arrival) while they are costly. */
  #every = CLOCK_EVERY;
  /** When the clock was last read in this turn. */
  #clockAt = 0;
  /** Whether this turn began after the event loop's turns took {@linkcode TURN_MS}: one arrival, then wait. */
  #late = false;
  /**
   * What this inbox's turns cost, in ms, older turns weighing less. Once it
   * reaches {@linkcode COSTLY} and the event loop's turns took
   * {@linkcode TURN_MS}, its next arrival waits for a tick instead of
   * running at once: connections that each keep one costly request in
   * flight no longer each take their time in every turn of the event loop
   * (32 with 2 ms SUBSCRIBEs held a light call 150-240 ms; 20-45 now).
   */
  #cost = 0;
  /** Arrivals handed on when this turn began: whether it handed on any. */
  #turnFrom = 0;
  /**
   * Whether this turn's time is up: what else arrives in it waits (reading
   * stops only then, so a connection that sends one message at a time is
   * never held).
   */
  #over = false;
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
   * Whether what the link reads now must wait for a later turn: it then
   * hands its work on each frame to {@linkcode Inbox.defer} instead of
   * decoding it.
   */
  get waiting(): boolean {
    if (this.#handler === undefined) return false; // arrivals are kept decoded until bound
    return this.#running ? this.#spent : this.#held || this.#over || this.#kept.length > 0;
  }

  /**
   * Whether a frame of `size` bytes the link read now must wait for a
   * later turn, undecoded: as {@linkcode Inbox.waiting} says, or as
   * {@linkcode Inbox.deliver} would keep its message (a costly inbox's
   * first arrival once the event loop's turns took {@linkcode TURN_MS}),
   * or, for a frame of {@linkcode LARGE_FRAME} bytes or more, whenever the
   * event loop's turns took that long. One decoded now starts this inbox's
   * turn first, so that its decoding counts against the turn.
   *
   * @param size The frame's size in bytes.
   * @returns Whether to hand its work to {@linkcode Inbox.defer}.
   */
  waitsFor(size: number): boolean {
    if (this.waiting) return true;
    if (this.#reading === undefined || this.#running || this.#handler === undefined) return false;
    if (this.#turnStart === 0) {
      this.#startTurn();
      if (this.#late && this.#cost >= COSTLY) return true;
    }
    if (size < LARGE_FRAME) return false;
    this.#every = 0; // the clock is read once it is handed on
    return this.#late;
  }

  /**
   * Keeps a link's work on a frame it read (decoding and delivering it,
   * answering a ping, closing) for its turn, after what came before it.
   *
   * @param work The work.
   */
  defer(work: () => void): void {
    if (this.#running) return void this.#front.push(work);
    this.#kept.push(work);
    if (!this.#held && this.#handler !== undefined) this.#later();
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
    if (handler === undefined) return void this.#kept.push(item);
    if (this.#running) {
      if (this.#spent) return void this.#front.push(item);
      hand(handler, item);
      if (this.#reading !== undefined && this.#overTurn()) this.#spent = true;
      return;
    }
    if (this.#held || this.#over || this.#kept.length > 0) {
      this.#kept.push(item);
      if (!this.#held) this.#later();
      return;
    }
    if (this.#reading === undefined) return hand(handler, item);
    if (this.#turnStart === 0) {
      this.#startTurn();
      if (this.#late && this.#cost >= COSTLY) {
        this.#kept.push(item);
        return this.#later();
      }
    }
    hand(handler, item);
    if (this.#overTurn()) this.#over = true;
  }

  /**
   * Counts a link's work on a frame that hands nothing on (a ping it
   * answered, a fragment it kept) as an arrival: a flood of them ends the
   * turn as messages do, and a frame that comes after the turn is over
   * stops reading until a later turn (nothing is kept for it).
   */
  worked(): void {
    if (this.#handler === undefined || this.#reading === undefined || this.#failed) return;
    if (this.#running) {
      if (!this.#spent && this.#overTurn()) this.#spent = true;
      return;
    }
    if (this.#held || this.#over || this.#kept.length > 0) {
      if (!this.#held) this.#later();
      return;
    }
    if (this.#turnStart === 0) this.#startTurn();
    if (this.#overTurn()) this.#over = true;
  }

  /** Delivers what decoding threw (`error`), as a `ProtocolViolationError`. */
  fail(error: unknown): void {
    this.deliver(asProtocolViolation(error));
  }

  /** Whether a failure was delivered (or kept): nothing more will be. */
  get failed(): boolean {
    return this.#failed;
  }

  /** What the handler says of a joined session (`PeerHandler.joined`; undefined before bind). */
  get joined(): boolean | undefined {
    return this.#handler?.joined;
  }

  /** Whether a handler is set. */
  get bound(): boolean {
    return this.#handler !== undefined;
  }

  /**
   * Resolves once everything kept so far has been handed on.
   *
   * @returns A promise that never rejects.
   */
  drained(): Promise<void> {
    if (!this.#held && this.#kept.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** Tells the handler, once what was kept is handed on, that the connection is gone. */
  closed(): void {
    this.#gone = true;
    if (!this.#held && !this.#running && this.#kept.length === 0) this.#tellGone();
  }

  #tellGone(): void {
    if (this.#toldGone || this.#handler === undefined) return;
    this.#toldGone = true;
    this.#handler.closed();
  }

  #startTurn(): void {
    const now = Date.now();
    this.#turnStart = this.#clockAt = now;
    this.#turnFrom = this.#handed;
    const loop = Inbox.#loopStart;
    this.#late = loop !== 0 && now - loop >= TURN_MS;
    // The loop is busy, or this inbox's turns were costly of late: the first arrival reads at once.
    if (loop !== 0 || this.#cost >= TIMED) this.#every = 0;
    queueMicrotask(this.#endTurn);
  }

  #endTurn = (): void => {
    const handed = this.#handed !== this.#turnFrom;
    if (handed) this.#cost = this.#cost * 0.75 + this.#clockAt - this.#turnStart;
    this.#turnStart = 0;
    this.#over = false;
  };

  /**
   * Whether this turn's arrivals have run for their share of
   * {@linkcode TURN_MS} (all of it while no other inbox waits for a turn),
   * or every inbox's turns in this turn of the event loop have run for it.
   */
  #overTurn(): boolean {
    if ((++this.#handed & this.#every) !== 0 && !this.#late) return false;
    const now = Date.now();
    if (this.#late) { // one arrival, timed for `#cost`
      this.#clockAt = now;
      return true;
    }
    // A millisecond since the last read: costly arrivals, so the clock at every one.
    this.#every = now > this.#clockAt ? 0 : CLOCK_EVERY;
    this.#clockAt = now;
    const loop = Inbox.#loopStart;
    if (loop === 0 && now > this.#turnStart) {
      Inbox.#loopStart = this.#turnStart;
      Inbox.#loopTimer = setTimeout(Inbox.#newLoop);
    } else if (loop !== 0 && now - loop >= TURN_MS) return true;
    const due = Inbox.#due.length;
    return now - this.#turnStart >=
      (due === 0 ? TURN_MS : Math.max(MIN_TURN_MS, TURN_MS / (due + 1)));
  }

  static #newLoop = (): void => {
    clearTimeout(Inbox.#loopTimer);
    Inbox.#loopTimer = undefined;
    Inbox.#loopStart = 0;
  };

  /** Stops reading; the next turn is due once the connection's backlog would let it read. */
  #later(): void {
    const reading = this.#reading!;
    if (!this.#held) reading.hold(this.#held = true);
    void reading.drained().then(() => Inbox.#schedule(this));
  }

  static #schedule(inbox: Inbox): void {
    Inbox.#due.push(inbox);
    if (Inbox.#ticking) return;
    Inbox.#ticking = true;
    setTimeout(Inbox.#tick);
  }

  /**
   * Due inboxes' turns, in order, until they took {@linkcode TURN_MS}; the
   * rest in the next tick, after the event loop has read sockets.
   */
  static #tick = (): void => {
    Inbox.#ticking = false;
    Inbox.#newLoop();
    const start = Date.now();
    while (Inbox.#due.length > 0 && Date.now() - start < TURN_MS) Inbox.#due.shift()!.#handOn();
    if (Inbox.#due.length > 0 && !Inbox.#ticking) {
      Inbox.#ticking = true;
      setTimeout(Inbox.#tick);
    }
  };

  /** Hands on what was kept, until the turn's time is up (then a later turn goes on). */
  #handOn(): void {
    const handler = this.#handler;
    if (handler === undefined) return;
    if (this.#reading !== undefined && this.#turnStart === 0) this.#startTurn();
    this.#running = true;
    this.#spent = false;
    while (this.#front.length > 0 || this.#next < this.#kept.length) {
      let item: Kept;
      if (this.#front.length > 0) item = this.#front.shift()!;
      else {
        item = this.#kept[this.#next]!;
        this.#kept[this.#next++] = undefined!;
      }
      if (typeof item === "function") item();
      else hand(handler, item);
      if (!this.#spent && this.#reading !== undefined && this.#overTurn()) this.#spent = true;
      if (this.#spent && (this.#front.length > 0 || this.#next < this.#kept.length)) {
        this.#running = false;
        return this.#later();
      }
    }
    this.#running = false;
    this.#kept = [];
    this.#next = 0;
    if (this.#held) this.#reading!.hold(this.#held = false);
    if (this.#gone) this.#tellGone();
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

function hand(handler: PeerHandler, item: Arrival): void {
  if (item instanceof Error) handler.fail(item);
  else handler.receive(item);
}
