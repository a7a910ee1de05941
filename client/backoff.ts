/**
 * The delays between a `Connection`'s attempts: exponential backoff with
 * normally distributed jitter, capped, for a limited number of retries
 * (Autobahn|JS's defaults: 1.5 s growing by 1.5 up to 300 s, jitter 0.1,
 * 15 retries). Platform-neutral: `Math.random` only.
 *
 * @module
 */

/** How a `Connection` retries. Delays are in milliseconds. */
export interface RetryOptions {
  /**
   * Retries after a failure before giving up; `Infinity` never gives up,
   * 0 never retries. Counted from the last successful join.
   * @default {15}
   */
  maxRetries?: number;
  /** The first delay, in ms. @default {1500} */
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
}

/** Counts retries and picks each one's delay. */
export class Backoff {
  readonly #max: number;
  readonly #initial: number;
  readonly #ceiling: number;
  readonly #growth: number;
  readonly #jitter: number;
  #count = 0;
  #nominal: number;

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
    this.#nominal = this.#initial;
  }

  /** Retries made since the last {@linkcode Backoff.reset}. */
  get count(): number {
    return this.#count;
  }

  /**
   * Takes the next retry.
   *
   * @returns Its delay in ms, or `undefined` when the retries are used up.
   */
  next(): number | undefined {
    if (this.#count >= this.#max) return undefined;
    this.#count++;
    const mean = this.#nominal;
    this.#nominal = Math.min(this.#nominal * this.#growth, this.#ceiling);
    const delay = mean + mean * this.#jitter * gaussian();
    return Math.round(Math.min(Math.max(delay, 0), this.#ceiling));
  }

  /** Starts over: the next delay is the initial one (after a successful join). */
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
