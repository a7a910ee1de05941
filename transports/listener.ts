/**
 * The router's listener: one TCP port (or Unix socket), optionally TLS,
 * serving WebSocket, RawSocket and HTTP long-poll at once. The first byte
 * tells them apart: RawSocket opens with 0x7F, which never starts an HTTP
 * request; HTTP requests are upgraded to WebSocket or go to long-poll.
 *
 * @module
 */

import net from "node:net";
import tls from "node:tls";
import {
  type AttachOptions,
  DEFAULT_OUTBOUND,
  type PeerAcceptor,
  type TransportLog,
} from "../wamp/mod.ts";
import type { HttpRequestHead } from "./stream/http.ts";
import {
  type Admitted,
  type HttpAdmission,
  type HttpMount,
  serveHttp,
} from "./stream/http_server.ts";

export type { Admitted, HttpAdmission, HttpMount };
import { type LongPollOptions, LongPollService } from "./longpoll/server.ts";
import { acceptRawSocket, type RawSocketOptions } from "./rawsocket/server.ts";
import { upgradeWebSocket, type WebSocketOptions } from "./websocket/server.ts";
import { remoteAddress, Wire } from "./stream/wire.ts";
import { authority } from "./address.ts";
import { ListenerCounts, type ListenerStats } from "./listener_stats.ts";
import { HandshakeTimers, type ListenerTlsOptions, tlsServerOptions } from "./listener_tls.ts";
import { PROBE_BYTE, watchAccepts } from "./accept_watchdog.ts";
import { removeStaleSocket } from "./stale_socket.ts";

export type { ListenerStats };
export type { ListenerTlsOptions };

/** Options for {@linkcode listen}. */
export interface ListenOptions {
  /** The interface to listen on. @default {"127.0.0.1"} */
  hostname?: string;
  /** The TCP port; 0 picks a free one. @default {8080} */
  port?: number;
  /** A Unix socket path to listen on instead of a TCP port. */
  path?: string;
  /**
   * Whether other processes may listen on the same TCP port at once
   * (`SO_REUSEPORT`, Linux and the BSDs): the kernel then spreads new
   * connections over them. `cloverleaf --workers N` sets it on every
   * worker's listeners. Not for Unix sockets.
   * @default {false}
   */
  reusePort?: boolean;
  /** TLS for every protocol on this listener. */
  tls?: ListenerTlsOptions;
  /** WebSocket settings, or `false` to refuse WebSocket. @default {{}} */
  websocket?: WebSocketOptions | false;
  /** RawSocket settings, or `false` to refuse RawSocket. @default {{}} */
  rawsocket?: RawSocketOptions | false;
  /** HTTP long-poll settings, or `false` to refuse it. @default {{}} */
  longpoll?: LongPollOptions | false;
  /**
   * Open connections allowed at once; 0 for no limit. Long-poll transports
   * (which outlive their HTTP connections) are capped at the same number,
   * or at 10,000 when this is 0, unless `longpoll.maxTransports` says
   * otherwise.
   * @default {0}
   */
  maxConnections?: number;
  /**
   * Milliseconds a new connection has to send its first byte before it is
   * closed; then each HTTP request head has as long again to arrive whole
   * (408 and closed otherwise), and a RawSocket handshake its own
   * `rawsocket.handshakeTimeout`.
   * @default {10000}
   */
  handshakeTimeout?: number;
  /**
   * Milliseconds between the checks that the listener still accepts
   * connections (it connects to itself; one that accepts nothing at all
   * within 3 s is closed and listens again); 0 for none. Deno's
   * `node:net` stops accepting for good once the process runs out of file
   * descriptors, as a flood of connections can make it. With `reusePort`
   * a check may reach another process on the port, and then tries again
   * from another local port (see `transports/accept_watchdog.ts`).
   * @default {5000}
   */
  acceptCheckInterval?: number;
  /** Timeouts of the HTTP request loop (long-poll requests, WebSocket upgrades). */
  http?: {
    /**
     * Milliseconds a request body may take to arrive whole, from the end
     * of its head; the client then gets 408 and the connection closes.
     * @default {60000}
     */
    bodyTimeout?: number;
    /**
     * Milliseconds a kept-alive HTTP connection may stay idle between
     * requests before it is closed.
     * @default {60000}
     */
    idleTimeout?: number;
  };
  /** How the router treats sessions from this listener (outbound limits, HELLO timeout). */
  attach?: AttachOptions;
  /**
   * HTTP services answering plain requests on their own paths (the HTTP
   * bridge), asked in order before long-poll and WebSocket.
   * @default {[]}
   */
  mounts?: readonly HttpMount[];
  /** Where log lines go. */
  log?: TransportLog;
}

