/**
 * The dealer: registrations and calls of one realm, sans-I/O (spec "Remote
 * Procedure Calls" and the Advanced Profile RPC features). Methods take the
 * acting session and its message and return the messages to deliver;
 * protocol violations are thrown. Timers (call timeouts) deliver through
 * the `dispatch` option.
 *
 * @module
 */

import {
  type CallMessage,
  type CancelMessage,
  type CancelMode,
  type Dict,
  type ErrorMessage,
  ErrorUri,
  Feature,
  hasFeature,
  type IdGenerator,
  type InterruptMessage,
  type InvocationDetails,
  type InvocationMessage,
  isReservedUri,
  isValidUri,
  type MatchPolicy,
  MessageType,
  type Payload,
  ProtocolViolationError,
  type RegisterMessage,
  type RegisterOptions,
  type ResultDetails,
  type ResultMessage,
  type UnregisterMessage,
  type YieldMessage,
} from "../../../wamp/mod.ts";
import type { Disclosure } from "../realm_options.ts";
import { errorReply } from "../errors.ts";
import { pickCallee, shardCallee } from "./invocation_policy.ts";
import { limitMessage, type LimitOptions, resolveLimits } from "../limits.ts";
import { copyPassthru, passthruProblem, usesPassthru } from "../passthru.ts";
import { type Registration, type RegistrationObserver, Registrations } from "./registrations.ts";
import type { Outbound, SessionInfo } from "../types.ts";

export type { Registration, RegistrationObserver };

/** Timer functions; inject fakes to drive call timeouts in tests. */
export interface Timers {
  /** Runs `fn` after `ms` milliseconds; returns a handle. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a handle from `setTimeout`. */
  clearTimeout(handle: unknown): void;
}

/** Options for {@linkcode Dealer}. */
export interface DealerOptions {
  /** Only `[0-9a-z_]` URI components. @default {false} */
  strictUris?: boolean;
  /** Router-scope IDs for registrations. */
  registrationIds: IdGenerator;
  /** Caller identification policy. @default {"request"} */
  discloseCaller?: Disclosure;
  /** Random numbers in [0, 1) for the `random` policy. @default {Math.random} */
  random?: () => number;
  /** Timers for call timeouts. @default {globalThis's setTimeout/clearTimeout} */
  timers?: Timers;
  /** Delivers what a timer produces (a timed-out call's ERROR and INTERRUPT). */
  dispatch?: (out: Outbound[]) => void;
  /** Told as callees join and leave registrations. */
  observer?: RegistrationObserver;
  /**
   * Call and registration limits (the realm's `limits`); the defaults of
   * `DEFAULT_LIMITS` for those not given.
   * @default {DEFAULT_LIMITS}
   */
  limits?: DealerLimits;
}

/** The limits a dealer enforces. */
export type DealerLimits = Pick<
  LimitOptions,
  "callsPerSession" | "registrationsPerSession" | "registrations"
>;

/**
 * The longest call timeout the dealer arms, in milliseconds (2^31 - 1,
 * about 24.8 days): timers take a signed 32-bit delay, and a longer one
 * would fire at once. A CALL asking for more gets this.
 */
export const MAX_CALL_TIMEOUT = 2 ** 31 - 1;

/** A call in flight: CALL seen, INVOCATION sent, no final answer yet. */
interface PendingCall {
  readonly caller: number;
  readonly callRequest: number;
  readonly callee: number;
  readonly invocationRequest: number;
  readonly registration: number;
  /** The caller asked for progressive results and the callee can send them. */
  readonly receiveProgress: boolean;
  /** The caller supports payload passthru (it may receive PPT results). */
  readonly callerPassthru: boolean;
  /** The callee announced call_canceling, so it may get INTERRUPT. */
  readonly calleeCancels: boolean;
  /** Milliseconds per gap (CALL→YIELD, YIELD→YIELD); 0 for none. */
  readonly timeout: number;
  /** More CALL chunks are expected (progressive call invocations). */
  streaming: boolean;
  /** The call was progressive at some point (late chunks are discarded). */
  progressive: boolean;
  /** A `kill` cancel is waiting for the callee's answer. */
  killing: boolean;
  timer: unknown;
}

