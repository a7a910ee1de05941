/**
 * How many long-poll transports each source address has open, for
 * `maxTransportsPerSource`: transports outlive their HTTP connections, so
 * one client could otherwise pipeline opens until it holds every slot.
 *
 * @module
 */

import { sourceOf } from "../address.ts";

/**
 * Counts open transports per source (an address, an IPv6 /64) against a limit.
 *
 * @example
 * ```ts
 * import { SourceLimit } from "./sources.ts";
 * import { equal } from "node:assert/strict";
 *
 * const limit = new SourceLimit(1);
 * equal(limit.admits("tcp4:10.0.0.7:1000"), true);
 * limit.add("a", "tcp4:10.0.0.7:1000");
 * equal(limit.admits("tcp4:10.0.0.7:2000"), false);
 * equal(limit.admits("tcp4:10.0.0.8:1000"), true);
 * limit.remove("a");
 * equal(limit.admits("tcp4:10.0.0.7:2000"), true);
 * ```
 */
export class SourceLimit {
  #max: number;
  #counts = new Map<string, number>();
  #sourceOf = new Map<string, string>(); // transport ID to its counted source

  /**
   * Creates the counter.
   *
   * @param max The most transports per source; 0 for no limit (nothing is counted).
   */
  constructor(max: number) {
    this.#max = max;
  }

  /**
   * Whether a transport from `peer` may open.
   *
   * @param peer The peer (`tcp4:1.2.3.4:5678`); undefined (unknown) is always admitted.
   * @returns False when its source has the most transports open.
   */
  admits(peer: string | undefined): boolean {
    if (this.#max === 0 || peer === undefined) return true;
    return (this.#counts.get(sourceOf(peer)) ?? 0) < this.#max;
  }

  /**
   * Counts a transport that opened.
   *
   * @param id The transport's ID.
   * @param peer Its peer.
   */
  add(id: string, peer: string | undefined): void {
    if (this.#max === 0 || peer === undefined) return;
    const source = sourceOf(peer);
    this.#sourceOf.set(id, source);
    this.#counts.set(source, (this.#counts.get(source) ?? 0) + 1);
  }

  /**
   * Stops counting a transport that closed (one never counted is ignored).
   *
   * @param id The transport's ID.
   */
  remove(id: string): void {
    const source = this.#sourceOf.get(id);
    if (source === undefined) return;
    this.#sourceOf.delete(id);
    const left = this.#counts.get(source)! - 1;
    if (left > 0) this.#counts.set(source, left);
    else this.#counts.delete(source);
  }
}
