/**
 * A caller's identity crosses NATS once per node: the first call a caller
 * of this node sends to a node carries its {@linkcode ProxyCaller} (authid,
 * authrole, roles, transport, …), from which that node makes the caller's
 * proxy; later calls carry only the session ID, and the proxy there
 * supplies the rest. The proxy lives until the caller leaves (`gone`), a
 * node is down, or the caller's node says it had taken this one for down;
 * a node that gets a bare caller it has no proxy of (it dropped it, or the
 * first call was lost) sends the call back (`who`) and it comes again with
 * the identity, unless it ended meanwhile. Which nodes have a caller's proxy is
 * the dealer's `RemoteRpc.proxiedAt` alone (it tells them `gone`); this
 * module holds the wire shapes.
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
