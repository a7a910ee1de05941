/**
 * WAMP-SCRAM (authmethod `"wamp-scram"`): SCRAM-SHA-256 (RFC 5802, RFC 7677)
 * carried in HELLO, CHALLENGE, AUTHENTICATE and WELCOME. Spec: "Salted
 * Challenge Response Authentication Mechanism",
 * https://wamp-proto.org/wamp_latest_ietf.html#wamp-scram.
 *
 * The router stores only `StoredKey` and `ServerKey`
 * ({@linkcode deriveCredentials}), checks the client's proof
 * ({@linkcode verifyClientProof}) and proves itself with the WELCOME
 * `verifier` ({@linkcode serverSignature}). The client side is in
 * `scram_client.ts`. Unlike RFC 5802, the KDF is either PBKDF2 or
 * Argon2id, named in the CHALLENGE extra. The salt travels as base64 and is
 * decoded before the KDF.
 *
 * @module
 */

import { argon2id } from "@noble/hashes/argon2.js";
import { toBase64 } from "../bytes.ts";
import { builtin } from "../builtin.ts";
import { type KdfLimits, kdfOverLimit } from "./kdf_limits.ts";
import { saslprep } from "./saslprep.ts";
import { constantTimeEqual, decodeBase64, randomBytes, xorBytes } from "./util.ts";

/** The key derivation functions WAMP-SCRAM names in the CHALLENGE extra `kdf`. */
export type ScramKdf = "pbkdf2" | "argon2id13";

/** The KDF parameters of a user, as the CHALLENGE extra carries them. */
export interface ScramKdfParams {
  /** `"pbkdf2"` (PBKDF2-HMAC-SHA256) or `"argon2id13"` (Argon2id v1.3). */
  kdf: ScramKdf;
  /** The user's salt, base64. */
  salt: string;
  /** PBKDF2 iterations, or Argon2id passes (t). */
  iterations: number;
  /** Argon2id memory in KiB (m); ignored for PBKDF2. */
  memory?: number | null;
}

/** What the router stores for a WAMP-SCRAM user, both base64. */
export interface ScramCredentials {
  /** `SHA-256(ClientKey)`: checks the client's proof. */
  storedKey: string;
  /** `HMAC(SaltedPassword, "Server Key")`: signs the WELCOME `verifier`. */
  serverKey: string;
}

/**
 * Runs the KDF: `SaltedPassword = KDF(SASLprep(password), salt)`, 32 bytes.
 *
 * @param password The password.
 * @param params The KDF, salt, iterations and memory.
 * @returns The salted password.
 * @throws {RangeError} If the parameters are invalid or over the default
 * `KDF_LIMITS`, or the password holds characters SASLprep prohibits.
 */
export function saltedPassword(password: string, params: ScramKdfParams): Uint8Array {
  const { secret, saltBytes } = kdfInputs(password, params);
  const { kdf, iterations, memory } = params;
  if (kdf === "pbkdf2") {
    return builtin("node:crypto", "run PBKDF2").pbkdf2Sync(
      secret,
      saltBytes,
      iterations,
      32,
      "sha256",
    );
  }
  return argon2id(secret, saltBytes, { t: iterations, m: memory!, p: 1, dkLen: 32 });
}

/**
 * Checks the KDF parameters, within `limits`, and prepares its inputs:
 * the SASLprep'd password as UTF-8 and the decoded salt.
 *
 * @param password The password.
 * @param params The KDF, salt, iterations and memory.
 * @param limits The most work to do; each one left out is its default.
 * @returns The KDF's secret and salt bytes.
 * @throws {RangeError} As {@linkcode saltedPassword}, naming the limit.
 */
export function kdfInputs(
  password: string,
  params: ScramKdfParams,
  limits?: KdfLimits,
): { secret: Uint8Array; saltBytes: Uint8Array } {
  const { kdf, salt, iterations, memory } = params;
  const saltBytes = decodeBase64(salt);
  if (saltBytes === undefined) throw new RangeError(`Cannot run KDF: salt "${salt}" is not base64`);
  if (!isPositiveInteger(iterations)) {
    throw new RangeError(
      `Cannot run KDF: iterations must be a positive integer, got ${iterations}`,
    );
  }
  if (kdf === "argon2id13" && !isPositiveInteger(memory)) {
    throw new RangeError(`Cannot run KDF: argon2id13 needs memory in KiB, got ${memory}`);
  }
  const over = kdfOverLimit(kdf, iterations, memory, limits);
  if (over !== undefined) throw new RangeError(`Cannot run KDF: ${over}`);
  if (kdf === "pbkdf2" || kdf === "argon2id13") {
    return { secret: new TextEncoder().encode(saslprep(password)), saltBytes };
  }
  throw new RangeError(`Cannot run KDF "${kdf}": use "pbkdf2" or "argon2id13"`);
}

