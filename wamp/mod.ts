/**
 * The WAMP protocol vocabulary: message types, typed messages with strict
 * parsing, URIs, IDs, options, features and serializers. Imports nothing
 * else from this repository.
 *
 * @module
 */

export * from "./address.ts";
export * from "./errors.ts";
export * from "./features.ts";
export * from "./ids.ts";
export * from "./message_type.ts";
export * from "./messages.ts";
export * from "./options.ts";
export * from "./payload.ts";
export * from "./log.ts";
export * from "./peer.ts";
export * from "./uri.ts";
export * from "./uris.ts";
export * from "./serializers/mod.ts";
export { deriveKey as wampcraDeriveKey } from "./auth/wampcra.ts";
export { KDF_LIMITS, type KdfLimits } from "./auth/kdf_limits.ts";
export { type CryptosignKeyPair, cryptosignKeyPair } from "./auth/cryptosign.ts";
export {
  deriveCredentials as scramDeriveCredentials,
  type ScramCredentials,
  type ScramKdf,
  type ScramKdfParams,
} from "./auth/scram.ts";
