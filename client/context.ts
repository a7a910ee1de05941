/**
 * What the client's roles (`Publisher`, `Subscriber`, `Caller`, `Callee`)
 * need from the session they belong to, and the payload shape they share.
 *
 * @module
 */

import type { Dict, Logger, WampMessage } from "../wamp/mod.ts";
import type { ClientLimits } from "./limits.ts";

/** Positional and keyword arguments of a call, result or publication. */
export interface Arguments {
  /** Positional arguments. */
  args?: unknown[];
  /** Keyword arguments. */
  kwargs?: Dict;
}

/**
 * The session as a role sees it: a way to send, to make requests and to
 * number them, and the router's WELCOME roles.
 */
export interface SessionContext {
  /** Whether the session is open. */
  isOpen(): boolean;
  /** WELCOME.Details.roles of the router. */
  routerRoles(): Dict;
  /** Sends a message; throws `SessionClosedError` when not open. */
  send(msg: WampMessage): void;
  /** What a request on a session that is not open fails with: it says why. */
  notOpen(): Error;
  /**
   * Sends a request and waits for its single reply (ERROR rejects).
   * `onReply` runs the moment a non-ERROR reply is read, before any later
   * message is handled (a REGISTERED with an INVOCATION right behind it);
   * text it returns says how the reply breaks the protocol (the session
   * ends with ABORT).
   */
  request(
    make: (request: number) => WampMessage,
    onReply?: (reply: WampMessage) => string | void,
  ): Promise<WampMessage>;
  /** Sends an UNSUBSCRIBE or UNREGISTER as {@linkcode SessionContext.request}, never refused by `maxSendBacklog`. */
  withdraw(make: (request: number) => WampMessage): Promise<WampMessage>;
  /**
   * The next session-scope request ID, for a request the application makes.
   * Throws, taking none (no gap in the sequence), when the session is not
   * open or past `maxSendBacklog` (`outbound.ts`).
   */
  nextRequest(): number;
  /** Whether a request the application makes now would be refused: past `maxSendBacklog`. */
  sendBlocked(): boolean;
  /**
   * Reports a failure of application code the session runs (an event
   * handler, an endpoint's answer, an `onRevoked`): `Session.onUserError`.
   */
  report(error: unknown, where: string): void;
  /** Ends the session with ABORT `wamp.error.protocol_violation`: the router broke the protocol. */
  violation(message: string): void;
  /** Where the session logs what it cannot throw (a failing handler). */
  readonly log: Logger;
  /** The session's limits against a router that sends too much. */
  readonly limits: ClientLimits;
}

/** Both fields present: what results, chunks and errors carry. */
export function argumentsOf(msg: { args?: unknown[]; kwargs?: Dict }): {
  args: unknown[];
  kwargs: Dict;
} {
  return { args: msg.args ?? [], kwargs: msg.kwargs ?? {} };
}

/** Only the payload elements that are present, for an outgoing message. */
export function payloadOf(payload: Arguments | undefined): Arguments {
  const out: Arguments = {};
  if (payload?.args !== undefined) out.args = payload.args;
  if (payload?.kwargs !== undefined) out.kwargs = payload.kwargs;
  return out;
}