/**
 * Derives what the router stores for a user: `StoredKey` and `ServerKey`.
 *
 * Exported from the package as `scramDeriveCredentials`.
 *
 * @param password The user's password.
 * @param params The user's KDF parameters.
 * @returns The stored key and server key, base64.
 * @throws {RangeError} As {@linkcode saltedPassword}.
 *
 * @example Credentials for a router's user database
 * ```ts
 * import { scramDeriveCredentials } from "@cloverleaf/wamp/wamp";
 * import { equal } from "node:assert/strict";
 *
 * const credentials = scramDeriveCredentials("pencil", {
 *   kdf: "pbkdf2",
 *   salt: "W22ZaJ0SNY7soEsUEjb6gQ==",
 *   iterations: 4096,
 * });
 * equal(credentials.storedKey, "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=");
 * ```
 */
export function deriveCredentials(password: string, params: ScramKdfParams): ScramCredentials {
  const salted = saltedPassword(password, params);
  return {
    storedKey: toBase64(sha256(hmac(salted, "Client Key"))),
    serverKey: toBase64(hmac(salted, "Server Key")),
  };
}

/** The inputs of the SCRAM AuthMessage. */
export interface AuthMessageFields {
  /** HELLO `authid`, the username. */
  authid: string;
  /** HELLO `authextra.nonce`, the client nonce. */
  clientNonce: string;
  /** CHALLENGE extra `nonce`: client nonce followed by server nonce. */
  nonce: string;
  /** CHALLENGE extra `salt`, base64. */
  salt: string;
  /** CHALLENGE extra `iterations`. */
  iterations: number;
  /** `"tls-unique"` or `"tls-server-end-point"`, or null when unbound. */
  channelBinding?: string | null;
  /** The channel binding data, base64; only with `channelBinding`. */
  cbindData?: string | null;
}

/**
 * Builds the AuthMessage both sides sign, in RFC 5802 syntax:
 * client-first-bare, server-first and client-final-without-proof joined by
 * commas. The authid is escaped (`,` → `=2C`, `=` → `=3D`); the other
 * values are used as they travel.
 *
 * @param fields The values from HELLO and CHALLENGE.
 * @returns The AuthMessage.
 * @throws {RangeError} If `cbindData` is not base64.
 */
export function authMessage(fields: AuthMessageFields): string {
  const { authid, clientNonce, nonce, salt, iterations, channelBinding, cbindData } = fields;
  const user = authid.replaceAll("=", "=3D").replaceAll(",", "=2C");
  const header = new TextEncoder().encode(channelBinding ? `p=${channelBinding},,` : "n,,");
  const data = cbindData ? decodeBase64(cbindData) : new Uint8Array();
  if (data === undefined) {
    throw new RangeError(`Cannot build AuthMessage: cbind_data is not base64`);
  }
  const binding = toBase64(new Uint8Array([...header, ...data]));
  return `n=${user},r=${clientNonce},r=${nonce},s=${salt},i=${iterations},c=${binding},r=${nonce}`;
}

/**
 * Checks a client's proof on the router side, in constant time: recovers
 * `ClientKey` from the proof and compares its SHA-256 with `StoredKey`.
 *
 * @param storedKey The user's StoredKey, base64.
 * @param message The AuthMessage.
 * @param proof AUTHENTICATE's `Signature`, base64.
 * @returns Whether the proof is valid; `false` for malformed input.
 */
export function verifyClientProof(storedKey: string, message: string, proof: string): boolean {
  const stored = decodeBase64(storedKey);
  const proofBytes = decodeBase64(proof);
  if (stored?.length !== 32 || proofBytes?.length !== 32) return false;
  const clientKey = xorBytes(proofBytes, hmac(stored, message));
  return constantTimeEqual(sha256(clientKey), stored);
}

/**
 * Computes the router's signature for WELCOME `authextra.verifier`:
 * `HMAC(ServerKey, AuthMessage)`.
 *
 * @param serverKey The user's ServerKey, base64.
 * @param message The AuthMessage.
 * @returns The ServerSignature, base64, without a `v=` prefix.
 * @throws {RangeError} If `serverKey` is not base64.
 */
export function serverSignature(serverKey: string, message: string): string {
  const key = decodeBase64(serverKey);
  if (key === undefined) throw new RangeError("Cannot sign AuthMessage: ServerKey is not base64");
  return toBase64(hmac(key, message));
}

/**
 * Draws a nonce for HELLO `authextra.nonce` (client) or to append to it in
 * the CHALLENGE (router).
 *
 * @returns 16 random bytes, base64.
 */
export function generateNonce(): string {
  return toBase64(randomBytes(16));
}

function hmac(key: Uint8Array, message: string): Uint8Array {
  return builtin("node:crypto", "compute HMAC-SHA256").createHmac("sha256", key).update(message)
    .digest();
}

function sha256(data: Uint8Array): Uint8Array {
  return builtin("node:crypto", "compute SHA-256").createHash("sha256").update(data).digest();
}

function isPositiveInteger(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) > 0;
}
