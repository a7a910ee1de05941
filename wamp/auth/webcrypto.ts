/**
 * The hashes, MACs, key derivation and Ed25519 signatures of WAMP
 * authentication through WebCrypto (`crypto.subtle`), which browsers, Node
 * 20, Bun and Deno all have: what the client signs in with. Asynchronous,
 * as WebCrypto is; the router's synchronous versions are in `wampcra.ts`,
 * `cryptosign.ts` and `scram.ts`.
 *
 * @module
 */

import { concatBytes, fromBase64 } from "../bytes.ts";
import { PKCS8_PREFIX } from "./cryptosign.ts";

const encoder = new TextEncoder();

function subtle(): SubtleCrypto {
  const found = globalThis.crypto?.subtle;
  if (found === undefined) {
    throw new Error(
      "Cannot authenticate: WebCrypto (crypto.subtle) is missing (not a secure context?)",
    );
  }
  return found;
}

function bytesOf(data: Uint8Array | string): Uint8Array<ArrayBuffer> {
  if (typeof data === "string") return encoder.encode(data);
  return new Uint8Array(data);
}

/**
 * HMAC-SHA256.
 *
 * @param key The key, bytes or text (UTF-8); not empty (WebCrypto refuses empty HMAC keys).
 * @param message The message, bytes or text (UTF-8).
 * @returns The 32-byte MAC.
 */
export async function hmacSha256(
  key: Uint8Array | string,
  message: Uint8Array | string,
): Promise<Uint8Array> {
  const imported = await subtle().importKey(
    "raw",
    bytesOf(key),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return new Uint8Array(await subtle().sign("HMAC", imported, bytesOf(message)));
}

/**
 * SHA-256.
 *
 * @param data The bytes.
 * @returns The 32-byte digest.
 */
export async function sha256(data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await subtle().digest("SHA-256", bytesOf(data)));
}

/**
 * PBKDF2-HMAC-SHA256.
 *
 * @param password The password, bytes or text (UTF-8).
 * @param salt The salt, bytes or text (UTF-8).
 * @param iterations The iteration count.
 * @param length The derived key's length in bytes.
 * @returns The derived key.
 */
export async function pbkdf2Sha256(
  password: Uint8Array | string,
  salt: Uint8Array | string,
  iterations: number,
  length: number,
): Promise<Uint8Array> {
  const key = await subtle().importKey("raw", bytesOf(password), "PBKDF2", false, ["deriveBits"]);
  const bits = await subtle().deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt: bytesOf(salt), iterations },
    key,
    8 * length,
  );
  return new Uint8Array(bits);
}

async function ed25519Key(seed: Uint8Array): Promise<CryptoKey> {
  return await subtle().importKey(
    "pkcs8",
    bytesOf(concatBytes(PKCS8_PREFIX, seed)),
    { name: "Ed25519" },
    true,
    ["sign"],
  );
}

/**
 * The Ed25519 public key of a 32-byte seed (RFC 8032 private key).
 *
 * @param seed The seed.
 * @returns The 32-byte public key.
 */
export async function ed25519PublicKey(seed: Uint8Array): Promise<Uint8Array> {
  const jwk = await subtle().exportKey("jwk", await ed25519Key(seed));
  if (typeof jwk.x !== "string") throw new Error("Cannot derive Ed25519 public key: no JWK x");
  const base64 = jwk.x.replaceAll("-", "+").replaceAll("_", "/");
  return fromBase64(base64.padEnd(base64.length + (4 - base64.length % 4) % 4, "="));
}

/**
 * Signs a message with Ed25519.
 *
 * @param seed The 32-byte seed.
 * @param message The message.
 * @returns The 64-byte signature.
 */
export async function ed25519Sign(seed: Uint8Array, message: Uint8Array): Promise<Uint8Array> {
  const key = await ed25519Key(seed);
  return new Uint8Array(await subtle().sign({ name: "Ed25519" }, key, bytesOf(message)));
}
