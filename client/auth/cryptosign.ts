/**
 * WAMP-Cryptosign, client side (spec "Cryptosign-based Authentication"):
 * the Ed25519 signature over the router's challenge, bound to the TLS
 * channel when asked. Through WebCrypto, so it runs in browsers too.
 *
 * @module
 */

import { cryptosignMessage, seedBytes } from "../../wamp/auth/cryptosign.ts";
import { decodeHex, randomBytes } from "../../wamp/auth/util.ts";
import { ed25519PublicKey, ed25519Sign } from "../../wamp/auth/webcrypto.ts";
import { toHex } from "../../wamp/bytes.ts";
import type { CryptosignKeyPair, Dict } from "../../wamp/mod.ts";
import { CredentialsError } from "../errors.ts";
import type { BoundChannel } from "./channel_binding.ts";
import type { CryptosignKey } from "./credentials.ts";
import { preview } from "../../wamp/preview.ts";

/** Public keys derived, by key object: a `Connection` derives once, not at every join. */
const derived = new WeakMap<CryptosignKey, { seed: string; publicKey: Promise<string> }>();

/**
 * The public key of a cryptosign key, hex, derived through WebCrypto once
 * per key object (and seed).
 *
 * @param key The private key.
 * @returns Its public key.
 * @throws {CredentialsError} When the seed is not 32 bytes of hex, or the
 * platform cannot derive Ed25519 keys (no Ed25519 in WebCrypto, no WebCrypto).
 */
export function cryptosignPublicKey(key: CryptosignKey): Promise<string> {
  const known = derived.get(key);
  if (known !== undefined && known.seed === key.seed) return known.publicKey;
  const publicKey = derivePublicKey(key.seed);
  derived.set(key, { seed: key.seed, publicKey });
  return publicKey;
}

async function derivePublicKey(seed: string): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = seedBytes(seed);
  } catch (cause) {
    throw new CredentialsError('Cannot use the "cryptosign" seed: not 32 bytes of hex', { cause });
  }
  try {
    return toHex(await ed25519PublicKey(bytes));
  } catch (cause) {
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new CredentialsError(
      `Cannot derive the "cryptosign" public key (no Ed25519 in this platform's WebCrypto?): ${why}`,
      { cause },
    );
  }
}

/**
 * Creates an Ed25519 key pair for WAMP-Cryptosign through WebCrypto, in
 * any runtime (browsers included): from a 32-byte seed, or from a fresh
 * random one. `cryptosignKeyPair()` does the same synchronously where
 * `node:crypto` exists.
 *
 * @param seed The private key, 64 hex characters.
 * @returns The seed and its public key, both hex.
 * @throws {RangeError} If `seed` is not 32 bytes of hex.
 *
 * @example
 * ```ts
 * import { createCryptosignKeyPair } from "@cloverleaf/wamp/client";
 * import { equal } from "node:assert/strict";
 *
 * const keys = await createCryptosignKeyPair(
 *   "4d57d97a68f555696620a6d849c0ce582568518d729eb753dc7c732de2804510",
 * );
 * equal(keys.publicKey, "1adfc8bfe1d35616e64dffbd900096f23b066f914c8c2ffbb66f6075b96e116d");
 * ```
 */
export async function createCryptosignKeyPair(seed?: string): Promise<CryptosignKeyPair> {
  const bytes = seed === undefined ? randomBytes(32) : seedBytes(seed);
  return { seed: toHex(bytes), publicKey: toHex(await ed25519PublicKey(bytes)) };
}

/**
 * Signs a Cryptosign challenge, over `challenge XOR channel_id` when bound.
 * The CHALLENGE must confirm exactly the binding asked for (the spec has
 * the client check): a router that ignores the request would otherwise
 * get an unbound signature it could relay.
 *
 * @param key The private key.
 * @param extra CHALLENGE.Extra: `challenge` and `channel_binding`.
 * @param bound The binding asked for in HELLO, if any.
 * @returns AUTHENTICATE.Signature.
 * @throws {TypeError} When the challenge is malformed or confirms another binding.
 */
export async function cryptosignAnswer(
  key: CryptosignKey,
  extra: Dict,
  bound: BoundChannel | undefined,
): Promise<string> {
  const binding = extra.channel_binding ?? null;
  if (binding !== (bound?.type ?? null)) {
    throw new TypeError(
      bound === undefined
        ? `Cannot authenticate with "cryptosign": channel binding "${binding}" was not asked for`
        : `Cannot authenticate with "cryptosign": the router did not confirm channel binding ` +
          `"${bound.type}" (got ${preview(binding)})`,
    );
  }
  if (typeof extra.challenge !== "string") {
    throw new TypeError('Cannot authenticate with "cryptosign": the challenge is not a string');
  }
  const challenge = decodeHex(extra.challenge, 32);
  if (challenge === undefined) {
    throw new RangeError(
      `Cannot sign Cryptosign challenge: not 32 bytes of hex (${extra.challenge.length} characters)`,
    );
  }
  const message = cryptosignMessage(challenge, bound?.channelId);
  return toHex(await ed25519Sign(seedBytes(key.seed), message)) + toHex(message);
}
