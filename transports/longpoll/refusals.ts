/**
 * The long-poll relay's log of refused requests (`relay.ts`).
 *
 * @module
 */

import type { TransportLog } from "../../wamp/mod.ts";

/**
 * Logs refused requests without letting them flood the log: the first at
 * once, then how many more each interval, while there are more.
 */
export class RefusalLog {
  #log: TransportLog | undefined;
  #interval: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #more = 0;

  /**
   * @param log Where the lines go.
   * @param interval Milliseconds between the lines counting more refusals.
   */
  constructor(log: TransportLog | undefined, interval: number) {
    this.#log = log;
    this.#interval = interval;
  }

  /** Counts one refusal. */
  refused(): void {
    if (this.#timer !== undefined) {
      this.#more++;
      return;
    }
    this.#log?.("warn", "Long-poll relay: request refused (403): not from a worker");
    this.#arm();
  }

  #arm(): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#more === 0) return;
      this.#log?.(
        "warn",
        `Long-poll relay: ${this.#more} more requests refused (403) in the last ${this.#interval} ms`,
      );
      this.#more = 0;
      this.#arm();
    }, this.#interval);
  }

  /** Stops counting. */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
