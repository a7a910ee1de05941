/**
 * What a client joins with (spec "Authentication Methods",
 * https://wamp-proto.org/wamp_latest_ietf.html#authentication): the
 * credentials of each built-in method (ticket, WAMP-CRA plain or salted,
 * WAMP-Cryptosign, WAMP-SCRAM), `onChallenge` for anything else, and the
 * ABORT reason of a client that cannot answer is
 * `ErrorUri.CANNOT_AUTHENTICATE`.
 *
 * @module
 */

import type { Dict, KdfLimits } from "../../wamp/mod.ts";

/** An answer to a CHALLENGE: AUTHENTICATE's `Signature` and `Extra`. */
export interface ChallengeAnswer {
  /** AUTHENTICATE.Signature: the ticket, signature or proof. */
  signature: string;
  /**
   * AUTHENTICATE.Extra.
   * @default {{}}
   */
  extra?: Dict;
}

/**
 * Answers a CHALLENGE for a method the client has no built-in credentials
 * for: a custom method, or e.g. WAMP-CRA signed by a third party. Return the
 * signature, or the signature with an AUTHENTICATE extra; throw (or reject)
 * to refuse, which sends ABORT `wamp.error.cannot_authenticate` (`ErrorUri.CANNOT_AUTHENTICATE`).
 *
 * @param authmethod CHALLENGE.AuthMethod.
 * @param extra CHALLENGE.Extra.
 * @returns The answer.
 */
export type ChallengeHandler = (
  authmethod: string,
  extra: Dict,
) => string | ChallengeAnswer | Promise<string | ChallengeAnswer>;

/** A WAMP-Cryptosign private key. */
export interface CryptosignKey {
  /**
   * The Ed25519 private seed, 32 bytes as 64 hex characters. A key pair from
   * `cryptosignKeyPair()` fits here as it is.
   */
  seed: string;
  /**
   * Bind the signature to the TLS connection (spec "TLS Channel Binding"):
   * sign `challenge XOR tls-unique`, so the router cannot relay it to
   * another router. Needs a TLS transport (`wss://`, `tcps://`); the join
   * fails when the router's CHALLENGE does not confirm the binding. HELLO
   * carries one `channel_binding` for every method, so this replaces
   * `channelBinding` for wamp-scram too.
   * @default {AuthCredentials.channelBinding}
   */
  channelBinding?: "tls-unique" | null;
}

/**
 * Credentials for joining a realm (spec "Authentication Methods"). Give the
 * credentials of the methods to offer; without `authmethods`, HELLO offers
 * exactly those methods, in the order cryptosign, wamp-scram, wampcra,
 * ticket, or `["anonymous"]` when none is given. The router picks one and
 * sends a CHALLENGE, which the client answers from these credentials (or
 * with `onChallenge`). A CHALLENGE the client cannot answer (a method it did
 * not offer or has no credentials for, a malformed challenge) makes it send
 * ABORT `wamp.error.cannot_authenticate` (`ErrorUri.CANNOT_AUTHENTICATE`) and reject the join with a
 * `SessionClosedError` of that reason; an ABORT from the router rejects the
 * join with a `SessionClosedError` carrying the router's reason, e.g.
 * `wamp.error.authentication_failed`.
 *
 * @example Joining with each built-in method
 * ```ts
 * import { connectLocal, Router } from "@cloverleaf/wamp";
 * import { cryptosignKeyPair, scramDeriveCredentials, wampcraDeriveKey } from "@cloverleaf/wamp/wamp";
 * import { equal } from "node:assert/strict";
 *
 * const key = cryptosignKeyPair();
 * const kdf = { kdf: "pbkdf2", salt: "c2FsdHNhbHQ=", iterations: 4096 } as const;
 * const router = new Router({
 *   realms: [{
 *     name: "realm1",
 *     auth: {
 *       ticket: { principals: { alice: { ticket: "t0ps3cret", role: "user" } } },
 *       wampcra: {
 *         users: {
 *           bob: {
 *             role: "user",
 *             secret: wampcraDeriveKey("pa55", "s4lt", 100, 32),
 *             salt: "s4lt",
 *             iterations: 100,
 *           },
 *         },
 *       },
 *       cryptosign: { principals: { carol: { role: "device", authorizedKeys: [key.publicKey] } } },
 *       scram: {
 *         users: { dave: { role: "admin", ...kdf, ...scramDeriveCredentials("pencil", kdf) } },
 *       },
 *     },
 *   }],
 * });
 *
 * const alice = await connectLocal(router, "realm1", { authid: "alice", ticket: "t0ps3cret" });
 * equal(alice.details.authmethod, "ticket");
 * const bob = await connectLocal(router, "realm1", { authid: "bob", secret: "pa55" });
 * equal(bob.details.authmethod, "wampcra");
 * const carol = await connectLocal(router, "realm1", { cryptosign: key });
 * equal(carol.details.authid, "carol");
 * const dave = await connectLocal(router, "realm1", { authid: "dave", password: "pencil" });
 * equal(dave.details.authrole, "admin");
 *
 * for (const session of [alice, bob, carol, dave]) await session.close();
 * await router.close();
 * ```
 */
