/**
 * A dealer in a cluster: the inputs the shell feeds it from NATS (the
 * shared registration table's changes, forwarded calls and cancels,
 * answers for local callers, nodes going down), each returning an
 * {@linkcode Output}, and the registration claim that REGISTER becomes.
 * Pure: the claim is a `task` effect the shell runs against JetStream KV.
 *
 * @module
 */

import {
  type CallMessage,
  type CancelMessage,
  type Dict,
  ErrorUri,
  type InvocationPolicy,
  type MatchPolicy,
  MessageType,
  type RegisterMessage,
  type WampMessage,
} from "../../../wamp/mod.ts";
import { errorReply } from "../errors.ts";
import { append, type Effect, messagesOnly, NOTHING, type Output, output } from "../output.ts";
import type { Calls } from "./calls.ts";
import { dealerSession, finished, keptOptions } from "./pending_calls.ts";
import { type BusyEnvelope, PassOver } from "./pass_over.ts";
import type { Registrations } from "./registrations.ts";
import { type CalleeEntry, type ProxyCaller, proxyOf, type RemoteRpc } from "./remote.ts";
import type { Outbound, SessionInfo } from "../types.ts";

/** What {@linkcode DealerCluster} needs from its dealer. */
export interface DealerParts {
  /** The registration table. */
  readonly registrations: Registrations;
  /** The calls in flight. */
  readonly calls: Calls;
  /** The clock. */
  readonly now: () => number;
  /** Whether a session is not reading what it is sent (`DealerOptions.busy`). */
  readonly busy: (session: number, whole?: boolean) => boolean;
  /** Completes an output (meta events). */
  readonly settle: (out: Output) => Output;
  /** Why a REGISTER is refused by this node's view. */
  readonly refusal: (session: SessionInfo, msg: RegisterMessage) => Outbound[] | undefined;
  /**
   * Adds an accepted REGISTER's callee at its place in the cluster-wide
   * order: REGISTERED, or ERROR when it may not hold it (not added then).
   */
  readonly add: (session: SessionInfo, msg: RegisterMessage, at: number) => Outbound[];
  /** Revokes a registration, or one callee's part (`Dealer.revokeRequest`). */
  readonly revoke: (id: number, reason: string | undefined, callee: number) => Output;
}

/** The cluster side of one dealer. */
export class DealerCluster {
  #remote: RemoteRpc;
  #parts: DealerParts;
  #passOver: PassOver;

  /**
   * Creates it.
   *
   * @param remote The dealer's cluster state.
   * @param parts The dealer's pieces.
   */
  constructor(remote: RemoteRpc, parts: DealerParts) {
    this.#remote = remote;
    this.#parts = parts;
    this.#passOver = new PassOver(remote, parts);
  }

  /** The proxies here of callers on other nodes: session ID → their node. */
  get proxies(): ReadonlyMap<number, string> {
    return this.#remote.proxies;
  }

  /**
   * REGISTER in a cluster: the callee is added to the shared table (a task
   * the shell runs); REGISTERED follows, or ERROR `procedure_already_exists`
   * when another node's registration is in the way.
   *
   * @param session The callee.
   * @param msg The REGISTER.
   * @returns The claim.
   */
  claim(session: SessionInfo, msg: RegisterMessage): Output {
    const remote = this.#remote;
    const match = msg.options.match ?? "exact";
    const invoke = msg.options.invoke ?? "single";
    const entry: CalleeEntry = {
      node: remote.hooks.node,
      session: session.id,
      at: this.#parts.now(),
      options: keptOptions(msg.options),
      features: dealerSession(session).features,
    };
    remote.claims.set(session.id, (remote.claims.get(session.id) ?? 0) + 1);
    const fresh = this.#parts.registrations.lookup(msg.procedure, match) === undefined;
    if (fresh) remote.claimingNew(msg.procedure, match, 1);
    const effect: Effect = {
      kind: "task",
      run: () => remote.hooks.claim(msg.procedure, match, invoke, entry),
      resume: (result) => {
        if (fresh) remote.claimingNew(msg.procedure, match, -1);
        return this.#parts.settle(this.#claimed(session, msg, entry, result));
      },
    };
    return { messages: [], effects: [effect] };
  }

