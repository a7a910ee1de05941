/**
 * WAMP-Cryptosign (authmethod `"cryptosign"`): Ed25519 (RFC 8032)
 * signatures over a 32-byte random challenge. Spec: "Cryptosign-based
 * Authentication", https://wamp-proto.org/wamp_latest_ietf.html#cryptosignauth.
 *
 * The signed message is the challenge itself, or `challenge XOR channel_id`
 * when the session is bound to the TLS channel (32 bytes of `tls-unique` or
 * `tls-exporter`). AUTHENTICATE's `Signature` is the hex of the 64-byte
 * signature followed by the 32-byte message: 192 hex characters. The same
 * format serves router authentication, where the router signs the
 * client's `authextra.challenge`.
 *
 * Keys are handled as 32-byte seeds (RFC 8032 private keys) and 32-byte
 * public keys, both in hex as they travel in `authextra.pubkey`.
 *
 * @module
 */

import type { Buffer } from "node:buffer";
import type { KeyObject } from "node:crypto";
import { concatBytes, fromHex, toHex } from "../bytes.ts";
import { builtin } from "../builtin.ts";
import { constantTimeEqual, decodeHex, randomBytes, xorBytes } from "./util.ts";

/** DER prefix of a PKCS #8 Ed25519 private key; the 32-byte seed follows. */
export const PKCS8_PREFIX: Uint8Array = fromHex("302e020100300506032b657004220420");
/** DER prefix of an SPKI Ed25519 public key; the 32-byte key follows. */
export const SPKI_PREFIX: Uint8Array = fromHex("302a300506032b6570032100");

/** An Ed25519 key pair for WAMP-Cryptosign. */
export interface CryptosignKeyPair {
  /** The private key: the 32-byte seed, hex. Keep it secret. */
  readonly seed: string;
  /** The public key, 32 bytes hex: HELLO `authextra.pubkey`. */
  readonly publicKey: string;
}

/**
 * Creates an Ed25519 key pair from a 32-byte seed, or from a fresh random
 * seed when none is given.
 *
 * @param seed The private key: 32 bytes, or 64 hex characters.
 * @returns The seed and its public key, both hex.
 * @throws {RangeError} If `seed` is not 32 bytes.
 *
 * @example Get the public key to register with the router
 * ```ts
 * import { cryptosignKeyPair } from "@cloverleaf/wamp/wamp";
 * import { equal } from "node:assert/strict";
 *
 * const keys = cryptosignKeyPair(
 *   "4d57d97a68f555696620a6d849c0ce582568518d729eb753dc7c732de2804510",
 * );
 * equal(keys.publicKey, "1adfc8bfe1d35616e64dffbd900096f23b066f914c8c2ffbb66f6075b96e116d");
 * equal(cryptosignKeyPair().publicKey.length, 64);
 * ```
 */
export function cryptosignKeyPair(seed?: string | Uint8Array): CryptosignKeyPair {
  const bytes = seed === undefined ? randomBytes(32) : seedBytes(seed);
  const spki = builtin("node:crypto", "derive an Ed25519 key").createPublicKey(privateKey(bytes))
    .export({ format: "der", type: "spki" });
  return { seed: toHex(bytes), publicKey: toHex(spki.subarray(SPKI_PREFIX.length)) };
}

/**
 * Signs a Cryptosign challenge: Ed25519 over the challenge, or over
 * `challenge XOR channelId` when `channelId` is given.
 *
 * @param key The signer's seed (32 bytes or hex) or key pair.
 * @param challenge The CHALLENGE extra `challenge`: 32 bytes, hex.
 * @param channelId The TLS channel binding data (32 bytes or hex), if the
 * session is bound.
 * @returns AUTHENTICATE's `Signature`: hex of signature (64 B) ‖ message (32 B).
 * @throws {RangeError} If the key, challenge or channel ID is not 32 bytes.
 */