export interface AuthCredentials {
  /** The authid to ask for: required by ticket, wampcra and wamp-scram. */
  authid?: string;
  /**
   * Authentication methods to offer, in order of preference.
   * @default {the methods with credentials, or ["anonymous"]}
   */
  authmethods?: string[];
  /**
   * HELLO.Details.authextra. Keys the built-in methods need (`pubkey`,
   * `nonce`, `channel_binding`) are added to it.
   * @default {{}}
   */
  authextra?: Dict;
  /** Ticket (authmethod `ticket`): sent as is, so use TLS. */
  ticket?: string;
  /**
   * WAMP-CRA (authmethod `wampcra`): the shared secret, or the password
   * when the router's CHALLENGE carries `salt` (then the key is derived
   * with PBKDF2 from `salt`, `iterations` and `keylen`, as Autobahn does).
   */
  secret?: string;
  /**
   * WAMP-Cryptosign (authmethod `cryptosign`): the private key. HELLO
   * sends its public key as `authextra.pubkey`; the authid may be omitted.
   */
  cryptosign?: CryptosignKey;
  /**
   * WAMP-SCRAM (authmethod `wamp-scram`): the password. The join fails if
   * the router's WELCOME does not prove that it knows it.
   */
  password?: string;
  /**
   * Bind cryptosign and wamp-scram logins to the TLS connection: HELLO
   * asks for `authextra.channel_binding`, and the signature or proof
   * covers the connection's `tls-unique` value (SHA-256 of the client's
   * TLS Finished message, as Crossbar and Autobahn compute it), so a man in the middle
   * with its own TLS connection to the router cannot reuse it. Needs a
   * TLS transport (`wss://`, `tcps://`): joining over anything else
   * throws. `cryptosign.channelBinding`, when given, takes its place.
   * @default {null (unbound)}
   */
  channelBinding?: "tls-unique" | null;
  /**
   * The most key-derivation work a CHALLENGE may ask for (WAMP-SCRAM's
   * PBKDF2 iterations or Argon2id memory and passes, salted WAMP-CRA's
   * iterations). Past a limit the client sends ABORT
   * `wamp.error.cannot_authenticate` and the join rejects with a
   * `SessionClosedError` whose message names the limit. See
   * docs/security.md, "Key derivation".
   * @default {KDF_LIMITS: 1,000,000 PBKDF2 iterations, 256 MiB and 4 GiB of passes × memory for Argon2id}
   */
  kdfLimits?: KdfLimits;
  /** Answers CHALLENGEs for offered methods that have no credentials here. */
  onChallenge?: ChallengeHandler;
}
