/**
 * The dealer: registrations and calls of one realm, sans-I/O (spec "Remote
 * Procedure Calls"). Methods take the acting session and its message and
 * return the messages to deliver; protocol violations are thrown.
 *
 * @module
 */

import {
  type CallMessage,
  type ErrorMessage,
  ErrorUri,
  type IdGenerator,
  type InvocationMessage,
  isReservedUri,
  isValidUri,
  type MatchPolicy,
  MessageType,
  type Payload,
  ProtocolViolationError,
  type RegisterMessage,
  type ResultMessage,
  type UnregisterMessage,
  type YieldMessage,
} from "../wamp/mod.ts";
import { errorReply } from "./errors.ts";
import type { Outbound, SessionInfo } from "./types.ts";

/** A registration: a procedure and the callee(s) that serve it. */
export interface Registration {
  /** Router-scope registration ID. */
  readonly id: number;
  /** The procedure URI or pattern. */
  readonly procedure: string;
  /** The match policy. */
  readonly match: MatchPolicy;
  /** The invocation policy. */
  readonly invoke: string;
  /** When it was created (ISO 8601). */
  readonly created: string;
  /** Callee session IDs, in registration order. */
  readonly callees: number[];
}

/** Options for {@linkcode Dealer}. */
export interface DealerOptions {
  /** Only `[0-9a-z_]` URI components. @default {false} */
  strictUris?: boolean;
  /** Router-scope IDs for registrations. */
  registrationIds: IdGenerator;
}

/** A call in flight: CALL seen, INVOCATION sent, no final answer yet. */
interface PendingCall {
  readonly caller: number;
  readonly callRequest: number;
  readonly callee: number;
  readonly invocationRequest: number;
}

/** What the dealer tracks per session. */
interface DealerSession {
  readonly registrations: Set<Registration>;
  /** Calls this session made, by CALL request ID. */
  readonly calls: Map<number, PendingCall>;
  /** Invocations sent to this session, by INVOCATION request ID. */
  readonly invocations: Map<number, PendingCall>;
  /** The last INVOCATION request ID issued to this session. */
  lastInvocation: number;
}

/** Routes calls from callers to callees and results back. */
export class Dealer {
  #options: DealerOptions;
  #byProcedure = new Map<string, Registration>();
  #byId = new Map<number, Registration>();
  #sessions = new Map<number, DealerSession>();

  /**
   * Creates a dealer.
   *
   * @param options URI strictness and the registration ID generator.
   */
  constructor(options: DealerOptions) {
    this.#options = options;
  }

  /** Looks up a registration by ID. */
  registration(id: number): Registration | undefined {
    return this.#byId.get(id);
  }

  /**
   * Handles REGISTER.
   *
   * @param session The callee.
   * @param msg The REGISTER message.
   * @returns REGISTERED or ERROR.
   */
  register(session: SessionInfo, msg: RegisterMessage): Outbound[] {
    const match = (msg.options.match ?? "exact") as MatchPolicy;
    const invoke = (msg.options.invoke ?? "single") as string;
    if (match !== "exact" || invoke !== "single") {
      return [
        errorReply(
          session.id,
          msg.type,
          msg.request,
          ErrorUri.OPTION_NOT_ALLOWED,
          `match "${match}" / invoke "${invoke}" is not supported by this dealer`,
        ),
      ];
    }
    if (!this.#validUri(msg.procedure) || isReservedUri(msg.procedure)) {
      return [errorReply(session.id, msg.type, msg.request, ErrorUri.INVALID_URI)];
    }
    if (this.#byProcedure.has(msg.procedure)) {
      return [
        errorReply(session.id, msg.type, msg.request, ErrorUri.PROCEDURE_ALREADY_EXISTS),
      ];
    }
    const reg: Registration = {
      id: this.#options.registrationIds(),
      procedure: msg.procedure,
      match,
      invoke,
      created: new Date().toISOString(),
      callees: [session.id],
    };
    this.#byProcedure.set(reg.procedure, reg);
    this.#byId.set(reg.id, reg);
    this.#session(session.id).registrations.add(reg);
    return [{
      to: session.id,
      msg: { type: MessageType.REGISTERED, request: msg.request, registration: reg.id },
    }];
  }

  /**
   * Handles UNREGISTER. Invocations already sent may still be answered.
   *
   * @param session The callee.
   * @param msg The UNREGISTER message.
   * @returns UNREGISTERED, or ERROR `no_such_registration`.
   */
  unregister(session: SessionInfo, msg: UnregisterMessage): Outbound[] {
    const reg = this.#byId.get(msg.registration);
    if (reg === undefined || !reg.callees.includes(session.id)) {
      return [errorReply(session.id, msg.type, msg.request, ErrorUri.NO_SUCH_REGISTRATION)];
    }
    this.#removeCallee(session.id, reg);
    return [{ to: session.id, msg: { type: MessageType.UNREGISTERED, request: msg.request } }];
  }

