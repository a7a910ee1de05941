/**
 * Types shared by the router core: what a joined session looks like to the
 * broker and dealer, and the messages they return for delivery.
 *
 * @module
 */

import type { Dict, TransportInfo, WampMessage } from "../../wamp/mod.ts";

/** What the broker and dealer know about a joined session. */
export interface SessionInfo {
  /** The session ID (global scope). */
  readonly id: number;
  /** The realm the session joined. */
  readonly realm: string;
  /** Authenticated identity. */
  readonly authid: string;
  /** Authenticated role. */
  readonly authrole: string;
  /** How the session authenticated (`anonymous`, …). */
  readonly authmethod: string;
  /** Who authenticated it (`static`, …). */
  readonly authprovider: string;
  /** The client's HELLO.Details.roles, as kept (`kept_hello.ts`: client roles and their features). */
  readonly roles: Dict;
  /** The transport kind (`websocket`, `local`, …). */
  readonly transport: string;
  /**
   * The remote address of the session's transport (`TransportInfo.peer`),
   * when it has one: what the lines a caller causes name, so that the
   * router's log limits them per source.
   */
  readonly peer?: string;
  /** The string attributes of the client's HELLO.Details, bounded (for nexus-style `eligible_<key>` filters). */
  readonly hello?: Dict;
  /** The trust level the realm's rules give this session, if any. */
  readonly trustlevel?: number;
  /**
   * The largest message the session's transport takes, in bytes, when it
   * has a limit (`Peer.sendLimit`: what a RawSocket client announced, a
   * WebSocket or long-poll listener's `maxMessageSize`).
   */
  readonly sendLimit?: number;
}

/** A session joined to a realm, as the realm keeps it. */
export interface RealmMember {
  /** The session's identity. */
  readonly info: SessionInfo;
  /** The transport under the session (its `info` shows in session details). */
  readonly peer: { readonly info: TransportInfo };
}

/**
 * A message the core wants delivered: to one session, or the same message
 * object to several (fan-out, so transports can serialize it once).
 */
export interface Outbound {
  /** Recipient session ID(s). */
  readonly to: number | readonly number[];
  /** The message. */
  readonly msg: WampMessage;
}

export type { LogFields, Logger, LogLevel } from "../../wamp/log.ts";
