/**
 * A shared registration passes over a callee on another node that is not
 * reading what it is sent, as one router passes over a local one
 * (`freeCallee`): the caller's node cannot see that callee's backlog, so
 * the callee's node sends such a new call back (a `busy` envelope, the
 * call as it came) instead of refusing it, and the caller's node routes it
 * to the next callee in the policy's order that is free and has not sent
 * it back; when none is left, the caller gets ERROR
 * `wamp.error.no_available_callee`, as on one router. Not for a
 * partitioned call, nor for a progressive call invocation (its further
 * chunks may be on their way to that node already). A CANCEL the caller
 * sent meanwhile went to the node that sent the call back, which no longer
 * knows it: the caller's node keeps it, and such a call ends with ERROR
 * `wamp.error.canceled` instead of being routed again.
 *
 * @module
 */

import { type CallMessage, ErrorUri, MessageType } from "../../../wamp/mod.ts";
import { errorReply } from "../errors.ts";
import { append, NOTHING, type Output, output } from "../output.ts";
import type { Calls } from "./calls.ts";
import { unforward } from "./forwarded.ts";
import { freeCallee } from "./invocation_policy.ts";
import type { Registrations } from "./registrations.ts";
import type { RemoteRpc, RpcEnvelope } from "./remote.ts";

/** A call sent back to its caller's node to pass over its busy callee. */
export interface BusyEnvelope {
  /** Its kind. */
  k: "busy";
  /** The realm. */
  realm: string;
  /** The node sending it back (the callee's). */
  from: string;
  /** The call, as it came. */
  call: Extract<RpcEnvelope, { k: "call" }>;
}

/** What {@linkcode PassOver} needs from its dealer. */
export interface PassOverParts {
  /** The registration table. */
  readonly registrations: Registrations;
  /** The calls in flight. */
  readonly calls: Calls;
  /** Whether a session is not reading what it is sent (`DealerOptions.busy`). */
  readonly busy: (session: number) => boolean;
}

/** A forwarded call that came back, or was cancelled while it may come back. */
interface Held {
  /** The callees that sent it back. */
  readonly passed: Set<number>;
  /** Its caller sent CANCEL. */
  cancelled: boolean;
}

/** Passing over busy callees across nodes, for one dealer. */
export class PassOver {
  #remote: RemoteRpc;
  #parts: PassOverParts;
  /** Local callers → CALL request → what is held of a call forwarded elsewhere. */
  #held = new Map<number, Map<number, Held>>();

  /**
   * Creates it.
   *
   * @param remote The dealer's cluster state.
   * @param parts The dealer's pieces.
   */
  constructor(remote: RemoteRpc, parts: PassOverParts) {
    this.#remote = remote;
    this.#parts = parts;
  }

  /**
   * The callee's node: whether a call another node routed to local callee
   * `callee` goes back to pass over it (it is busy, the registration is
   * shared and has other callees).
   *
   * @param msg The CALL.
   * @param callee The callee (0: a further chunk of a progressive call).
   * @returns True to send it back.
   */
  passes(msg: CallMessage, callee: number): boolean {
    const options = msg.options;
    if (callee === 0 || options.runmode !== undefined || options.progress === true) return false;
    if (this.#remote.callees.has(callee)) return false; // not this node's
    const reg = this.#parts.registrations.best(msg.procedure);
    if (reg === undefined || reg.invoke === "single" || reg.callees.length < 2) return false;
    return reg.callees.includes(callee) && this.#parts.busy(callee);
  }

  /**
   * The caller's node: a call forwarded to `node` came back from busy
   * callee `callee`: it goes to the next callee that is free and did not
   * send it back, or ends.
   *
   * @returns The call routed again, or ERROR to the caller; nothing when
   * the call ended meanwhile.
   */
  bounced(node: string, caller: number, msg: CallMessage, callee: number, forced: boolean): Output {
    const { request } = msg;
    const forwarded = this.#remote.forwarded;
    const info = this.#parts.calls.get(caller)?.info;
    if (forwarded.get(caller)?.get(request)?.node !== node || info === undefined) return NOTHING;
    this.#prune(caller);
    const held = this.#hold(caller, request);
    const out = output();
    unforward(forwarded, caller, request, out.effects); // not forwarded any more: its timer goes
    held.passed.add(callee);
    const refuse = (uri: string, why?: string) => {
      this.ended(caller, request);
      out.messages.push(errorReply(caller, MessageType.CALL, request, uri, why));
      return out;
    };
    if (held.cancelled) return refuse(ErrorUri.CANCELED);
    const reg = this.#parts.registrations.best(msg.procedure);
    if (reg === undefined) return refuse(ErrorUri.NO_SUCH_PROCEDURE);
    const passed = held.passed;
    const next = freeCallee(reg, callee, (s) => passed.has(s) || this.#parts.busy(s));
    if (next === undefined || passed.has(next)) {
      return refuse(ErrorUri.NO_AVAILABLE_CALLEE, "the callee is not reading what it is sent");
    }
    append(out, this.#parts.calls.call(info, msg, true, forced, next));
    if (forwarded.get(caller)?.has(request) !== true) this.ended(caller, request);
    return out;
  }

  /**
   * The caller's node: a local caller's CANCEL, kept should its call,
   * forwarded to another node, come back.
   */
  cancelling(caller: number, request: number): void {
    if (this.#remote.forwarded.get(caller)?.has(request) !== true) return;
    this.#prune(caller);
    this.#hold(caller, request).cancelled = true;
  }

  /** A forwarded call ended: nothing more is held of it. */
  ended(caller: number, request: number): void {
    const calls = this.#held.get(caller);
    if (calls?.delete(request) === true && calls.size === 0) this.#held.delete(caller);
  }

  /** A local caller left. */
  callerLeft(caller: number): void {
    this.#held.delete(caller);
  }

  #hold(caller: number, request: number): Held {
    let calls = this.#held.get(caller);
    if (calls === undefined) this.#held.set(caller, calls = new Map());
    let held = calls.get(request);
    if (held === undefined) calls.set(request, held = { passed: new Set(), cancelled: false });
    return held;
  }

  /** Forgets what is held of a caller's calls that ended unanswered (`lapsed`, a node down). */
  #prune(caller: number): void {
    const calls = this.#held.get(caller);
    if (calls === undefined) return;
    const mine = this.#remote.forwarded.get(caller);
    for (const request of calls.keys()) if (mine?.has(request) !== true) calls.delete(request);
    if (calls.size === 0) this.#held.delete(caller);
  }
}
