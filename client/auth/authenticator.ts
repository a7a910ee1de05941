/**
 * The client side of WAMP authentication (spec "Authentication Methods",
 * https://wamp-proto.org/wamp_latest_ietf.html#authentication): what HELLO
 * offers, how a CHALLENGE is answered, and the check of the router's
 * WELCOME. The credentials are {@linkcode AuthCredentials}; each built-in
 * method signs in its own file (`wampcra.ts`, `cryptosign.ts`; ticket is
 * the ticket itself, WAMP-SCRAM keeps its state here).
 *
 * @module
 */

import { AuthMethod } from "../../wamp/auth/auth_method.ts";
import { generateNonce } from "../../wamp/auth/scram.ts";
import { checkVerifier } from "../../wamp/auth/scram_client.ts";
import { checkKdfLimits } from "../../wamp/auth/kdf_limits.ts";
import { toBase64 } from "../../wamp/bytes.ts";
import type { Dict, TransportInfo, WelcomeDetails } from "../../wamp/mod.ts";
import { bindChannel, type BoundChannel } from "./channel_binding.ts";
import type { AuthCredentials, ChallengeAnswer, CryptosignKey } from "./credentials.ts";
import { cryptosignAnswer, cryptosignPublicKey } from "./cryptosign.ts";
import { scramAnswer } from "./scram.ts";
import { craAnswer } from "./wampcra.ts";

/**
 * One join's authentication, from HELLO to WELCOME: builds the HELLO
 * details, answers CHALLENGEs and checks the WELCOME. Used by `Session`;
 * not exported from the package.
 */
export class ClientAuthenticator {
  #options: AuthCredentials;
  #methods: string[];
  #cryptosign: CryptosignKey | undefined;
  #pubkey: string | undefined;
  #scramNonce: string | undefined;
  #verifier: string | undefined;
  #binding: BoundChannel | undefined;
  /** Whether a CHALLENGE was answered. */
  #challenged = false;
  /** An in-process link: no one in the middle (the router may vouch for the session: `internal`). */
  #inProcess: boolean;

