/**
 * The realm's internal session: the identity that publishes meta events
 * and calls procedures on the router's behalf (dynamic authenticators and
 * authorizers registered by trusted clients). It is never listed by the
 * session meta API.
 *
 * @module
 */

import {
  type CallMessage,
  type CancelMessage,
  type Dict,
  ErrorUri,
  type IdGenerator,
  MessageType,
  type Payload,
  sequentialIdGenerator,
  type WampMessage,
} from "../../wamp/mod.ts";
import { CallError } from "./errors.ts";
import { NOTHING, type Output, type Settled } from "./output.ts";
import type { SessionInfo } from "./types.ts";

/** The identity of a realm's internal session. */
export function internalSession(realm: string, id: number): SessionInfo {
  return {
    id,
    realm,
    authid: "cloverleaf",
    authrole: "trusted",
    authmethod: "internal",
    authprovider: "cloverleaf",
    roles: { publisher: {}, subscriber: {}, caller: {}, callee: {} },
    transport: "internal",
  };
}

/**
 * Calls the router may have in flight at once per realm (dynamic
 * authenticators and authorizers): each waiting HELLO or request holds one,
 * so without a bound unauthenticated clients could pile INVOCATIONs on the
 * trusted backend that answers them.
 */
export const MAX_ROUTER_CALLS = 1000;

/**
 * Milliseconds a router call (a dynamic authenticator or authorizer
 * procedure) waits for its callee, then fails with `wamp.error.timeout`.
 */
export const ROUTER_CALL_TIMEOUT = 10_000;

/**
 * The errors of a router call that are the router's own, not its callee's
 * answer: no such realm or procedure, no callee able to take it,
 * {@linkcode MAX_ROUTER_CALLS} in flight, cancelled, timed out, the call
 * or its answer too large for NATS (cluster), an answer in payload
 * passthru (which the internal session does not announce), an INVOCATION
 * over the callee's limit. A callee's ERROR with one of these URIs reads
 * as them: the URI is all that tells them apart.
 */
const UNANSWERED: ReadonlySet<string> = new Set([
  ErrorUri.NO_SUCH_REALM,
  ErrorUri.NO_SUCH_PROCEDURE,
  ErrorUri.NO_AVAILABLE_CALLEE,
  ErrorUri.LIMIT_EXCEEDED,
  ErrorUri.CANCELED,
  ErrorUri.TIMEOUT,
  ErrorUri.CLUSTER_UNAVAILABLE,
  ErrorUri.FEATURE_NOT_SUPPORTED,
  ErrorUri.PAYLOAD_SIZE_EXCEEDED,
]);

/**
 * Whether a router call failed without its callee answering (the errors
 * the router or its dealer give themselves); any other error is the
 * callee's answer (a dynamic authenticator that denies), as is whatever
 * is not a {@linkcode CallError}.
 *
 * @param error Why the call failed.
 * @returns Whether the callee never answered.
 *
 * @example
 * ```ts
 * import { unanswered } from "./internal_session.ts";
 * import { CallError } from "./errors.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(unanswered(new CallError("wamp.error.no_such_procedure")), true);
 * equal(unanswered(new CallError("com.example.wrong_ticket")), false);
 * equal(unanswered(new Error("wrong ticket")), false);
 * ```
 */
export function unanswered(error: unknown): boolean {
  return error instanceof CallError && UNANSWERED.has(error.uri);
}

/** What happens when a router call ends. */
export type RouterCallDone = (result: Settled<Payload>) => Output;

/**
 * Makes CALLs as the internal session and settles them from the RESULT or
 * ERROR addressed to it: pure pending-call state, no promises. The realm
 * routes each CALL and hands what comes back for the internal session to
 * {@linkcode InternalCaller.receive}.
 */
export class InternalCaller {
  /** The internal session's identity. */
  readonly info: SessionInfo;
  #route: (info: SessionInfo, msg: CallMessage) => Output;
  #requests: IdGenerator = sequentialIdGenerator();
  #waiting = new Map<number, RouterCallDone>();
  #cancel: (info: SessionInfo, msg: CancelMessage) => Output;

  /**
   * Creates the caller.
   *
   * @param info The internal session's identity.
   * @param route Routes a CALL (the realm's `call`), returning what happens.
   */
  constructor(
    info: SessionInfo,
    route: (info: SessionInfo, msg: CallMessage) => Output,
    cancel: (info: SessionInfo, msg: CancelMessage) => Output,
  ) {
    this.info = info;
    this.#route = route;
    this.#cancel = cancel;
  }

  /** How many calls are in flight. */
  get size(): number {
    return this.#waiting.size;
  }

  /**
   * Calls a procedure.
   *
   * @param procedure The procedure URI.
   * @param args Positional arguments.
   * @param kwargs Keyword arguments.
   * @param timeout Milliseconds the dealer waits for the callee (0: none).
   * @param done Continues with the result's payload, or a
   * {@linkcode CallError} with the ERROR's URI and first argument
   * (`cloverleaf.error.limit_exceeded` at once when
   * {@linkcode MAX_ROUTER_CALLS} are already in flight: the callee never
   * sees the call).
   * @param started Given the call's request ID once it is out (for
   * {@linkcode InternalCaller.cancel}).
   * @returns What happens now (the CALL's routing).
   */
  call(
    procedure: string,
    args: unknown[],
    kwargs: Dict,
    timeout: number,
    done: RouterCallDone,
    started?: (request: number) => void,
  ): Output {
    if (this.#waiting.size >= MAX_ROUTER_CALLS) {
      return done({
        ok: false,
        error: new CallError(
          ErrorUri.LIMIT_EXCEEDED,
          `${MAX_ROUTER_CALLS} router calls (authenticators, authorizers) already in flight`,
        ),
      });
    }
    const request = this.#requests();
    this.#waiting.set(request, done);
    started?.(request);
    return this.#route(this.info, {
      type: MessageType.CALL,
      request,
      options: timeout > 0 ? { timeout } : {},
      procedure,
      args,
      kwargs,
    });
  }

  /**
   * Gives up a call nobody waits for any more (the handshake that asked
   * ended): CANCEL `killnowait`, and its place is free at once; its
   * continuation never runs.
   *
   * @param request The call's request ID.
   * @returns What the dealer does (nothing for a call already answered).
   */
  cancel(request: number): Output {
    if (!this.#waiting.delete(request)) return NOTHING;
    return this.#cancel(this.info, {
      type: MessageType.CANCEL,
      request,
      options: { mode: "killnowait" },
    });
  }

  /**
   * Takes a RESULT or ERROR addressed to the internal session.
   *
   * @param msg The message.
   * @returns What the waiting call's continuation returns.
   */
  receive(msg: WampMessage): Output {
    if (msg.type !== MessageType.RESULT && msg.type !== MessageType.ERROR) return NOTHING;
    const done = this.#waiting.get(msg.request);
    if (done === undefined) return NOTHING;
    this.#waiting.delete(msg.request);
    if (msg.type === MessageType.RESULT) {
      return done({
        ok: true,
        value: {
          ...(msg.args === undefined ? {} : { args: msg.args }),
          ...(msg.kwargs === undefined ? {} : { kwargs: msg.kwargs }),
        },
      });
    }
    const text = msg.args?.[0];
    return done({
      ok: false,
      error: new CallError(msg.error, typeof text === "string" ? text : undefined),
    });
  }
}
