/**
 * A caller's identity crosses NATS once per node: the first call a caller
 * of this node sends to a node carries its {@linkcode ProxyCaller} (authid,
 * authrole, roles, transport, …), from which that node makes the caller's
 * proxy; later calls carry only the session ID, and the proxy there
 * supplies the rest. The proxy lives until the caller leaves (`gone`) or a
 * node is down; a node that gets a bare caller it has no proxy of (it
 * dropped it, or the first call was lost) sends the call back (`who`) and
 * it comes again with the identity.
 *
 * @module
 */

import type { ProxyCaller, RpcEnvelope } from "../router/core/dealer/remote.ts";

/** A forwarded call, as the dealer makes it. */
export type CallEnvelope = Extract<RpcEnvelope, { k: "call" }>;

/** A call sent back for its caller's identity. */
export interface WhoEnvelope {
  /** Its kind. */
  k: "who";
  /** The realm. */
  realm: string;
  /** The node asking (the callee's). */
  from: string;
  /** The call, as it came. */
  call: CallEnvelope;
}

/**
 * Whether a call's caller came as its session ID alone.
 *
 * @param caller The caller of a call envelope.
 * @returns True when only the ID is there.
 */
export function isBare(caller: ProxyCaller): boolean {
  return caller.authrole === undefined;
}

/** The identities of this node's callers, and the nodes that have them. */
export class CallerIdentities {
  #told = new Map<number, { caller: ProxyCaller; nodes: Set<string> }>();

  /**
   * The call as it goes to `node`: with the identity the first time.
   *
   * @param call The call envelope.
   * @param node The callee's node.
   * @returns The envelope to send.
   */
  outgoing(call: CallEnvelope, node: string): CallEnvelope {
    const { caller } = call;
    let told = this.#told.get(caller.id);
    if (told === undefined) this.#told.set(caller.id, told = { caller, nodes: new Set() });
    else told.caller = caller;
    if (!told.nodes.has(node)) {
      told.nodes.add(node);
      return call;
    }
    return { ...call, caller: { id: caller.id } as ProxyCaller };
  }

  /**
   * A node sent a call back: it has no proxy of the caller.
   *
   * @param who What it sent.
   * @returns The call with the identity again (undefined: the caller left).
   */
  resend(who: WhoEnvelope): CallEnvelope | undefined {
    const told = this.#told.get(who.call.caller.id);
    if (told === undefined) return undefined;
    told.nodes.add(who.from);
    return { ...who.call, caller: told.caller };
  }

  /** `node` dropped the caller's proxy (the caller left: `gone`). */
  forget(caller: number, node: string): void {
    const told = this.#told.get(caller);
    if (told === undefined) return;
    told.nodes.delete(node);
    if (told.nodes.size === 0) this.#told.delete(caller);
  }

  /** A node is down: its proxies are gone. */
  nodeDown(node: string): void {
    for (const [id, told] of this.#told) {
      told.nodes.delete(node);
      if (told.nodes.size === 0) this.#told.delete(id);
    }
  }
}
