/**
 * Joining a realm, client side (spec "Session Establishment"): the HELLO
 * (roles, agent, what to authenticate with), the AUTHENTICATE answering a
 * CHALLENGE, and the check of the router's WELCOME. The session sends what
 * this builds and feeds it what arrives while it is joining.
 *
 * @module
 */

import denoConfig from "../deno.json" with { type: "json" };
import {
  type AuthenticateMessage,
  type ChallengeMessage,
  CLIENT_FEATURES,
  CloseUri,
  ErrorUri,
  type HelloMessage,
  type Link,
  type Logger,
  MessageType,
  rolesDict,
  type WelcomeMessage,
} from "../wamp/mod.ts";
import { ClientAuthenticator } from "./auth/authenticator.ts";
import type { AuthCredentials } from "./auth/credentials.ts";
import { SessionClosedError } from "./errors.ts";
import { type ClientLimitOptions, type ClientLimits, clientLimits } from "./limits.ts";

/** Options for joining a realm: the realm, credentials, a timeout, the client's limits. */
export interface JoinOptions extends AuthCredentials, ClientLimitOptions {
  /** The realm to join. */
  realm: string;
  /**
   * How long to wait for WELCOME, in milliseconds.
   * @default {10000}
   */
  timeout?: number;
  /**
   * Where the session logs what it cannot throw to anyone: an event
   * handler or `onRevoked` callback that failed (level `error`, fields
   * `topic` or `procedure`, and `reason`).
   * @default {`console.warn` for `warn` and `error` lines, nothing else}
   */
  logger?: Logger;
}

/** The client's default logger: `warn` and `error` lines to `console.warn`, nothing else. */
export const warningsToConsole: Logger = (level, message) => {
  if (level === "warn" || level === "error") console.warn(`cloverleaf client: ${message}`);
};

/** HELLO.Details.agent: this client and its version. */
const AGENT = `Cloverleaf-${denoConfig.version}`;

/** One join, from HELLO to WELCOME. Internal: the session drives it. */
export class Joiner {
  /** The realm to join. */
  readonly realm: string;
  /** Where the session logs. */
  readonly log: Logger;
  /** The session's limits. */
  readonly limits: ClientLimits;
  #auth: ClientAuthenticator;
  #link: Link;
  #challenged = false;
  /** Stops the CHALLENGE's key derivation once the join ended (seconds of Argon2id work). */
  #ended = new AbortController();

  /**
   * Reads the realm and the credentials.
   *
   * @param options Realm and credentials.
   * @param link The link the join runs over (channel binding reads its
   * transport info); closed when the credentials are unusable.
   * @throws {TypeError} When channel binding is asked for over a link without TLS.
   * @throws {RangeError} When a limit is out of range.
   */
  constructor(options: JoinOptions, link: Link) {
    this.realm = options.realm;
    this.log = options.logger ?? warningsToConsole;
    this.#link = link;
    try {
      this.limits = clientLimits(options);
      this.#auth = new ClientAuthenticator(options, link.info);
    } catch (error) {
      link.close();
      throw error;
    }
  }

  /**
   * The HELLO to open with: the client's roles, its agent and what it
   * authenticates with.
   *
   * @returns The HELLO, or a promise of it when the cryptosign public key
   * must be derived first (WebCrypto is asynchronous).
   * @throws {CredentialsError} When the cryptosign public key cannot be
   * derived (a bad seed, no Ed25519 in WebCrypto); the link is closed.
   */
  hello(): HelloMessage | Promise<HelloMessage> {
    const pending = this.#auth.prepare();
    if (pending === undefined) return this.#hello();
    return pending.then(() => this.#hello(), (error: unknown) => {
      this.#link.close();
      throw error;
    });
  }

  #hello(): HelloMessage {
    const auth = this.#auth.hello();
    const details = { roles: rolesDict(CLIENT_FEATURES), agent: AGENT, ...auth };
    return { type: MessageType.HELLO, realm: this.realm, details };
  }

  /**
   * Answers a CHALLENGE, on a later tick: `send` gets the AUTHENTICATE, or
   * `abort` gets ABORT `wamp.error.cannot_authenticate` and why, when the
   * client cannot or will not answer. WAMP authenticates in one round: a
   * second CHALLENGE in one join gets ABORT `wamp.error.protocol_violation`
   * at once, and starts no second key derivation.
   *
   * @param msg The CHALLENGE.
   * @param send Sends the AUTHENTICATE.
   * @param abort Aborts the join.
   */
  challenge(
    msg: ChallengeMessage,
    send: (reply: AuthenticateMessage) => void,
    abort: (reason: string, message: string) => void,
  ): void {
    if (this.#challenged) {
      return abort(ErrorUri.PROTOCOL_VIOLATION, "a second CHALLENGE in one join");
    }
    this.#challenged = true;
    this.#auth.answer(msg.authmethod, msg.extra, this.#ended.signal).then(
      ({ signature, extra }) => send({ type: MessageType.AUTHENTICATE, signature, extra }),
      (error: unknown) =>
        abort(ErrorUri.CANNOT_AUTHENTICATE, error instanceof Error ? error.message : String(error)),
    );
  }

  /** The join ended (joined, refused, timed out, or the link went): stops what answers a CHALLENGE. */
  ended(): void {
    this.#ended.abort(new Error("the join ended"));
  }

  /** The join timed out: it is over at once, its key derivation too (a link may close late), and the link closes. */
  expired(): void {
    this.ended();
    this.#link.close();
  }

  /**
   * Checks the WELCOME: after WAMP-SCRAM the router must prove it knows
   * the credentials.
   *
   * @param msg The WELCOME.
   * @returns Why it is refused (ABORT `wamp.error.authentication_failed`),
   * or `undefined` when it is accepted.
   */
  welcome(msg: WelcomeMessage): string | undefined {
    return this.#auth.welcome(msg.details);
  }
}

/**
 * Waits for a join to complete, at most `timeout` milliseconds.
 *
 * @param joined Settles when the join does.
 * @param timeout Milliseconds to wait for WELCOME.
 * @param expire Runs when the time is up (closes the link).
 * @returns When joined.
 * @throws {SessionClosedError} `wamp.close.timeout` when the time is up,
 * or whatever `joined` rejects with.
 */
export async function joinWithin(
  joined: Promise<void>,
  timeout: number,
  expire: () => void,
): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      expire();
      reject(new SessionClosedError(CloseUri.TIMEOUT, `no WELCOME in ${timeout} ms`));
    }, timeout);
  });
  try {
    await Promise.race([joined, expired]);
  } finally {
    clearTimeout(timer);
  }
}
