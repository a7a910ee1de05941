/**
 * WAMP ID generators (spec "IDs"): every ID is an integer in [1, 2^53].
 *
 * @module
 */

/** The largest valid WAMP ID, 2^53. */
export const MAX_ID = 9007199254740992;

/** Whether a value is a valid WAMP ID: an integer in [1, 2^53]. */
export function isId(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 1 &&
    value <= MAX_ID;
}

/** A source of IDs. */
export type IdGenerator = () => number;

/**
 * Creates a generator for global-scope IDs (session IDs, publication IDs):
 * drawn uniformly at random from [1, 2^53] with `crypto.getRandomValues`.
 *
 * @returns The generator.
 *
 * @example
 * ```ts
 * import { globalIdGenerator, isId } from "@cloverleaf/wamp/wamp";
 * import { ok } from "node:assert/strict";
 *
 * const next = globalIdGenerator();
 * ok(isId(next()));
 * ```
 */
export function globalIdGenerator(): IdGenerator {
  const pool = new Uint32Array(256);
  let at = pool.length;
  return () => {
    if (at >= pool.length) {
      crypto.getRandomValues(pool);
      at = 0;
    }
    const high = pool[at++]! & 0x1fffff; // 21 bits
    const low = pool[at++]!; // 32 bits
    return high * 0x100000000 + low + 1;
  };
}

/**
 * Creates a generator for router- and session-scope IDs: 1, 2, 3, … and
 * back to 1 after 2^53, as the spec requires for request IDs.
 *
 * @returns The generator.
 *
 * @example
 * ```ts
 * import { sequentialIdGenerator } from "@cloverleaf/wamp/wamp";
 * import { deepEqual } from "node:assert/strict";
 *
 * const next = sequentialIdGenerator();
 * deepEqual([next(), next(), next()], [1, 2, 3]);
 * ```
 */
export function sequentialIdGenerator(): IdGenerator {
  let last = 0;
  return () => {
    last = last >= MAX_ID ? 1 : last + 1;
    return last;
  };
}
