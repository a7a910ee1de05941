/**
 * Errors the client raises.
 *
 * @module
 */

import type { Dict } from "../wamp/mod.ts";

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
 * The session ended (GOODBYE, ABORT or a lost transport) while a request
 * was pending, or a request was made on a closed session.
 *
 * @example
 * ```ts
 * import { SessionClosedError } from "@cloverleaf/wamp";
 * import { equal } from "node:assert/strict";
 *
 * equal(new SessionClosedError("wamp.close.normal").reason, "wamp.close.normal");
 * ```
 */
export class SessionClosedError extends Error {
  /** The close or abort reason URI. */
  readonly reason: string;

  /**
   * Creates the error.
   *
   * @param reason The close reason URI.
   * @param message Details for humans.
   */
  constructor(reason: string, message?: string) {
    super(
      message === undefined ? `Session closed: ${reason}` : `Session closed: ${reason}: ${message}`,
    );
    this.name = "SessionClosedError";
    this.reason = reason;
  }
}
