/**
 * Router-scope IDs (subscriptions, registrations) that are unique and not
 * guessable in sequence: a counter run through a keyed permutation of
 * [1, 2^53], so no ID repeats until 2^53 have been issued, and knowing
 * some IDs does not give the next one away.
 *
 * @module
 */

import type { IdGenerator } from "../wamp/mod.ts";
import { keyedPermutation } from "../wamp/permutation.ts";

const HALF_BITS = 27; // the permutation works on 54 bits, two halves of 27
const DOMAIN = 2 ** 53;
const ROUNDS = 6;

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
  const permute = keyedPermutation(HALF_BITS, crypto.getRandomValues(new Uint32Array(ROUNDS)));
  let counter = 0;
  return () => {
    // Cycle-walk: the permutation covers 2^54 values; keep those below 2^53.
    let id = permute(counter);
    while (id >= DOMAIN) id = permute(id);
    counter = counter + 1 >= DOMAIN ? 0 : counter + 1;
    return id + 1;
  };
}
