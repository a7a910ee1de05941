/**
 * Errors the client raises.
 *
 * @module
 */

import { type Dict, ErrorUri } from "../wamp/mod.ts";

/**
 * A WAMP application error: what a failed call rejects with, and what an
 * endpoint throws to send a specific error URI back to the caller.
 *
 * @example Throwing from an endpoint, catching in the caller
 * ```ts
 * import { ApplicationError, connectLocal, Router } from "@cloverleaf/wamp";
 * import { equal, rejects } from "node:assert/strict";
 *
 * const router = new Router({ realms: [{ name: "realm1" }] });
 * const session = await connectLocal(router, "realm1");
 * await session.register("com.example.fail", () => {
 *   throw new ApplicationError("com.example.oops", { args: [1] });
 * });
 * await rejects(session.call("com.example.fail"), (e: ApplicationError) => {
 *   equal(e.uri, "com.example.oops");
 *   return true;
 * });
 * await session.close();
 * await router.close();
 * ```
 */
export class ApplicationError extends Error {
  /** The error URI. */
  readonly uri: string;
  /** Positional error arguments. */
  readonly args: unknown[];
  /** Keyword error arguments. */
  readonly kwargs: Dict;
  /** ERROR.Details. */
  readonly details: Dict;

  /**
   * Creates an application error.
   *
   * @param uri The error URI.
   * @param payload Arguments, keyword arguments and details.
   */
  constructor(
    uri: string,
    payload: { args?: unknown[]; kwargs?: Dict; details?: Dict } = {},
  ) {
    const first = payload.args?.[0];
    super(typeof first === "string" ? `${uri}: ${first}` : uri);
    this.name = "ApplicationError";
    this.uri = uri;
    this.args = payload.args ?? [];
    this.kwargs = payload.kwargs ?? {};
    this.details = payload.details ?? {};
  }
}

/**
 * A request the application made was refused by the client itself, not
 * the router: more than `maxSendBacklog` bytes wait to be sent (the router
 * is not reading). Its `uri` is `cloverleaf.error.limit_exceeded`, as a
 * router's refusal for a limit is; the request took no request ID and can
 * be made again once the backlog drains.
 *
 * @example
 * ```ts
 * import { ApplicationError, SendBacklogError } from "@cloverleaf/wamp/client";
 * import { equal, ok } from "node:assert/strict";
 *
 * const refused = new SendBacklogError("70000000 bytes wait to be sent");
 * ok(refused instanceof ApplicationError);
 * equal(refused.uri, "cloverleaf.error.limit_exceeded");
 * ```
 */
export class SendBacklogError extends ApplicationError {
  /**
   * Creates the refusal.
   *
   * @param why What waits, and the limit.
   */
  constructor(why: string) {
    super(ErrorUri.LIMIT_EXCEEDED, { args: [why] });
    this.name = "SendBacklogError";
  }
}

/**
 * Receives failures of application code a session runs: an event handler
 * that throws, an endpoint that returns something other than
 * `{ args?, kwargs? }` (its caller gets `wamp.error.runtime_error` too),
 * an `onRevoked` that throws. `where` names the handler and its URI.
 */
export type UserErrorHandler = (error: unknown, where: string) => void;

/**
 * Who ended a session: the router (GOODBYE or ABORT), the client
 * (`close()`, or an ABORT the client sent) or the transport (lost).
 */
export type ClosedBy = "router" | "client" | "transport";

/**
 * The session ended (GOODBYE, ABORT or a lost transport) while a request
 * was pending, or a request was made on a closed session. When it is known
 * who ended the session ({@linkcode SessionClosedError.by}), the message
 * says what happened: `transport lost`, `closed by router: <reason>`,
 * `closed by the client`.
 *
 * @example
 * ```ts
 * import { SessionClosedError } from "@cloverleaf/wamp";
 * import { equal } from "node:assert/strict";
 *
 * equal(new SessionClosedError("wamp.close.normal").reason, "wamp.close.normal");
 * const lost = new SessionClosedError("wamp.close.transport_lost", undefined, "transport");
 * equal(lost.message, "Session closed: transport lost");
 * ```
 */
export class SessionClosedError extends Error {
  /** The close or abort reason URI. */
  readonly reason: string;
  /** Who ended the session, when known. */
  readonly by: ClosedBy | undefined;

  /**
   * Creates the error.
   *
   * @param reason The close reason URI.
   * @param message Details for humans (the GOODBYE or ABORT message).
   * @param by Who ended the session, when known: the message then says so.
   */
  constructor(reason: string, message?: string, by?: ClosedBy) {
    super(closedText(reason, message, by));
    this.name = "SessionClosedError";
    this.reason = reason;
    this.by = by;
  }
}

/** The reasons a client's own close() sends, which need no mention. */
const PLAIN_CLOSE = new Set(["wamp.close.normal", "wamp.close.goodbye_and_out"]);

function closedText(reason: string, message: string | undefined, by: ClosedBy | undefined): string {
  const why = message === undefined || message === "" ? reason : `${reason}: ${message}`;
  switch (by) {
    case "transport":
      return "Session closed: transport lost";
    case "router":
      return `Session closed by router: ${why}`;
    case "client":
      return PLAIN_CLOSE.has(reason) && message === undefined
        ? "Session closed by the client"
        : `Session closed by the client: ${why}`;
    default:
      return `Session closed: ${why}`;
  }
}

/**
 * A request made through a `Connection` that has no open session: it is
 * connecting, waiting to reconnect, or stopped. The message says which and
 * why (`Not connected: transport lost; reconnecting, attempt 2 in 1.3 s`).
 * A {@linkcode SessionClosedError}, so code that catches those keeps working.
 */
export class NotConnectedError extends SessionClosedError {
  /**
   * Creates the error.
   *
   * @param reason The last close reason URI (`wamp.close.transport_lost` when none).
   * @param what What happened, for the message.
   */
  constructor(reason: string, what: string) {
    super(reason);
    this.name = "NotConnectedError";
    this.message = `Not connected: ${what}`;
  }
}

/**
 * Credentials this client cannot use, found before any connection is
 * made: a cryptosign seed that is not 32 bytes of hex, or a platform
 * whose WebCrypto has no Ed25519 (or no WebCrypto at all). Trying again
 * cannot help, so `connect()` rejects with it and a `Connection` stops at
 * once (`onclose` reason `closed`, `wamp.error.cannot_authenticate`).
 *
 * @example
 * ```ts
 * import { connect, CredentialsError } from "@cloverleaf/wamp/client";
 * import { rejects } from "node:assert/strict";
 *
 * await rejects(
 *   connect("ws://127.0.0.1:1", { realm: "realm1", cryptosign: { seed: "not hex" } }),
 *   CredentialsError,
 * );
 * ```
 */
export class CredentialsError extends Error {
  /**
   * Creates the error.
   *
   * @param message What is wrong with which credential.
   * @param options Standard error options (`cause`).
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CredentialsError";
  }
}
