/**
 * The delays between a `Connection`'s attempts: exponential backoff with
 * normally distributed jitter, capped, for a limited number of retries
 * (Autobahn|JS's defaults: 1.5 s growing by 1.5 up to 300 s, jitter 0.1,
 * 15 retries), starting over only after a session that stayed open
 * `stableAfter` ms (as AWS IoT's and aws-c-mqtt's reconnects do), so a
 * router that drops its clients soon after they join is not hammered.
 * Platform-neutral: `Math.random` and `Date.now` only.
 *
 * @module
 */

/** How a `Connection` retries. Delays are in milliseconds. */
export interface RetryOptions {
  /**
   * Retries after a failure before giving up; `Infinity` never gives up,
   * 0 never retries. Counted from the last session that stayed open
   * `stableAfter` ms.
   * @default {15}
   */
  maxRetries?: number;
  /**
   * The first delay, in ms. With 0 the first retry is immediate and the
   * next ones grow from 100 ms (0 would never grow).
   * @default {1500}
   */
  initialRetryDelay?: number;
  /** The longest delay, in ms. @default {300000} */
  maxRetryDelay?: number;
  /** Each delay is the previous one times this (>= 1). @default {1.5} */
  retryDelayGrowth?: number;
  /**
   * The standard deviation of a delay, as a fraction of it (0: none), so
   * clients that lost the same router do not come back all at once.
   * @default {0.1}
   */
  retryDelayJitter?: number;
  /**
   * Whether to retry when the very first attempt cannot reach the router
   * (once a session was open, a lost router is always retried).
   * @default {true}
   */
  retryIfUnreachable?: boolean;
  /**
   * How long, in ms, a session must stay open for the retries to start
   * over (count and delay); one lost sooner goes on from the last delay.
   * 0: start over at every join.
   * @default {10000}
   */
  stableAfter?: number;
}

/** Where the delays grow from when `initialRetryDelay` is 0, in ms. */
const FLOOR_AFTER_ZERO = 100;

/** Counts retries and picks each one's delay. */
export class Backoff {
  readonly #max: number;
  readonly #initial: number;
  readonly #ceiling: number;
  readonly #growth: number;
  readonly #jitter: number;
  readonly #floor: number;
  readonly #stableAfter: number;
  #count = 0;
  #nominal: number;
  #openedAt: number | undefined;

  /**
   * Reads and checks the options.
   *
   * @param options The retry options.
   * @throws {RangeError} Naming the option that is out of range.
   */
  constructor(options: RetryOptions = {}) {
    this.#max = check(options, "maxRetries", 15, 0);
    this.#initial = check(options, "initialRetryDelay", 1500, 0);
    this.#ceiling = check(options, "maxRetryDelay", 300_000, this.#initial);
    this.#growth = check(options, "retryDelayGrowth", 1.5, 1);
    this.#jitter = check(options, "retryDelayJitter", 0.1, 0);
    this.#stableAfter = check(options, "stableAfter", 10_000, 0);
    this.#floor = this.#initial === 0 ? Math.min(FLOOR_AFTER_ZERO, this.#ceiling) : 0;
    this.#nominal = this.#initial;
  }

  /** Retries made since the retries last started over. */
  get count(): number {
    return this.#count;
  }

  /**
   * A session opened: if it stays open `stableAfter` ms, the next retry
   * starts over.
   *
   * @param now The time, in ms (`Date.now()`).
   */
  opened(now: number = Date.now()): void {
    if (this.#stableAfter === 0) this.reset();
    else this.#openedAt = now;
  }

  /**
   * Takes the next retry: after a session that stayed open `stableAfter`
   * ms, the first one again.
   *
   * @param now The time, in ms (`Date.now()`).
   * @returns Its delay in ms, or `undefined` when the retries are used up.
   */
  next(now: number = Date.now()): number | undefined {
    if (this.#openedAt !== undefined) {
      if (now - this.#openedAt >= this.#stableAfter) this.reset();
      this.#openedAt = undefined;
    }
    if (this.#count >= this.#max) return undefined;
    this.#count++;
    const mean = this.#nominal;
    this.#nominal = Math.min(Math.max(mean * this.#growth, this.#floor), this.#ceiling);
    const delay = mean + mean * this.#jitter * gaussian();
    return Math.round(Math.min(Math.max(delay, 0), this.#ceiling));
  }

  /** Starts over: the next delay is the initial one, and the count is 0. */
  reset(): void {
    this.#count = 0;
    this.#nominal = this.#initial;
  }
}

/** A standard normal sample (Box–Muller). */
function gaussian(): number {
  const u = 1 - Math.random(); // (0, 1]: log() stays finite
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * Math.random());
}

function check(options: RetryOptions, key: keyof RetryOptions, fallback: number, min: number) {
  const value = options[key] ?? fallback;
  if (typeof value !== "number" || Number.isNaN(value) || value < min) {
    throw new RangeError(`Connection option "${key}" must be a number >= ${min}, got ${value}`);
  }
  if (value === Infinity && key !== "maxRetries") {
    throw new RangeError(`Connection option "${key}" must be finite`);
  }
  return value;
}
