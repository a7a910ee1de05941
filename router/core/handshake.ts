/**
 * One authentication handshake, from an accepted HELLO to WELCOME or
 * ABORT: runs the chosen method's steps (each may be asynchronous), sends
 * CHALLENGE, takes one AUTHENTICATE, and gives up after the router's
 * `authTimeout`. A step that settles after the handshake ended is ignored.
 *
 * @module
 */

import {
  type AuthenticateMessage,
  type Dict,
  type HelloMessage,
  MessageType,
  type TransportInfo,
  type WampMessage,
} from "../../wamp/mod.ts";
import type { Authenticator, AuthOutcome, Identity } from "./auth/authenticator.ts";

/** What a handshake needs from its session. */
export interface HandshakeHost {
  /** Sends CHALLENGE. */
  send(msg: WampMessage): void;
  /** The method welcomed the client. */
  welcome(identity: Identity): void;
  /** The method refused, failed or ran out of time; `reason` is for the log only. */
  deny(reason: string): void;
}

type Answer = (signature: string, extra: Dict) => AuthOutcome | Promise<AuthOutcome>;

/** A HELLO being authenticated. */
export class Handshake {
  /** The HELLO. */
  readonly hello: HelloMessage;
  /** The session ID WELCOME will carry. */
  readonly id: number;
  /** The authmethod in use. */
  readonly method: string;
  #host: HandshakeHost;
  #timeout: number;
  #answer: Answer | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #ended = false;

  /**
   * Creates the handshake (call {@linkcode start} next).
   *
   * @param host The session.
   * @param hello The HELLO.
   * @param id The session ID WELCOME will carry.
   * @param method The authmethod chosen.
   * @param timeout Milliseconds from HELLO to WELCOME.
   */
  constructor(
    host: HandshakeHost,
    hello: HelloMessage,
    id: number,
    method: string,
    timeout: number,
  ) {
    this.#host = host;
    this.hello = hello;
    this.id = id;
    this.method = method;
    this.#timeout = timeout;
  }

  /** Whether a CHALLENGE is waiting for its AUTHENTICATE. */
  get challenged(): boolean {
    return this.#answer !== undefined;
  }

  /**
   * Starts the method on the HELLO.
   *
   * @param authenticator The chosen method.
   * @param transport The transport the HELLO came over.
   */
  start(authenticator: Authenticator, transport: TransportInfo): void {
    const { authid, authextra } = this.hello.details;
    this.#step(() =>
      authenticator.hello({
        realm: this.hello.realm,
        authid,
        authextra: authextra ?? {},
        session: this.id,
        transport,
      })
    );
  }

  /** Takes the AUTHENTICATE answering the CHALLENGE (only one). */
  authenticate(msg: AuthenticateMessage): void {
    const answer = this.#answer!;
    this.#answer = undefined;
    this.#step(() => answer(msg.signature, msg.extra));
  }

  /** Ends the handshake: its timer stops and late steps are ignored. */
  end(): void {
    this.#ended = true;
    this.#answer = undefined;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
  }

  /** Runs one step: WELCOME, CHALLENGE or a denial, now or when it settles. */
  #step(run: () => AuthOutcome | Promise<AuthOutcome>): void {
    let outcome: AuthOutcome | Promise<AuthOutcome>;
    try {
      outcome = run();
    } catch (error) {
      return this.#deny(error);
    }
    if (outcome instanceof Promise) {
      this.#armTimeout();
      outcome.then(
        (next) => this.#ended || this.#step(() => next),
        (error) => this.#ended || this.#deny(error),
      );
      return;
    }
    if ("welcome" in outcome) {
      this.end();
      return this.#host.welcome(outcome.welcome);
    }
    if ("deny" in outcome) return this.#deny(outcome.deny);
    this.#answer = outcome.answer;
    this.#armTimeout();
    this.#host.send({
      type: MessageType.CHALLENGE,
      authmethod: this.method,
      extra: outcome.challenge,
    });
  }

  #armTimeout(): void {
    this.#timer ??= setTimeout(() => this.#ended || this.#deny("timed out"), this.#timeout);
  }

  #deny(reason: unknown): void {
    this.end();
    this.#host.deny(reason instanceof Error ? reason.message : `${reason}`);
  }
}

/** Which router role serves which client roles. */
const SERVES: Readonly<Record<string, readonly string[]>> = {
  broker: ["publisher", "subscriber"],
  dealer: ["caller", "callee"],
};

/** Bytes of a message as JSON: an upper bound for MessagePack and CBOR too. */
function jsonSize(msg: unknown[]): number {
  return new TextEncoder().encode(JSON.stringify(msg)).length;
}

/**
 * The WELCOME details to send a peer that accepts messages of at most
 * `limit` bytes (a RawSocket client may announce as little as 512): the
 * full details when they fit; else the router's roles with only the
 * features the client announced; else the roles as empty dicts and no
 * `agent`. Sizes are measured as JSON, which is never smaller than the
 * MessagePack or CBOR encoding of these details.
 *
 * @param session The session ID.
 * @param details The full WELCOME details (`roles` the router's roles).
 * @param clientRoles The roles from HELLO (with their `features`).
 * @param limit The peer's limit, if it announced one.
 * @returns The details to send.
 *
 * @example
 * ```ts
 * import { welcomeDetails } from "./handshake.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const features = Object.fromEntries(
 *   Array.from({ length: 40 }, (_, i) => [`feature_number_${i}`, true]),
 * );
 * const details = { roles: { broker: { features } }, agent: "Cloverleaf", authid: "joe" };
 * const hello = { subscriber: { features: { feature_number_3: true } } };
 * deepEqual(welcomeDetails(1, details, hello, 1 << 24), details);
 * deepEqual(welcomeDetails(1, details, hello, 512), {
 *   roles: { broker: { features: { feature_number_3: true } } },
 *   agent: "Cloverleaf",
 *   authid: "joe",
 * });
 * ```
 */
export function welcomeDetails(
  session: number,
  details: Dict,
  clientRoles: Dict,
  limit: number | undefined,
): Dict {
  // The full details are about 1 KiB: no need to measure for a roomy limit.
  if (limit === undefined || limit >= 65_536) return details;
  const fits = (d: Dict) => jsonSize([MessageType.WELCOME, session, d]) <= limit;
  if (fits(details)) return details;
  const routerRoles = (details.roles ?? {}) as Dict;
  const announced = (role: string): Dict => {
    const out: Dict = {};
    for (const client of SERVES[role] ?? []) {
      const features = (clientRoles[client] as Dict | undefined)?.features;
      if (typeof features !== "object" || features === null) continue;
      for (const [key, value] of Object.entries(features)) if (value === true) out[key] = true;
    }
    return out;
  };
  const trimmed: Dict = {};
  for (const [role, dict] of Object.entries(routerRoles)) {
    const offered = ((dict as Dict | undefined)?.features ?? {}) as Dict;
    const wanted = announced(role);
    const features: Dict = {};
    for (const key of Object.keys(wanted)) if (offered[key] === true) features[key] = true;
    trimmed[role] = Object.keys(features).length === 0 ? {} : { features };
  }
  const narrower = { ...details, roles: trimmed };
  if (fits(narrower)) return narrower;
  const bare: Dict = {};
  for (const role of Object.keys(routerRoles)) bare[role] = {};
  const { agent: _agent, ...rest } = details;
  return { ...rest, roles: bare };
}
