/**
 * WebSocket transport, server side, over our own framing: takes an HTTP
 * upgrade request a listener has read from a {@linkcode Wire}, checks it,
 * negotiates the WAMP side (origin, subprotocol plain or batched, tracking
 * cookie: `negotiate.ts`, shared with the `Deno.serve` adapter) and
 * permessage-deflate, answers 101 and attaches the connection to a router.
 *
 * @module
 */

import { TLSSocket } from "node:tls";
import type {
  AttachOptions,
  PeerAcceptor,
  PeerHandler,
  SerializerName,
  TransportInfo,
  TransportLog,
} from "../../wamp/mod.ts";
import type { CookieOptions } from "../stream/cookie.ts";
import { headerTokens, type HttpRequestHead, responseHead, textResponse } from "../stream/http.ts";
import { negotiateDeflate } from "./permessage_deflate.ts";
import { tlsInfo } from "../stream/tls_info.ts";
import { acceptKey, CloseCode } from "./framing.ts";
import { WebSocketPeer } from "./link.ts";
import { type Negotiated, negotiateWebSocket } from "./negotiate.ts";
import { remoteAddress, type Wire } from "../stream/wire.ts";

/** WebSocket settings of a listener. */
export interface WebSocketOptions {
  /**
   * URL paths that accept WebSocket upgrades.
   * @default {["/ws", "/"]}
   */
  paths?: string[];
  /**
   * Serializers offered; the client's order of preference decides.
   * @default {["json", "msgpack", "cbor"]}
   */
  serializers?: SerializerName[];
  /**
   * Also offer the batched subprotocols (`wamp.2.json.batched`, …).
   * @default {true}
   */
  batched?: boolean;
  /**
   * The largest incoming message, in bytes (after inflating); a larger one
   * closes the connection with 1009.
   * @default {16777216}
   */
  maxMessageSize?: number;
  /** permessage-deflate (RFC 7692), without context takeover. */
  compression?: {
    /** Accept clients' offers. @default {false} */
    enabled?: boolean;
    /** Messages smaller than this are sent uncompressed. @default {256} */
    threshold?: number;
    /** The zlib level, 0–9. @default {6} */
    level?: number;
  };
  /**
   * Milliseconds without anything received before a ping (0: never).
   * @default {30000}
   */
  pingInterval?: number;
  /**
   * Milliseconds to wait for an answer to a ping before closing with 1001.
   * @default {10000}
   */
  pingTimeout?: number;
  /**
   * Origins allowed to open a WebSocket, as globs where `*` stands for any
   * characters but `/` (`"https://*.example.com"`, `"http://localhost:*"`).
   * A request with another `Origin` gets 403; one without `Origin` (not
   * from a browser) is allowed. Empty or absent: any origin.
   */
  allowedOrigins?: string[];
  /**
   * A tracking cookie for cookie authentication: each upgrade response
   * sets it (`HttpOnly`, `SameSite=Lax`); a cookie the router does not
   * remember is replaced by a fresh random one.
   */
  cookie?: CookieOptions;
}

/** Options for {@linkcode upgradeWebSocket}: the listener's settings and the connection's. */
export interface UpgradeWebSocketOptions extends WebSocketOptions {
  /** Outbound limits and timeouts for the attached session. */
  attach?: AttachOptions;
  /** The remote address, for session details. @default {from the socket} */
  peer?: string;
  /** Where refusals and protocol errors are logged. */
  log?: TransportLog;
}

/** Whether a comma-separated header holds `token` (ignoring case). */
function hasToken(header: string | null, token: string): boolean {
  return header !== null && headerTokens(header.toLowerCase()).includes(token);
}

/**
 * Upgrades an HTTP request to a WAMP WebSocket connection and attaches it
 * to `acceptor` (a router).
 *
 * Checks, in order: the path (404), the upgrade itself (`GET`, HTTP/1.1,
 * `Host`, `Upgrade: websocket`, `Connection: upgrade`,
 * `Sec-WebSocket-Key`: 400; `Sec-WebSocket-Version: 13`: 426), the
 * `Origin` against `allowedOrigins` (403), and the subprotocol: the first
 * one the client offered that we support, or 400 naming ours. A refusal
 * is answered with a short text response and the connection ends.
 * Otherwise permessage-deflate is negotiated when enabled, the tracking
 * cookie set when configured, and the connection attached with info
 * `{ type: "websocket", serializer, peer, cookie?, tls? }`; when the
 * router is closing it is closed with 1001.
 *
 * @param wire The connection the request came on.
 * @param request The parsed request head.
 * @param rest Bytes that followed the head (already WebSocket frames).
 * @param acceptor What the connection attaches to.
 * @param options Listener settings, attach options, remote address, log.
 *
 * @example
 * ```ts
 * import net from "node:net";
 * import { connect, Router } from "@cloverleaf/wamp";
 * import { parseRequestHead } from "../stream/http.ts";
 * import { upgradeWebSocket } from "./server.ts";
 * import { Wire } from "../stream/wire.ts";
 * import { equal } from "node:assert/strict";
 *
 * const router = new Router({ realms: [{ name: "realm1" }] });
 * const server = net.createServer((socket) => {
 *   const wire = new Wire(socket);
 *   wire.bind({
 *     data(chunk) {
 *       const parsed = parseRequestHead(chunk); // a short head arrives whole here
 *       if ("head" in parsed) {
 *         upgradeWebSocket(wire, parsed.head, chunk.subarray(parsed.length), router);
 *       }
 *     },
 *     closed() {},
 *   });
 * });
 * await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
 * const { port } = server.address() as net.AddressInfo;
 * const session = await connect(`ws://127.0.0.1:${port}/ws`, { realm: "realm1" });
 * equal(session.realm, "realm1");
 * await session.close();
 * await router.close();
 * await new Promise((resolve) => server.close(resolve));
 * ```
 */
