/**
 * Router-scope IDs (subscriptions, registrations) that are unique and not
 * guessable in sequence: a counter run through a keyed permutation of
 * [1, 2^53], so no ID repeats until 2^53 have been issued, and knowing
 * some IDs does not give the next one away.
 *
 * @module
 */

import type { IdGenerator } from "../wamp/mod.ts";

const HALF_BITS = 27;
const HALF = 2 ** HALF_BITS; // the permutation works on 54 bits, two halves of 27
const HALF_MASK = HALF - 1;
const DOMAIN = 2 ** 53;
const ROUNDS = 6;

/** murmur3's 32-bit finalizer of `x ^ key`, cut to 27 bits: one Feistel round function. */
function round(x: number, key: number): number {
  let h = (x ^ key) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) & HALF_MASK;
}

/** A keyed permutation of [0, 2^54): a balanced Feistel network. */
function permute(value: number, keys: Uint32Array): number {
  let left = Math.floor(value / HALF);
  let right = value % HALF;
  for (const key of keys) {
    const next = left ^ round(right, key);
    left = right;
    right = next;
  }
  return left * HALF + right;
}

/**
 * Creates a generator of router-scope IDs: every ID in [1, 2^53], none
 * repeated until 2^53 have been issued (a permutation of a counter, keyed
 * with `crypto.getRandomValues` at creation), in an order that does not
 * reveal the next one.
 *
 * @returns The generator.
 *
 * @example
 * ```ts
 * import { scrambledIdGenerator } from "./scrambled_ids.ts";
 * import { isId } from "../wamp/mod.ts";
 * import { equal, ok } from "node:assert/strict";
 *
 * const next = scrambledIdGenerator();
 * const ids = new Set(Array.from({ length: 1000 }, () => next()));
 * equal(ids.size, 1000);
 * ok([...ids].every(isId));
 * ```
 */
export function scrambledIdGenerator(): IdGenerator {
  const keys = crypto.getRandomValues(new Uint32Array(ROUNDS));
  let counter = 0;
  return () => {
    // Cycle-walk: the permutation covers 2^54 values; keep those below 2^53.
    let id = permute(counter, keys);
    while (id >= DOMAIN) id = permute(id, keys);
    counter = counter + 1 >= DOMAIN ? 0 : counter + 1;
    return id + 1;
  };
}
