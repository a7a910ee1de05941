/**
 * Authentication method names, as they travel in HELLO `authmethods`,
 * CHALLENGE `AuthMethod` and WELCOME `authmethod`.
 *
 * @module
 */

/** The authmethod names of the spec's authentication methods. */
export const AuthMethod = {
  /** No credentials; not formally specified, but used by every router. */
  ANONYMOUS: "anonymous",
  /** A ticket (password, token) sent in plaintext in AUTHENTICATE. */
  TICKET: "ticket",
  /** WAMP-CRA: HMAC-SHA256 over a JSON challenge, see `wampcra.ts`. */
  WAMPCRA: "wampcra",
  /** WAMP-SCRAM: SCRAM-SHA-256 with PBKDF2 or Argon2id, see `scram.ts`. */
  WAMP_SCRAM: "wamp-scram",
  /** WAMP-Cryptosign: Ed25519 over a random challenge, see `cryptosign.ts`. */
  CRYPTOSIGN: "cryptosign",
  /**
   * TLS client certificate: the router authenticates from the certificate
   * the transport verified, with no CHALLENGE (Crossbar's `tls`).
   */
  TLS: "tls",
} as const;

/** One of the {@linkcode AuthMethod} names. */
export type AuthMethod = typeof AuthMethod[keyof typeof AuthMethod];

/**
 * Channel binding types a client may ask for in HELLO
 * `authextra.channel_binding` (WAMP-Cryptosign and WAMP-SCRAM).
 */
export const ChannelBinding = {
  /**
   * `tls-unique` (RFC 5929), as Crossbar and Autobahn compute it: SHA-256
   * of the client's TLS Finished message, 32 bytes, the same on both ends.
   */
  TLS_UNIQUE: "tls-unique",
} as const;

/** One of the {@linkcode ChannelBinding} types. */
export type ChannelBinding = typeof ChannelBinding[keyof typeof ChannelBinding];
