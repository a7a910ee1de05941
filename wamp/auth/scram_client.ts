/**
 * The client side of WAMP-SCRAM: read the router's CHALLENGE, then check
 * the router's WELCOME `authextra.verifier`. The ClientProof itself is
 * computed through WebCrypto (`client/auth/scram.ts`); primitives and the
 * router side are in `scram.ts`.
 *
 * @module
 */

import { authMessage, type ScramKdf, type ScramKdfParams } from "./scram.ts";
import { constantTimeEqual } from "./util.ts";

/** What the client sent in HELLO for WAMP-SCRAM. */
export interface ScramHello {
  /** HELLO `authid`, the username. */
  authid: string;
  /** HELLO `authextra.nonce`, base64, from `generateNonce()`. */
  nonce: string;
  /** HELLO `authextra.channel_binding`, or null when unbound. */
  channelBinding?: string | null;
  /** The channel binding data, base64; only with `channelBinding`. */
  cbindData?: string | null;
}

/** The AUTHENTICATE extra of WAMP-SCRAM. */
export interface ScramAuthenticateExtra {
  /** The nonce from the CHALLENGE: client nonce followed by server nonce. */
  nonce: string;
  /** The channel binding type, or null. */
  channel_binding: string | null;
  /** The channel binding data, base64; present iff `channel_binding` is set. */
  cbind_data?: string;
}

/** The client's answer to a WAMP-SCRAM CHALLENGE. */
export interface ScramAnswer {
  /** AUTHENTICATE `Signature`: the ClientProof, base64. */
  signature: string;
  /** AUTHENTICATE `Extra`. */
  extra: ScramAuthenticateExtra;
  /** The ServerSignature the router must send back as WELCOME `verifier`. */
  verifier: string;
}

/** What a WAMP-SCRAM answer starts from: the CHALLENGE, read and checked. */
export interface ScramExchange {
  /** The KDF parameters the CHALLENGE named. */
  params: ScramKdfParams;
  /** The AuthMessage both sides sign. */
  message: string;
  /** AUTHENTICATE `Extra`. */
  extra: ScramAuthenticateExtra;
}

/**
 * Reads a WAMP-SCRAM CHALLENGE: checks that its nonce extends the client's
 * own, reads the KDF parameters and builds the AuthMessage.
 *
 * @param hello What the client sent in HELLO.
 * @param extra The CHALLENGE extra.
 * @returns The KDF parameters, AuthMessage and AUTHENTICATE extra.
 * @throws {TypeError} If the CHALLENGE extra is malformed or its nonce does
 * not start with the client nonce; the client should then ABORT.
 */
export function scramExchange(
  hello: ScramHello,
  extra: Readonly<Record<string, unknown>>,
): ScramExchange {
  const params = kdfParams(extra);
  const nonce = extra.nonce;
  if (typeof nonce !== "string" || nonce.length <= hello.nonce.length) {
    throw new TypeError("Cannot answer WAMP-SCRAM challenge: nonce is missing or too short");
  }
  if (!nonce.startsWith(hello.nonce)) {
    throw new TypeError(
      "Cannot answer WAMP-SCRAM challenge: nonce does not extend the client nonce",
    );
  }
  const channelBinding = hello.channelBinding ?? null;
  const cbindData = channelBinding === null ? null : hello.cbindData ?? "";
  const message = authMessage({
    authid: hello.authid,
    clientNonce: hello.nonce,
    nonce,
    salt: params.salt,
    iterations: params.iterations,
    channelBinding,
    cbindData,
  });
  return {
    params,
    message,
    extra: cbindData === null
      ? { nonce, channel_binding: null }
      : { nonce, channel_binding: channelBinding, cbind_data: cbindData },
  };
}

/**
 * Checks the router's WELCOME `authextra.verifier` against the expected
 * ServerSignature, in constant time. Accepts the verifier with or without
 * the `v=` prefix the spec's example shows.
 *
 * @param expected `ScramAnswer.verifier`.
 * @param verifier WELCOME `authextra.verifier` as received.
 * @returns Whether the router proved it knows the user's ServerKey.
 */
export function checkVerifier(expected: string, verifier: unknown): boolean {
  if (typeof verifier !== "string") return false;
  return constantTimeEqual(expected, verifier.startsWith("v=") ? verifier.slice(2) : verifier);
}

function kdfParams(extra: Readonly<Record<string, unknown>>): ScramKdfParams {
  const { salt, kdf, iterations, memory } = extra;
  if (typeof salt !== "string") {
    throw new TypeError("Cannot answer WAMP-SCRAM challenge: salt is missing");
  }
  if (typeof kdf !== "string") {
    throw new TypeError("Cannot answer WAMP-SCRAM challenge: kdf is missing");
  }
  if (typeof iterations !== "number") {
    throw new TypeError("Cannot answer WAMP-SCRAM challenge: iterations is missing");
  }
  if (memory !== undefined && memory !== null && typeof memory !== "number") {
    throw new TypeError("Cannot answer WAMP-SCRAM challenge: memory is not a number");
  }
  return { kdf: kdf as ScramKdf, salt, iterations, memory: memory ?? null };
}
