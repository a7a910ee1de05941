/**
 * What nodes send each other about calls (the shell encodes it with
 * MessagePack): the {@linkcode RpcEnvelope}s, the callee entries of the
 * shared registration table, and the caller identity a proxy carries.
 *
 * @module
 */

import type {
  CallMessage,
  CancelMessage,
  Dict,
  MatchPolicy,
  WampMessage,
} from "../../../wamp/mod.ts";
import type { RpcFeatures } from "./pending_calls.ts";
import type { SessionInfo } from "../types.ts";

/** A callee as the shared registration table lists it. */
export interface CalleeEntry {
  /** The node the callee is joined to. */
  readonly node: string;
  /** The callee's session ID. */
  readonly session: number;
  /** When it registered (ms since the epoch): the cluster-wide order. */
  readonly at: number;
  /** The REGISTER options the dealer keeps. */
  readonly options: Dict;
  /** The callee's RPC features. */
  readonly features: RpcFeatures;
}

/** The caller's identity, as a proxy on the callee's node carries it. */
export type ProxyCaller =
  & Pick<
    SessionInfo,
    "id" | "authid" | "authrole" | "authmethod" | "authprovider" | "roles" | "transport"
  >
  & { trustlevel?: number };

/** What nodes send each other about calls (msgpack-encoded by the shell). */
export type RpcEnvelope =
  | {
    k: "call";
    realm: string;
    from: string;
    caller: ProxyCaller;
    callee: number;
    msg: CallMessage;
    forced: boolean;
  }
  | { k: "cancel"; realm: string; from: string; caller: number; msg: CancelMessage }
  | { k: "gone"; realm: string; from: string; caller: number }
  | { k: "out"; realm: string; from: string; to: number; msg: WampMessage }
  | {
    k: "release";
    realm: string;
    procedure: string;
    match: MatchPolicy;
    node: string;
    session: number;
  }
  | {
    k: "revoke";
    realm: string;
    procedure: string;
    match: MatchPolicy;
    session: number;
    reason?: string;
  }
  | {
    k: "define";
    realm: string;
    procedure: string;
    match: MatchPolicy;
    description: Dict;
    /** The session of this node that defined it (charged for it: `Descriptions.synced`). */
    session: number;
  };

/**
 * The proxy identity of a session.
 *
 * @param session The caller.
 * @returns What a proxy of it on another node carries.
 */
export function proxyOf(session: SessionInfo): ProxyCaller {
  return {
    id: session.id,
    authid: session.authid,
    authrole: session.authrole,
    authmethod: session.authmethod,
    authprovider: session.authprovider,
    roles: session.roles,
    transport: session.transport,
    ...(session.trustlevel === undefined ? {} : { trustlevel: session.trustlevel }),
  };
}