/** The RPC features a session announced, read once from its roles. */
interface RpcFeatures {
  /** Callee: call_canceling (or the `call_cancelling` spelling). */
  readonly cancels: boolean;
  /** Callee: progressive_call_results, usable only with call_canceling. */
  readonly progressiveResults: boolean;
  /** Callee: progressive_call_invocations, usable only with call_canceling. */
  readonly progressiveInvocations: boolean;
  /** Callee: payload_passthru_mode. */
  readonly calleePassthru: boolean;
  /** Callee: registration_revocation. */
  readonly revocation: boolean;
  /** Caller: progressive_call_invocations. */
  readonly streams: boolean;
  /** Caller: payload_passthru_mode. */
  readonly callerPassthru: boolean;
}

function rpcFeatures(roles: Dict): RpcFeatures {
  const callee = (feature: string) => hasFeature(roles, "callee", feature);
  const cancels = callee(Feature.CALL_CANCELING) || callee("call_cancelling");
  return {
    cancels,
    progressiveResults: cancels && callee(Feature.PROGRESSIVE_CALL_RESULTS),
    progressiveInvocations: cancels && callee(Feature.PROGRESSIVE_CALL_INVOCATIONS),
    calleePassthru: callee(Feature.PAYLOAD_PASSTHRU_MODE),
    revocation: callee(Feature.REGISTRATION_REVOCATION),
    streams: hasFeature(roles, "caller", Feature.PROGRESSIVE_CALL_INVOCATIONS),
    callerPassthru: hasFeature(roles, "caller", Feature.PAYLOAD_PASSTHRU_MODE),
  };
}

/** What the dealer tracks per session. */
interface DealerSession {
  readonly info: SessionInfo;
  readonly features: RpcFeatures;
  /** Calls this session made, by CALL request ID. */
  readonly calls: Map<number, PendingCall>;
  /** Invocations sent to this session, by INVOCATION request ID. */
  readonly invocations: Map<number, PendingCall>;
  /** The last INVOCATION request ID issued to this session. */
  lastInvocation: number;
  /** Recently finished progressive calls: late chunks for them are dropped. */
  readonly finished: Set<number>;
}

/** How many finished progressive call IDs a session remembers. */
const FINISHED_MEMORY = 256;

const SYSTEM_TIMERS: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as number),
};

/** Routes calls from callers to callees and results back. */
export class Dealer {
  #options: DealerOptions;
  #timers: Timers;
  #random: () => number;
  #registrations: Registrations;
  #sessions = new Map<number, DealerSession>();
  #limits: Required<DealerLimits>;

  /**
   * Creates a dealer.
   *
   * @param options URI strictness, ID generator, disclosure policy, timers.
   */
  constructor(options: DealerOptions) {
    this.#options = options;
    this.#timers = options.timers ?? SYSTEM_TIMERS;
    this.#random = options.random ?? Math.random;
    this.#limits = resolveLimits(options.limits);
    this.#registrations = new Registrations(options.registrationIds, options.observer);
  }

  /** Looks up a registration by ID. */
  registration(id: number): Registration | undefined {
    return this.#registrations.get(id);
  }

  /** Every registration. */
  registrations(): IterableIterator<Registration> {
    return this.#registrations.values();
  }

  /** The registration for exactly this procedure or pattern and match policy. */
  lookup(procedure: string, match: MatchPolicy = "exact"): Registration | undefined {
    return this.#registrations.lookup(procedure, match);
  }

  /**
   * The registration a call to `procedure` would reach (exact, then the
   * longest prefix, then the best wildcard pattern).
   */
  match(procedure: string): Registration | undefined {
    return this.#registrations.best(procedure);
  }

