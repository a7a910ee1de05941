/**
 * The boundary between transports and the two WAMP ends (router sessions
 * and client sessions): a {@linkcode Peer} carries typed messages out, a
 * {@linkcode PeerHandler} takes them in.
 *
 * @module
 */

import type { ProtocolViolationError } from "./errors.ts";
import type { WampMessage } from "./messages.ts";
import type { LogFields } from "./log.ts";

/** Describes the transport under a session (shown in session details). */
export interface TransportInfo {
  /** `websocket`, `local`, … */
  readonly type: string;
  /** The serializer in use, when there is one. */
  readonly serializer?: string;
  /** The remote address, e.g. `tcp4:127.0.0.1:53412`. */
  readonly peer?: string;
  /**
   * The tracking cookie of this connection (cookie authentication). A
   * secret: never shown in session details.
   */
  readonly cookie?: string;
  /** TLS details, when the connection is encrypted. */
  readonly tls?: TlsInfo;
  /**
   * An identity the transport vouches for: set only by in-process links
   * the router's owner creates (the HTTP bridge's session of a configured
   * role), never from anything a remote peer sends. The router welcomes
   * such a HELLO with it at once (authmethod `internal`).
   */
  readonly identity?: { readonly authid: string; readonly authrole: string };
}

/** What a TLS connection tells about itself. */
export interface TlsInfo {
  /** The negotiated protocol, e.g. `TLSv1.3`. */
  readonly protocol?: string;
  /** The client's certificate, when it presented one the listener's CA verified. */
  readonly peerCertificate?: PeerCertificate;
  /**
   * The `tls-unique` channel binding: SHA-256 of the client's TLS Finished
   * message (RFC 5929, hashed as Crossbar and Autobahn do), the same value
   * on both ends of one connection.
   */
  readonly channelId?: Uint8Array;
}

/** A verified client certificate. */
export interface PeerCertificate {
  /** Subject fields, e.g. `{ CN: "alice", O: "Example" }`. */
  readonly subject: Readonly<Record<string, string>>;
  /** Issuer fields. */
  readonly issuer: Readonly<Record<string, string>>;
  /** SHA-256 fingerprint, colon-separated upper-case hex. */
  readonly fingerprint256: string;
  /** SHA-1 fingerprint, colon-separated upper-case hex (Crossbar's `certificate-sha1`). */
  readonly fingerprint: string;
  /** The serial number, hex. */
  readonly serialNumber: string;
  /** Not valid before (as OpenSSL prints it). */
  readonly validFrom: string;
  /** Not valid after. */
  readonly validTo: string;
  /** Subject alternative names, e.g. `DNS:alice.example.com`, when present. */
  readonly subjectAltName?: string;
}

/** The sending half of a transport connection, as a WAMP end sees it. */
export interface Peer {
  /** What kind of transport this is. */
  readonly info: TransportInfo;
  /**
   * Queues a message for the remote side. Never blocks; throws only
   * `MessageTooLargeError`, for a message over {@linkcode Peer.sendLimit}
   * (nothing was queued: the sender decides what to do instead).
   */
  send(msg: WampMessage): void;
  /** Bytes queued and not yet handed to the operating system (0 in process). */
  backlog(): number;
  /** Messages queued and not yet handed to the operating system or the other end. */
  queued(): number;
  /** Closes the transport after flushing what was queued. Idempotent. */
  close(): void;
  /**
   * The largest message the remote side accepts, when it has one: what a
   * RawSocket peer announced, a router's WebSocket and long-poll links'
   * `maxMessageSize`.
   */
  readonly sendLimit?: number;
}

/** The receiving half: what a transport calls as things arrive. */
export interface PeerHandler {
  /** A message arrived. */
  receive(msg: WampMessage): void;
  /** A frame could not be decoded or parsed. */
  fail(error: ProtocolViolationError): void;
  /** The transport is gone (closed by either side, or lost). */
  closed(): void;
  /**
   * Whether a session has joined over this transport. While it is `false`
   * (a router's connection before WELCOME), the router's links refuse a
   * message over 64 KiB before decoding it: HELLO and AUTHENTICATE are
   * small, and decoding a 16 MiB frame took up to 2 s. Leave it out for no
   * such limit.
   */
  readonly joined?: boolean;
}

