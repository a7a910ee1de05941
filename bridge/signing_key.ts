/**
 * The memory of a bridge key's used signatures: taken once by every path
 * of the key, and, with {@linkcode SharedSignatures}, once by every router
 * sharing it.
 *
 * @module
 */

import { BridgeError, refusal } from "./errors.ts";

/** Signatures a key remembers; past this many unexpired ones, requests get 429. */
export const MAX_SIGNATURES = 10_000;

/**
 * A memory of used signatures that several routers share (a cluster, the
 * workers of one service), so that a signed request taken by one of them
 * is refused by all the others: `cluster/bridge_signatures.ts` keeps it in
 * the cluster's NATS.
 */
export interface SharedSignatures {
  /**
   * Records a signature, unless it was recorded before.
   *
   * @param signature The canonical signature (URL-safe Base64, no padding).
   * @param keep Milliseconds it must be remembered at least.
   * @returns Whether it is new (false: a replay).
   * @throws {Error} When the memory cannot be reached: the request is
   * refused with 503, never taken unchecked.
   */
  spend(signature: string, keep: number): Promise<boolean>;
}

/** The HMAC key of a secret. */
export function hmacKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
}

/**
 * What the paths with one key and secret share: the HMAC key, imported
 * once, and the signatures used, each remembered until no path of them
 * would take it again, so a signature is taken once by the whole bridge
 * whatever path or method it comes with.
 */
export class SigningKey {
  /** The secret's HMAC key, once imported. */
  #hmac: Promise<CryptoKey> | undefined;
  readonly #secret: string;
  /** Milliseconds a used signature is remembered. */
  readonly #keep: number;
  /** Signatures used (canonical: URL-safe, unpadded), with when they stop mattering. */
  #spent = new Map<string, number>();
  /** The memory shared with other routers, if any. */
  readonly #shared: SharedSignatures | undefined;

  /**
   * Creates the shared state.
   *
   * @param secret The HMAC secret.
   * @param timestampDelta The largest `timestampDelta` (seconds) of the paths sharing it.
   * @param shared A memory shared with other routers, asked after this one.
   */
  constructor(secret: string, timestampDelta: number, shared?: SharedSignatures) {
    this.#secret = secret;
    this.#shared = shared;
    // 2 windows: a request is taken while its timestamp is within one window of the clock, so
    // until at most 2 windows after the first time; in arrival order, the oldest expires first.
    this.#keep = 2 * timestampDelta * 1000;
  }

  /** The HMAC key. */
  hmac(): Promise<CryptoKey> {
    return this.#hmac ??= hmacKey(this.#secret);
  }

  /**
   * Remembers a verified signature; refuses one used before.
   *
   * @param signature The canonical signature (URL-safe Base64, no padding).
   * @param now The clock, milliseconds.
   * @returns The refusal (401 replay, 429 memory full), or undefined.
   */
  spend(signature: string, now: number): Response | undefined {
    const spent = this.#spent;
    const seen = spent.get(signature);
    if (seen !== undefined && seen >= now) {
      return refusal(BridgeError.UNAUTHORIZED, ["signature already used (replayed request)"]);
    }
    // Insertion order is the ring: drop what has expired from the front.
    for (const [old, until] of spent) {
      if (until >= now && spent.size < MAX_SIGNATURES) break;
      if (until >= now) {
        return refusal(BridgeError.RATE_LIMITED, [
          `${MAX_SIGNATURES} signed requests within the timestamp window`,
        ]);
      }
      spent.delete(old);
    }
    spent.delete(signature);
    spent.set(signature, now + this.#keep);
    return undefined;
  }

  /**
   * Records a signature this router took in the memory it shares with
   * others, if any; refuses one another router took.
   *
   * @param signature The canonical signature, after {@linkcode SigningKey.spend}.
   * @returns The refusal (401 replay, 503 memory unreachable), or undefined.
   */
  async spendShared(signature: string): Promise<Response | undefined> {
    const shared = this.#shared;
    if (shared === undefined) return undefined;
    let fresh: boolean;
    try {
      fresh = await shared.spend(signature, this.#keep);
    } catch {
      this.#spent.delete(signature); // not taken: the same request may come again
      return refusal(BridgeError.UNAVAILABLE, ["cannot check the signature against the cluster"]);
    }
    return fresh ? undefined : refusal(BridgeError.UNAUTHORIZED, [
      "signature already used (replayed request)",
    ]);
  }
}