  /**
   * Handles REGISTER: creates the registration, or joins an existing one
   * when both sides use the same shared invocation policy. A session
   * holding `registrationsPerSession` registrations, or a new registration
   * in a realm holding `registrations`, is refused with
   * `cloverleaf.error.limit_exceeded`.
   *
   * @param session The callee.
   * @param msg The REGISTER message.
   * @returns REGISTERED or ERROR.
   */
  register(session: SessionInfo, msg: RegisterMessage): Outbound[] {
    const refuse = (uri: string, why?: string) => [
      errorReply(session.id, msg.type, msg.request, uri, why),
    ];
    const match = msg.options.match ?? "exact";
    const invoke = msg.options.invoke ?? "single";
    if (!this.#validUri(msg.procedure, match) || isReservedUri(msg.procedure)) {
      return refuse(ErrorUri.INVALID_URI);
    }
    if (msg.options.disclose_caller === true && this.#options.discloseCaller === "never") {
      return refuse(ErrorUri.OPTION_NOT_ALLOWED, "this realm never discloses callers");
    }
    const existing = this.#registrations.lookup(msg.procedure, match);
    if (existing !== undefined) {
      if (existing.callees.includes(session.id)) {
        return refuse(ErrorUri.PROCEDURE_ALREADY_EXISTS, "this session already registered it");
      }
      if (existing.invoke === "single" || existing.invoke !== invoke) {
        return refuse(
          ErrorUri.PROCEDURE_ALREADY_EXISTS,
          `registered with invocation policy "${existing.invoke}"`,
        );
      }
    }
    const limits = this.#limits;
    if (
      this.#registrations.countOf(session.id) >= limits.registrationsPerSession &&
      session.transport !== "internal"
    ) {
      return refuse(
        ErrorUri.LIMIT_EXCEEDED,
        limitMessage("register", "registrationsPerSession", limits.registrationsPerSession),
      );
    }
    if (existing === undefined && this.#registrations.size >= limits.registrations) {
      return refuse(
        ErrorUri.LIMIT_EXCEEDED,
        limitMessage("register", "registrations", limits.registrations),
      );
    }
    this.#session(session);
    const reg = this.#registrations.add(
      msg.procedure,
      match,
      invoke,
      session.id,
      keptOptions(msg.options),
    );
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
    const reg = this.#registrations.get(msg.registration);
    if (reg === undefined || !reg.callees.includes(session.id)) {
      return [errorReply(session.id, msg.type, msg.request, ErrorUri.NO_SUCH_REGISTRATION)];
    }
    this.#registrations.remove(session.id, reg);
    return [{ to: session.id, msg: { type: MessageType.UNREGISTERED, request: msg.request } }];
  }

  /**
   * Revokes a registration (registration_revocation): its callees lose it,
   * and those that announced the feature get UNREGISTERED with request 0
   * and details `registration` and `reason`. Invocations already sent may
   * still be answered; new calls get `no_such_procedure`.
   *
   * @param id The registration ID.
   * @param reason Why, as a URI or text for the callee.
   * @param callee Revoke only this callee's part of a shared registration.
   * @returns UNREGISTERED messages, empty when there was nothing to revoke.
   */
  revoke(id: number, reason?: string, callee?: number): Outbound[] {
    const reg = this.#registrations.get(id);
    if (reg === undefined) return [];
    const out: Outbound[] = [];
    for (const sessionId of callee === undefined ? [...reg.callees] : [callee]) {
      if (!reg.callees.includes(sessionId)) continue;
      if (this.#sessions.get(sessionId)?.features.revocation === true) {
        const details: Dict = { registration: id };
        if (reason !== undefined) details.reason = reason;
        out.push({ to: sessionId, msg: { type: MessageType.UNREGISTERED, request: 0, details } });
      }
      this.#registrations.remove(sessionId, reg);
    }
    return out;
  }

  /**
   * Handles CALL: a new call is routed to one callee as INVOCATION; a
   * continuation of a progressive call (same request ID) goes to the same
   * callee under the same INVOCATION request ID. A new call from a session
   * with `callsPerSession` calls in flight is refused at once with
   * `cloverleaf.error.limit_exceeded` (continuations are not new calls). A
   * `timeout` over {@linkcode MAX_CALL_TIMEOUT} is lowered to it.
   *
   * @param session The caller.
   * @param msg The CALL message.
   * @param fresh Whether the request ID is a new one in the session's
   * sequence (the router session decides); an old ID is only acceptable as
   * the continuation of a progressive call.
   * @param disclose Disclose the caller as if it had set `disclose_me` (an
   * authorization permission says so), unless the realm never discloses.
   * @returns INVOCATION, or ERROR to the caller.
   * @throws {ProtocolViolationError} For an unannounced feature, or a
   * request ID that is neither new nor a progressive call's.
   */
  call(session: SessionInfo, msg: CallMessage, fresh = true, disclose = false): Outbound[] {
    const caller = this.#session(session);
    const active = caller.calls.get(msg.request);
    if (active !== undefined) {
      if (active.streaming) return this.#continue(active, msg);
      if (active.killing || active.progressive) return [];
      throw new ProtocolViolationError(`CALL reuses in-flight request ID ${msg.request}`);
    }
    if (caller.finished.has(msg.request)) return []; // a late chunk of a finished call
    if (!fresh) {
      throw new ProtocolViolationError(`CALL request ID ${msg.request} is out of sequence`);
    }
    return this.#newCall(session, caller, msg, disclose);
  }

  /**
   * Handles YIELD: a progressive one becomes RESULT `progress: true` for a
   * caller that asked for it; the final one closes the call.
   *
   * @param session The callee.
   * @param msg The YIELD message.
   * @returns RESULT to the caller, or nothing for a late YIELD.
   * @throws {ProtocolViolationError} For an INVOCATION ID never issued, or
   * passthru the callee did not announce.
   */
  yield(session: SessionInfo, msg: YieldMessage): Outbound[] {
    const ppt = usesPassthru(msg.options);
    if (ppt && !this.#session(session).features.calleePassthru) {
      throw new ProtocolViolationError(
        "YIELD with ppt_scheme: payload_passthru_mode not announced",
      );
    }
    const pending = this.#pending(session.id, msg.request, "YIELD");
    if (pending === undefined) return [];
    if (ppt && !pending.callerPassthru) {
      this.#end(pending);
      return [
        errorReply(
          pending.caller,
          MessageType.CALL,
          pending.callRequest,
          ErrorUri.FEATURE_NOT_SUPPORTED,
          "the callee answered with payload passthru, which the caller did not announce",
        ),
      ];
    }
    const progress = msg.options.progress === true;
    if (progress) {
      if (!pending.receiveProgress) return [];
      this.#arm(pending);
    } else {
      this.#end(pending);
    }
    const details: ResultDetails = progress ? { progress: true } : {};
    const result: ResultMessage = {
      type: MessageType.RESULT,
      request: pending.callRequest,
      details: copyPassthru(msg.options, details),
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
    const pending = this.#pending(session.id, msg.request, "ERROR");
    if (pending === undefined) return [];
    this.#end(pending);
    const error: ErrorMessage = {
      type: MessageType.ERROR,
      requestType: MessageType.CALL,
      request: pending.callRequest,
      details: copyPassthru(msg.details, {}),
      error: msg.error,
    };
    return [{ to: pending.caller, msg: copyPayload(msg, error) }];
  }

  /**
   * Handles CANCEL (call_canceling). Modes: `skip` answers the caller at
   * once and leaves the callee alone; `killnowait` (the default) also sends
   * INTERRUPT; `kill` sends INTERRUPT and lets the callee's answer through.
   * A callee that did not announce call_canceling always gets `skip`.
   *
   * @param session The caller.
   * @param msg The CANCEL message.
   * @returns ERROR `canceled` and/or INTERRUPT; nothing for an unknown or
   * finished call.
   */
  cancel(session: SessionInfo, msg: CancelMessage): Outbound[] {
    const pending = this.#sessions.get(session.id)?.calls.get(msg.request);
    if (pending === undefined || pending.killing) return [];
    const mode = msg.options.mode ?? "killnowait";
    if (mode === "kill" && pending.calleeCancels) {
      pending.killing = true;
      pending.streaming = false;
      return [interrupt(pending, "kill", ErrorUri.CANCELED)];
    }
    return this.#abandon(pending, mode === "skip" ? "skip" : "killnowait", ErrorUri.CANCELED);
  }

  /**
   * Cleans up after a session that left: its registrations go; callers of
   * the invocations it owed get ERROR `wamp.error.canceled` at once; callees
   * still working on its calls get INTERRUPT `killnowait` if they can take
   * it, and their late answers are discarded.
   *
   * @param sessionId The session that left.
   * @returns ERRORs and INTERRUPTs for the other sessions.
   */
  removeSession(sessionId: number): Outbound[] {
    const state = this.#sessions.get(sessionId);
    if (state === undefined) return [];
    for (const reg of this.#registrations.ofCallee(sessionId)) {
      this.#registrations.remove(sessionId, reg);
    }
    const out: Outbound[] = [];
    for (const pending of [...state.calls.values()]) {
      this.#end(pending);
      if (pending.calleeCancels && !pending.killing) {
        out.push(interrupt(pending, "killnowait", ErrorUri.CANCELED));
      }
    }
    for (const pending of [...state.invocations.values()]) {
      this.#end(pending);
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
    this.#sessions.delete(sessionId);
    return out;
  }

  // ---- calls ----

  #newCall(
    session: SessionInfo,
    caller: DealerSession,
    msg: CallMessage,
    forced: boolean,
  ): Outbound[] {
    const options = msg.options;
    const refuse = (uri: string, why?: string) => [
      errorReply(session.id, msg.type, msg.request, uri, why),
    ];
    const streaming = options.progress === true;
    if (streaming && !caller.features.streams) {
      throw new ProtocolViolationError(
        "CALL with progress: the caller did not announce progressive_call_invocations",
      );
    }
    const ppt = usesPassthru(options);
    if (ppt && !caller.features.callerPassthru) {
      throw new ProtocolViolationError(
        "CALL with ppt_scheme: the caller did not announce payload_passthru_mode",
      );
    }
    if (!this.#validUri(msg.procedure, "exact")) return refuse(ErrorUri.INVALID_URI);
    const maxCalls = this.#limits.callsPerSession;
    if (caller.calls.size >= maxCalls && session.transport !== "internal") {
      return refuse(ErrorUri.LIMIT_EXCEEDED, limitMessage("call", "callsPerSession", maxCalls));
    }
    if (ppt) {
      const problem = passthruProblem(options);
      if (problem !== undefined) return refuse(ErrorUri.INVALID_ARGUMENT, problem);
    }
    const disclosure = this.#options.discloseCaller ?? "request";
    if (options.disclose_me === true && disclosure === "never") {
      return refuse(ErrorUri.OPTION_DISALLOWED_DISCLOSE_ME, "this realm never discloses callers");
    }
    const reg = this.#registrations.best(msg.procedure);
    if (reg === undefined) return refuse(ErrorUri.NO_SUCH_PROCEDURE);
    let calleeId: number | undefined;
    if (options.runmode === undefined) {
      calleeId = pickCallee(reg, reg.invoke, this.#random);
    } else if (options.runmode === "partition") {
      if (options.rkey === undefined) {
        return refuse(ErrorUri.INVALID_ARGUMENT, 'runmode "partition" needs an rkey');
      }
      calleeId = shardCallee(reg.callees, options.rkey);
    } else {
      return refuse(ErrorUri.OPTION_NOT_ALLOWED, `runmode "${options.runmode}" is not supported`);
    }
    const callee = calleeId === undefined ? undefined : this.#sessions.get(calleeId);
    if (callee === undefined) return refuse(ErrorUri.NO_SUCH_PROCEDURE);
    const can = callee.features;
    if (streaming && !can.progressiveInvocations) {
      return refuse(
        ErrorUri.FEATURE_NOT_SUPPORTED,
        "the callee does not support progressive call invocations",
      );
    }
    if (ppt && !can.calleePassthru) {
      return refuse(ErrorUri.FEATURE_NOT_SUPPORTED, "the callee does not support payload passthru");
    }
    const calleeOptions = reg.options.get(callee.info.id) ?? {};
    const timeout = Math.min(options.timeout ?? 0, MAX_CALL_TIMEOUT);
    const pending: PendingCall = {
      caller: session.id,
      callRequest: msg.request,
      callee: callee.info.id,
      invocationRequest: ++callee.lastInvocation,
      registration: reg.id,
      receiveProgress: options.receive_progress === true && can.progressiveResults,
      callerPassthru: caller.features.callerPassthru,
      calleeCancels: can.cancels,
      timeout,
      streaming,
      progressive: streaming,
      killing: false,
      timer: undefined,
    };
    caller.calls.set(msg.request, pending);
    callee.invocations.set(pending.invocationRequest, pending);
    this.#arm(pending);

    const details: InvocationDetails = {};
    if (reg.match !== "exact") details.procedure = msg.procedure;
    if (pending.receiveProgress) details.receive_progress = true;
    if (streaming) details.progress = true;
    if (
      disclosure === "always" ||
      (disclosure === "request" &&
        (forced || options.disclose_me === true || calleeOptions.disclose_caller === true))
    ) {
      details.caller = session.id;
      details.caller_authid = session.authid;
      details.caller_authrole = session.authrole;
    }
    if (session.trustlevel !== undefined) details.trustlevel = session.trustlevel;
    if (timeout > 0 && calleeOptions.forward_timeout === true) details.timeout = timeout;
    copyPassthru(options, details, msg.payload !== undefined);
    const invocation: InvocationMessage = {
      type: MessageType.INVOCATION,
      request: pending.invocationRequest,
      registration: reg.id,
      details,
    };
    return [{ to: callee.info.id, msg: copyPayload(msg, invocation) }];
  }

  /** A further chunk of a progressive call: only `progress` counts. */
  #continue(pending: PendingCall, msg: CallMessage): Outbound[] {
    const more = msg.options.progress === true;
    if (!more) pending.streaming = false;
    const invocation: InvocationMessage = {
      type: MessageType.INVOCATION,
      request: pending.invocationRequest,
      registration: pending.registration,
      details: more ? { progress: true } : {},
    };
    return [{ to: pending.callee, msg: copyPayload(msg, invocation) }];
  }

  /** (Re)starts the call's timeout for the next gap. */
  #arm(pending: PendingCall): void {
    if (pending.timeout <= 0) return;
    if (pending.timer !== undefined) this.#timers.clearTimeout(pending.timer);
    pending.timer = this.#timers.setTimeout(() => {
      pending.timer = undefined;
      this.#options.dispatch?.(this.#abandon(pending, "killnowait", ErrorUri.TIMEOUT));
    }, pending.timeout);
  }

  /**
   * Ends a call on the router's side: the caller gets ERROR `uri` now, the
   * callee an INTERRUPT unless `skip` or it cannot take one; its late
   * answer will be discarded.
   */
  #abandon(pending: PendingCall, mode: "skip" | "killnowait", uri: string): Outbound[] {
    this.#end(pending);
    const out: Outbound[] = [];
    if (mode === "killnowait" && pending.calleeCancels) {
      out.push(interrupt(pending, "killnowait", uri));
    }
    out.push(errorReply(pending.caller, MessageType.CALL, pending.callRequest, uri));
    return out;
  }

  /** Forgets a call on both sides and stops its timer. */
  #end(pending: PendingCall): void {
    if (pending.timer !== undefined) this.#timers.clearTimeout(pending.timer);
    pending.timer = undefined;
    pending.streaming = false;
    this.#sessions.get(pending.callee)?.invocations.delete(pending.invocationRequest);
    const caller = this.#sessions.get(pending.caller);
    if (caller === undefined) return;
    caller.calls.delete(pending.callRequest);
    if (pending.progressive) {
      caller.finished.add(pending.callRequest);
      if (caller.finished.size > FINISHED_MEMORY) {
        caller.finished.delete(caller.finished.values().next().value!);
      }
    }
  }

  /** The call an answer belongs to; undefined for a late answer. */
  #pending(calleeId: number, request: number, what: string): PendingCall | undefined {
    const callee = this.#sessions.get(calleeId);
    const pending = callee?.invocations.get(request);
    if (pending === undefined && (callee === undefined || request > callee.lastInvocation)) {
      throw new ProtocolViolationError(`${what} for unknown INVOCATION ${request}`);
    }
    return pending;
  }

  // ---- bookkeeping ----

  #session(info: SessionInfo): DealerSession {
    let state = this.#sessions.get(info.id);
    if (state === undefined) {
      state = {
        info,
        features: rpcFeatures(info.roles),
        calls: new Map(),
        invocations: new Map(),
        lastInvocation: 0,
        finished: new Set(),
      };
      this.#sessions.set(info.id, state);
    }
    return state;
  }

  #validUri(uri: string, match: MatchPolicy): boolean {
    return isValidUri(uri, { strict: this.#options.strictUris ?? false, match });
  }
}

/** The REGISTER options a registration keeps for later calls. */
function keptOptions(options: RegisterOptions): RegisterOptions {
  const kept: RegisterOptions = {};
  if (options.disclose_caller === true) kept.disclose_caller = true;
  if (options.forward_timeout === true) kept.forward_timeout = true;
  return kept;
}

function interrupt(pending: PendingCall, mode: CancelMode, reason: string): Outbound {
  const msg: InterruptMessage = {
    type: MessageType.INTERRUPT,
    request: pending.invocationRequest,
    options: { mode, reason },
  };
  return { to: pending.callee, msg };
}

function copyPayload<T extends Payload>(from: Payload, to: T): T {
  if (from.args !== undefined) to.args = from.args;
  if (from.kwargs !== undefined) to.kwargs = from.kwargs;
  if (from.payload !== undefined) to.payload = from.payload;
  return to;
}
