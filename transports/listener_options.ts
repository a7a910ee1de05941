/**
 * The listener options of the CLI's JSON config file (`listeners`
 * entries), as written ({@linkcode ListenerOptions}) and with every
 * default filled in ({@linkcode ResolvedListenerOptions}).
 *
 * @module
 */

import type { SerializerName, SlowConsumerPolicy } from "../wamp/mod.ts";

/** The protocols a listener serves: one, or all three on one port. */
export type ListenerType = "universal" | "websocket" | "rawsocket" | "longpoll";

/** How a listener asks for client certificates. */
export type ClientCertificates = "none" | "request" | "require";

/** A listener's `tls`: files, read when the options are resolved. */
export interface ListenerTlsFiles {
  /** The PEM certificate chain file. */
  cert: string;
  /** The PEM private key file. */
  key: string;
  /** A PEM file of the CA certificates client certificates must chain to. */
  ca?: string;
  /**
   * Whether to ask clients for a certificate (`request` and `require` need `ca`).
   * @default {"none"}
   */
  clientCertificates?: ClientCertificates;
}

/**
 * One listener of the JSON config file (`listeners[i]`). Keys for a
 * protocol the `type` does not serve (`paths` on a `rawsocket` listener)
 * are errors.
 */
export interface ListenerOptions {
  /** What the listener serves. */
  type: ListenerType;
  /** The interface to listen on. @default {"127.0.0.1"} */
  host?: string;
  /** The TCP port (0: any free port). @default {8080} */
  port?: number;
  /** A Unix socket path, instead of `host` and `port`. */
  unix?: string;
  /** TLS certificate and key files (not on a Unix socket). */
  tls?: ListenerTlsFiles;
  /** Serializers offered. @default {["json", "msgpack", "cbor"]} */
  serializers?: SerializerName[];
  /** Whether the batched WebSocket and long-poll subprotocols are offered. @default {true} */
  batched?: boolean;
  /** The largest incoming message, in bytes (512 to 64 MiB). @default {16777216} */
  maxMessageSize?: number;
  /** Open connections allowed at once (0: no limit). @default {0} */
  maxConnections?: number;
  /**
   * Milliseconds between the listener's checks that it still accepts
   * (0: none); see `ListenOptions.acceptCheckInterval`.
   * @default {5000}
   */
  acceptCheckInterval?: number;
  /**
   * Milliseconds to send the first byte; then each HTTP request head has as long again.
   * @default {10000}
   */
  handshakeTimeout?: number;
  /**
   * Milliseconds for an HTTP request body, and for an idle kept-alive HTTP connection.
   * @default {{ bodyTimeout: 60000, idleTimeout: 60000 }}
   */
  http?: { bodyTimeout?: number; idleTimeout?: number };
  /** Milliseconds from connecting to a joined session (0: no limit). @default {10000} */
  helloTimeout?: number;
  /** Milliseconds of silence before a WebSocket or RawSocket ping (0: none). @default {30000} */
  pingInterval?: number;
  /** Milliseconds to wait for the answer to a ping. @default {10000} */
  pingTimeout?: number;
  /**
   * Outbound limits for each connection.
   * @default {{ maxBacklog: 2097152, maxBacklogMessages: 32768, slowConsumer: "drop" }}
   */
  outbound?: {
    maxBacklog?: number;
    maxBacklogMessages?: number;
    slowConsumer?: SlowConsumerPolicy;
  };
  /** WebSocket URL paths. @default {["/ws", "/"]} */
  paths?: string[];
  /**
   * permessage-deflate: off without this key; with it, `enabled` defaults to true.
   * @default {{ enabled: false, threshold: 256, level: 6 }}
   */
  compression?: { enabled?: boolean; threshold?: number; level?: number };
  /** Origins allowed to open WebSockets and use long-poll (globs; empty: any). @default {[]} */
  allowedOrigins?: string[];
  /** The tracking cookie: off without this key. @default {{ name: "cbtid", maxAge: 86400 }} */
  cookie?: { name?: string; maxAge?: number };
  /**
   * Long-poll settings (`maxTransportsPerSource`: transports open at once from
   * one address, 0 for no limit).
   * @default {{ path: "/lp", pollTimeout: 10000, sessionTimeout: 60000, maxTransportsPerSource: 16 }}
   */
  longpoll?: {
    path?: string;
    pollTimeout?: number;
    sessionTimeout?: number;
    maxTransportsPerSource?: number;
  };
}

/** A listener's TLS settings, files read. */
export interface ResolvedListenerTls {
  /** The PEM certificate chain. */
  readonly cert: string;
  /** The PEM private key. */
  readonly key: string;
  /** PEM CA certificates that client certificates must chain to. */
  readonly ca?: readonly string[];
  /** Whether to ask clients for a certificate. */
  readonly clientCertificates: ClientCertificates;
}

/** A listener's outbound limits, every default filled in. */
export interface ResolvedOutboundOptions {
  /** Bytes that may wait in a connection's send buffer. */
  readonly maxBacklog: number;
  /** Messages that may wait. */
  readonly maxBacklogMessages: number;
  /** What happens past either limit. */
  readonly slowConsumer: SlowConsumerPolicy;
}

/** Listener options with every default filled in. */
export interface ResolvedListenerOptions {
  /** What the listener serves. */
  readonly type: ListenerType;
  /** The interface to listen on (TCP). */
  readonly host: string;
  /** The TCP port (0: any free port). */
  readonly port: number;
  /** A Unix socket path, instead of host and port. */
  readonly unix?: string;
  /** TLS certificate and key (read from the configured files), if any. */
  readonly tls?: ResolvedListenerTls;
  /** Serializers offered. */
  readonly serializers: readonly SerializerName[];
  /** Whether the batched WebSocket and long-poll subprotocols are offered. */
  readonly batched: boolean;
  /** The largest incoming message, in bytes. */
  readonly maxMessageSize: number;
  /** Open connections allowed at once (0: no limit). */
  readonly maxConnections: number;
  /** Milliseconds between the listener's checks that it still accepts (0: none). */
  readonly acceptCheckInterval: number;
  /** Milliseconds to send the first byte; then each HTTP request head has as long again. */
  readonly handshakeTimeout: number;
  /** Milliseconds for an HTTP request body, and for an idle kept-alive HTTP connection. */
  readonly http: { readonly bodyTimeout: number; readonly idleTimeout: number };
  /** Milliseconds from connecting to a joined session. */
  readonly helloTimeout: number;
  /** Milliseconds of silence before a WebSocket or RawSocket ping (0: none). */
  readonly pingInterval: number;
  /** Milliseconds to wait for the answer to a ping. */
  readonly pingTimeout: number;
  /** Outbound limits for each connection. */
  readonly outbound: ResolvedOutboundOptions;
  /** WebSocket URL paths. */
  readonly paths: readonly string[];
  /** permessage-deflate: off unless `enabled`. */
  readonly compression: {
    readonly enabled: boolean;
    readonly threshold: number;
    readonly level: number;
  };
  /** Origins allowed to open WebSockets and use long-poll (globs; empty: any). */
  readonly allowedOrigins: readonly string[];
  /** The tracking cookie, if any. */
  readonly cookie?: { readonly name: string; readonly maxAge: number };
  /** Long-poll settings. */
  readonly longpoll: {
    readonly path: string;
    readonly pollTimeout: number;
    readonly sessionTimeout: number;
    readonly maxTransportsPerSource: number;
  };
}
