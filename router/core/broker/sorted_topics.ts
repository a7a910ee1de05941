/**
 * Topics in code-unit order, so the ones that start with a given string
 * are found by binary search rather than by looking at all of them: what a
 * SUBSCRIBE asking for the retained events of a pattern needs. New topics
 * wait in a short unsorted list that is merged in once it is full, so an
 * insertion costs O(n / RECENT) copies, amortized.
 *
 * @module
 */

/** New topics kept unsorted before they are merged in. */
const RECENT = 256;

/**
 * A growing set of topics that lists those starting with a string.
 *
 * @example
 * ```ts
 * import { SortedTopics } from "./sorted_topics.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const topics = new SortedTopics();
 * for (const t of ["com.b", "org.a", "com.a.x", "com.ab"]) topics.add(t);
 * deepEqual([...topics.startingWith("com.a")].sort(), ["com.a.x", "com.ab"]);
 * ```
 */
export class SortedTopics {
  #sorted: string[] = [];
  #recent: string[] = [];
  #chars = 0;

  /** The characters of its topics together. */
  get chars(): number {
    return this.#chars;
  }

  /** How many topics it holds. */
  get size(): number {
    return this.#sorted.length + this.#recent.length;
  }

  /**
   * Adds a topic not yet in the set.
   *
   * @param topic The topic.
   */
  add(topic: string): void {
    this.#chars += topic.length;
    this.#recent.push(topic);
    if (this.#recent.length >= RECENT) this.#merge();
  }

  /**
   * The topics that start with `prefix`: those in order, then up to
   * {@linkcode RECENT} recent ones.
   *
   * @param prefix The string they start with ("" for all).
   * @returns The topics.
   */
  *startingWith(prefix: string): Generator<string> {
    const sorted = this.#sorted;
    let low = 0;
    let high = sorted.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (sorted[mid]! < prefix) low = mid + 1;
      else high = mid;
    }
    for (let i = low; i < sorted.length && sorted[i]!.startsWith(prefix); i++) yield sorted[i]!;
    for (const topic of this.#recent) if (topic.startsWith(prefix)) yield topic;
  }

  /**
   * Every topic in order: an array never changed afterwards.
   *
   * @param max The most characters to list.
   * @returns The topics, or undefined when they take more than `max`
   * characters.
   */
  sorted(max: number): readonly string[] | undefined {
    if (this.#chars > max) return undefined;
    if (this.#recent.length > 0) this.#merge();
    return this.#sorted;
  }

  #merge(): void {
    const recent = this.#recent.sort();
    const sorted = this.#sorted;
    const out = new Array<string>(sorted.length + recent.length);
    let i = 0;
    let j = 0;
    let k = 0;
    while (i < sorted.length && j < recent.length) {
      out[k++] = sorted[i]! <= recent[j]! ? sorted[i++]! : recent[j++]!;
    }
    while (i < sorted.length) out[k++] = sorted[i++]!;
    while (j < recent.length) out[k++] = recent[j++]!;
    this.#sorted = out;
    this.#recent = [];
  }
}
