/**
 * Running an authentication method's steps outside a router: a method that
 * asks a dynamic authenticator returns an `ask` outcome (see
 * `AskOutcome`), which the router runs as a task; this follows such steps
 * to the outcome the router would act on.
 *
 * @module
 */

import type { AuthOutcome } from "./core/auth/authenticator.ts";

/**
 * Follows a method's step to its outcome: waits for a promise, asks
 * through every `ask` outcome, and returns the WELCOME, CHALLENGE or
 * denial that follows.
 *
 * @param step What the method's `hello()` or `answer()` returned.
 * @returns The outcome after every question was answered.
 * @throws Whatever the dynamic authenticator threw.
 *
 * @example A dynamic authenticator's answer, followed
 * ```ts
 * import { settleAuthOutcome } from "./auth_outcome.ts";
 * import { ticketAuthenticator } from "./core/auth/ticket.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const ticket = ticketAuthenticator({ authenticator: () => ({ role: "user" }) });
 * const step = await settleAuthOutcome(
 *   ticket.hello({ realm: "realm1", authid: "joe", authextra: {}, session: 1, transport: { type: "fake" } }),
 * );
 * if (!("answer" in step)) throw new Error("expected a CHALLENGE");
 * deepEqual(await settleAuthOutcome(step.answer("secret", {})), {
 *   welcome: { authid: "joe", authrole: "user", authmethod: "ticket", authprovider: "dynamic" },
 * });
 * ```
 */
export async function settleAuthOutcome(
  step: AuthOutcome | PromiseLike<AuthOutcome>,
): Promise<AuthOutcome> {
  let outcome = await step;
  while ("ask" in outcome) outcome = outcome.next(await outcome.ask());
  return outcome;
}