/**
 * A transport connection that can be bound to a handler after it is made:
 * messages that arrive before {@linkcode Link.bind} wait for it.
 */
export interface Link extends Peer {
  /**
   * Queues a message for the remote side. Never blocks.
   *
   * @param msg The message.
   * @throws {MessageTooLargeError} When the message is over
   * {@linkcode Peer.sendLimit} and the link leaves the decision to its
   * sender, as client links do: nothing was sent and the link stays open.
   * A transport never answers WAMP on anyone's behalf.
   */
  send(msg: WampMessage): void;
  /** Sets the handler for incoming messages and closure. */
  bind(handler: PeerHandler): void;
}

/**
 * Where transports write log lines (a listener's `log` option). Lines a
 * client can cause at will carry an `event` field (`connection_refused`,
 * `handshake_timeout`): a router's `log` writes a few of each kind per
 * window and counts the rest.
 */
export type TransportLog = (level: "info" | "warn", message: string, fields?: LogFields) => void;

/** What to do with a connection whose outbound backlog is over its limit. */
export type SlowConsumerPolicy = "drop" | "close";

/** Per-connection outbound limits, set per listener. */
export interface OutboundOptions {
  /**
   * Bytes that may wait in the transport's send buffer before the
   * slow-consumer policy applies. Reading stops at half; under `drop`,
   * EVENTs stop there too (and new INVOCATIONs are refused), so the other
   * half is left for what the session asked for.
   * @default {2097152}
   */
  maxBacklog?: number;
  /**
   * Messages that may wait before the slow-consumer policy applies (EVENTs
   * under `drop`: half as many).
   * @default {32768}
   */
  maxBacklogMessages?: number;
  /**
   * `drop`: EVENTs for a congested session are dropped (and counted), while
   * anything else that cannot be queued closes the session. `close`: any
   * message over the limit closes the session. Replies owed to a caller are
   * never dropped silently.
   * @default {"drop"}
   */
  slowConsumer?: SlowConsumerPolicy;
}

/**
 * The default outbound limits of a connection ({@linkcode OutboundOptions}):
 * 2 MiB and 32,768 messages, half of them for EVENTs.
 *
 * @example
 * ```ts
 * import { DEFAULT_OUTBOUND } from "./peer.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(DEFAULT_OUTBOUND.maxBacklog / 2, 1024 * 1024);
 * ```
 */
export const DEFAULT_OUTBOUND: Readonly<Required<OutboundOptions>> = Object.freeze({
  maxBacklog: 2 * 1024 * 1024,
  maxBacklogMessages: 32768,
  slowConsumer: "drop",
});

/** How a router treats one attached connection: set per listener. */
export interface AttachOptions extends OutboundOptions {
  /**
   * Milliseconds a connection may take to complete its opening handshake
   * (HELLO, and any authentication) before it is closed; 0 for no limit.
   * @default {10000}
   */
  helloTimeout?: number;
  /** The listener's name, for logs and per-listener session limits. */
  listener?: string;
}

/** What transports attach connections to (a router). */
export interface PeerAcceptor {
  /**
   * Attaches a new connection.
   *
   * @param peer The connection's sending half.
   * @param options Its outbound limits.
   * @returns The handler for what arrives on it.
   */
  attach(peer: Peer, options?: AttachOptions): PeerHandler;
  /**
   * A new connection presented tracking cookie `presented` and gets the
   * fresh cookie `fresh` (transports never keep a presented one, so a
   * planted cookie cannot be bound to a later login): the acceptor moves
   * to `fresh` whatever `presented` stands for (the router forgets
   * `presented`).
   */
  renewCookie?(presented: string, fresh: string): void;
}
