/**
 * WebSocket transport for `Deno.serve`: an HTTP handler that upgrades
 * requests with `Deno.upgradeWebSocket`, negotiates `wamp.2.json`,
 * `wamp.2.msgpack` or `wamp.2.cbor` and the tracking cookie as the
 * listener does (`negotiate.ts`), and attaches each connection to a router;
 * plus {@linkcode serveWebSocket} to run it on a port.
 *
 * @module
 */

import {
  type OutboundOptions,
  type Peer,
  type PeerAcceptor,
  type PeerHandler,
  type Serializer,
  type SerializerName,
  serializers as allSerializers,
  type TransportInfo,
  type TransportLog,
  type WampMessage,
} from "../../wamp/mod.ts";
import type { CookieOptions } from "../stream/cookie.ts";
import { asProtocolViolation, preJoinFault } from "../stream/arrival.ts";
import { encodeFailure, encodeOnce, encodeOwnedBytes } from "../stream/encode.ts";
import { negotiateWebSocket, supportedSubprotocols } from "./negotiate.ts";
import { tcpPeer } from "../stream/wire.ts";
export type { CookieOptions } from "../stream/cookie.ts";
export { negotiateSubprotocol } from "./negotiate.ts";

/** Options for {@linkcode webSocketHandler}. */
export interface WebSocketHandlerOptions {
  /**
   * URL paths that accept WebSocket upgrades.
   * @default {["/ws", "/"]}
   */
  paths?: string[];
  /**
   * Serializers offered; the client's order of preference decides (no
   * batched variants here).
   * @default {["json", "msgpack", "cbor"]}
   */
  serializers?: SerializerName[];
  /**
   * The largest incoming message accepted, in bytes; a larger one closes
   * the connection with code 1009.
   * @default {16777216}
   */
  maxMessageSize?: number;
  /** Outbound limits for each connection. */
  outbound?: OutboundOptions;
  /**
   * A tracking cookie for cookie authentication: each upgrade response
   * sets a fresh one (`HttpOnly`, `SameSite=Lax`, `Secure` over https); a
   * presented cookie the router remembers is renewed into it.
   */
  cookie?: CookieOptions;
  /**
   * Origins allowed to open a WebSocket, as globs where `*` stands for any
   * characters but `/`. A request with another `Origin` gets 403; one
   * without `Origin` (not from a browser) is allowed. Empty or absent: any
   * origin.
   */
  allowedOrigins?: string[];
  /** Where messages that cannot be encoded are logged. */
  log?: TransportLog;
}

/** A socket-backed {@linkcode Peer}. */
class DenoWebSocketPeer implements Peer {
  readonly info: TransportInfo;
  #socket: WebSocket;
  #serializer: Serializer;
  #log: TransportLog | undefined;

  constructor(
    socket: WebSocket,
    serializer: Serializer,
    info: TransportInfo,
    log: TransportLog | undefined,
  ) {
    this.#socket = socket;
    this.#serializer = serializer;
    this.info = info;
    this.#log = log;
  }

