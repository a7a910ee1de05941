/**
 * A first-in, first-out list whose `shift` costs the same however long it
 * is: `Array.prototype.shift` moves every entry of a large array (119 µs
 * at 100,000 events kept for one history rule, on every PUBLISH).
 *
 * @module
 */

/** Taken entries left in place before the array is compacted (amortized O(1) per entry). */
const COMPACT_AT = 1024;

/**
 * Entries in the order they were added; the oldest can be taken, any can
 * be read by position.
 *
 * @example
 * ```ts
 * import { Fifo } from "./fifo.ts";
 * import { equal } from "node:assert/strict";
 *
 * const fifo = new Fifo<string>();
 * fifo.push("a");
 * fifo.push("b");
 * equal(fifo.shift(), "a");
 * equal(fifo.length, 1);
 * equal(fifo.at(0), "b");
 * ```
 */
export class Fifo<T> {
  #items: (T | undefined)[] = [];
  /** Where the oldest entry is: the slots before it are taken and emptied. */
  #first = 0;

  /** How many entries it holds. */
  get length(): number {
    return this.#items.length - this.#first;
  }

  /**
   * Adds an entry after the others.
   *
   * @param item The entry.
   */
  push(item: T): void {
    this.#items.push(item);
  }

  /**
   * Takes the oldest entry.
   *
   * @returns It, or undefined when empty.
   */
  shift(): T | undefined {
    const items = this.#items;
    if (this.#first >= items.length) return undefined;
    const item = items[this.#first];
    items[this.#first++] = undefined;
    if (this.#first === items.length) {
      this.#items = [];
      this.#first = 0;
    } else if (this.#first >= COMPACT_AT && this.#first * 2 >= items.length) {
      this.#items = items.slice(this.#first);
      this.#first = 0;
    }
    return item;
  }

  /**
   * The entry at a position, the oldest being 0.
   *
   * @param index The position.
   * @returns The entry, or undefined outside `[0, length)`.
   */
  at(index: number): T | undefined {
    return index < 0 ? undefined : this.#items[this.#first + index];
  }
}
