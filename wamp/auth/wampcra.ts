/**
 * WAMP-CRA (challenge-response authentication, authmethod `"wampcra"`): the
 * router sends a JSON challenge, the client answers with its HMAC-SHA256
 * under a shared secret. Spec: https://wamp-proto.org/wamp_latest_ietf.html,
 * "WAMP Challenge-Response Authentication".
 *
 * The secret is either used as is or salted: the router stores only the
 * derived key from {@linkcode deriveKey} and sends `salt`, `iterations` and
 * `keylen` in the CHALLENGE extra so the client can derive the same key.
 * Salting follows Autobahn and Crossbar, which the spec leaves open.
 *
 * @module
 */

import { builtin } from "../builtin.ts";
import { AuthMethod } from "./auth_method.ts";
import { CRA_MAX_KEYLEN, type KdfLimits, kdfOverLimit } from "./kdf_limits.ts";
import { constantTimeEqual } from "./util.ts";

/**
 * Derives a salted WAMP-CRA key from a password, as Autobahn's
 * `auth_cra.derive_key` and Crossbar do: PBKDF2-HMAC-SHA256 over the UTF-8
 * bytes of `secret` and of `salt` (the salt string is used as is, not
 * base64-decoded), returned as base64. That base64 text is then the key for
 * {@linkcode signChallenge}.
 *
 * Exported from the package as `wampcraDeriveKey`.
 *
 * @param secret The password.
 * @param salt The salt from the CHALLENGE extra.
 * @param iterations PBKDF2 iterations, the CHALLENGE extra `iterations`.
 * @param keylen Derived key length in bytes, the CHALLENGE extra `keylen`.
 * @returns The derived key, base64.
 * @throws {RangeError} If `iterations` or `keylen` is not a positive integer,
 * or over the default `KDF_LIMITS` and `CRA_MAX_KEYLEN`.
 *
 * @example Derive the key the router stores for a user
 * ```ts
 * import { wampcraDeriveKey } from "@cloverleaf/wamp/wamp";
 * import { equal } from "node:assert/strict";
 *
 * equal(wampcraDeriveKey("secret1", "salt123", 100, 16), "prq7+YkJ1/KlW1X0YczMHw==");
 * ```
 */
export function deriveKey(secret: string, salt: string, iterations = 1000, keylen = 32): string {
  checkKdfParams(iterations, keylen);
  return builtin("node:crypto", "derive a WAMP-CRA key").pbkdf2Sync(
    secret,
    salt,
    iterations,
    keylen,
    "sha256",
  )
    .toString("base64");
}

/**
 * Checks the PBKDF2 parameters of a salted WAMP-CRA key.
 *
 * @param iterations PBKDF2 iterations.
 * @param keylen Derived key length in bytes.
 * @param limits The most work to do; each one left out is its default.
 * @throws {RangeError} If either is not a positive integer, `iterations`
 * times the key's 32-byte blocks is over `limits.pbkdf2Iterations`, or
 * `keylen` is over `CRA_MAX_KEYLEN`.
 */
export function checkKdfParams(iterations: number, keylen: number, limits?: KdfLimits): void {
  for (const [name, value] of [["iterations", iterations], ["keylen", keylen]] as const) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(
        `Cannot derive WAMP-CRA key: ${name} must be a positive integer, got ${value}`,
      );
    }
  }
  // PBKDF2 runs all its iterations once per 32-byte block of the key.
  const blocks = Math.ceil(keylen / 32);
  const over = keylen > CRA_MAX_KEYLEN
    ? `keylen ${keylen} is over the limit of ${CRA_MAX_KEYLEN} bytes`
    : kdfOverLimit("pbkdf2", iterations * blocks, null, limits)?.replace(
      `iterations ${iterations * blocks}`,
      blocks === 1
        ? `iterations ${iterations}`
        : `iterations ${iterations} × ${blocks} blocks of keylen ${keylen}`,
    );
  if (over !== undefined) throw new RangeError(`Cannot derive WAMP-CRA key: ${over}`);
}

/**
 * Signs a WAMP-CRA challenge: base64 of HMAC-SHA256 with the UTF-8 bytes of
 * `key` as the key and the challenge text, exactly as received, as the
 * message. The result is AUTHENTICATE's `Signature`.
 *
 * @param key The shared secret, or the derived key from {@linkcode deriveKey}.
 * @param challenge The CHALLENGE extra `challenge` string.
 * @returns The signature, base64.
 */
export function signChallenge(key: string, challenge: string): string {
  return builtin("node:crypto", "sign a WAMP-CRA challenge").createHmac("sha256", key).update(
    challenge,
  )
    .digest("base64");
}

/**
 * Checks the signature of an AUTHENTICATE against the challenge the router
 * sent, in constant time.
 *
 * @param key The shared secret or derived key.
 * @param challenge The challenge string the router sent.
 * @param signature AUTHENTICATE's `Signature`.
 * @returns Whether `signature` is the signature of `challenge` under `key`.
 */
export function verifyCra(key: string, challenge: string, signature: string): boolean {
  return constantTimeEqual(signChallenge(key, challenge), signature);
}

/** The fields of a WAMP-CRA challenge the router fills in. */
export interface CraChallengeFields {
  /** The authid the client asked for in HELLO. */
  authid: string;
  /** The role the session will get. */
  authrole: string;
  /** Where the credentials come from, e.g. `"static"` or `"dynamic"`. */
  authprovider: string;
  /** A fresh random string, never reused. */
  nonce: string;
  /** The current time, UTC ISO 8601, e.g. `"2014-06-22T16:51:41.643Z"`. */
  timestamp: string;
  /** The session ID WELCOME will carry. */
  session: number;
}

/**
 * A CRA challenge's `timestamp`: now, by `now` when given (the router
 * injects its clock), else by the system clock.
 *
 * @param now Milliseconds since the epoch.
 * @returns The ISO 8601 timestamp.
 *
 * @example
 * ```ts
 * import { craTimestamp } from "./wampcra.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(craTimestamp(() => 0), "1970-01-01T00:00:00.000Z");
 * ```
 */
export function craTimestamp(now?: () => number): string {
  return new Date(now === undefined ? Date.now() : now()).toISOString();
}

/**
 * Builds the challenge text the router puts into the CHALLENGE extra
 * `challenge`: a JSON object with `authid`, `authrole`, `authmethod`
 * (`"wampcra"`), `authprovider`, `nonce`, `timestamp` and `session`, in
 * that order.
 *
 * @param fields The values; nonce and time are passed in, so the router
 * stays deterministic under test.
 * @returns The JSON text to send and later to verify against.
 */
export function craChallenge(fields: CraChallengeFields): string {
  return JSON.stringify({
    authid: fields.authid,
    authrole: fields.authrole,
    authmethod: AuthMethod.WAMPCRA,
    authprovider: fields.authprovider,
    nonce: fields.nonce,
    timestamp: fields.timestamp,
    session: fields.session,
  });
}
