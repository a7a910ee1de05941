/**
 * The keepalive every stream transport's connection has: it pings a silent
 * peer and gives up when no answer comes.
 *
 * @module
 */

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
