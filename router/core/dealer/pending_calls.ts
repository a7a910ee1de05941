/**
 * What the dealer keeps per session and per call in flight, and the
 * messages it builds from them (INTERRUPT, payload copies).
 *
 * @module
 */

import {
  type CallMessage,
  type CancelMode,
  type Dict,
  type ErrorMessage,
  ErrorUri,
  Feature,
  hasFeature,
  type InterruptMessage,
  type InvocationDetails,
  MessageType,
  type Payload,
  type RegisterOptions,
} from "../../../wamp/mod.ts";
import { IdTable } from "../../../wamp/id_table.ts";
import { errorReply } from "../errors.ts";
import { copyPassthru } from "../passthru.ts";
import { type Effect, NO_EFFECTS, type Output } from "../output.ts";
import type { Outbound, SessionInfo } from "../types.ts";

/**
 * The longest call timeout the dealer arms, in milliseconds (2^31 - 1,
 * about 24.8 days): timers take a signed 32-bit delay, and a longer one
 * would fire at once. A CALL asking for more gets this.
 */
export const MAX_CALL_TIMEOUT = 2 ** 31 - 1;

/**
 * A call in flight: CALL seen, INVOCATION sent, no final answer yet.
 *
 * A class, not an object literal: V8 moves the objects of a literal whose
 * objects it saw surviving young collections (calls in flight do, in
 * bursts) straight to the old generation from then on, where only a
 * mark-compact frees them. With a literal here every call record was
 * allocated old (`bench/gc_promoted.ts`; before and after in
 * `bench/results/s28-before-after.txt`).
 */
export class PendingCall {
  /**
   * The caller's dealer state: held, not looked up by session ID, when the
   * call ends (a state of a session that left is no longer in the dealer;
   * forgetting a call in it changes nothing).
   */
  readonly callerState: DealerSession;
  /** The CALL request ID. */
  readonly callRequest: number;
  /** The callee's dealer state. */
  readonly calleeState: DealerSession;
  /** The INVOCATION request ID. */
  readonly invocationRequest: number;
  /** The registration ID. */
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
  killing = false;
  /** INVOCATIONs sent for it (more than one: the callee has some of a progressive call). */
  chunks = 1;
  /** Its timeout timer is armed (the call object is the timer's key). */
  armed = false;

  /**
   * A new call, with the callee's next INVOCATION request ID.
   *
   * @param caller The caller's dealer state.
   * @param msg The CALL.
   * @param callee The callee's dealer state.
   * @param registration The registration ID.
   */
  constructor(
    caller: DealerSession,
    msg: CallMessage,
    callee: DealerSession,
    registration: number,
  ) {
    const options = msg.options;
    const can = callee.features;
    this.callerState = caller;
    this.callRequest = msg.request;
    this.calleeState = callee;
    this.invocationRequest = ++callee.lastInvocation;
    this.registration = registration;
    this.receiveProgress = options.receive_progress === true && can.progressiveResults;
    this.callerPassthru = caller.features.callerPassthru;
    this.calleeCancels = can.cancels;
    this.timeout = Math.min(options.timeout ?? 0, MAX_CALL_TIMEOUT);
    this.streaming = this.progressive = options.progress === true;
  }

  /** The caller's session ID. */
  get caller(): number {
    return this.callerState.info.id;
  }

  /** The callee's session ID. */
  get callee(): number {
    return this.calleeState.info.id;
  }
}

