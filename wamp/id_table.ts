/**
 * A table keyed by WAMP IDs for entries that come and go by the thousand
 * per second: the calls and invocations in flight.
 *
 * Why not a `Map`: a `Map` that is added to and deleted from with ever new
 * keys rebuilds its hash table every few operations. Once the `Map` is in
 * V8's old generation, the values that went through it survive young
 * collections (an obsolete table links to its successor, and is an old
 * object the young collector cannot know is dead): every call record was
 * promoted, and freed only by mark-compacts, which stall the loop
 * (`bench/gc_promoted.ts`; `bench/id_table_bench.ts` times records going
 * through either, collections included; before and after in
 * `bench/results/s28-before-after.txt`).
 * This table allocates only when it grows (or, past 1024 slots, shrinks
 * after a quiet spell), and clears a slot as soon as its entry is deleted.
 *
 * Open addressing with linear probing and backward-shift deletion (no
 * tombstones). An ID's home slot is a hash keyed with a secret drawn once
 * per process, so a peer that picks its own request IDs cannot make them
 * collide on purpose.
 *
 * @module
 */

/** The key of an empty slot: WAMP IDs are never negative. */
const EMPTY = -1;
/** The smallest table, in slots (a power of two). */
const MIN_SLOTS = 8;
/**
 * Tables of this many slots or fewer (12 KiB) never shrink. A larger one
 * shrinks only when its peak over its last `slots` deletions used under an
 * eighth of it: a callee answering in batches swings between a few calls
 * in flight and a thousand, dozens of times a second, and shrinking at the
 * bottom of each swing reallocated and rehashed its table on every one.
 */
const KEEP_SLOTS = 1024;
/** Secret to this process: mixed into every ID before it is hashed. */
const SEEDS = crypto.getRandomValues(new Uint32Array(2));
/** XORed into an ID's low 32 bits. */
const SEED_LOW = SEEDS[0]!;
/** An odd multiplier for an ID's high bits. */
const SEED_HIGH = SEEDS[1]! | 1;

/**
 * A map from WAMP IDs (integers in [0, 2^53]) to values that stays cheap
 * for the garbage collector under constant insertion and deletion. Holds
 * at most half its slots; a table past 1024 slots shrinks when its
 * entries stayed under an eighth of it for as many deletions as it has
 * slots. So shrinking needs traffic: a table that drained and then goes
 * quiet keeps its slots (at most four per entry it once held, 12 bytes
 * each) until it is cleared or dropped.
 *
 * @example
 * ```ts
 * import { IdTable } from "./id_table.ts";
 * import { deepEqual, equal } from "node:assert/strict";
 *
 * const calls = new IdTable<string>();
 * calls.set(7, "a");
 * calls.set(3, "b");
 * equal(calls.get(7), "a");
 * equal(calls.delete(7), true);
 * equal(calls.get(7), undefined);
 * deepEqual(calls.sortedValues(), ["b"]);
 * ```
 */
export class IdTable<V> {
  #keys: Float64Array = new Float64Array(0);
  #values: (V | undefined)[] = [];
  #mask = 0;
  #shift = 0;
  #size = 0;
  /** Deletions since the table was last allocated or its peak last checked. */
  #deletes = 0;
  /** The most entries it held over those deletions. */
  #peak = 0;

  /** Creates an empty table. */
  constructor() {
    this.#allocate(MIN_SLOTS);
  }

  /** How many entries the table holds. */
  get size(): number {
    return this.#size;
  }

  /** How many slots the table has (twice its entries or more): its memory. */
  get slots(): number {
    return this.#keys.length;
  }

  /**
   * The value stored for an ID.
   *
   * @param id The ID.
   * @returns Its value, or undefined.
   */
  get(id: number): V | undefined {
    const i = this.#find(id);
    return i < 0 ? undefined : this.#values[i];
  }

  /**
   * Whether an ID has an entry.
   *
   * @param id The ID.
   * @returns Whether it has one.
   */
  has(id: number): boolean {
    return this.#find(id) >= 0;
  }

