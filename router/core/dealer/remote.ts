/**
 * The dealer's side of a cluster, sans-I/O: callees on other nodes (mirrored
 * from the shared registration table), calls forwarded to them, and the
 * proxies of callers on other nodes whose calls this node's callees serve.
 * Everything that must cross NATS is returned as a `cluster` effect holding
 * an {@linkcode RpcEnvelope}; what arrives from NATS comes back in as plain
 * calls that return an {@linkcode Output}.
 *
 * A forwarded call is routed by the caller's node (authorization, policy,
 * choice of callee) and run by the callee's node: its dealer records the
 * call for a proxy of the caller (same session ID) and handles timeout,
 * cancel and progress as for a local caller; what it sends the proxy goes
 * back to the caller's node. The caller's node arms the call's timeout too,
 * a little later (`forwarded.ts`).
 *
 * @module
 */

import {
  type CallMessage,
  type CancelMessage,
  ErrorUri,
  type InvocationPolicy,
  type MatchPolicy,
  MessageType,
  type WampMessage,
} from "../../../wamp/mod.ts";
import { errorReply } from "../errors.ts";
import { type ClusterSend, type Effect, NO_EFFECTS, NOTHING, type Output } from "../output.ts";
import {
  armForwarded,
  disarmForwarded,
  type Forwarded,
  forwardedCall,
  type ForwardedCalls,
  unforward,
} from "./forwarded.ts";
import { type CalleeEntry, type ProxyCaller, proxyOf, type RpcEnvelope } from "./rpc_envelope.ts";
import type { Outbound, SessionInfo } from "../types.ts";

export type { CalleeEntry, ProxyCaller, RpcEnvelope };
export { proxyOf };

/** What the shell gives a dealer that joins a cluster. */
export interface DealerClusterHooks {
  /** This node's ID. */
  readonly node: string;
  /** The realm's name. */
  readonly realm: string;
  /**
   * Adds a callee to the shared table atomically (run by the shell as a
   * task): resolves to undefined when it is in, or the refusal's reason
   * (`procedure_already_exists`).
   */
  claim(
    procedure: string,
    match: MatchPolicy,
    invoke: InvocationPolicy,
    entry: CalleeEntry,
  ): PromiseLike<string | undefined>;
}

/** The cluster state of one dealer. */
export class RemoteRpc {
  /** The shell's hooks. */
  readonly hooks: DealerClusterHooks;
  /** Callees on other nodes, by session ID. */
  readonly callees: Map<number, CalleeEntry> = new Map();
  /** Every callee's place in the cluster-wide order (local ones too). */
  readonly order: Map<number, string> = new Map();
  /** Calls forwarded to other nodes: caller → CALL request → where. */
  readonly forwarded: ForwardedCalls = new Map();
  /**
   * Local callers → the nodes that hold a proxy of them (every node a call
   * was forwarded to, finished or not): told when the caller leaves.
   */
  readonly proxiedAt: Map<number, Set<string>> = new Map();
  /** Proxies of callers on other nodes: session ID → their node. */
  readonly proxies: Map<number, string> = new Map();
  /** Local sessions with a registration claim in flight, and how many. */
  readonly claims: Map<number, number> = new Map();
  /** New registrations being claimed (by `match procedure`), and how many claims each. */
  readonly claimsNew: Map<string, { procedure: string; match: MatchPolicy; n: number }> = new Map();

  #now: () => number;
  #settle: (out: Output) => Output;
  /**
   * Creates the state for the realm the hooks name, with the realm's clock,
   * and what completes a fired timer's output (`DealerOptions.settle`).
   */
  constructor(hooks: DealerClusterHooks, now: () => number, settle = (out: Output) => out) {
    this.hooks = hooks;
    this.#now = now;
    this.#settle = settle;
  }

  /**
   * How many registrations other than (procedure, match), not there yet,
   * are being claimed: they count towards the realm's registration limit.
   */
  pendingOthers(
    procedure: string,
    match: MatchPolicy,
    exists: (procedure: string, match: MatchPolicy) => boolean,
    room = Infinity,
  ): number {
    // Below the limit every claim may count (the same decision, no scan per REGISTER).
    if (this.claimsNew.size < room) return this.claimsNew.size;
    let n = 0;
    for (const [key, claim] of this.claimsNew) {
      if (key !== `${match} ${procedure}` && !exists(claim.procedure, claim.match)) n++;
    }
    return n;
  }

