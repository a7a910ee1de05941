/**
 * WAMP-CRA, client side (spec "Challenge Response Authentication"): the
 * signature over the router's challenge, with the key derived from a
 * password when the challenge is salted. Through WebCrypto, so it runs in
 * browsers too.
 *
 * @module
 */

import type { KdfLimits } from "../../wamp/auth/kdf_limits.ts";
import { checkKdfParams } from "../../wamp/auth/wampcra.ts";
import { hmacSha256, pbkdf2Sha256 } from "../../wamp/auth/webcrypto.ts";
import { toBase64 } from "../../wamp/bytes.ts";
import type { Dict } from "../../wamp/mod.ts";

/**
 * Signs a WAMP-CRA challenge, deriving the key first when it is salted
 * (PBKDF2-HMAC-SHA256 over the password and the salt text, base64, as
 * Autobahn does).
 *
 * @param secret The shared secret, or the password when the challenge carries `salt`.
 * @param extra CHALLENGE.Extra: `challenge`, and `salt`, `iterations`, `keylen` when salted.
 * @param limits The most KDF work to do; each one left out is its default.
 * @returns AUTHENTICATE.Signature.
 * @throws {TypeError} When the challenge or the salt is not a string.
 * @throws {RangeError} When `iterations` or `keylen` is not a positive
 * integer or over the limits (checked before any work).
 */
export async function craAnswer(secret: string, extra: Dict, limits?: KdfLimits): Promise<string> {
  const { challenge, salt, iterations, keylen } = extra;
  if (typeof challenge !== "string") {
    throw new TypeError('Cannot authenticate with "wampcra": the challenge is not a string');
  }
  if (salt === undefined || salt === null) return toBase64(await hmacSha256(secret, challenge));
  if (typeof salt !== "string") {
    throw new TypeError('Cannot authenticate with "wampcra": the salt is not a string');
  }
  const count = typeof iterations === "number" ? iterations : 1000;
  const length = typeof keylen === "number" ? keylen : 32;
  checkKdfParams(count, length, limits);
  const key = toBase64(await pbkdf2Sha256(secret, salt, count, length));
  return toBase64(await hmacSha256(key, challenge));
}
