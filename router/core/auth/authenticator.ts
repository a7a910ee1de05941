/**
 * The shape every authentication method shares: HELLO in, then WELCOME
 * at once, or a CHALLENGE whose AUTHENTICATE answer decides, or a denial.
 * A step may be asynchronous (a custom method may return a promise), and a
 * method that consults a dynamic authenticator says so with an `ask`
 * outcome: the router runs the question as a task, under its
 * `authTimeout`, and continues with the answer. The methods here never
 * await.
 *
 * @module
 */

import { ChannelBinding } from "../../../wamp/auth/auth_method.ts";
import type { Dict, PeerCertificate, TransportInfo } from "../../../wamp/mod.ts";
import { ASKED_BYTES, keptPayloadSize } from "../limits.ts";

/** The identity a session is welcomed with. */
export interface Identity {
  /** Authenticated identity. */
  authid: string;
  /** Authenticated role. */
  authrole: string;
  /** The method used (`anonymous`, `ticket`, `wampcra`, …). */
  authmethod: string;
  /** Who vouched for it: `static` (the config) or `dynamic` (an authenticator). */
  authprovider: string;
  /** Method-specific data for WELCOME.Details.authextra (e.g. SCRAM's verifier). */
  authextra?: Dict;
}

/** What an authentication method sees of a HELLO. */
export interface AuthRequest {
  /** The realm asked for. */
  readonly realm: string;
  /** HELLO.Details.authid, if given. */
  readonly authid: string | undefined;
  /** HELLO.Details.authextra (`{}` when absent). */
  readonly authextra: Dict;
  /** The session ID WELCOME will carry (WAMP-CRA signs it). */
  readonly session: number;
  /** The transport under the session. */
  readonly transport: TransportInfo;
}

/** The next step of a handshake. */
export type AuthOutcome =
  | { readonly welcome: Identity }
  | {
    /** CHALLENGE.Extra to send. */
    readonly challenge: Dict;
    /** Judges the AUTHENTICATE answer (signature, extra). */
    readonly answer: (signature: string, extra: Dict) => AuthOutcome | Promise<AuthOutcome>;
  }
  | {
    /** Why, for the router's log only: the client learns nothing but the URI. */
    readonly deny: string;
  }
  | {
    /**
     * Asks something that may take a while (a dynamic authenticator): the
     * router calls it (it may return a promise) and waits, under its
     * `authTimeout`; when it throws, the handshake is denied. `ended`
     * aborts when the handshake ends first (the client left, `authTimeout`)
     * and the ask holds no `failedLogins` place; one that does goes on,
     * until the router call's 10 s (or `authTimeout` when longer) at most.
     */
    readonly ask: (ended?: AbortSignal) => unknown;
    /** Continues with the answer (throwing denies). */
    readonly next: (answer: unknown) => AuthOutcome;
  };

/** One authentication method of a realm. */
export interface Authenticator {
  /** The authmethod name, as in HELLO.Details.authmethods. */
  readonly method: string;
  /**
   * Whether the method can serve this HELLO at all; when not, the router
   * tries the client's next method (cookie: only with a known cookie).
   * @default {always}
   */
  accepts?(realm: string, transport: TransportInfo): boolean;
  /** Starts the handshake for a HELLO that chose this method. */
  hello(request: AuthRequest): AuthOutcome | Promise<AuthOutcome>;
}

/**
 * What a dynamic authenticator is asked: Crossbar's
 * `authenticate(realm, authid, details)` with the details flattened in.
 */
export interface DynamicAuthRequest {
  /** The realm asked for. */
  realm: string;
  /** HELLO.Details.authid (may be absent for cryptosign). */
  authid?: string;
  /** The method being used. */
  authmethod: string;
  /** HELLO.Details.authextra. */
  authextra: Dict;
  /** The session ID being authenticated. */
  session: number;
  /** The transport, as the session meta API shows it. */
  transport: Dict;
  /** The ticket (ticket method only). */
  ticket?: string;
}

/**
 * What a dynamic authenticator answers: at least the role; per method,
 * the credentials to check (`secret` for wampcra, `pubkey` or
 * `authorized_keys` for cryptosign, SCRAM's stored credentials). A bare
 * string is read as `{ role }` (Crossbar does the same). Throwing denies.
 */
export type DynamicPrincipal = string | Dict;

/** A dynamic authenticator in TypeScript (the library API). */
export type DynamicAuthenticator = (
  request: DynamicAuthRequest,
) => DynamicPrincipal | Promise<DynamicPrincipal>;

/**
 * A dynamic authenticator the router calls as a procedure (Crossbar's
 * `authenticator: "<uri>"`): how to ask it, and where its answer holds the
 * principal.
 */
export interface ProcedureAuthenticator {
  /** Calls the procedure (returns a promise of the call's result; `ended` cancels it). */
  readonly call: (request: DynamicAuthRequest, ended?: AbortSignal) => unknown;
  /** The principal in the call's result. */
  readonly principal: (result: unknown) => DynamicPrincipal;
}

