/**
 * WAMP-Cryptosign, client side (spec "Cryptosign-based Authentication"):
 * the Ed25519 signature over the router's challenge, bound to the TLS
 * channel when asked.
 *
 * @module
 */

import { signChallenge } from "../../wamp/auth/cryptosign.ts";
import type { Dict } from "../../wamp/mod.ts";
import type { BoundChannel } from "./channel_binding.ts";
import type { CryptosignKey } from "./credentials.ts";

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
export function cryptosignAnswer(
  key: CryptosignKey,
  extra: Dict,
  bound: BoundChannel | undefined,
): string {
  const binding = extra.channel_binding ?? null;
  if (binding !== (bound?.type ?? null)) {
    throw new TypeError(
      bound === undefined
        ? `Cannot authenticate with "cryptosign": channel binding "${binding}" was not asked for`
        : `Cannot authenticate with "cryptosign": the router did not confirm channel binding ` +
          `"${bound.type}" (got ${JSON.stringify(binding)})`,
    );
  }
  if (typeof extra.challenge !== "string") {
    throw new TypeError('Cannot authenticate with "cryptosign": the challenge is not a string');
  }
  return signChallenge(key.seed, extra.challenge, bound?.channelId);
}