export function signChallenge(
  key: CryptosignKeyPair | string | Uint8Array,
  challenge: string,
  channelId?: string | Uint8Array,
): string {
  const seed = seedBytes(typeof key === "object" && "seed" in key ? key.seed : key);
  const bytes = decodeHex(challenge, 32);
  if (bytes === undefined) {
    throw new RangeError(
      `Cannot sign Cryptosign challenge: not 32 bytes of hex (${challenge.length} characters)`,
    );
  }
  const message = cryptosignMessage(
    bytes,
    channelId === undefined ? undefined : channelBytes(channelId),
  );
  const signature = builtin("node:crypto", "sign a Cryptosign challenge").sign(
    null,
    message,
    privateKey(seed),
  );
  return toHex(signature) + toHex(message);
}

/**
 * Verifies a Cryptosign signature: it must carry the expected message
 * (`challenge`, or `challenge XOR channelId`) after the 64-byte signature,
 * and the signature must verify under `publicKey`. Any malformed input,
 * e.g. a public key that is not 32 bytes of hex, gives `false`.
 *
 * @param publicKey The signer's public key, 32 bytes hex.
 * @param challenge The challenge that was sent, 32 bytes hex.
 * @param signature The signature received, 96 bytes hex.
 * @param channelId The channel binding data, if the session is bound.
 * @returns Whether the signature is valid for that challenge and key.
 */
export function verifyCryptosign(
  publicKey: string,
  challenge: string,
  signature: string,
  channelId?: string | Uint8Array,
): boolean {
  const keyBytes = decodeHex(publicKey, 32);
  const challengeBytes = decodeHex(challenge, 32);
  const signed = decodeHex(signature, 96);
  const channel = channelId === undefined ? undefined : decodeBytes(channelId);
  if (!keyBytes || !challengeBytes || !signed || (channelId !== undefined && !channel)) {
    return false;
  }
  const expected = cryptosignMessage(challengeBytes, channel);
  if (!constantTimeEqual(signed.subarray(64), expected)) return false;
  try {
    const crypto = builtin("node:crypto", "verify a Cryptosign signature");
    const key = crypto.createPublicKey({
      key: concatBytes(SPKI_PREFIX, keyBytes) as Buffer, // node:crypto takes any Uint8Array
      format: "der",
      type: "spki",
    });
    return crypto.verify(null, expected, key, signed.subarray(0, 64));
  } catch {
    return false;
  }
}

/**
 * Draws a fresh random challenge for the CHALLENGE extra `challenge` (or
 * HELLO `authextra.challenge` when the client asks the router to
 * authenticate itself).
 *
 * @returns 32 random bytes, hex.
 */
export function generateChallenge(): string {
  return toHex(randomBytes(32));
}

/**
 * The message a Cryptosign signature covers: the challenge, or
 * `challenge XOR channel` when bound.
 *
 * @param challenge The 32-byte challenge.
 * @param channel The 32-byte channel ID, if bound.
 * @returns The message.
 */
export function cryptosignMessage(
  challenge: Uint8Array,
  channel: Uint8Array | undefined,
): Uint8Array {
  return channel === undefined ? challenge : xorBytes(challenge, channel);
}

function privateKey(seed: Uint8Array): KeyObject {
  return builtin("node:crypto", "use an Ed25519 key").createPrivateKey({
    key: concatBytes(PKCS8_PREFIX, seed) as Buffer,
    format: "der",
    type: "pkcs8",
  });
}

function decodeBytes(value: string | Uint8Array): Uint8Array | undefined {
  if (typeof value === "string") return decodeHex(value, 32);
  return value.length === 32 ? value : undefined;
}

/**
 * Reads an Ed25519 seed: 32 bytes, or 64 hex characters.
 *
 * @param seed The seed.
 * @returns The bytes.
 * @throws {RangeError} If it is not 32 bytes.
 */
export function seedBytes(seed: string | Uint8Array): Uint8Array {
  const bytes = decodeBytes(seed);
  if (bytes === undefined) throw new RangeError("Cannot use Ed25519 seed: not 32 bytes");
  return bytes;
}

function channelBytes(channelId: string | Uint8Array): Uint8Array {
  const bytes = decodeBytes(channelId);
  if (bytes === undefined) throw new RangeError("Cannot use channel ID: not 32 bytes");
  return bytes;
}
