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

import { AuthMethod, ChannelBinding } from "../wamp/auth/auth_method.ts";
import { cryptosignKeyPair, signChallenge as cryptosignSign } from "../wamp/auth/cryptosign.ts";
import { generateNonce } from "../wamp/auth/scram.ts";
import { answerChallenge, checkVerifier } from "../wamp/auth/scram_client.ts";
import { deriveKey, signChallenge as craSign } from "../wamp/auth/wampcra.ts";
import type { Dict, TransportInfo, WelcomeDetails } from "../wamp/mod.ts";

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
  #binding: Bound | undefined;

  /**
   * Reads the credentials.
   *
   * @param options The credentials.
   * @param transport The transport the join runs over: channel binding
   * reads its `tls.channelId`.
   * @throws {RangeError} If the cryptosign seed is not 32 bytes of hex.
   * @throws {TypeError} If a channel binding is asked for and the transport
   * has no TLS channel ID.
   */
  constructor(options: AuthCredentials, transport?: TransportInfo) {
    this.#options = options;
    this.#methods = options.authmethods ?? defaultMethods(options);
    if (options.cryptosign !== undefined && this.#offers(AuthMethod.CRYPTOSIGN)) {
      this.#pubkey = cryptosignKeyPair(options.cryptosign.seed).publicKey;
    }
    if (options.password !== undefined && this.#offers(AuthMethod.WAMP_SCRAM)) {
      this.#scramNonce = generateNonce();
    }
    if (this.#pubkey !== undefined || this.#scramNonce !== undefined) {
      // HELLO carries one channel_binding, for whichever method the router picks.
      this.#binding = bind(
        options.cryptosign?.channelBinding === undefined
          ? options.channelBinding
          : options.cryptosign.channelBinding,
        transport,
      );
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
    if (this.#scramNonce !== undefined) authextra.nonce = this.#scramNonce;
    if (this.#binding !== undefined || this.#scramNonce !== undefined) {
      authextra.channel_binding = this.#binding?.type ?? null;
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
  welcome(details: WelcomeDetails): string | undefined {
    const scram = details.authmethod === AuthMethod.WAMP_SCRAM || this.#verifier !== undefined;
    if (!scram || this.#scramNonce === undefined) return undefined;
    const verifier = details.authextra?.verifier;
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
        return {
          signature: cryptosignAnswer(cryptosign, extra, this.#binding),
          extra: {},
        };
      }
      case AuthMethod.WAMP_SCRAM: {
        if (password === undefined || this.#scramNonce === undefined) return undefined;
        if (authid === undefined) {
          throw new TypeError('Cannot authenticate with "wamp-scram": no authid given');
        }
        const binding = this.#binding;
        const hello = binding === undefined ? { authid, nonce: this.#scramNonce } : {
          authid,
          nonce: this.#scramNonce,
          channelBinding: binding.type,
          cbindData: binding.channelId.toBase64(),
        };
        const answer = answerChallenge(password, hello, extra);
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

/** A channel binding the client asked for, with the transport's channel ID. */
interface Bound {
  readonly type: ChannelBinding;
  readonly channelId: Uint8Array;
}

/** Reads the transport's channel ID for a binding, if one is asked for. */
function bind(
  type: ChannelBinding | null | undefined,
  transport: TransportInfo | undefined,
): Bound | undefined {
  if (type === undefined || type === null) return undefined;
  if (type !== ChannelBinding.TLS_UNIQUE) {
    throw new TypeError(`Cannot bind to the channel: "${type}" is not supported`);
  }
  const channelId = transport?.tls?.channelId;
  if (channelId === undefined || channelId.length !== 32) {
    throw new TypeError(
      `Cannot bind to the channel with "${type}": the ${
        transport?.type ?? "unknown"
      } transport has no TLS channel ID`,
    );
  }
  return { type, channelId };
}

/**
 * Signs a Cryptosign challenge, over `challenge XOR channel_id` when bound.
 * The CHALLENGE must confirm exactly the binding asked for (the spec has
 * the client check): a router that ignores the request would otherwise
 * get an unbound signature it could relay.
 */
function cryptosignAnswer(key: CryptosignKey, extra: Dict, bound: Bound | undefined): string {
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
  return cryptosignSign(key.seed, extra.challenge, bound?.channelId);
}
