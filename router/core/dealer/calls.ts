/**
 * The dealer's calls in flight: CALL → INVOCATION, YIELD/ERROR → RESULT/ERROR,
 * CANCEL, progressive calls and results, and call timeouts as timer
 * effects (keyed by the call) in the returned {@linkcode Output}.
 *
 * @module
 */

import {
  type CallMessage,
  type CancelMessage,
  type ErrorMessage,
  ErrorUri,
  type InvocationMessage,
  isValidUri,
  type MatchPolicy,
  MessageType,
  ProtocolViolationError,
  type ResultDetails,
  type ResultMessage,
  type YieldMessage,
} from "../../../wamp/mod.ts";
import type { Disclosure } from "../realm_options.ts";
import { errorReply } from "../errors.ts";
import { chooseCallee, freeCallee } from "./invocation_policy.ts";
import { limitMessage } from "../limits.ts";
import { type Effect, NOTHING, type Output } from "../output.ts";
import { copyPassthru, passthruProblem, usesPassthru } from "../passthru.ts";
import {
  abandoned,
  copyPayload,
  type DealerSession,
  dealerSession,
  endCall,
  interrupt,
  invocationDetails,
  invocationError,
  PendingCall,
  reply,
} from "./pending_calls.ts";
import type { Registrations } from "./registrations.ts";
import type { RemoteRpc } from "./remote.ts";
import type { Outbound, SessionInfo } from "../types.ts";

/** What {@linkcode Calls} needs from its dealer. */
export interface CallsOptions {
  /** The dealer's registrations. */
  readonly registrations: Registrations;
  /** Only `[0-9a-z_]` URI components. */
  readonly strictUris: boolean;
  /** Caller identification policy. */
  readonly discloseCaller: Disclosure;
  /** Random numbers in [0, 1) for the `random` policy. */
  readonly random: () => number;
  /** Whether a session is not reading what it is sent (`DealerOptions.busy`). */
  readonly busy: (session: number, whole?: boolean) => boolean;
  /** Calls a session may have in flight. */
  readonly callsPerSession: number;
  /** Completes what a fired timer returns. */
  readonly settle: (out: Output) => Output;
}

/** The calls in flight of one dealer, and the sessions' RPC features. */
export class Calls {
  #options: CallsOptions;
  #registrations: Registrations;
  #sessions = new Map<number, DealerSession>();
  /** Callees and calls on other nodes, once the dealer joined a cluster. */
  remote: RemoteRpc | undefined;

  /** Creates the table over the dealer's registrations and policies. */
  constructor(options: CallsOptions) {
    this.#options = options;
    this.#registrations = options.registrations;
  }

  /**
   * Handles CALL: a new call is routed to one callee as INVOCATION; a
   * continuation of a progressive call (same request ID) goes to the same
   * callee under the same INVOCATION request ID. A new call from a session
   * with `callsPerSession` calls in flight is refused at once with
   * `cloverleaf.error.limit_exceeded` (continuations are not new calls). A
   * `timeout` over `MAX_CALL_TIMEOUT` (`pending_calls.ts`) is lowered to it.
   *
   * @param fresh Whether the request ID is new in the session's sequence;
   * an old ID is only acceptable as the continuation of a progressive call.
   * @param disclose Disclose the caller as if it had set `disclose_me` (an
   * authorization permission says so), unless the realm never discloses.
   * @param target The callee, for a call routed by another node.
   * @returns INVOCATION (and the call's timer), or ERROR to the caller.
   * @throws {ProtocolViolationError} For an unannounced feature, or a
   * request ID that is neither new nor a progressive call's.
   */
  call(
    session: SessionInfo,
    msg: CallMessage,
    fresh = true,
    disclose = false,
    target?: number,
  ): Output {
    const caller = this.session(session);
    const active = caller.calls.get(msg.request);
    if (active !== undefined) {
      if (active.streaming) return this.#continue(active, msg);
      if (active.killing || active.progressive) return NOTHING;
      throw new ProtocolViolationError(`CALL reuses in-flight request ID ${msg.request}`);
    }
    const away = target === undefined ? this.remote?.continued(session, msg) : undefined;
    if (away !== undefined) return away; // a further chunk of a call forwarded to another node
    if (caller.finished.has(msg.request)) return NOTHING; // a late chunk of a finished call
    if (!fresh) {
      // An ID issued before (the session checked): from a caller that may stream, a late chunk of
      // a call that ended, however many ended since (the spec: silently discarded).
      if (caller.features.streams) return NOTHING;
      throw new ProtocolViolationError(`CALL request ID ${msg.request} is out of sequence`);
    }
    return this.#newCall(session, caller, msg, disclose, target);
  }

