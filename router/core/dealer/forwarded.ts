/**
 * The calls a node forwarded to callees on other nodes, as the caller's
 * node keeps them (`RemoteRpc.forwarded`), and their timeouts. The callee's
 * node runs a forwarded call's timeout as a dealer does; the caller's node
 * arms it too, {@linkcode TIMEOUT_GRACE} ms later, so a caller gets ERROR
 * `timeout` though the callee's node stalled (past its timer, short of
 * `nodeTimeout`) or NATS lost its answer.
 *
 * @module
 */

import { type CallMessage, ErrorUri, MessageType } from "../../../wamp/mod.ts";
import { errorReply } from "../errors.ts";
import { type Effect, NO_EFFECTS, NOTHING, type Output } from "../output.ts";
import { MAX_CALL_TIMEOUT } from "./pending_calls.ts";

/**
 * How much later than the callee's node the caller's node times out a
 * forwarded call (ms): the callee's node answers first (its INTERRUPT and
 * ERROR say `timeout`) unless it stalled or NATS lost its answer.
 */
export const TIMEOUT_GRACE = 500;

/** A call this node forwarded to another (the key of its timer). */
export interface Forwarded {
  /** The callee's node. */
  readonly node: string;
  /** More CALL chunks may follow (progressive call invocations). */
  streaming: boolean;
  /** When it was forwarded (the realm's clock). */
  readonly since: number;
  /** The CALL's timeout, per gap as the callee's node counts it (ms; 0: none). */
  readonly timeout: number;
}

/** Calls forwarded to other nodes: caller → CALL request → where. */
export type ForwardedCalls = Map<number, Map<number, Forwarded>>;

/**
 * Records a call forwarded to `node`.
 *
 * @param calls The calls forwarded.
 * @param caller The caller's session ID.
 * @param msg The CALL.
 * @param node The callee's node.
 * @param since The realm's clock.
 * @returns What is kept of it.
 */
export function forwardedCall(
  calls: ForwardedCalls,
  caller: number,
  msg: CallMessage,
  node: string,
  since: number,
): Forwarded {
  let mine = calls.get(caller);
  if (mine === undefined) calls.set(caller, mine = new Map());
  const timeout = Math.min(msg.options.timeout ?? 0, MAX_CALL_TIMEOUT - TIMEOUT_GRACE);
  const call: Forwarded = { node, streaming: msg.options.progress === true, since, timeout };
  mine.set(msg.request, call);
  return call;
}

/**
 * (Re)arms a forwarded call's timer for its next gap (from its CALL, or
 * from its last progressive RESULT), if it has a timeout: when it fires
 * and the call is still forwarded, the caller gets ERROR `timeout` and the
 * call is over here. The callee's node interrupts its callee with its own
 * timer (no CANCEL: its INTERRUPT would say `canceled`).
 *
 * @param calls The calls forwarded.
 * @param caller The caller's session ID.
 * @param request The CALL request ID.
 * @param call The call.
 * @param settle Completes the fired timer's output (`DealerOptions.settle`).
 * @param effects Where the `arm` effect goes.
 */
export function armForwarded(
  calls: ForwardedCalls,
  caller: number,
  request: number,
  call: Forwarded,
  settle: (out: Output) => Output,
  effects: Effect[],
): void {
  if (call.timeout <= 0) return;
  const fire = () => {
    const mine = calls.get(caller);
    if (mine?.get(request) !== call) return NOTHING; // answered meanwhile, or routed again
    mine.delete(request);
    if (mine.size === 0) calls.delete(caller);
    const error = errorReply(caller, MessageType.CALL, request, ErrorUri.TIMEOUT);
    return settle({ messages: [error], effects: NO_EFFECTS });
  };
  effects.push({ kind: "arm", key: call, ms: call.timeout + TIMEOUT_GRACE, fire });
}

/**
 * A forwarded call is over here (answered, or sent back to be routed
 * again): it is no longer forwarded and its timer is cancelled, so the
 * runner does not hold it for the call's whole timeout.
 *
 * @param calls The calls forwarded.
 * @param caller The caller's session ID.
 * @param request The CALL request ID.
 * @param effects Where the `cancel` effect goes.
 * @returns The call, or undefined when it was not forwarded.
 */
export function unforward(
  calls: ForwardedCalls,
  caller: number,
  request: number,
  effects: Effect[],
): Forwarded | undefined {
  const mine = calls.get(caller);
  const call = mine?.get(request);
  if (call === undefined) return undefined;
  mine!.delete(request);
  if (mine!.size === 0) calls.delete(caller);
  disarmForwarded(call, effects);
  return call;
}

/**
 * Cancels a forwarded call's timer, if it has one.
 *
 * @param call The call, over here.
 * @param effects Where the `cancel` effect goes.
 */
export function disarmForwarded(call: Forwarded, effects: Effect[]): void {
  if (call.timeout > 0) effects.push({ kind: "cancel", key: call });
}