/** A running listener. */
export interface Listener {
  /** The address it listens on. */
  readonly addr: { transport: "tcp"; hostname: string; port: number } | {
    transport: "unix";
    path: string;
  };
  /** URLs clients can connect to, one per protocol served. */
  readonly urls: { websocket?: string; rawsocket?: string; longpoll?: string };
  /** The first of {@linkcode Listener.urls}. */
  readonly url: string;
  /** How many connections are open. */
  connections(): number;
  /**
   * Bytes queued for all open connections and not yet handed to the
   * kernel (HTTP responses and WAMP messages alike).
   */
  queuedBytes(): number;
  /** Connections accepted and refused, bytes in and out. */
  stats(): ListenerStats;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

const RAWSOCKET_MAGIC = 0x7f;
/** Long-poll transports open at once when the listener has no `maxConnections`. */
const DEFAULT_LONGPOLL_TRANSPORTS = 10_000;

/**
 * Listens for WAMP connections on one port: WebSocket, RawSocket and
 * long-poll, each unless turned off, over TCP or TLS or a Unix socket.
 *
 * @param acceptor What sessions attach to (a router).
 * @param options Address, TLS, protocols, limits.
 * @returns The running listener.
 * @throws {Error} When the address cannot be bound.
 *
 * @example
 * ```ts
 * import { connect, listen, Router } from "@cloverleaf/wamp";
 * import { equal } from "node:assert/strict";
 *
 * const router = new Router({ realms: [{ name: "realm1" }] });
 * const listener = await listen(router, { port: 0 });
 * const session = await connect(listener.urls.rawsocket!, { realm: "realm1" });
 * equal(session.realm, "realm1");
 * await session.close();
 * await router.close();
 * await listener.close();
 * ```
 */
export async function listen(
  acceptor: PeerAcceptor,
  options: ListenOptions = {},
): Promise<Listener> {
  const wsOptions = options.websocket === false ? undefined : options.websocket ?? {};
  const rsOptions = options.rawsocket === false ? undefined : options.rawsocket ?? {};
  const lpOptions = options.longpoll === false ? undefined : options.longpoll ?? {};
  const attach = options.attach ?? {};
  const log = options.log ?? (() => {});
  // Long-poll follows the WebSocket Origin policy unless it has its own.
  const allowedOrigins = lpOptions?.allowedOrigins ?? wsOptions?.allowedOrigins ?? [];
  const maxConnections = options.maxConnections ?? 0;
  // Long-poll transports outlive their HTTP connections: cap them too.
  const maxTransports = lpOptions?.maxTransports ??
    (maxConnections > 0 ? maxConnections : DEFAULT_LONGPOLL_TRANSPORTS);
  const longpoll = lpOptions === undefined
    ? undefined
    : new LongPollService(acceptor, { ...lpOptions, maxTransports, allowedOrigins, attach, log });
  const wires = new Set<Wire>();
  const handshakeTimeout = options.handshakeTimeout ?? 10_000;
  const maxBacklog = attach.maxBacklog ?? DEFAULT_OUTBOUND.maxBacklog;
  const mounts = options.mounts ?? [];
  /** The largest body a long-poll request brings; other paths set their own (`admit`). */
  const longpollBody = lpOptions?.maxMessageSize ?? 16 * 1024 * 1024;
  const httpLimits = {
    maxBodySize: longpollBody,
    headTimeout: handshakeTimeout,
    bodyTimeout: options.http?.bodyTimeout ?? 60_000,
    idleTimeout: options.http?.idleTimeout ?? 60_000,
    log,
  };
  const wsPaths = wsOptions?.paths ?? ["/ws", "/"];
  let origin = "http://localhost";
  /** A request's URL, as handle() gets it: every route is decided on its normalized path. */
  const urlOf = (head: HttpRequestHead): URL => new URL(origin + head.target);
  const counts = new ListenerCounts();

  const onSocket = (socket: net.Socket) => {
    if (socket.destroyed) return; // the accept watchdog's probe
    tlsHandshakes?.settled(socket);
    const wire = new Wire(socket, { maxBacklog });
    const full = maxConnections > 0 && wires.size >= maxConnections;
    const peer = remoteAddress(socket);
    // Told once the connection shows it is no accept check: at its first byte, or when it ends
    // or times out silent.
    const refused = () => {
      if (!full) return;
      log("warn", `Connection from ${peer} refused: ${maxConnections} connections open`, {
        event: "connection_refused",
        peer,
      });
    };
    counts.connection(full);
    wires.add(wire);
    // Cleared and dropped at the first byte: the closures below outlive it.
    let timer: ReturnType<typeof setTimeout> | undefined = setTimeout(() => {
      timer = undefined; // told here, not again when it closes
      refused();
      log("info", `Connection from ${peer} closed: nothing sent within ${handshakeTimeout} ms`, {
        event: "handshake_timeout",
        peer,
      });
      wire.destroy();
    }, handshakeTimeout);
    const settled = () => {
      clearTimeout(timer);
      timer = undefined;
    };
    wire.bind({
      // The first chunk decides; the protocol chosen binds the wire to itself.
      data(first) {
        settled();
        if (first[0] === PROBE_BYTE) { // an accept check: counted apart, not logged
          wires.delete(wire);
          counts.check(full);
          return wire.destroy();
        }
        refused();
        if (first[0] === RAWSOCKET_MAGIC) {
          if (rsOptions === undefined) return wire.destroy();
          return acceptRawSocket(wire, first, acceptor, {
            ...rsOptions,
            attach,
            peer,
            full,
            log,
          });
        }
        if (wsOptions === undefined && longpoll === undefined && mounts.length === 0) {
          return wire.destroy();
        }
        serveHttp(wire, first, {
          upgrade(head: HttpRequestHead, rest: () => Uint8Array): boolean {
            if (head.headers.get("upgrade")?.toLowerCase() !== "websocket") return false;
            if (wsOptions === undefined || full) return false;
            // The path admit() routed by (normalized), mounts and long-poll asked first as there.
            const path = urlOf(head).pathname;
            if (!wsPaths.includes(path) || longpoll?.handles(path)) return false;
            if (mounts.some((m) => m.handles(path))) return false;
            const routed = path === head.path ? head : { ...head, path };
            upgradeWebSocket(wire, routed, rest(), acceptor, { ...wsOptions, attach, peer, log });
            return true;
          },
          // Each path's own body limit, decided before the body is read: a request to a
          // path with a small limit (or refused from its head) never has a larger one held.
          admit(head: HttpRequestHead): Admitted | Promise<Admitted> {
            if (full) {
              const headers = { connection: "close" };
              return new Response("too many connections\n", { status: 503, headers });
            }
            const url = urlOf(head);
            const mount = mounts.find((m) => m.handles(url.pathname));
            if (mount !== undefined) {
              return mount.admit?.(head, url, peer) ?? httpLimits.maxBodySize;
            }
            if (longpoll?.handles(url.pathname)) return longpoll.admit(head, url, peer);
            if (wsOptions === undefined || !wsPaths.includes(url.pathname)) return notFound();
            // A WebSocket upgrade brings no body; anything else is answered here.
            if (head.headers.get("upgrade")?.toLowerCase() === "websocket") return 0;
            return new Response("This is a WAMP WebSocket endpoint\n", {
              status: 426,
              headers: { upgrade: "websocket" },
            });
          },
          handle(request: Request, admission?: HttpAdmission): Promise<Response> {
            const path = new URL(request.url).pathname;
            const mount = mounts.find((m) => m.handles(path));
            if (mount !== undefined) return mount.handle(request, peer, admission);
            if (longpoll?.handles(path)) {
              // Our own Request: its signal aborts when the connection closes (http_server.ts).
              return longpoll.handle(request, peer, { admission, closed: request.signal });
            }
            return Promise.resolve(notFound()); // admit() answered any other request
          },
        }, { ...httpLimits, origin, peer });
      },
      closed() {
        if (timer !== undefined) refused(); // closed silent
        settled();
        if (wires.delete(wire)) counts.closed(wire);
      },
    });
    socket.on("close", () => {
      if (wires.delete(wire)) counts.closed(wire);
    });
  };

  const server = options.tls === undefined
    ? net.createServer(onSocket)
    : tls.createServer(tlsServerOptions(options.tls), onSocket);
  // node:tls (as Deno has it) has no handshake timeout of its own.
  const tlsHandshakes = options.tls === undefined
    ? undefined
    : new HandshakeTimers(server, handshakeTimeout, (peer) => {
      log("info", `Connection from ${peer} closed: no TLS handshake within ${handshakeTimeout} ms`);
    });
  server.on("tlsClientError", () => {}); // a failed handshake closes only that socket
  if (options.path !== undefined) await removeStaleSocket(options.path);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    const done = () => {
      server.off("error", reject);
      resolve();
    };
    if (options.path !== undefined) server.listen(options.path, done);
    else {
      server.listen({
        port: options.port ?? 8080,
        host: options.hostname ?? "127.0.0.1",
        ...(options.reusePort ? { reusePort: true } : {}),
      }, done);
    }
  });
  server.on("error", (error) => log("warn", `Listener error: ${error.message}`));
  const address = server.address();
  const checkEvery = options.acceptCheckInterval ?? 5000;
  const watchdog = checkEvery > 0 && address !== null
    ? watchAccepts(server, {
      target: typeof address === "string"
        ? { path: options.path ?? address }
        : { port: address.port, address: address.address },
      hostname: options.hostname ?? "127.0.0.1",
      reusePort: options.reusePort === true,
      interval: checkEvery,
      log,
      name: () => url,
    })
    : undefined;
  const addr: Listener["addr"] = options.path !== undefined || typeof address === "string" ||
      address === null
    ? { transport: "unix", path: options.path ?? String(address) }
    : { transport: "tcp", hostname: address.address, port: address.port };
  const secure = options.tls !== undefined;
  const urls: { websocket?: string; rawsocket?: string; longpoll?: string } = {};
  if (addr.transport === "tcp") {
    const hostPort = authority(addr.hostname, addr.port);
    origin = `${secure ? "https" : "http"}://${hostPort}`;
    if (wsOptions !== undefined) {
      urls.websocket = `${secure ? "wss" : "ws"}://${hostPort}${wsPaths[0] ?? "/ws"}`;
    }
    if (rsOptions !== undefined) urls.rawsocket = `${secure ? "tcps" : "tcp"}://${hostPort}`;
    if (longpoll !== undefined) urls.longpoll = `${origin}${longpoll.path}`;
  } else if (rsOptions !== undefined) {
    urls.rawsocket = `unix://${addr.path}`;
  }
  const url = urls.websocket ?? urls.rawsocket ?? urls.longpoll ?? "";
  return {
    addr,
    urls,
    url,
    connections: () => wires.size,
    queuedBytes() {
      let bytes = 0;
      for (const wire of wires) bytes += wire.queuedBytes();
      return bytes;
    },
    stats: () => counts.stats(wires, server.listening),
    async close() {
      watchdog?.stop();
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      longpoll?.close();
      for (const wire of wires) wire.end();
      await stopped;
    },
  };
}

/** The answer for a path nothing on the listener serves. */
function notFound(): Response {
  return new Response("Not found\n", { status: 404 });
}