export function upgradeWebSocket(
  wire: Wire,
  request: HttpRequestHead,
  rest: Uint8Array,
  acceptor: PeerAcceptor,
  options: UpgradeWebSocketOptions = {},
): void {
  const peer = options.peer ?? remoteAddress(wire.socket);
  const checked = checkUpgrade(wire, request, acceptor, options);
  if ("status" in checked) {
    options.log?.(
      "info",
      `WebSocket upgrade from ${peer} refused (${checked.status}): ${checked.text}`,
    );
    wire.write(textResponse(checked.status, `${checked.text}\n`, checked.headers));
    wire.end();
    return;
  }
  const { chosen } = checked;
  const headers = request.headers;
  const response: [string, string][] = [
    ["upgrade", "websocket"],
    ["connection", "Upgrade"],
    ["sec-websocket-accept", acceptKey(headers.get("sec-websocket-key")!.trim())],
    ["sec-websocket-protocol", chosen.subprotocol],
  ];
  const compression = options.compression ?? {};
  const deflate = compression.enabled
    ? negotiateDeflate(headers.get("sec-websocket-extensions"), {
      ...(compression.threshold === undefined ? {} : { threshold: compression.threshold }),
      ...(compression.level === undefined ? {} : { level: compression.level }),
    })
    : undefined;
  if (deflate !== undefined) response.push(["sec-websocket-extensions", deflate.response]);
  const cookie = chosen.cookie?.value;
  if (chosen.cookie !== undefined) response.push(["set-cookie", chosen.cookie.setCookie]);
  wire.write(responseHead(101, response));

  const socket = wire.socket;
  const info: TransportInfo = {
    type: "websocket",
    serializer: chosen.serializer.name,
    peer,
    ...(cookie === undefined ? {} : { cookie }),
    ...(socket instanceof TLSSocket ? { tls: tlsInfo(socket, "server") } : {}),
  };
  const connection = new WebSocketPeer(wire, {
    role: "server",
    serializer: chosen.serializer,
    batched: chosen.batched,
    info,
    maxMessageSize: options.maxMessageSize ?? 16 * 1024 * 1024,
    deflate: deflate?.deflate,
    pingInterval: options.pingInterval ?? 30_000,
    pingTimeout: options.pingTimeout ?? 10_000,
    log: options.log,
  }, rest);
  let handler: PeerHandler;
  try {
    handler = acceptor.attach(connection, options.attach);
  } catch {
    connection.close(CloseCode.GOING_AWAY, "router is closing");
    return;
  }
  connection.bind(handler);
}

/** Checks the request: the negotiated subprotocol and cookie, or the refusal to answer with. */
function checkUpgrade(
  wire: Wire,
  request: HttpRequestHead,
  acceptor: PeerAcceptor,
  options: WebSocketOptions,
): { chosen: Negotiated } | { status: number; text: string; headers?: Record<string, string> } {
  if (!(options.paths ?? ["/ws", "/"]).includes(request.path)) {
    return { status: 404, text: `Not found: ${request.path}` };
  }
  const problem = upgradeProblem(request);
  if (problem !== undefined) return { status: 400, text: `Bad WebSocket upgrade: ${problem}` };
  if (request.headers.get("sec-websocket-version")?.trim() !== "13") {
    return {
      status: 426,
      text: "Unsupported WebSocket version: use 13",
      headers: { "sec-websocket-version": "13" },
    };
  }
  const secure = wire.socket instanceof TLSSocket;
  const negotiated = negotiateWebSocket({ headers: request.headers, secure }, acceptor, options);
  return "status" in negotiated ? negotiated : { chosen: negotiated };
}

/** What is wrong with an upgrade request, if anything (the version aside). */
function upgradeProblem(request: HttpRequestHead): string | undefined {
  const headers = request.headers;
  if (request.method !== "GET") return `method ${request.method}, not GET`;
  if (request.version !== "HTTP/1.1") return `${request.version}, not HTTP/1.1`;
  if (!headers.has("host")) return "no Host header";
  if (!hasToken(headers.get("upgrade"), "websocket")) return "no Upgrade: websocket header";
  if (!hasToken(headers.get("connection"), "upgrade")) return "no Connection: upgrade header";
  const key = headers.get("sec-websocket-key")?.trim();
  if (key === undefined) return "no Sec-WebSocket-Key header";
  if (!/^[A-Za-z0-9+/]{22}==$/.test(key)) return "Sec-WebSocket-Key is not 16 bytes of base64";
  return undefined;
}
