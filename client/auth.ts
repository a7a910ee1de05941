/**
 * The client side of WAMP authentication (spec "Authentication Methods",
 * https://wamp-proto.org/wamp_latest_ietf.html#authentication): what HELLO
 * offers, how a CHALLENGE is answered, and the check of the router's
 * WELCOME. Credentials are given in {@linkcode AuthCredentials}, which
 * `JoinOptions` extends: ticket, WAMP-CRA (plain or salted), WAMP-Cryptosign
 * and WAMP-SCRAM are built in, and `onChallenge` answers anything else.
 *
 * @module
 */

import { AuthMethod } from "../wamp/auth/auth_method.ts";
import { cryptosignKeyPair, signChallenge as cryptosignSign } from "../wamp/auth/cryptosign.ts";
import { generateNonce } from "../wamp/auth/scram.ts";
import { answerChallenge, checkVerifier } from "../wamp/auth/scram_client.ts";
import { deriveKey, signChallenge as craSign } from "../wamp/auth/wampcra.ts";
import type { Dict } from "../wamp/mod.ts";

/**
 * The ABORT reason a client sends when it cannot answer a CHALLENGE (no
 * credentials for the method, a malformed or unacceptable challenge, or an
 * `onChallenge` handler that threw). Not in the spec's URI list; Autobahn|JS,
 * Autobahn|Python, WampSharp and Wampy.js all send it.
 */
export const CANNOT_AUTHENTICATE = "wamp.error.cannot_authenticate";

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
 * to refuse, which sends ABORT {@linkcode CANNOT_AUTHENTICATE}.
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
}

/**
 * Credentials for joining a realm (spec "Authentication Methods"). Give the
 * credentials of the methods to offer; without `authmethods`, HELLO offers
 * exactly those methods, in the order cryptosign, wamp-scram, wampcra,
 * ticket, or `["anonymous"]` when none is given. The router picks one and
 * sends a CHALLENGE, which the client answers from these credentials (or
 * with `onChallenge`). A CHALLENGE the client cannot answer (a method it did
 * not offer or has no credentials for, a malformed challenge) makes it send
 * ABORT {@linkcode CANNOT_AUTHENTICATE} and reject the join with a
 * `SessionClosedError` of that reason; an ABORT from the router rejects the
 * join with a `SessionClosedError` carrying the router's reason, e.g.
 * `wamp.error.authentication_failed`.
 *
 * @example Joining with each built-in method
 * ```ts
 * import {
 *   connectLocal,
 *   cryptosignKeyPair,
 *   Router,
 *   scramDeriveCredentials,
 *   wampcraDeriveKey,
 * } from "@cloverleaf/wamp";
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
  /** Answers CHALLENGEs for offered methods that have no credentials here. */
  onChallenge?: ChallengeHandler;
}

/**
 * One join's authentication, from HELLO to WELCOME: builds the HELLO
 * details, answers CHALLENGEs and checks the WELCOME. Used by `Session`;
 * not exported from the package.
 */
export class ClientAuthenticator {
  #options: AuthCredentials;
  #methods: string[];
  #pubkey: string | undefined;
  #scramNonce: string | undefined;
  #verifier: string | undefined;

  /**
   * Reads the credentials.
   *
   * @param options The credentials.
   * @throws {RangeError} If the cryptosign seed is not 32 bytes of hex.
   */
  constructor(options: AuthCredentials) {
    this.#options = options;
    this.#methods = options.authmethods ?? defaultMethods(options);
    if (options.cryptosign !== undefined && this.#offers(AuthMethod.CRYPTOSIGN)) {
      this.#pubkey = cryptosignKeyPair(options.cryptosign.seed).publicKey;
    }
    if (options.password !== undefined && this.#offers(AuthMethod.WAMP_SCRAM)) {
      this.#scramNonce = generateNonce();
    }
  }