  /**
   * Stores a value for an ID, replacing any value it had.
   *
   * @param id The ID: an integer in [0, 2^53].
   * @param value The value.
   */
  set(id: number, value: V): void {
    const keys = this.#keys;
    const mask = this.#mask;
    let i = this.#home(id);
    for (let k = keys[i]!; k !== EMPTY; k = keys[i]!) {
      if (k === id) {
        this.#values[i] = value;
        return;
      }
      i = (i + 1) & mask;
    }
    if ((this.#size + 1) * 2 > keys.length) {
      this.#allocate(keys.length * 2);
      return this.set(id, value);
    }
    keys[i] = id;
    this.#values[i] = value;
    if (++this.#size > this.#peak) this.#peak = this.#size;
  }

  /**
   * Removes an ID's entry; its slot lets go of the value at once.
   *
   * @param id The ID.
   * @returns Whether it had an entry.
   */
  delete(id: number): boolean {
    let hole = this.#find(id);
    if (hole < 0) return false;
    const keys = this.#keys;
    const values = this.#values;
    const mask = this.#mask;
    // Backward shift: move up every later entry of the run that may sit in the hole.
    for (let j = (hole + 1) & mask, k = keys[j]!; k !== EMPTY; j = (j + 1) & mask, k = keys[j]!) {
      const home = this.#home(k);
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        keys[hole] = k;
        values[hole] = values[j];
        hole = j;
      }
    }
    keys[hole] = EMPTY;
    values[hole] = undefined;
    this.#size--;
    if (++this.#deletes >= keys.length) this.#settle();
    return true;
  }

  /** Removes every entry (and lets go of the table's slots). */
  clear(): void {
    this.#keys = new Float64Array(0);
    this.#values = [];
    this.#allocate(MIN_SLOTS);
  }

  /**
   * Every value, in the order of their IDs (the order they were added in,
   * for IDs handed out in sequence): a copy, safe to change the table
   * while going through it.
   *
   * @returns The values.
   */
  sortedValues(): V[] {
    const keys = this.#keys;
    const slots: number[] = [];
    for (let i = 0; i < keys.length; i++) if (keys[i] !== EMPTY) slots.push(i);
    slots.sort((a, b) => keys[a]! - keys[b]!);
    return slots.map((i) => this.#values[i]!);
  }

  /** The slot of an ID, or -1. */
  #find(id: number): number {
    const keys = this.#keys;
    const mask = this.#mask;
    let i = this.#home(id);
    for (let k = keys[i]!; k !== EMPTY; k = keys[i]!) {
      if (k === id) return i;
      i = (i + 1) & mask;
    }
    return -1;
  }

  /**
   * Where an ID's probe starts: its low half keyed with the process's
   * secret, its high half (if any) through a secret odd multiplier, so no
   * family of IDs collides whatever the secret; then Fibonacci hashing
   * (the golden ratio's multiplier, high bits), which spreads IDs handed
   * out in sequence evenly.
   */
  #home(id: number): number {
    let h = (id >>> 0) ^ SEED_LOW;
    if (id > 0xffffffff) h ^= Math.imul((id / 4294967296) >>> 0, SEED_HIGH);
    return Math.imul(h, 0x9e3779b1) >>> this.#shift;
  }

  /**
   * After as many deletions as it has slots: a table past 1024 slots whose
   * peak over them used under an eighth of it halves (until the peak uses
   * an eighth, or it is down to 1024).
   */
  #settle(): void {
    let slots = this.#keys.length;
    while (slots > KEEP_SLOTS && this.#peak * 8 < slots) slots /= 2;
    if (slots < this.#keys.length) this.#allocate(slots);
    this.#deletes = 0;
    this.#peak = this.#size;
  }

  /** Moves every entry to a new table of `slots` slots (a power of two). */
  #allocate(slots: number): void {
    const oldKeys = this.#keys;
    const oldValues = this.#values;
    this.#keys = new Float64Array(slots).fill(EMPTY);
    this.#values = new Array<V | undefined>(slots).fill(undefined);
    this.#mask = slots - 1;
    this.#shift = 32 - Math.log2(slots);
    this.#size = 0;
    for (let i = 0; i < oldKeys.length; i++) {
      if (oldKeys[i] !== EMPTY) this.set(oldKeys[i]!, oldValues[i]!);
    }
    this.#deletes = 0;
    this.#peak = this.#size;
  }
}