/** Who decides for a method: a dynamic authenticator in code, or a procedure. */
export type DynamicSource = DynamicAuthenticator | ProcedureAuthenticator;

/** Turns a dynamic authenticator's answer into a dict with a string `role`. */
function principalOf(answer: DynamicPrincipal): Dict & { role: string } {
  const principal = typeof answer === "string" ? { role: answer } : answer;
  if (typeof principal !== "object" || principal === null || typeof principal.role !== "string") {
    throw new TypeError("the authenticator's answer has no string role");
  }
  return principal as Dict & { role: string };
}

/** A denial with the reason for the log. */
export function deny(reason: string): AuthOutcome {
  return { deny: reason };
}

/**
 * The transport as a plain, JSON-friendly dict (for dynamic authenticators
 * and session details), without its tracking cookie. A TLS connection adds
 * Crossbar's keys (Autobahn's `TransportDetails`): `channel_type: "tls"`,
 * `is_secure: true`, `tls_protocol`, `channel_id: {"tls-unique": hex}` and
 * `peer_cert` (see {@linkcode peerCertDict}); nothing else of the TLS
 * session is shown.
 *
 * @param info The transport.
 * @returns `type`, `serializer` and `peer`, and the TLS keys when encrypted.
 *
 * @example
 * ```ts
 * import { transportDict } from "./authenticator.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const info = {
 *   type: "rawsocket",
 *   cookie: "s3cret",
 *   tls: { protocol: "TLSv1.3", channelId: new Uint8Array(32).fill(0xab) },
 * };
 * deepEqual(transportDict(info), {
 *   type: "rawsocket",
 *   channel_type: "tls",
 *   is_secure: true,
 *   tls_protocol: "TLSv1.3",
 *   channel_id: { "tls-unique": "ab".repeat(32) },
 * });
 * ```
 */
export function transportDict(info: TransportInfo): Dict {
  const { cookie: _, tls, ...shown } = info;
  if (tls === undefined) return shown;
  const dict: Dict = { ...shown, channel_type: "tls", is_secure: true };
  if (tls.protocol !== undefined) dict.tls_protocol = tls.protocol;
  if (tls.channelId !== undefined) {
    dict.channel_id = { [ChannelBinding.TLS_UNIQUE]: tls.channelId.toHex() };
  }
  if (tls.peerCertificate !== undefined) dict.peer_cert = peerCertDict(tls.peerCertificate);
  return dict;
}

/**
 * A verified client certificate as a plain dict, with the keys Autobahn's
 * `extract_peer_certificate` gives Crossbar's authenticators: `sha256`,
 * `sha1` (colon-separated upper-case hex), `serial`, `not_before`,
 * `not_after`, `subject` and `issuer` (field names in lower case, e.g.
 * `{ cn: "alice" }`), and `subject_alt_name` when the certificate has one.
 *
 * @param cert The certificate, as the transport read it.
 * @returns The dict.
 */
export function peerCertDict(cert: PeerCertificate): Dict {
  return {
    sha256: cert.fingerprint256,
    sha1: cert.fingerprint,
    serial: cert.serialNumber,
    not_before: cert.validFrom,
    not_after: cert.validTo,
    subject: lowerKeys(cert.subject),
    issuer: lowerKeys(cert.issuer),
    ...(cert.subjectAltName === undefined ? {} : { subject_alt_name: cert.subjectAltName }),
  };
}

function lowerKeys(fields: Readonly<Record<string, string>>): Dict {
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k.toLowerCase(), v]));
}

/**
 * Asks a dynamic authenticator about a HELLO, then continues: the outcome
 * the router runs (see {@linkcode AskOutcome}).
 *
 * @param source The authenticator.
 * @param request The HELLO as the method saw it.
 * @param authmethod The method asking.
 * @param ticket The ticket (ticket method only).
 * @param next Continues with the principal (a dict with a string `role`).
 * @returns The outcome; it denies when the answer has no role (or the
 * authenticator threw), and without asking when what the client gave is
 * over `ASKED_BYTES`.
 */
export function askAuthenticator(
  source: DynamicSource,
  request: AuthRequest,
  authmethod: string,
  ticket: string | undefined,
  next: (principal: Dict & { role: string }) => AuthOutcome,
): AuthOutcome {
  const { authid, authextra } = request;
  if (keptPayloadSize({ authid, authextra, ticket }, ASKED_BYTES) > ASKED_BYTES) {
    return deny(`its authid, authextra and ticket are over ${ASKED_BYTES} bytes`);
  }
  const asked: DynamicAuthRequest = {
    realm: request.realm,
    ...(request.authid === undefined ? {} : { authid: request.authid }),
    authmethod,
    authextra: request.authextra,
    session: request.session,
    transport: transportDict(request.transport),
    ...(ticket === undefined ? {} : { ticket }),
  };
  if (typeof source === "function") {
    return {
      ask: () => source(asked),
      next: (answer) => next(principalOf(answer as DynamicPrincipal)),
    };
  }
  return {
    ask: (ended) => source.call(asked, ended),
    next: (result) => next(principalOf(source.principal(result))),
  };
}
