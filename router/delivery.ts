/**
 * The one place outbound messages go: the joined sessions' targets by
 * session ID (`target.ts` applies each connection's limits).
 *
 * @module
 */

import type { Outbound } from "./core/types.ts";
import type { Target } from "./target.ts";

/** The router's joined sessions by ID, and delivery to them. */
export class Delivery {
  #targets = new Map<number, Target>();

  /**
   * Adds a joined session's target.
   *
   * @param id The session ID.
   * @param target Its outbound end.
   */
  add(id: number, target: Target): void {
    this.#targets.set(id, target);
  }

  /**
   * Removes a session that left.
   *
   * @param id The session ID.
   */
  remove(id: number): void {
    this.#targets.delete(id);
  }

  /**
   * A joined session's target.
   *
   * @param id The session ID.
   * @returns Its target, or `undefined` when it is gone.
   */
  target(id: number): Target | undefined {
    return this.#targets.get(id);
  }

  /**
   * Delivers messages to their sessions (one message object to several
   * for fan-out, so transports encode it once); a session that is gone is
   * skipped.
   *
   * @param messages What to deliver, in order.
   */
  deliver(messages: readonly Outbound[]): void {
    const targets = this.#targets;
    for (const { to, msg } of messages) {
      if (typeof to === "number") targets.get(to)?.send(msg);
      else for (const id of to) targets.get(id)?.send(msg);
    }
  }
}
