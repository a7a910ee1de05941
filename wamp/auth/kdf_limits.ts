/**
 * How much key-derivation work a CHALLENGE may ask of a client. WAMP-SCRAM
 * (`kdf`, `iterations`, `memory`) and salted WAMP-CRA (`iterations`,
 * `keylen`) let the router name the KDF parameters, and the client runs
 * them: unbounded, a hostile or compromised router could make a client spin
 * for hours or allocate gigabytes. The client refuses more than these
 * limits (ABORT `wamp.error.cannot_authenticate`), and the router's config
 * refuses users it could not log in with the default limits. Why these
 * values: docs/security.md, "Key derivation".
 *
 * @module
 */

/** The most key-derivation work a client does for one CHALLENGE. */
export interface KdfLimits {
  /**
   * PBKDF2 iterations (WAMP-SCRAM `pbkdf2`, salted WAMP-CRA).
   * @default {1_000_000}
   */
  pbkdf2Iterations?: number;
  /**
   * Argon2id memory, in KiB (WAMP-SCRAM `argon2id13`).
   * @default {262_144 (256 MiB)}
   */
  argon2Memory?: number;
  /**
   * Argon2id passes times memory in KiB: the time it takes (the pure-JS
   * Argon2id does 150–200 MiB of it a second).
   * @default {4_194_304 (4 GiB)}
   */
  argon2Work?: number;
}

/** The default limits, also the most the router's config accepts for a user. */
export const KDF_LIMITS: Readonly<Required<KdfLimits>> = {
  pbkdf2Iterations: 1_000_000,
  argon2Memory: 262_144,
  argon2Work: 4_194_304,
};

/** The longest salted WAMP-CRA key, in bytes (Autobahn and Crossbar use 32). */
export const CRA_MAX_KEYLEN = 1024;

/**
 * Why KDF parameters ask for more work than the limits allow.
 *
 * @param kdf `"pbkdf2"` or `"argon2id13"`.
 * @param iterations PBKDF2 iterations, or Argon2id passes.
 * @param memory Argon2id memory in KiB; ignored for PBKDF2.
 * @param limits The limits; each one left out is its default.
 * @returns Why, naming the limit, or `undefined` when within them.
 * @throws {RangeError} If a limit given is not a positive number.
 *
 * @example
 * ```ts
 * import { kdfOverLimit } from "./kdf_limits.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(kdfOverLimit("pbkdf2", 4096, null), undefined);
 * equal(
 *   kdfOverLimit("argon2id13", 4, 1_048_576),
 *   "argon2id13 memory 1048576 KiB is over the limit of 262144 KiB (kdfLimits.argon2Memory)",
 * );
 * ```
 */
export function kdfOverLimit(
  kdf: string,
  iterations: number,
  memory: number | null | undefined,
  limits: KdfLimits = {},
): string | undefined {
  const pbkdf2Iterations = limit(limits, "pbkdf2Iterations");
  const argon2Memory = limit(limits, "argon2Memory");
  const argon2Work = limit(limits, "argon2Work");
  if (kdf === "pbkdf2") {
    return iterations > pbkdf2Iterations
      ? `pbkdf2 iterations ${iterations} is over the limit of ${pbkdf2Iterations} ` +
        "(kdfLimits.pbkdf2Iterations)"
      : undefined;
  }
  if (kdf !== "argon2id13" || typeof memory !== "number") return undefined;
  if (memory > argon2Memory) {
    return `argon2id13 memory ${memory} KiB is over the limit of ${argon2Memory} KiB ` +
      "(kdfLimits.argon2Memory)";
  }
  return iterations * memory > argon2Work
    ? `argon2id13 iterations × memory ${iterations} × ${memory} KiB is over the limit of ` +
      `${argon2Work} KiB (kdfLimits.argon2Work)`
    : undefined;
}

/**
 * Checks a client's `kdfLimits` when it is given, not at the first
 * CHALLENGE (where a mistake of its own would read as the router's).
 *
 * @param limits The limits.
 * @throws {RangeError} When one is not a positive number.
 *
 * @example
 * ```ts
 * import { checkKdfLimits } from "./kdf_limits.ts";
 * import { throws } from "node:assert/strict";
 *
 * checkKdfLimits({ pbkdf2Iterations: 10 });
 * throws(() => checkKdfLimits({ argon2Memory: 0 }), /kdfLimits.argon2Memory must be a positive number/);
 * ```
 */
export function checkKdfLimits(limits: KdfLimits): void {
  for (const key of Object.keys(KDF_LIMITS) as (keyof KdfLimits)[]) limit(limits, key);
}

/** One limit: the one given, else the default. */
function limit(limits: KdfLimits, key: keyof KdfLimits): number {
  const value = limits[key] ?? KDF_LIMITS[key];
  if (!(value > 0)) {
    throw new RangeError(`kdfLimits.${key} must be a positive number, got ${value}`);
  }
  return value;
}