  /** Counts a claim of a new registration in (`by` 1) or out (`by` -1). */
  claimingNew(procedure: string, match: MatchPolicy, by: 1 | -1): void {
    const key = `${match} ${procedure}`;
    const claim = this.claimsNew.get(key) ?? { procedure, match, n: 0 };
    claim.n += by;
    if (claim.n > 0) this.claimsNew.set(key, claim);
    else this.claimsNew.delete(key);
  }

  /** Records a callee's place in the cluster-wide order. */
  place(entry: { node: string; session: number; at: number }): void {
    const at = String(entry.at).padStart(16, "0");
    this.order.set(entry.session, `${at}:${entry.node}:${entry.session}`);
  }

  /** Sorts a registration's callees into the cluster-wide order. */
  sort(callees: number[]): void {
    const order = this.order;
    callees.sort((a, b) => {
      const x = order.get(a) ?? "", y = order.get(b) ?? "";
      return x < y ? -1 : x > y ? 1 : 0;
    });
  }

  /**
   * A new call to a callee on another node: checks what the callee can
   * take, records the call and returns the envelope for its node.
   *
   * @returns The output, or undefined when `callee` is not remote.
   */
  forward(
    session: SessionInfo,
    msg: CallMessage,
    callee: number | undefined,
    forced: boolean,
  ): Output | undefined {
    const entry = callee === undefined ? undefined : this.callees.get(callee);
    if (entry === undefined) return undefined;
    const refuse = (why: string) =>
      reply([errorReply(session.id, msg.type, msg.request, ErrorUri.FEATURE_NOT_SUPPORTED, why)]);
    const streaming = msg.options.progress === true;
    if (streaming && !entry.features.progressiveInvocations) {
      return refuse("the callee does not support progressive call invocations");
    }
    if (msg.options.ppt_scheme !== undefined && !entry.features.calleePassthru) {
      return refuse("the callee does not support payload passthru");
    }
    const call = forwardedCall(this.forwarded, session.id, msg, entry.node, this.#now());
    let nodes = this.proxiedAt.get(session.id);
    if (nodes === undefined) this.proxiedAt.set(session.id, nodes = new Set());
    // The identity crosses once per node; its proxy there supplies it later (else it asks: `who`).
    const told = nodes.has(entry.node);
    nodes.add(entry.node);
    const effects: Effect[] = [send(entry.node, {
      k: "call",
      realm: this.hooks.realm,
      from: this.hooks.node,
      caller: told ? { id: session.id } as ProxyCaller : proxyOf(session),
      callee: entry.session,
      msg,
      forced,
    })];
    this.#arm(session.id, msg.request, call, effects);
    return { messages: [], effects };
  }

  /**
   * A CALL reusing the request ID of a forwarded call: a further chunk of a
   * progressive call goes to the same node; anything else is dropped.
   *
   * @returns The output, or undefined when the call was not forwarded.
   */
  continued(session: SessionInfo, msg: CallMessage): Output | undefined {
    const call = this.forwarded.get(session.id)?.get(msg.request);
    if (call === undefined) return undefined;
    if (!call.streaming) return NOTHING;
    if (msg.options.progress !== true) call.streaming = false;
    return this.#send(call.node, {
      k: "call",
      realm: this.hooks.realm,
      from: this.hooks.node,
      caller: proxyOf(session),
      callee: 0,
      msg,
      forced: false,
    });
  }

  /** CANCEL of a forwarded call: to the callee's node (undefined: not forwarded). */
  cancel(caller: number, msg: CancelMessage): Output | undefined {
    const call = this.forwarded.get(caller)?.get(msg.request);
    if (call === undefined) return undefined;
    return this.#send(call.node, {
      k: "cancel",
      realm: this.hooks.realm,
      from: this.hooks.node,
      caller,
      msg,
    });
  }

  /**
   * What a callee's node sent a caller of this node: delivered; a final
   * RESULT or an ERROR ends the forwarded call.
   */
  answer(to: number, msg: WampMessage): Output {
    const effects: Effect[] = [];
    if (msg.type === MessageType.RESULT || msg.type === MessageType.ERROR) {
      const call = this.forwarded.get(to)?.get(msg.request);
      if (call === undefined) return NOTHING; // ended (`lapsed`, timed out)
      if (msg.type === MessageType.ERROR || msg.details.progress !== true) {
        unforward(this.forwarded, to, msg.request, effects);
      } else this.#arm(to, msg.request, call, effects); // the next gap
    }
    return { messages: [{ to, msg }], effects: effects.length === 0 ? NO_EFFECTS : effects };
  }

  /**
   * A local caller left: the nodes holding a proxy of it are told, so their
   * callees get INTERRUPT for its calls in flight and the proxies go.
   */
  callerLeft(caller: number, effects: Effect[]): void {
    for (const call of this.forwarded.get(caller)?.values() ?? []) disarmForwarded(call, effects);
    this.forwarded.delete(caller);
    const nodes = this.proxiedAt.get(caller);
    if (nodes === undefined) return;
    this.proxiedAt.delete(caller);
    for (const node of nodes) {
      effects.push(
        send(node, { k: "gone", realm: this.hooks.realm, from: this.hooks.node, caller }),
      );
    }
  }

  /**
   * A node is down: every call forwarded to it ends with ERROR `canceled`.
   * Down is this node's view: a node that stalled past `nodeTimeout` is
   * alive, so its callees are interrupted as for {@linkcode lapsed} (a
   * CANCEL `kill` it reads once it runs again). Its proxies of local
   * callers are forgotten: it drops them when this node, hearing it again,
   * tells it that it took it for down (`cluster/rpc.ts`).
   *
   * @returns The ERRORs and the CANCELs.
   */
  nodeDown(node: string): Output {
    for (const nodes of this.proxiedAt.values()) nodes.delete(node);
    const effects: Effect[] = [];
    const messages = this.#end(node, "the callee's node is down", effects);
    return { messages, effects };
  }

  /**
   * What goes to a caller on `node` through its node.
   *
   * @param node The caller's node.
   * @param to The caller's session ID.
   * @param msg The message (a RESULT or an ERROR).
   * @returns The envelope.
   */
  answerAt(node: string, to: number, msg: WampMessage): ClusterSend {
    return send(node, { k: "out", realm: this.hooks.realm, from: this.hooks.node, to, msg });
  }

  /**
   * NATS may have dropped messages to or from `node` (undefined: this node
   * lost NATS) until `before`: every call forwarded there by then ends with
   * ERROR `canceled`, and its callee is interrupted (a CANCEL `kill` to its
   * node), so no caller waits forever for an answer lost and its
   * `callsPerSession` slot is free again. Calls forwarded since were not lost.
   *
   * @returns The ERRORs and the CANCELs.
   */
  lapsed(node: string | undefined, before = Infinity): Output {
    const effects: Effect[] = [];
    const messages = this.#end(node, "the cluster lost messages", effects, before);
    return { messages, effects };
  }

  #end(node: string | undefined, why: string, cancels: Effect[], before = Infinity): Outbound[] {
    const out: Outbound[] = [];
    const { realm, node: from } = this.hooks;
    for (const [caller, mine] of this.forwarded) {
      for (const [request, call] of mine) {
        if (node !== undefined && call.node !== node) continue;
        if (call.since > before) continue; // forwarded after the news: not lost
        mine.delete(request);
        disarmForwarded(call, cancels);
        out.push(errorReply(caller, MessageType.CALL, request, ErrorUri.CANCELED, why));
        const msg: CancelMessage = { type: MessageType.CANCEL, request, options: { mode: "kill" } };
        cancels.push(send(call.node, { k: "cancel", realm, from, caller, msg }));
      }
      if (mine.size === 0) this.forwarded.delete(caller);
    }
    return out;
  }

  /** The envelope removing a callee from the shared table. */
  release(procedure: string, match: MatchPolicy, session: number): ClusterSend {
    return send("", {
      k: "release",
      realm: this.hooks.realm,
      procedure,
      match,
      node: this.hooks.node,
      session,
    });
  }

  /** The envelope asking `node` to revoke its callee `session`'s part of a registration. */
  revokeAt(
    node: string,
    procedure: string,
    match: MatchPolicy,
    session: number,
    reason?: string,
  ): ClusterSend {
    const envelope: RpcEnvelope = {
      k: "revoke",
      realm: this.hooks.realm,
      procedure,
      match,
      session,
    };
    if (reason !== undefined) envelope.reason = reason;
    return send(node, envelope);
  }

  #arm(caller: number, request: number, call: Forwarded, effects: Effect[]): void {
    armForwarded(this.forwarded, caller, request, call, this.#settle, effects);
  }

  #send(node: string, envelope: RpcEnvelope): Output {
    return { messages: [], effects: [send(node, envelope)] };
  }
}

function send(node: string, envelope: RpcEnvelope): ClusterSend {
  return { kind: "cluster", node, envelope };
}

function reply(messages: Outbound[]): Output {
  return { messages, effects: NO_EFFECTS };
}
