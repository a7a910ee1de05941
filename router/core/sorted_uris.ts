/**
 * URIs kept in order as they come and go (a realm's registered procedures,
 * its subscriptions' topics), so that a reflection list costs what it
 * returns: `wamp.reflection.procedure.list` and `wamp.reflection.topic.list`
 * copy a sorted array instead of gathering and sorting every URI on each
 * call (4,000 URIs of 4,000 characters took 36-46 ms a call).
 *
 * A multiset: the same URI added twice (under two match policies) is
 * listed once and goes with its last removal. New URIs wait in a short
 * set that is merged in once it is full, so an addition costs O(n /
 * RECENT) comparisons, amortized; removed ones are left out at the next
 * merge. Past twice `max` characters the order is no longer kept (a list
 * over `max` is refused anyway, in O(1)), so long URIs cost no merges; it
 * is sorted again once they fit in `max`, after at least `max` characters
 * of them went.
 *
 * @module
 */

import { MAX_LIST_CHARS, type UriList } from "./procedures.ts";

/** New URIs kept unsorted before they are merged in. */
const RECENT = 256;

/**
 * A multiset of URIs that lists its distinct ones in order.
 *
 * @example
 * ```ts
 * import { SortedUris } from "./sorted_uris.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const uris = new SortedUris();
 * for (const uri of ["com.b", "com.a", "com.b"]) uris.add(uri);
 * uris.delete("com.b");
 * deepEqual(uris.sorted(), ["com.a", "com.b"]);
 * uris.delete("com.b");
 * deepEqual(uris.sorted(), ["com.a"]);
 * ```
 */
export class SortedUris implements UriList {
  #counts = new Map<string, number>();
  #chars = 0;
  #max: number;
  /** The distinct URIs in order, some perhaps in `#gone`; undefined while past twice `#max`. */
  #sorted: string[] | undefined = [];
  #recent = new Set<string>();
  #gone = new Set<string>();

  /**
   * Creates an empty set.
   *
   * @param max The most characters {@linkcode SortedUris.sorted} lists.
   */
  constructor(max: number = MAX_LIST_CHARS) {
    this.#max = max;
  }

  /** The characters of the distinct URIs together. */
  get chars(): number {
    return this.#chars;
  }

  /** How many distinct URIs it holds. */
  get size(): number {
    return this.#counts.size;
  }

  /**
   * Adds a URI (once more, when it is there already).
   *
   * @param uri The URI.
   */
  add(uri: string): void {
    const count = this.#counts.get(uri) ?? 0;
    this.#counts.set(uri, count + 1);
    if (count > 0) return;
    this.#chars += uri.length;
    if (this.#sorted === undefined) return;
    if (this.#chars > 2 * this.#max) {
      this.#sorted = undefined;
      this.#recent.clear();
      this.#gone.clear();
      return;
    }
    if (!this.#gone.delete(uri)) this.#recent.add(uri);
    if (this.#recent.size >= RECENT) this.#merge();
  }

  /**
   * Removes a URI once (a no-op when it is not there).
   *
   * @param uri The URI.
   */
  delete(uri: string): void {
    const count = this.#counts.get(uri);
    if (count === undefined) return;
    if (count > 1) {
      this.#counts.set(uri, count - 1);
      return;
    }
    this.#counts.delete(uri);
    this.#chars -= uri.length;
    if (this.#sorted !== undefined && !this.#recent.delete(uri)) this.#gone.add(uri);
  }

  /**
   * The distinct URIs in order: an array never changed afterwards (a new
   * one follows each change).
   *
   * @param max The most characters to list (at most the set's own).
   * @returns The URIs, or undefined when they take more than `max`
   * characters.
   */
  sorted(max: number = this.#max): readonly string[] | undefined {
    if (this.#chars > Math.min(max, this.#max)) return undefined;
    if (this.#sorted === undefined) this.#sorted = [...this.#counts.keys()].sort();
    else if (this.#recent.size > 0 || this.#gone.size > 0) this.#merge();
    return this.#sorted;
  }

  #merge(): void {
    const sorted = this.#sorted!;
    const recent = [...this.#recent].sort();
    const gone = this.#gone;
    const out: string[] = [];
    let i = 0;
    let j = 0;
    while (i < sorted.length || j < recent.length) {
      if (j === recent.length || (i < sorted.length && sorted[i]! <= recent[j]!)) {
        const uri = sorted[i++]!;
        if (!gone.has(uri)) out.push(uri);
      } else out.push(recent[j++]!);
    }
    this.#sorted = out;
    this.#recent.clear();
    gone.clear();
  }
}