  /**
   * The authentication keys of HELLO.Details.
   *
   * @returns `authmethods`, and `authid` and `authextra` when there are any.
   */
  hello(): Dict {
    const details: Dict = { authmethods: [...this.#methods] };
    if (this.#options.authid !== undefined) details.authid = this.#options.authid;
    const authextra: Dict = { ...this.#options.authextra };
    if (this.#pubkey !== undefined) authextra.pubkey = this.#pubkey;
    if (this.#scramNonce !== undefined) {
      authextra.nonce = this.#scramNonce;
      authextra.channel_binding = null;
    }
    if (Object.keys(authextra).length > 0) details.authextra = authextra;
    return details;
  }

  /**
   * Answers a CHALLENGE.
   *
   * @param authmethod CHALLENGE.AuthMethod.
   * @param extra CHALLENGE.Extra.
   * @returns AUTHENTICATE's signature and extra.
   * @throws {Error} When the client cannot or will not answer; the message
   * says why, for the ABORT.
   */
  async answer(authmethod: string, extra: Dict): Promise<Required<ChallengeAnswer>> {
    if (!this.#offers(authmethod)) {
      throw new Error(`Cannot authenticate with "${authmethod}": the client did not offer it`);
    }
    const builtIn = this.#builtIn(authmethod, extra);
    if (builtIn !== undefined) return builtIn;
    const handler = this.#options.onChallenge;
    if (handler === undefined) {
      throw new Error(`Cannot authenticate with "${authmethod}": no credentials given`);
    }
    const answer = await handler(authmethod, extra);
    if (typeof answer === "string") return { signature: answer, extra: {} };
    if (typeof answer?.signature !== "string") {
      throw new TypeError(
        `Cannot authenticate with "${authmethod}": onChallenge gave no signature`,
      );
    }
    return { signature: answer.signature, extra: answer.extra ?? {} };
  }

  /**
   * Checks WELCOME.Details: after WAMP-SCRAM, the router must prove it knows
   * the credentials with `authextra.verifier`.
   *
   * @param details WELCOME.Details.
   * @returns Why the WELCOME is not acceptable, or `undefined` if it is.
   */
  welcome(details: Dict): string | undefined {
    const scram = details.authmethod === AuthMethod.WAMP_SCRAM || this.#verifier !== undefined;
    if (!scram || this.#scramNonce === undefined) return undefined;
    const authextra = details.authextra;
    const verifier = typeof authextra === "object" && authextra !== null
      ? (authextra as Dict).verifier
      : undefined;
    if (this.#verifier !== undefined && checkVerifier(this.#verifier, verifier)) return undefined;
    return "the router could not prove it knows the credentials: " +
      `wamp-scram verifier ${verifier === undefined ? "missing" : "wrong"}`;
  }

  #offers(authmethod: string): boolean {
    return this.#methods.includes(authmethod);
  }

  #builtIn(authmethod: string, extra: Dict): Required<ChallengeAnswer> | undefined {
    const { ticket, secret, cryptosign, password, authid } = this.#options;
    switch (authmethod) {
      case AuthMethod.TICKET:
        return ticket === undefined ? undefined : { signature: ticket, extra: {} };
      case AuthMethod.WAMPCRA:
        return secret === undefined
          ? undefined
          : { signature: craAnswer(secret, extra), extra: {} };
      case AuthMethod.CRYPTOSIGN: {
        if (cryptosign === undefined) return undefined;
        return { signature: cryptosignAnswer(cryptosign, extra), extra: {} };
      }
      case AuthMethod.WAMP_SCRAM: {
        if (password === undefined || this.#scramNonce === undefined) return undefined;
        if (authid === undefined) {
          throw new TypeError('Cannot authenticate with "wamp-scram": no authid given');
        }
        const answer = answerChallenge(password, { authid, nonce: this.#scramNonce }, extra);
        this.#verifier = answer.verifier;
        return { signature: answer.signature, extra: { ...answer.extra } };
      }
    }
    return undefined;
  }
}

/** The methods to offer when `authmethods` is not given. */
function defaultMethods(options: AuthCredentials): string[] {
  const methods: string[] = [];
  if (options.cryptosign !== undefined) methods.push(AuthMethod.CRYPTOSIGN);
  if (options.password !== undefined) methods.push(AuthMethod.WAMP_SCRAM);
  if (options.secret !== undefined) methods.push(AuthMethod.WAMPCRA);
  if (options.ticket !== undefined) methods.push(AuthMethod.TICKET);
  return methods.length > 0 ? methods : [AuthMethod.ANONYMOUS];
}

/** Signs a WAMP-CRA challenge, deriving the key first when it is salted. */
function craAnswer(secret: string, extra: Dict): string {
  const { challenge, salt, iterations, keylen } = extra;
  if (typeof challenge !== "string") {
    throw new TypeError('Cannot authenticate with "wampcra": the challenge is not a string');
  }
  if (salt === undefined || salt === null) return craSign(secret, challenge);
  if (typeof salt !== "string") {
    throw new TypeError('Cannot authenticate with "wampcra": the salt is not a string');
  }
  const count = typeof iterations === "number" ? iterations : undefined;
  const length = typeof keylen === "number" ? keylen : undefined;
  return craSign(deriveKey(secret, salt, count, length), challenge);
}

/** Signs a Cryptosign challenge; the session is never channel-bound. */
function cryptosignAnswer(key: CryptosignKey, extra: Dict): string {
  const binding = extra.channel_binding;
  if (binding !== undefined && binding !== null) {
    throw new TypeError(
      `Cannot authenticate with "cryptosign": channel binding "${binding}" was not asked for`,
    );
  }
  if (typeof extra.challenge !== "string") {
    throw new TypeError('Cannot authenticate with "cryptosign": the challenge is not a string');
  }
  return cryptosignSign(key.seed, extra.challenge);
}
