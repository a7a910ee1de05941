/**
 * The log of dynamic authorizers that could not decide (`authorizer.ts`):
 * every request they should have decided is denied.
 *
 * @module
 */

import { ErrorUri } from "../../wamp/mod.ts";
import { CallError } from "./errors.ts";
import type { Action } from "./permissions.ts";
import type { Logger, SessionInfo } from "./types.ts";

/** Counts each dynamic rule's failures in a row and logs some of them. */
export class AuthorizerFailures {
  #log: Logger;
  /** Per dynamic rule: requests denied in a row because it could not decide. */
  #counts = new Map<object, number>();

  /**
   * @param log Where failures go (at `warn`).
   */
  constructor(log: Logger) {
    this.#log = log;
  }

  /**
   * A rule decided: its count of failures in a row starts again.
   *
   * @param rule The rule.
   */
  decided(rule: object): void {
    this.#counts.delete(rule);
  }

  /**
   * Logs a dynamic authorizer that could not decide (the request is
   * denied): the 1st, 10th, 100th, … failure in a row, so a missing
   * authorizer shows at once and a busy realm does not flood the log.
   *
   * @param rule The rule (its count of failures in a row).
   * @param name What decides, for the log: `procedure "…"` or `function`.
   * @param session The session whose request is denied.
   * @param action What it asked for.
   * @param uri On what.
   * @param error Why the authorizer could not decide.
   */
  failed(
    rule: object,
    name: string,
    session: SessionInfo,
    action: Action,
    uri: string,
    error: unknown,
  ): void {
    const count = (this.#counts.get(rule) ?? 0) + 1;
    this.#counts.set(rule, count);
    if (!/^10*$/.test(`${count}`)) return;
    const missing = error instanceof CallError && error.uri === ErrorUri.NO_SUCH_PROCEDURE;
    const reason = missing
      ? "not registered"
      : error instanceof CallError
      ? `${error.uri}: ${error.message}`
      : error instanceof Error
      ? error.message
      : String(error);
    const times = count === 1 ? "" : ` (${count} requests denied in a row)`;
    this.#log(
      "warn",
      `Dynamic authorizer ${name} failed (${reason}): ${action} "${uri}" denied${times}`,
      {
        realm: session.realm,
        session: session.id,
        authid: session.authid,
        authrole: session.authrole,
        reason: missing ? ErrorUri.NO_SUCH_PROCEDURE : reason,
        action,
        uri,
        denied: count,
      },
    );
  }
}
