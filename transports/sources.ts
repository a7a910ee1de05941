/**
 * What each source address holds open, counted against a limit: long-poll
 * transports (`maxTransportsPerSource`), which outlive their HTTP
 * connections, and the HTTP bridge's SSE streams (`maxStreamsPerSource`),
 * so one client cannot take every slot a listener or a path has.
 *
 * @module
 */

import { sourceOf } from "./address.ts";

/**
 * Counts what is open per source (an address, an IPv6 /64) against a
 * limit: long-poll transports, SSE streams.
 *
 * @example
 * ```ts
 * import { SourceLimit } from "./sources.ts";
 * import { equal } from "node:assert/strict";
 *
 * const limit = new SourceLimit(1);
 * equal(limit.admits("tcp4:10.0.0.7:1000"), true);
 * limit.add("tcp4:10.0.0.7:1000");
 * equal(limit.admits("tcp4:10.0.0.7:2000"), false);
 * equal(limit.admits("tcp4:10.0.0.8:1000"), true);
 * limit.remove("tcp4:10.0.0.7:1000");
 * equal(limit.admits("tcp4:10.0.0.7:2000"), true);
 * ```
 */
export class SourceLimit {
  #max: number;
  #counts = new Map<string, number>();

  /**
   * Creates the counter.
   *
   * @param max The most open at once per source; 0 for no limit (nothing is counted).
   */
  constructor(max: number) {
    this.#max = max;
  }

  /**
   * Whether one more from `peer` may open.
   *
   * @param peer The peer (`tcp4:1.2.3.4:5678`); undefined (unknown) is always admitted.
   * @returns False when its source has the most open.
   */
  admits(peer: string | undefined): boolean {
    if (this.#max === 0 || peer === undefined) return true;
    return (this.#counts.get(sourceOf(peer)) ?? 0) < this.#max;
  }

  /**
   * Counts one that opened.
   *
   * @param peer Its peer (a transport's `info.peer`, a request's remote address).
   */
  add(peer: string | undefined): void {
    if (this.#max === 0 || peer === undefined) return;
    const source = sourceOf(peer);
    this.#counts.set(source, (this.#counts.get(source) ?? 0) + 1);
  }

  /**
   * Stops counting one that closed: call it once for each
   * {@linkcode SourceLimit.add}, with the same peer.
   *
   * @param peer Its peer, as given to `add`.
   */
  remove(peer: string | undefined): void {
    if (this.#max === 0 || peer === undefined) return;
    const source = sourceOf(peer);
    const left = (this.#counts.get(source) ?? 0) - 1;
    if (left > 0) this.#counts.set(source, left);
    else this.#counts.delete(source);
  }
}