  #claimed(
    session: SessionInfo,
    msg: RegisterMessage,
    entry: CalleeEntry,
    result: { ok: true; value: string | undefined } | { ok: false; error: unknown },
  ): Output {
    const remote = this.#remote;
    const claims = remote.claims.get(session.id);
    const match = msg.options.match ?? "exact";
    if (claims === undefined) { // the session left meanwhile
      return result.ok && result.value === undefined
        ? { messages: [], effects: [remote.release(msg.procedure, match, session.id)] }
        : NOTHING;
    }
    if (claims <= 1) remote.claims.delete(session.id);
    else remote.claims.set(session.id, claims - 1);
    const refuse = (uri: string, why: string) =>
      messagesOnly([errorReply(session.id, msg.type, msg.request, uri, why)]);
    if (!result.ok) {
      return refuse(ErrorUri.CANCELED, `the cluster's registration table failed: ${result.error}`);
    }
    if (result.value !== undefined) return refuse(ErrorUri.PROCEDURE_ALREADY_EXISTS, result.value);
    const refused = this.#parts.refusal(session, msg); // a local REGISTER won meanwhile
    if (refused !== undefined) {
      // The session's own earlier REGISTER of it won: the shared entry is that one's, keep it.
      const own = this.#parts.registrations.lookup(msg.procedure, match)?.callees
        .includes(session.id);
      return own
        ? messagesOnly(refused)
        : { messages: refused, effects: [remote.release(msg.procedure, match, session.id)] };
    }
    const added = this.#parts.add(session, msg, entry.at);
    // Refused as it was added (a procedure it captures trusted meanwhile): the claim goes.
    const registered = this.#parts.registrations.lookup(msg.procedure, match)?.callees
      .includes(session.id);
    return registered === true
      ? messagesOnly(added)
      : { messages: added, effects: [remote.release(msg.procedure, match, session.id)] };
  }

  /**
   * A session left (in a cluster): as `Dealer.removeSession`, and its
   * registrations leave the shared table.
   */
  removeSession(remote: RemoteRpc, sessionId: number): Output {
    const registrations = this.#parts.registrations;
    const out = output();
    remote.claims.delete(sessionId);
    remote.order.delete(sessionId);
    this.#passOver.callerLeft(sessionId);
    for (const reg of registrations.ofCallee(sessionId)) {
      registrations.remove(sessionId, reg);
      out.effects.push(remote.release(reg.procedure, reg.match, sessionId));
    }
    return append(out, this.#parts.calls.removeSession(sessionId));
  }

  /**
   * Another node revokes this node's callee `session`'s part of (procedure,
   * match) (`Router.revokeRegistration` there): as if revoked here.
   */
  revoke(procedure: string, match: MatchPolicy, session: number, reason?: string): Output {
    const reg = this.#parts.registrations.lookup(procedure, match);
    if (reg === undefined || !reg.callees.includes(session)) return NOTHING;
    if (this.#remote.callees.has(session)) return NOTHING; // not ours
    return this.#parts.settle(this.#parts.revoke(reg.id, reason, session));
  }

  /**
   * The shared table changed: `entries` are the callees of (procedure,
   * match) on other nodes (empty when the registration is gone), and
   * `description` what `wamp.reflect.define` set on any node, by the
   * session `definer` (node, session ID) when the table says.
   */
  sync(
    procedure: string,
    match: MatchPolicy,
    invoke: InvocationPolicy,
    entries: readonly CalleeEntry[],
    description?: Dict,
    definer?: readonly [node: string, session: number],
  ): Output {
    const remote = this.#remote;
    const registrations = this.#parts.registrations;
    const wanted = new Map<number, CalleeEntry>();
    for (const entry of entries) {
      if (entry.node !== remote.hooks.node) wanted.set(entry.session, entry);
    }
    let reg = registrations.lookup(procedure, match);
    for (const id of reg === undefined ? [] : [...reg.callees]) {
      if (remote.callees.has(id) && !wanted.has(id)) this.#dropCallee(id, [reg!]);
    }
    reg = registrations.lookup(procedure, match);
    // A set, not `callees.includes`: a change to a shared registration of n
    // callees costs O(n) here, not O(n²).
    const present = new Set(reg?.callees);
    for (const entry of wanted.values()) {
      if (present.has(entry.session)) continue;
      if (reg !== undefined && reg.invoke !== invoke) continue; // lost a race: the table decides
      if (reg?.invoke === "single" && reg.callees.length > 0) continue; // one holder (own_callees.ts)
      remote.callees.set(entry.session, entry);
      remote.place(entry);
      reg = registrations.add(procedure, match, invoke, entry.session, entry.options);
      present.add(entry.session);
    }
    if (reg !== undefined) remote.sort(reg.callees);
    if (reg !== undefined && description !== undefined) {
      const mine = definer?.[0] === remote.hooks.node ? definer[1] : undefined;
      registrations.describe(reg, description, mine); // counted as a local definition would
    }
    return this.#parts.settle(NOTHING);
  }

  /**
   * A call routed by another node to a callee here: run for a proxy of the
   * caller (its answers go back to that node).
   */
  invoke(
    from: string,
    caller: ProxyCaller,
    msg: CallMessage,
    callee: number,
    forced: boolean,
  ): Output {
    const remote = this.#remote;
    remote.proxies.set(caller.id, from);
    const info: SessionInfo = { ...caller, realm: remote.hooks.realm };
    const known = this.#parts.calls.get(caller.id)?.info ?? info;
    return this.#parts.settle(this.#parts.calls.call(known, msg, true, forced, callee));
  }

  /**
   * `node` has no proxy of local caller `caller` (its call `request` came
   * bare): its identity, the node counted among those holding a proxy of it.
   *
   * @returns The identity; undefined when the caller left, or the call
   * ended here meanwhile (the node was taken for down, say): sent again, it
   * would run for no one.
   */
  identify(caller: number, node: string, request: number): ProxyCaller | undefined {
    const nodes = this.#remote.proxiedAt.get(caller);
    const info = this.#parts.calls.get(caller)?.info;
    if (nodes === undefined || info === undefined) return undefined;
    if (this.#remote.forwarded.get(caller)?.has(request) !== true) return undefined;
    nodes.add(node);
    return proxyOf(info);
  }

  /**
   * Whether a call another node routed to local callee `callee` goes back
   * to that node (`BusyEnvelope`) to pass over the callee, which is not
   * reading what it is sent (see `pass_over.ts`).
   */
  passes(msg: CallMessage, callee: number): boolean {
    return this.#passOver.passes(msg, callee);
  }

  /** A call this node forwarded came back from its busy callee: routed again, or ended. */
  bounced(envelope: BusyEnvelope): Output {
    const { caller, msg, callee, forced } = envelope.call;
    return this.#parts.settle(
      this.#passOver.bounced(envelope.from, caller.id, msg, callee, forced),
    );
  }

  /** A local caller's CANCEL (`Dealer.cancel`), kept for a forwarded call that may come back. */
  cancelling(caller: number, request: number): void {
    this.#passOver.cancelling(caller, request);
  }

  /** A CANCEL from another node's caller for a call run here. */
  cancel(caller: number, msg: CancelMessage): Output {
    const info = this.#parts.calls.get(caller)?.info;
    return info === undefined ? NOTHING : this.#parts.settle(this.#parts.calls.cancel(info, msg));
  }

  /**
   * What a callee's node sent a local caller. A call it ends while the
   * caller still streams chunks is remembered as over, as a local one is:
   * before, the next chunk on its way aborted the caller ("out of
   * sequence"). A progressive RESULT for a caller past its whole outbound
   * limit ends the call instead, as on one router (`Calls.yield`): ERROR
   * `canceled` to the caller, CANCEL `killnowait` to the callee's node (its
   * proxy of the caller never looks busy there).
   */
  answer(to: number, msg: WampMessage): Output {
    const ends = msg.type === MessageType.RESULT || msg.type === MessageType.ERROR;
    const request = ends ? msg.request : 0;
    const call = ends ? this.#remote.forwarded.get(to)?.get(request) : undefined;
    const progress = msg.type === MessageType.RESULT && msg.details.progress === true;
    const out = call !== undefined && progress && this.#parts.busy(to, true)
      ? this.#abandon(to, request)
      : this.#remote.answer(to, msg);
    const caller = this.#parts.calls.get(to);
    if (call !== undefined && this.#remote.forwarded.get(to)?.has(request) !== true) {
      this.#passOver.ended(to, request);
      if (call.streaming && caller !== undefined) finished(caller, request);
    }
    return this.#parts.settle(out); // an answer for the realm's internal session goes to its call
  }

  /** Ends a forwarded call for its caller, as if it had sent CANCEL `killnowait`. */
  #abandon(caller: number, request: number): Output {
    const msg: CancelMessage = {
      type: MessageType.CANCEL,
      request,
      options: { mode: "killnowait" },
    };
    const out = append(output(), this.#remote.cancel(caller, msg) ?? NOTHING);
    const error = errorReply(caller, MessageType.CALL, request, ErrorUri.CANCELED).msg;
    return append(out, this.#remote.answer(caller, error));
  }

  /** A caller on another node left: its proxy goes (callees get INTERRUPT). */
  callerGone(caller: number): Output {
    if (!this.#remote.proxies.delete(caller)) return NOTHING;
    return this.#parts.settle(this.#parts.calls.removeSession(caller));
  }

  /**
   * NATS may have lost messages to or from `node` (undefined: this node lost
   * NATS) until `before` (the realm's clock): calls forwarded there by then
   * end with ERROR `canceled`, callees interrupted. Completed as every
   * other entry is: one for the realm's internal session ends its router call.
   */
  lapsed(node: string | undefined, before = Infinity): Output {
    return this.#parts.settle(this.#remote.lapsed(node, before));
  }

  /**
   * A node is down: its callees leave every registration, and every call
   * this node shares with it ends. Down is this node's view (a node that
   * stalled past `nodeTimeout` runs again later), so the node is told what
   * it reads once it does: calls forwarded to it end with ERROR `canceled`
   * and a CANCEL `kill` for its callee; its callers' calls here end, their
   * callees interrupted, each caller sent ERROR `canceled`; its callers'
   * proxies go.
   */
  nodeDown(node: string): Output {
    const remote = this.#remote;
    const out = append(output(), remote.nodeDown(node));
    for (const [id, entry] of [...remote.callees]) {
      if (entry.node === node) this.#dropCallee(id, this.#parts.registrations.ofCallee(id));
    }
    append(out, this.#dropProxies(node, "the callee's node took the caller's node for down"));
    return this.#parts.settle(out);
  }

  /**
   * `node` had taken this node for down (a stall past its `nodeTimeout`)
   * and hears it again: it ended every call it shared with this node then
   * (`nodeDown` there). Its callers' proxies here go, their calls' callees
   * interrupted, should its CANCELs have been lost. (Its answers to calls
   * forwarded to it, ERROR `canceled`, cannot have been lost but with this
   * node's NATS connection, whose return ended those calls: `lapsed`.)
   */
  forgottenBy(node: string): Output {
    return this.#parts.settle(this.#dropProxies(node));
  }

  /** The proxies of `node`'s callers go with their calls here, each caller told `why` if given. */
  #dropProxies(node: string, why?: string): Output {
    const remote = this.#remote;
    const out = output();
    for (const [id, at] of [...remote.proxies]) {
      if (at !== node) continue;
      remote.proxies.delete(id);
      const calls = why === undefined ? [] : this.#parts.calls.get(id)?.calls.sortedValues() ?? [];
      for (const { callRequest } of calls) {
        const error = errorReply(id, MessageType.CALL, callRequest, ErrorUri.CANCELED, why);
        out.effects.push(remote.answerAt(node, id, error.msg));
      }
      append(out, this.#parts.calls.removeSession(id));
    }
    return out;
  }

  #dropCallee(id: number, regs: readonly { id: number }[]): void {
    const registrations = this.#parts.registrations;
    for (const { id: regId } of regs) {
      const reg = registrations.get(regId);
      if (reg !== undefined) registrations.remove(id, reg);
    }
    if (registrations.countOf(id) === 0) {
      this.#remote.callees.delete(id);
      this.#remote.order.delete(id);
    }
  }
}