  /**
   * Handles YIELD: a progressive one becomes RESULT `progress: true` for a
   * caller that asked for it; the final one closes the call.
   *
   * @returns RESULT to the caller (and the timer's restart or cancel), or
   * nothing for a late YIELD.
   * @throws {ProtocolViolationError} For an INVOCATION ID never issued, or
   * passthru the callee did not announce.
   */
  yield(session: SessionInfo, msg: YieldMessage): Output {
    const ppt = usesPassthru(msg.options);
    if (ppt && !this.session(session).features.calleePassthru) {
      throw new ProtocolViolationError(
        "YIELD with ppt_scheme: payload_passthru_mode not announced",
      );
    }
    const pending = this.#pending(session.id, msg.request, "YIELD");
    if (pending === undefined) return NOTHING;
    if (ppt && !pending.callerPassthru) {
      const why = "the callee answered with payload passthru, which the caller did not announce";
      const { caller, callRequest } = pending;
      const uri = ErrorUri.FEATURE_NOT_SUPPORTED;
      const error = errorReply(caller, MessageType.CALL, callRequest, uri, why);
      return reply([error], this.#end(pending));
    }
    const progress = msg.options.progress === true;
    if (progress && !pending.receiveProgress) return NOTHING;
    // A progressive result to a caller not reading can neither wait nor be dropped: the call ends.
    if (progress && this.#options.busy(pending.caller, true)) {
      return reply(abandoned(pending, "killnowait", ErrorUri.CANCELED), this.#end(pending));
    }
    const timer = progress ? this.#arm(pending) : this.#end(pending);
    const details: ResultDetails = progress ? { progress: true } : {};
    const result: ResultMessage = {
      type: MessageType.RESULT,
      request: pending.callRequest,
      details: copyPassthru(msg.options, details),
    };
    return reply([{ to: pending.caller, msg: copyPayload(msg, result) }], timer);
  }

  /**
   * Handles ERROR for an INVOCATION: passed to the caller with the same
   * URI, args and kwargs.
   *
   * @returns ERROR to the caller, or nothing for a late answer.
   * @throws {ProtocolViolationError} For an INVOCATION ID never issued.
   */
  error(session: SessionInfo, msg: ErrorMessage): Output {
    const pending = this.#pending(session.id, msg.request, "ERROR");
    if (pending === undefined) return NOTHING;
    return reply(invocationError(pending, msg), this.#end(pending));
  }

  /**
   * Handles CANCEL (call_canceling). Modes: `skip` answers the caller at
   * once and leaves the callee alone; `killnowait` (the default) also sends
   * INTERRUPT; `kill` sends INTERRUPT and lets the callee's answer through.
   * A callee that did not announce call_canceling always gets `skip`. A
   * forwarded call's CANCEL goes to its callee's node.
   *
   * @returns ERROR `canceled` and/or INTERRUPT; nothing for an unknown or
   * finished call.
   */
  cancel(session: SessionInfo, msg: CancelMessage): Output {
    const pending = this.#sessions.get(session.id)?.calls.get(msg.request);
    if (pending === undefined) return this.remote?.cancel(session.id, msg) ?? NOTHING;
    if (pending.killing) return NOTHING;
    const mode = msg.options.mode ?? "killnowait";
    if (mode === "kill" && pending.calleeCancels) {
      pending.killing = true;
      pending.streaming = false;
      return reply([interrupt(pending, "kill", ErrorUri.CANCELED)]);
    }
    const timer = this.#end(pending);
    return reply(
      abandoned(pending, mode === "skip" ? "skip" : "killnowait", ErrorUri.CANCELED),
      timer,
    );
  }

  /**
   * Cleans up after a session that left (see `Dealer.removeSession`); the
   * nodes running its forwarded calls are told.
   */
  removeSession(sessionId: number): Output {
    const state = this.#sessions.get(sessionId);
    if (state === undefined) return NOTHING;
    const out: Outbound[] = [];
    const effects: Effect[] = [];
    const end = (pending: PendingCall) => {
      const timer = this.#end(pending);
      if (timer !== undefined) effects.push(timer);
    };
    for (const pending of state.calls.sortedValues()) {
      end(pending);
      if (pending.calleeCancels && !pending.killing) {
        out.push(interrupt(pending, "killnowait", ErrorUri.CANCELED));
      }
    }
    for (const pending of state.invocations.sortedValues()) {
      end(pending);
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
    this.remote?.callerLeft(sessionId, effects);
    return { messages: out, effects };
  }

  #newCall(
    session: SessionInfo,
    caller: DealerSession,
    msg: CallMessage,
    forced: boolean,
    target: number | undefined,
  ): Output {
    const options = msg.options;
    const refuse = (uri: string, why?: string) =>
      reply([errorReply(session.id, msg.type, msg.request, uri, why)]);
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
    const maxCalls = this.#options.callsPerSession;
    const away = this.remote?.forwarded.get(session.id)?.size ?? 0;
    if (caller.calls.size + away >= maxCalls && session.transport !== "internal") {
      return refuse(ErrorUri.LIMIT_EXCEEDED, limitMessage("call", "callsPerSession", maxCalls));
    }
    if (ppt) {
      const problem = passthruProblem(options);
      if (problem !== undefined) return refuse(ErrorUri.INVALID_ARGUMENT, problem);
    }
    const disclosure = this.#options.discloseCaller;
    if (options.disclose_me === true && disclosure === "never") {
      return refuse(ErrorUri.OPTION_DISALLOWED_DISCLOSE_ME, "this realm never discloses callers");
    }
    const reg = this.#registrations.best(msg.procedure);
    if (reg === undefined) return refuse(ErrorUri.NO_SUCH_PROCEDURE);
    const chosen = target === undefined
      ? chooseCallee(reg, options, this.#options.random)
      : reg.callees.includes(target)
      ? target
      : undefined;
    if (Array.isArray(chosen)) return refuse(...chosen);
    // A shared registration passes over callees that are not reading (not a partitioned call).
    const calleeId = target === undefined && options.runmode === undefined
      ? freeCallee(reg, chosen, this.#options.busy)
      : chosen;
    const callee = this.remote?.callees.has(calleeId!) ? undefined : this.#sessions.get(calleeId!);
    if (callee === undefined) {
      return this.remote?.forward(session, msg, calleeId, forced) ??
        refuse(ErrorUri.NO_SUCH_PROCEDURE);
    }
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
    // Refused here: an INVOCATION past the callee's outbound limit would close the callee.
    if (this.#options.busy(callee.info.id)) {
      return refuse(ErrorUri.NO_AVAILABLE_CALLEE, "the callee is not reading what it is sent");
    }
    const calleeOptions = reg.options.get(callee.info.id) ?? {};
    const pending = new PendingCall(caller, msg, callee, reg.id);
    caller.calls.set(msg.request, pending);
    callee.invocations.set(pending.invocationRequest, pending);
    const timer = this.#arm(pending);
    const disclose = disclosure === "always" ||
      (disclosure === "request" &&
        (forced || options.disclose_me === true || calleeOptions.disclose_caller === true));
    const invocation: InvocationMessage = {
      type: MessageType.INVOCATION,
      request: pending.invocationRequest,
      registration: reg.id,
      details: invocationDetails(
        session,
        msg,
        pending,
        reg.match !== "exact",
        disclose,
        calleeOptions,
      ),
    };
    return reply([{ to: callee.info.id, msg: copyPayload(msg, invocation) }], timer);
  }

  /** A further chunk of a progressive call: only `progress` counts. */
  #continue(pending: PendingCall, msg: CallMessage): Output {
    // A chunk cannot be dropped, nor sent past the callee's limit: the call ends (its INTERRUPT
    // goes past the limit).
    if (this.#options.busy(pending.callee, true)) {
      const uri = ErrorUri.NO_AVAILABLE_CALLEE;
      return reply(abandoned(pending, "killnowait", uri), this.#end(pending));
    }
    const more = msg.options.progress === true;
    if (!more) pending.streaming = false;
    pending.chunks++;
    const invocation: InvocationMessage = {
      type: MessageType.INVOCATION,
      request: pending.invocationRequest,
      registration: pending.registration,
      details: more ? { progress: true } : {},
    };
    return reply([{ to: pending.callee, msg: copyPayload(msg, invocation) }]);
  }

  /**
   * (Re)starts the call's timeout for the next gap: the timer effect
   * (keyed by the call), or nothing for a call without a timeout.
   */
  #arm(pending: PendingCall): Effect | undefined {
    if (pending.timeout <= 0) return undefined;
    pending.armed = true;
    return { kind: "arm", key: pending, ms: pending.timeout, fire: () => this.#timedOut(pending) };
  }

  /** A call's timer fired: the caller gets ERROR `timeout`, the callee INTERRUPT. */
  #timedOut(pending: PendingCall): Output {
    if (!pending.armed) return NOTHING; // answered meanwhile
    pending.armed = false;
    this.#end(pending);
    return this.#options.settle(reply(abandoned(pending, "killnowait", ErrorUri.TIMEOUT)));
  }

  /** Forgets a call on both sides; returns the cancellation of its timer, if armed. */
  #end(pending: PendingCall): Effect | undefined {
    return endCall(pending);
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

  /** The dealer's state for a session, created on first use. */
  session(info: SessionInfo): DealerSession {
    let state = this.#sessions.get(info.id);
    if (state === undefined) this.#sessions.set(info.id, state = dealerSession(info));
    return state;
  }

  /** The dealer's state for a session, if it has any. */
  get(id: number): DealerSession | undefined {
    return this.#sessions.get(id);
  }

  #validUri(uri: string, match: MatchPolicy): boolean {
    return isValidUri(uri, { strict: this.#options.strictUris, match });
  }
}
