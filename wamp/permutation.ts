/**
 * A keyed permutation of the integers below 2^(2·halfBits): a balanced
 * Feistel network whose round function is murmur3's 32-bit finalizer of
 * `x ^ key`. ID generators count 0, 1, 2, … and hand out the permuted
 * values, so IDs are unique and not guessable in sequence
 * (`router/scrambled_ids.ts`, `cluster/session_ids.ts`). Internal: not
 * exported from the package.
 *
 * @module
 */

/**
 * Creates the permutation.
 *
 * @param halfBits Bits of each half (at most 32).
 * @param keys One key per round (6 is plenty).
 * @returns The permutation of [0, 2^(2·halfBits)).
 *
 * @example
 * ```ts
 * import { keyedPermutation } from "./permutation.ts";
 * import { equal } from "node:assert/strict";
 *
 * const permute = keyedPermutation(4, new Uint32Array([1, 2, 3, 4, 5, 6]));
 * const seen = new Set(Array.from({ length: 256 }, (_, i) => permute(i)));
 * equal(seen.size, 256);
 * ```
 */
export function keyedPermutation(
  halfBits: number,
  keys: Uint32Array,
): (value: number) => number {
  const half = 2 ** halfBits;
  const mask = half - 1;
  const round = (x: number, key: number): number => {
    let h = (x ^ key) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    h ^= h >>> 16;
    return (h >>> 0) & mask;
  };
  return (value) => {
    let left = Math.floor(value / half);
    let right = value % half;
    for (const key of keys) {
      const next = left ^ round(right, key);
      left = right;
      right = next;
    }
    return left * half + right;
  };
}
