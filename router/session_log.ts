/**
 * Session joins and leaves at `info`, one line each while they are few;
 * above a rate (joins and leaves per second), one summary line per second
 * instead, so ten thousand clients reconnecting do not flood the log.
 *
 * @module
 */

import type { Logger } from "../wamp/log.ts";
import type { SessionInfo } from "./core/types.ts";

/** The default rate above which joins and leaves are summed up. */
export const SESSION_LOG_RATE = 20;

/** Logs joins and leaves, summed up above a rate. */
export class SessionLog {
  #log: Logger;
  #rate: number;
  /** Start of the current one-second window (ms), and the joins and leaves in it. */
  #windowStart = 0;
  #events = 0;
  /** Joins and leaves counted but not logged one by one in the current window. */
  #joined = 0;
  #left = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /**
   * Creates the log.
   *
   * @param log Where lines go.
   * @param rate Joins and leaves per second logged one by one; past it, a
   * summary each second (0: always summed up).
   */
  constructor(log: Logger, rate: number = SESSION_LOG_RATE) {
    this.#log = log;
    this.#rate = rate;
  }

  /**
   * A session joined a realm.
   *
   * @param info The session.
   * @param peer Its remote address, when known.
   */
  joined(info: SessionInfo, peer?: string): void {
    if (this.#count()) {
      this.#log("info", `Session ${info.id} joined realm "${info.realm}" as ${info.authid}`, {
        realm: info.realm,
        session: info.id,
        authid: info.authid,
        authrole: info.authrole,
        method: info.authmethod,
        transport: info.transport,
        peer,
      });
    } else this.#joined++;
  }

  /**
   * A session left its realm.
   *
   * @param info The session.
   */
  left(info: SessionInfo): void {
    if (this.#count()) {
      this.#log("info", `Session ${info.id} left realm "${info.realm}"`, {
        realm: info.realm,
        session: info.id,
        authid: info.authid,
        authrole: info.authrole,
        transport: info.transport,
      });
    } else this.#left++;
  }

  /** Writes the summary of the joins and leaves not logged one by one, if any. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const joined = this.#joined, left = this.#left;
    if (joined === 0 && left === 0) return;
    this.#joined = this.#left = 0;
    this.#log(
      "info",
      `${joined} sessions joined, ${left} left in the last second (over ${this.#rate}/s: summed up)`,
      { joined, left },
    );
  }

  /** Counts one join or leave; true when it is logged one by one. */
  #count(): boolean {
    const now = Date.now();
    if (now - this.#windowStart >= 1000) {
      this.#windowStart = now;
      this.#events = 0;
    }
    if (++this.#events <= this.#rate) return true;
    this.#timer ??= setTimeout(() => this.flush(), 1000 - (now - this.#windowStart));
    return false;
  }
}