  send(msg: WampMessage): void {
    if (this.#socket.readyState !== WebSocket.OPEN) return;
    let frame: string | Uint8Array;
    try {
      frame = encodeOnce(this.#serializer, msg);
    } catch (error) {
      // Peer.send never throws: drop an EVENT for this recipient only, and
      // close on anything else rather than leave a caller or callee waiting.
      const failure = encodeFailure(msg, error);
      this.#log?.("warn", `WebSocket ${this.info.peer ?? ""}: ${failure.message}`);
      if (!failure.drop) this.#socket.close(1011, "cannot encode message");
      return;
    }
    // Deno's WebSocket may hold the bytes until sent: never a view of shared memory.
    this.#socket.send(typeof frame === "string" ? frame : encodeOwnedBytes(this.#serializer, msg));
  }

  backlog(): number {
    return this.#socket.bufferedAmount;
  }

  queued(): number {
    return 0; // Deno's WebSocket counts bytes only
  }

  close(): void {
    if (this.#socket.readyState <= WebSocket.OPEN) this.#socket.close(1000);
  }
}

/** Wires a WebSocket to a handler: decodes frames, enforces the size limit, reports closure. */
function pumpWebSocket(
  socket: WebSocket,
  serializer: Serializer,
  handler: PeerHandler,
  maxMessageSize: number,
): void {
  socket.binaryType = "arraybuffer";
  socket.onmessage = (e: MessageEvent) => {
    const data = typeof e.data === "string" ? e.data : new Uint8Array(e.data as ArrayBuffer);
    const size = typeof data === "string" ? data.length : data.byteLength;
    if (size > maxMessageSize) {
      socket.close(1009, "message too big");
      return;
    }
    let msg: WampMessage;
    try {
      const refused = preJoinFault(size, handler);
      if (refused !== undefined) throw refused;
      msg = serializer.decode(data);
    } catch (error) {
      handler.fail(asProtocolViolation(error));
      return;
    }
    handler.receive(msg);
  };
  socket.onclose = () => handler.closed();
  socket.onerror = () => {}; // followed by close
}

/**
 * Creates an HTTP handler that upgrades WebSocket requests on the given
 * paths and attaches each connection to `acceptor` (a router). A request
 * that offers no supported WAMP subprotocol gets HTTP 400.
 *
 * The handler's second argument is the client's address: `Deno.serve`'s
 * `info.remoteAddr`, named as the listener names its peers
 * (`tcp4:192.0.2.7:5678`, `tcp6:[2001:db8::5]:443`, so that limits per
 * source count an IPv6 client's /64), or a name of your own, kept as it is.
 *
 * @param acceptor What connections attach to.
 * @param options Paths, serializers, limits.
 * @returns The request handler.
 *
 * @example
 * ```ts
 * import { Router } from "@cloverleaf/wamp";
 * import { webSocketHandler } from "@cloverleaf/wamp/transports";
 * import { equal } from "node:assert/strict";
 *
 * const router = new Router({ realms: [{ name: "realm1" }] });
 * const handle = webSocketHandler(router);
 * const res = handle(new Request("http://localhost/ws"));
 * equal(res.status, 426);
 * await res.body?.cancel();
 * await router.close();
 * ```
 */
export function webSocketHandler(
  acceptor: PeerAcceptor,
  options: WebSocketHandlerOptions = {},
): (request: Request, remote?: string | Deno.NetAddr) => Response {
  const paths = options.paths ?? ["/ws", "/"];
  const offered = (options.serializers ?? ["json", "msgpack", "cbor"]).map((n) =>
    allSerializers[n]
  );
  const maxMessageSize = options.maxMessageSize ?? 16 * 1024 * 1024;
  const supported = supportedSubprotocols(offered, false).join(", ");
  const negotiation = {
    serializers: options.serializers ?? ["json", "msgpack", "cbor"],
    batched: false,
    ...(options.allowedOrigins === undefined ? {} : { allowedOrigins: options.allowedOrigins }),
    ...(options.cookie === undefined ? {} : { cookie: options.cookie }),
  };
  return (request, remote) => {
    if (!paths.includes(new URL(request.url).pathname)) {
      return new Response("Not found\n", { status: 404 });
    }
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response(`This is a WAMP WebSocket endpoint (${supported})\n`, {
        status: 426,
        headers: { upgrade: "websocket" },
      });
    }
    // Read the request before upgrading: its headers are gone afterwards.
    const secure = new URL(request.url).protocol === "https:";
    const chosen = negotiateWebSocket({ headers: request.headers, secure }, acceptor, negotiation);
    if ("status" in chosen) return new Response(`${chosen.text}\n`, { status: chosen.status });
    const serializer = chosen.serializer;
    const { socket, response } = Deno.upgradeWebSocket(request, {
      protocol: serializer.subprotocol,
      idleTimeout: 30,
    });
    const cookie = chosen.cookie?.value;
    if (chosen.cookie !== undefined) response.headers.append("set-cookie", chosen.cookie.setCookie);
    const info: TransportInfo = {
      type: "websocket",
      serializer: serializer.name,
      ...(remote === undefined ? {} : { peer: peerName(remote) }),
      ...(cookie === undefined ? {} : { cookie }),
    };
    const peer = new DenoWebSocketPeer(socket, serializer, info, options.log);
    socket.onopen = () => {
      let handler: PeerHandler;
      try {
        handler = acceptor.attach(peer, options.outbound);
      } catch {
        socket.close(1001, "router is closing");
        return;
      }
      pumpWebSocket(socket, serializer, handler, maxMessageSize);
    };
    return response;
  };
}

/** A peer's name: `Deno.serve`'s remote address as the listener names it, or the caller's own. */
function peerName(remote: string | Deno.NetAddr): string {
  return typeof remote === "string" ? remote : tcpPeer(remote.hostname, remote.port);
}

/** Options for {@linkcode serveWebSocket}. */
export interface ServeWebSocketOptions extends WebSocketHandlerOptions {
  /**
   * The interface to listen on.
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /**
   * The port; 0 picks a free one.
   * @default {8080}
   */
  port?: number;
}

/** A running WebSocket listener. */
export interface WebSocketListener {
  /** The address it listens on. */
  readonly addr: Deno.NetAddr;
  /** The `ws://` URL of its first path. */
  readonly url: string;
  /** Resolves when the listener has stopped. */
  readonly finished: Promise<void>;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

/**
 * Serves WAMP over WebSocket on a TCP port.
 *
 * @param acceptor What connections attach to (a router).
 * @param options Address, paths, serializers, limits.
 * @returns The running listener.
 *
 * @example
 * ```ts
 * import { connect, Router } from "@cloverleaf/wamp";
 * import { serveWebSocket } from "@cloverleaf/wamp/transports";
 * import { equal } from "node:assert/strict";
 *
 * const router = new Router({ realms: [{ name: "realm1" }] });
 * const listener = serveWebSocket(router, { port: 0 });
 * const session = await connect(listener.url, { realm: "realm1" });
 * equal(session.realm, "realm1");
 * await session.close();
 * await router.close();
 * await listener.close();
 * ```
 */
export function serveWebSocket(
  acceptor: PeerAcceptor,
  options: ServeWebSocketOptions = {},
): WebSocketListener {
  const handle = webSocketHandler(acceptor, options);
  const hostname = options.hostname ?? "127.0.0.1";
  const server = Deno.serve(
    { hostname, port: options.port ?? 8080, onListen: () => {} },
    (request, info) => {
      return handle(request, info.remoteAddr);
    },
  );
  const addr = server.addr;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  const path = options.paths?.[0] ?? "/ws";
  return {
    addr,
    url: `ws://${host}:${addr.port}${path}`,
    finished: server.finished,
    async close() {
      await server.shutdown();
    },
  };
}