  /**
   * Handles CALL: routes it to the registered callee as INVOCATION.
   *
   * @param session The caller.
   * @param msg The CALL message.
   * @returns INVOCATION, or ERROR to the caller.
   * @throws {ProtocolViolationError} For a reused in-flight request ID, or
   * `progress` (progressive call invocations are not announced).
   */
  call(session: SessionInfo, msg: CallMessage): Outbound[] {
    const caller = this.#session(session.id);
    if (msg.options.progress === true) {
      throw new ProtocolViolationError(
        "CALL with progress: progressive_call_invocations was not announced",
      );
    }
    if (caller.calls.has(msg.request)) {
      throw new ProtocolViolationError(`CALL reuses in-flight request ID ${msg.request}`);
    }
    if (!this.#validUri(msg.procedure)) {
      return [errorReply(session.id, msg.type, msg.request, ErrorUri.INVALID_URI)];
    }
    const reg = this.#byProcedure.get(msg.procedure);
    const calleeId = reg?.callees[0];
    if (reg === undefined || calleeId === undefined) {
      return [errorReply(session.id, msg.type, msg.request, ErrorUri.NO_SUCH_PROCEDURE)];
    }
    const callee = this.#session(calleeId);
    const pending: PendingCall = {
      caller: session.id,
      callRequest: msg.request,
      callee: calleeId,
      invocationRequest: ++callee.lastInvocation,
    };
    caller.calls.set(msg.request, pending);
    callee.invocations.set(pending.invocationRequest, pending);
    const invocation: InvocationMessage = {
      type: MessageType.INVOCATION,
      request: pending.invocationRequest,
      registration: reg.id,
      details: {},
    };
    copyPayload(msg, invocation);
    return [{ to: calleeId, msg: invocation }];
  }

  /**
   * Handles YIELD: the final result goes back to the caller as RESULT.
   *
   * @param session The callee.
   * @param msg The YIELD message.
   * @returns RESULT to the caller, or nothing for a late YIELD.
   * @throws {ProtocolViolationError} For an INVOCATION ID never issued, or
   * `progress` (progressive call results are not announced).
   */
  yield(session: SessionInfo, msg: YieldMessage): Outbound[] {
    if (msg.options.progress === true) {
      throw new ProtocolViolationError(
        "YIELD with progress: progressive_call_results was not announced",
      );
    }
    const pending = this.#finish(session.id, msg.request, "YIELD");
    if (pending === undefined) return [];
    const result: ResultMessage = {
      type: MessageType.RESULT,
      request: pending.callRequest,
      details: {},
    };
    return [{ to: pending.caller, msg: copyPayload(msg, result) }];
  }

  /**
   * Handles ERROR for an INVOCATION: passed to the caller with the same
   * URI, args and kwargs.
   *
   * @param session The callee.
   * @param msg The ERROR message (request type INVOCATION).
   * @returns ERROR to the caller, or nothing for a late answer.
   * @throws {ProtocolViolationError} For an INVOCATION ID never issued.
   */
  error(session: SessionInfo, msg: ErrorMessage): Outbound[] {
    const pending = this.#finish(session.id, msg.request, "ERROR");
    if (pending === undefined) return [];
    const error: ErrorMessage = {
      type: MessageType.ERROR,
      requestType: MessageType.CALL,
      request: pending.callRequest,
      details: {},
      error: msg.error,
    };
    return [{ to: pending.caller, msg: copyPayload(msg, error) }];
  }

  /**
   * Cleans up after a session that left: its registrations go, its callers
   * get ERROR `wamp.error.canceled` at once for every invocation it still
   * owed, and answers to its own pending calls will be discarded.
   *
   * @param sessionId The session that left.
   * @returns ERRORs for the callers of the session's pending invocations.
   */
  removeSession(sessionId: number): Outbound[] {
    const state = this.#sessions.get(sessionId);
    if (state === undefined) return [];
    this.#sessions.delete(sessionId);
    for (const reg of state.registrations) this.#removeCallee(sessionId, reg);
    for (const pending of state.calls.values()) {
      this.#sessions.get(pending.callee)?.invocations.delete(pending.invocationRequest);
    }
    const out: Outbound[] = [];
    for (const pending of state.invocations.values()) {
      this.#sessions.get(pending.caller)?.calls.delete(pending.callRequest);
      out.push(
        errorReply(
          pending.caller,
          MessageType.CALL,
          pending.callRequest,
          ErrorUri.CANCELED,
          "callee left before answering",
        ),
      );
    }
    return out;
  }

  #finish(calleeId: number, request: number, what: string): PendingCall | undefined {
    const callee = this.#sessions.get(calleeId);
    const pending = callee?.invocations.get(request);
    if (pending === undefined) {
      if (callee === undefined || request > callee.lastInvocation) {
        throw new ProtocolViolationError(`${what} for unknown INVOCATION ${request}`);
      }
      return undefined; // a late answer to an invocation whose caller left
    }
    callee!.invocations.delete(request);
    this.#sessions.get(pending.caller)?.calls.delete(pending.callRequest);
    return pending;
  }

  #session(id: number): DealerSession {
    let state = this.#sessions.get(id);
    if (state === undefined) {
      state = {
        registrations: new Set(),
        calls: new Map(),
        invocations: new Map(),
        lastInvocation: 0,
      };
      this.#sessions.set(id, state);
    }
    return state;
  }

  #validUri(uri: string): boolean {
    return isValidUri(uri, { strict: this.#options.strictUris ?? false });
  }

  #removeCallee(sessionId: number, reg: Registration): void {
    const at = reg.callees.indexOf(sessionId);
    if (at >= 0) reg.callees.splice(at, 1);
    this.#sessions.get(sessionId)?.registrations.delete(reg);
    if (reg.callees.length === 0) {
      this.#byProcedure.delete(reg.procedure);
      this.#byId.delete(reg.id);
    }
  }
}

function copyPayload<T extends Payload>(from: Payload, to: T): T {
  if (from.args !== undefined) to.args = from.args;
  if (from.kwargs !== undefined) to.kwargs = from.kwargs;
  if (from.payload !== undefined) to.payload = from.payload;
  return to;
}
