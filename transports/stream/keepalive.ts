/**
 * What every stream transport's connection shares: a keepalive that pings
 * a silent peer and gives up when no answer comes, and an inbox that keeps
 * what arrives until the connection is bound to a handler.
 *
 * @module
 */

import { type PeerHandler, ProtocolViolationError, type WampMessage } from "../../wamp/mod.ts";

/** How a {@linkcode Keepalive} reaches its connection. */
export interface KeepaliveOptions {
  /** Milliseconds between silence checks; 0 for none. */
  interval: number;
  /** Milliseconds to wait for any sign of life after a ping. */
  timeout: number;
  /** Sends a ping; returns false when the connection can no longer send. */
  ping(): boolean;
  /** Nothing came back in time. */
  dead(): void;
}

/**
 * One timer per interval for every keepalive using it: ten thousand idle
 * connections cost one `setInterval`, not ten thousand.
 */
const rounds = new Map<
  number,
  { timer: ReturnType<typeof setInterval>; members: Set<Keepalive> }
>();

/**
 * Pings a peer after an interval of silence and reports it dead when
 * nothing arrives within the timeout. Any arrival counts as an answer.
 * Silence is checked on a timer shared by all keepalives with the same
 * interval, so a ping goes out after one to two intervals of silence.
 */
export class Keepalive {
  #options: KeepaliveOptions;
  #heard = true;
  #running = false;
  #pongTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * Creates a stopped keepalive.
   *
   * @param options Timing, and how to ping and give up.
   */
  constructor(options: KeepaliveOptions) {
    this.#options = options;
  }

  /** Starts the silence checks (nothing happens with interval 0). */
  start(): void {
    const interval = this.#options.interval;
    if (interval <= 0 || this.#running) return;
    this.#running = true;
    this.#heard = true; // the first check only starts the silence
    let round = rounds.get(interval);
    if (round === undefined) {
      const members = new Set<Keepalive>();
      const timer = setInterval(() => {
        for (const keepalive of members) keepalive.#tick();
      }, interval);
      round = { timer, members };
      rounds.set(interval, round);
    }
    round.members.add(this);
  }

  /** Something arrived from the peer. */
  heard(): void {
    this.#heard = true;
    if (this.#pongTimer !== undefined) {
      clearTimeout(this.#pongTimer);
      this.#pongTimer = undefined;
    }
  }

  /** Stops every timer. */
  stop(): void {
    clearTimeout(this.#pongTimer);
    this.#pongTimer = undefined;
    if (!this.#running) return;
    this.#running = false;
    const interval = this.#options.interval;
    const round = rounds.get(interval);
    if (round === undefined) return;
    round.members.delete(this);
    if (round.members.size === 0) {
      clearInterval(round.timer);
      rounds.delete(interval);
    }
  }

  #tick(): void {
    if (this.#heard) {
      this.#heard = false;
      return;
    }
    if (this.#pongTimer !== undefined || !this.#options.ping()) return;
    this.#pongTimer = setTimeout(() => {
      this.stop();
      this.#options.dead();
    }, this.#options.timeout);
  }
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
 * Hands arrivals to the connection's handler, keeping them until
 * {@linkcode Inbox.bind} sets one. After a failure nothing more is handed
 * on: the session ends with it, and what follows a bad frame is not read.
 */
export class Inbox {
  #handler: PeerHandler | undefined;
  #early: Arrival[] = [];
  #failed = false;

  /**
   * Sets the handler and hands it what arrived before.
   *
   * @param handler Where messages and closure go.
   * @param closed Whether the connection is already gone.
   */
  bind(handler: PeerHandler, closed: boolean): void {
    this.#handler = handler;
    const early = this.#early;
    this.#early = [];
    for (const item of early) {
      if (item instanceof Error) handler.fail(item);
      else handler.receive(item);
    }
    if (closed) handler.closed();
  }

  /**
   * Delivers (or keeps) one arrival; nothing after a failure.
   *
   * @param item A message, or a decoding failure.
   */
  deliver(item: Arrival): void {
    if (this.#failed) return;
    const handler = this.#handler;
    if (item instanceof Error) {
      this.#failed = true;
      if (handler === undefined) this.#early.push(item);
      else handler.fail(item);
    } else if (handler === undefined) this.#early.push(item);
    else handler.receive(item);
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

  /** Tells the handler, if bound, that the connection is gone. */
  closed(): void {
    this.#handler?.closed();
  }
}
