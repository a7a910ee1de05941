/**
 * WAMP-CRA, client side (spec "Challenge Response Authentication"): the
 * signature over the router's challenge, with the key derived from a
 * password when the challenge is salted.
 *
 * @module
 */

import { deriveKey, signChallenge } from "../../wamp/auth/wampcra.ts";
import type { Dict } from "../../wamp/mod.ts";

/**
 * Signs a WAMP-CRA challenge, deriving the key first when it is salted.
 *
 * @param secret The shared secret, or the password when the challenge carries `salt`.
 * @param extra CHALLENGE.Extra: `challenge`, and `salt`, `iterations`, `keylen` when salted.
 * @returns AUTHENTICATE.Signature.
 * @throws {TypeError} When the challenge or the salt is not a string.
 */
export function craAnswer(secret: string, extra: Dict): string {
  const { challenge, salt, iterations, keylen } = extra;
  if (typeof challenge !== "string") {
    throw new TypeError('Cannot authenticate with "wampcra": the challenge is not a string');
  }
  if (salt === undefined || salt === null) return signChallenge(secret, challenge);
  if (typeof salt !== "string") {
    throw new TypeError('Cannot authenticate with "wampcra": the salt is not a string');
  }
  const count = typeof iterations === "number" ? iterations : undefined;
  const length = typeof keylen === "number" ? keylen : undefined;
  return signChallenge(deriveKey(secret, salt, count, length), challenge);
}