/** The RPC features a session announced, read once from its roles. */
export interface RpcFeatures {
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

/** What the dealer tracks per session. */
export interface DealerSession {
  /** The session. */
  readonly info: SessionInfo;
  /** Its RPC features. */
  readonly features: RpcFeatures;
  /** Calls this session made, by CALL request ID. */
  readonly calls: IdTable<PendingCall>;
  /** Invocations sent to this session, by INVOCATION request ID. */
  readonly invocations: IdTable<PendingCall>;
  /** The last INVOCATION request ID issued to this session. */
  lastInvocation: number;
  /**
   * Recently finished progressive calls: late chunks for them are dropped
   * where request IDs may repeat (`strictRequestIds` off; with it, any old
   * ID from a caller that may stream is dropped).
   */
  readonly finished: Set<number>;
}

/** How many finished progressive call IDs a session remembers. */
export const FINISHED_MEMORY = 256;

/** The dealer's state for a session that just appeared. */
export function dealerSession(info: SessionInfo): DealerSession {
  const roles = info.roles;
  const callee = (feature: string) => hasFeature(roles, "callee", feature);
  const cancels = callee(Feature.CALL_CANCELING) || callee("call_cancelling");
  return {
    info,
    features: {
      cancels,
      progressiveResults: cancels && callee(Feature.PROGRESSIVE_CALL_RESULTS),
      progressiveInvocations: cancels && callee(Feature.PROGRESSIVE_CALL_INVOCATIONS),
      calleePassthru: callee(Feature.PAYLOAD_PASSTHRU_MODE),
      revocation: callee(Feature.REGISTRATION_REVOCATION),
      streams: hasFeature(roles, "caller", Feature.PROGRESSIVE_CALL_INVOCATIONS),
      callerPassthru: hasFeature(roles, "caller", Feature.PAYLOAD_PASSTHRU_MODE),
    },
    calls: new IdTable(),
    invocations: new IdTable(),
    lastInvocation: 0,
    finished: new Set(),
  };
}

/** The REGISTER options a registration keeps for later calls. */
export function keptOptions(options: RegisterOptions): RegisterOptions {
  const kept: RegisterOptions = {};
  if (options.disclose_caller === true) kept.disclose_caller = true;
  if (options.forward_timeout === true) kept.forward_timeout = true;
  return kept;
}

/** INTERRUPT for a call's invocation. */
export function interrupt(pending: PendingCall, mode: CancelMode, reason: string): Outbound {
  const msg: InterruptMessage = {
    type: MessageType.INTERRUPT,
    request: pending.invocationRequest,
    options: { mode, reason },
  };
  return { to: pending.callee, msg };
}

/** Copies args, kwargs and payload from one message to another; returns `to`. */
export function copyPayload<T extends Payload>(from: Payload, to: T): T {
  if (from.args !== undefined) to.args = from.args;
  if (from.kwargs !== undefined) to.kwargs = from.kwargs;
  if (from.payload !== undefined) to.payload = from.payload;
  return to;
}

/**
 * Remembers a caller's progressive call as over: the chunks of it still on
 * their way are dropped, not taken for a request out of sequence.
 *
 * @param caller The caller's dealer state.
 * @param request The call's request ID.
 */
export function finished(caller: DealerSession, request: number): void {
  caller.finished.add(request);
  if (caller.finished.size > FINISHED_MEMORY) {
    caller.finished.delete(caller.finished.values().next().value!);
  }
}

/**
 * Forgets a call on both sides (a progressive call's ID is remembered, so
 * late chunks are dropped).
 *
 * @param pending The call.
 * @returns The cancellation of its timer, if one is armed.
 */
export function endCall(pending: PendingCall): Effect | undefined {
  pending.streaming = false;
  pending.calleeState.invocations.delete(pending.invocationRequest);
  const caller = pending.callerState;
  caller.calls.delete(pending.callRequest);
  if (pending.progressive) finished(caller, pending.callRequest);
  if (!pending.armed) return undefined;
  pending.armed = false;
  return { kind: "cancel", key: pending };
}

/**
 * What a callee's ERROR for an INVOCATION leads to: the caller gets ERROR
 * with the same URI, details passed through and payload. A
 * `payload_size_exceeded` for a progressive call of several chunks also
 * sends the callee INTERRUPT: the router answers so for a callee that a
 * chunk was too large for (`router/oversize.ts`), and it holds the chunks
 * before it. (A callee's own such ERROR gets an INTERRUPT for a call that
 * is over for it, which callees ignore.)
 *
 * @param pending The call, ended.
 * @param msg The callee's ERROR.
 * @returns What to deliver.
 */
export function invocationError(pending: PendingCall, msg: ErrorMessage): Outbound[] {
  const error: ErrorMessage = {
    type: MessageType.ERROR,
    requestType: MessageType.CALL,
    request: pending.callRequest,
    details: copyPassthru(msg.details, {}),
    error: msg.error,
  };
  const out: Outbound[] = [{ to: pending.caller, msg: copyPayload(msg, error) }];
  const uri = ErrorUri.PAYLOAD_SIZE_EXCEEDED;
  if (msg.error === uri && pending.chunks > 1 && pending.calleeCancels) {
    out.unshift(interrupt(pending, "killnowait", uri));
  }
  return out;
}

/** Messages, and the timer effect that goes with them. */
export function reply(messages: Outbound[], timer?: Effect): Output {
  return { messages, effects: timer === undefined ? NO_EFFECTS : [timer] };
}

/**
 * What ending a call on the router's side sends: the caller gets ERROR
 * `uri`, the callee an INTERRUPT unless `skip` or it cannot take one (its
 * late answer will be discarded).
 */
export function abandoned(
  pending: PendingCall,
  mode: "skip" | "killnowait",
  uri: string,
): Outbound[] {
  const out: Outbound[] = [];
  if (mode === "killnowait" && pending.calleeCancels) {
    out.push(interrupt(pending, "killnowait", uri));
  }
  out.push(errorReply(pending.caller, MessageType.CALL, pending.callRequest, uri));
  return out;
}

/**
 * INVOCATION.Details for a new call.
 *
 * @param session The caller.
 * @param msg The CALL.
 * @param pending The call.
 * @param pattern Whether the registration is a pattern (the callee learns the procedure).
 * @param disclose Whether the caller is disclosed.
 * @param calleeOptions What the callee's REGISTER kept.
 * @returns The details.
 */
export function invocationDetails(
  session: SessionInfo,
  msg: CallMessage,
  pending: PendingCall,
  pattern: boolean,
  disclose: boolean,
  calleeOptions: Dict,
): InvocationDetails {
  const details: InvocationDetails = {};
  if (pattern) details.procedure = msg.procedure;
  if (pending.receiveProgress) details.receive_progress = true;
  if (pending.streaming) details.progress = true;
  if (disclose) {
    details.caller = session.id;
    details.caller_authid = session.authid;
    details.caller_authrole = session.authrole;
  }
  if (session.trustlevel !== undefined) details.trustlevel = session.trustlevel;
  if (pending.timeout > 0 && calleeOptions.forward_timeout === true) {
    details.timeout = pending.timeout;
  }
  copyPassthru(msg.options, details, msg.payload !== undefined);
  return details;
}
