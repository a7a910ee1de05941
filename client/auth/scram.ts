/**
 * WAMP-SCRAM, client side, through WebCrypto (PBKDF2, HMAC, SHA-256), so
 * it runs in browsers too. Argon2id, which WebCrypto lacks, is the pure-JS
 * `@noble/hashes` implementation, loaded when a CHALLENGE first names it.
 * It runs on the calling thread: see docs/runtimes.md for how long it blocks.
 *
 * @module
 */

import type { KdfLimits } from "../../wamp/auth/kdf_limits.ts";
import { kdfInputs } from "../../wamp/auth/scram.ts";
import { type ScramAnswer, scramExchange, type ScramHello } from "../../wamp/auth/scram_client.ts";
import { xorBytes } from "../../wamp/auth/util.ts";
import { hmacSha256, pbkdf2Sha256, sha256 } from "../../wamp/auth/webcrypto.ts";
import { toBase64 } from "../../wamp/bytes.ts";
import type { ScramKdfParams } from "../../wamp/mod.ts";

/**
 * Answers a WAMP-SCRAM CHALLENGE: the ClientProof, the AUTHENTICATE extra
 * and the ServerSignature to expect in WELCOME.
 *
 * @param password The user's password.
 * @param hello What the client sent in HELLO.
 * @param extra The CHALLENGE extra.
 * @param limits The most KDF work to do; each one left out is its default.
 * @param signal Stops an Argon2id derivation (the join ended): it rejects with the reason.
 * @returns The answer.
 * @throws {TypeError} When the CHALLENGE is malformed or its nonce is not ours.
 * @throws {RangeError} When the KDF is unknown, its parameters are invalid
 * or over the limits (checked before any work).
 */
export async function scramAnswer(
  password: string,
  hello: ScramHello,
  extra: Readonly<Record<string, unknown>>,
  limits?: KdfLimits,
  signal?: AbortSignal,
): Promise<ScramAnswer> {
  const { params, message, extra: authenticateExtra } = scramExchange(hello, extra);
  const salted = await saltedPassword(password, params, limits, signal);
  const clientKey = await hmacSha256(salted, "Client Key");
  const storedKey = await sha256(clientKey);
  const serverKey = await hmacSha256(salted, "Server Key");
  return {
    signature: toBase64(xorBytes(clientKey, await hmacSha256(storedKey, message))),
    extra: authenticateExtra,
    verifier: toBase64(await hmacSha256(serverKey, message)),
  };
}

/**
 * `SaltedPassword = KDF(SASLprep(password), salt)`, 32 bytes.
 *
 * @param password The password.
 * @param params The KDF parameters.
 * @param limits The most KDF work to do.
 * @param signal Stops an Argon2id derivation (seconds of work and 256 MiB).
 * @returns The salted password.
 */
async function saltedPassword(
  password: string,
  params: ScramKdfParams,
  limits: KdfLimits | undefined,
  signal: AbortSignal | undefined,
): Promise<Uint8Array> {
  const { secret, saltBytes } = kdfInputs(password, params, limits);
  if (params.kdf === "pbkdf2") {
    return await pbkdf2Sha256(secret, saltBytes, params.iterations, 32);
  }
  const { argon2idAsync } = await import("@noble/hashes/argon2.js");
  return await argon2idAsync(secret, saltBytes, {
    t: params.iterations,
    m: params.memory!,
    p: 1,
    dkLen: 32,
    // Called about 10,000 times over the derivation: a throw ends it.
    ...(signal === undefined ? {} : { onProgress: () => signal.throwIfAborted() }),
  });
}