  /**
   * Reads the credentials.
   *
   * @param options The credentials.
   * @param transport The transport the join runs over: channel binding
   * reads its `tls.channelId`.
   * @throws {TypeError} If a channel binding is asked for and the transport
   * has no TLS channel ID.
   */
  constructor(options: AuthCredentials, transport?: TransportInfo) {
    this.#options = options;
    this.#inProcess = transport?.type === "local";
    if (options.kdfLimits !== undefined) checkKdfLimits(options.kdfLimits);
    this.#methods = options.authmethods ?? defaultMethods(options);
    this.#cryptosign = offeredCryptosign(options, this.#methods);
    if (options.password !== undefined && this.#offers(AuthMethod.WAMP_SCRAM)) {
      this.#scramNonce = generateNonce();
    }
    if (this.#cryptosign !== undefined || this.#scramNonce !== undefined) {
      // HELLO carries one channel_binding, for whichever method the router picks.
      this.#binding = bindChannel(
        options.cryptosign?.channelBinding === undefined
          ? options.channelBinding
          : options.cryptosign.channelBinding,
        transport,
      );
    }
  }

  /**
   * Derives what HELLO needs that takes WebCrypto: the cryptosign public
   * key. Call (and await) before {@linkcode hello} when it returns a promise.
   *
   * @returns A promise when there is work to do, else `undefined`.
   * @throws {CredentialsError} (rejecting) When the key cannot be derived.
   */
  prepare(): Promise<void> | undefined {
    const key = this.#cryptosign;
    if (key === undefined || this.#pubkey !== undefined) return undefined;
    return cryptosignPublicKey(key).then((pubkey) => {
      this.#pubkey = pubkey;
    });
  }

  /**
   * The authentication keys of HELLO.Details, once {@linkcode prepare} is done.
   *
   * @returns `authmethods`, and `authid` and `authextra` when there are any.
   * @throws {Error} When the cryptosign key is not prepared yet.
   */
  hello(): Dict {
    if (this.#cryptosign !== undefined && this.#pubkey === undefined) {
      throw new Error(
        "Cannot build HELLO: the cryptosign public key is not derived yet (prepare())",
      );
    }
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
   * @param signal Stops a key derivation under way (the join ended).
   * @returns AUTHENTICATE's signature and extra.
   * @throws {Error} When the client cannot or will not answer; the message
   * says why, for the ABORT.
   */
  async answer(
    authmethod: string,
    extra: Dict,
    signal?: AbortSignal,
  ): Promise<Required<ChallengeAnswer>> {
    if (!this.#offers(authmethod)) {
      throw new Error(`Cannot authenticate with "${authmethod}": the client did not offer it`);
    }
    this.#challenged = true;
    const builtIn = await this.#builtIn(authmethod, extra, signal);
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
   * Checks WELCOME.Details, over a link that is not in-process: its
   * `authmethod` is one the client offered, and one that needs no
   * CHALLENGE unless one was answered (a router, or a man in the middle,
   * cannot skip the credentials the client asked to be checked with);
   * after WAMP-SCRAM, the router must prove it knows the credentials with
   * `authextra.verifier`.
   *
   * @param details WELCOME.Details.
   * @returns Why the WELCOME is not acceptable, or `undefined` if it is.
   */
  welcome(details: WelcomeDetails): string | undefined {
    // A cookie login names the method the cookie was won with, and has no proof to check.
    if (this.#offers("cookie") && details.authprovider === "cookie") return undefined;
    const skipped = this.#inProcess ? undefined : this.#skipped(details);
    if (skipped !== undefined) return skipped;
    const scram = details.authmethod === AuthMethod.WAMP_SCRAM || this.#verifier !== undefined;
    if (!scram || this.#scramNonce === undefined) return undefined;
    const verifier = details.authextra?.verifier;
    if (this.#verifier !== undefined && checkVerifier(this.#verifier, verifier)) return undefined;
    return "the router could not prove it knows the credentials: " +
      `wamp-scram verifier ${verifier === undefined ? "missing" : "wrong"}`;
  }

  /**
   * Why a WELCOME skipped the credentials the client offered, if it did:
   * it names a method the client did not offer, or, with no CHALLENGE
   * answered, one that always CHALLENGEs, or none when the client offered
   * nothing that can go without one (anonymous, tls, cookie).
   */
  #skipped(details: WelcomeDetails): string | undefined {
    const method = details.authmethod;
    if (method !== undefined && !this.#offers(method)) {
      return `the router welcomed the session with "${method}", which the client did not offer`;
    }
    const skipped = method === undefined
      ? !this.#methods.some((m) => UNCHALLENGED.has(m))
      : CHALLENGED.has(method);
    if (this.#challenged || !skipped) return undefined;
    const how = method === undefined ? "without an authmethod" : `with "${method}"`;
    return `the router welcomed the session ${how} and no CHALLENGE`;
  }

  #offers(authmethod: string): boolean {
    return this.#methods.includes(authmethod);
  }

  async #builtIn(
    authmethod: string,
    extra: Dict,
    signal: AbortSignal | undefined,
  ): Promise<Required<ChallengeAnswer> | undefined> {
    const { ticket, secret, cryptosign, password, authid, kdfLimits } = this.#options;
    switch (authmethod) {
      case AuthMethod.TICKET:
        return ticket === undefined ? undefined : { signature: ticket, extra: {} };
      case AuthMethod.WAMPCRA:
        return secret === undefined
          ? undefined
          : { signature: await craAnswer(secret, extra, kdfLimits), extra: {} };
      case AuthMethod.CRYPTOSIGN: {
        if (cryptosign === undefined) return undefined;
        return {
          signature: await cryptosignAnswer(cryptosign, extra, this.#binding),
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
          cbindData: toBase64(binding.channelId),
        };
        const answer = await scramAnswer(password, hello, extra, kdfLimits, signal);
        this.#verifier = answer.verifier;
        return { signature: answer.signature, extra: { ...answer.extra } };
      }
    }
    return undefined;
  }
}

/**
 * Checks what can be checked of the credentials before connecting: derives
 * the cryptosign public key when cryptosign is offered (once per key).
 *
 * @param options The credentials.
 * @throws {CredentialsError} (rejecting) When the cryptosign key cannot be
 * used: a bad seed, no Ed25519 in this platform's WebCrypto.
 */
export async function prepareCredentials(options: AuthCredentials): Promise<void> {
  const cryptosign = offeredCryptosign(options);
  if (cryptosign !== undefined) await cryptosignPublicKey(cryptosign);
}

/** The cryptosign key, when given and cryptosign is among the methods offered. */
function offeredCryptosign(
  options: AuthCredentials,
  methods: readonly string[] = options.authmethods ?? defaultMethods(options),
): CryptosignKey | undefined {
  return methods.includes(AuthMethod.CRYPTOSIGN) ? options.cryptosign : undefined;
}

/** The methods a WELCOME that names none may stand for without a CHALLENGE. */
const UNCHALLENGED: ReadonlySet<string> = new Set([AuthMethod.ANONYMOUS, AuthMethod.TLS, "cookie"]);

/** The methods whose login always takes a CHALLENGE. */
const CHALLENGED: ReadonlySet<string> = new Set([
  AuthMethod.TICKET,
  AuthMethod.WAMPCRA,
  AuthMethod.WAMP_SCRAM,
  AuthMethod.CRYPTOSIGN,
]);

/** The methods to offer when `authmethods` is not given. */
function defaultMethods(options: AuthCredentials): string[] {
  const methods: string[] = [];
  if (options.cryptosign !== undefined) methods.push(AuthMethod.CRYPTOSIGN);
  if (options.password !== undefined) methods.push(AuthMethod.WAMP_SCRAM);
  if (options.secret !== undefined) methods.push(AuthMethod.WAMPCRA);
  if (options.ticket !== undefined) methods.push(AuthMethod.TICKET);
  return methods.length > 0 ? methods : [AuthMethod.ANONYMOUS];
}
