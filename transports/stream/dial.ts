/**
 * Client-side connections: TCP, TLS (over `node:tls`, with Nagle off, which
 * Deno's own TLS cannot do) or a Unix socket, returned as a
 * {@linkcode Wire}.
 *
 * @module
 */

import type net from "node:net";
import type tls from "node:tls";
import { builtin } from "../../wamp/builtin.ts";
import { TransportError } from "../../wamp/mod.ts";
import { Wire } from "./wire.ts";

/** TLS settings for a client connection. */
export interface ClientTlsOptions {
  /** PEM CA certificates to trust instead of the system's. */
  caCerts?: string[];
  /** A PEM client certificate, for routers that authenticate by certificate. */
  cert?: string;
  /** The PEM private key of {@linkcode ClientTlsOptions.cert}. */
  key?: string;
  /** The name to verify the server's certificate against. @default {the URL's host} */
  serverName?: string;
}

/** Where to connect: a TCP host and port, or a Unix socket path. */
export type DialAddress = { host: string; port: number } | { path: string };

/** Options for {@linkcode dial}. */
export interface DialOptions {
  /** TLS settings, to use TLS. */
  tls?: ClientTlsOptions | undefined;
  /** Aborts the attempt. */
  signal?: AbortSignal | undefined;
  /**
   * Milliseconds the connection and the TLS handshake may take together:
   * a server that accepts TCP and never answers TLS fails the attempt.
   * @default {10000}
   */
  timeout?: number | undefined;
  /**
   * The wire's outbound limit (the wire option `maxBacklog`): past
   * half of it the wire stops reading, so a router that sends PINGs and
   * never reads gets the client to queue this much of PONGs at most, and
   * PONGs past it close the connection.
   * @default {16777216}
   */
  maxBacklog?: number | undefined;
}

/**
 * The client's outbound limit for a maximum message size: 16 MiB, or two
 * of the largest message when that is more.
 *
 * @param maxMessageSize The largest message, in bytes.
 * @returns The limit, in bytes.
 */
export function clientBacklog(maxMessageSize: number | undefined): number {
  return Math.max(16 * 1024 * 1024, 2 * (maxMessageSize ?? 0));
}

/**
 * Opens a stream to a server.
 *
 * @param address Host and port, or a Unix socket path.
 * @param options `tls` to use TLS; `signal` to abort; `timeout`; `maxBacklog`.
 * @returns The connected wire.
 * @throws {TransportError} When the connection or the TLS handshake fails,
 * or does not complete within `timeout`.
 */
export function dial(address: DialAddress, options: DialOptions = {}): Promise<Wire> {
  const where = "path" in address ? address.path : `${address.host}:${address.port}`;
  return new Promise<Wire>((resolve, reject) => {
    const sockets = builtin("node:net");
    let socket: net.Socket;
    const ready = options.tls === undefined ? "connect" : "secureConnect";
    if (options.tls !== undefined) {
      if ("path" in address) {
        reject(new TransportError(`Cannot connect to ${where}: TLS over a Unix socket`));
        return;
      }
      const t = options.tls;
      socket = builtin("node:tls").connect({
        host: address.host,
        port: address.port,
        servername: t.serverName ?? (sockets.isIP(address.host) ? undefined : address.host),
        ...(t.caCerts === undefined ? {} : { ca: t.caCerts }),
        ...(t.cert === undefined ? {} : { cert: t.cert }),
        ...(t.key === undefined ? {} : { key: t.key }),
      } as tls.ConnectionOptions);
    } else {
      socket = "path" in address
        ? sockets.connect({ path: address.path })
        : sockets.connect({ host: address.host, port: address.port });
    }
    const fail = (error: Error) => {
      cleanup();
      socket.destroy();
      reject(new TransportError(`Cannot connect to ${where}: ${error.message}`, { cause: error }));
    };
    const onAbort = () => fail(new Error("aborted"));
    const timeout = options.timeout ?? 10_000;
    const timer = setTimeout(
      () => fail(new Error(`no ${options.tls ? "TLS handshake" : "connection"} in ${timeout} ms`)),
      timeout,
    );
    const cleanup = () => {
      clearTimeout(timer);
      socket.off("error", fail);
      socket.off(ready, onReady);
      options.signal?.removeEventListener("abort", onAbort);
    };
    const onReady = () => {
      cleanup();
      const maxBacklog = options.maxBacklog ?? clientBacklog(undefined);
      // Replies (PONGs) bounded; reading never stops: the router may have stopped reading us.
      resolve(new Wire(socket, { maxBacklog, keepReading: true }));
    };
    socket.once("error", fail);
    socket.once(ready, onReady);
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener("abort", onAbort, { once: true });
  });
}
