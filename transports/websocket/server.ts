/**
 * WebSocket transport, server side, over our own framing: takes an HTTP
 * upgrade request a listener has read from a {@linkcode Wire}, checks it,
 * negotiates the WAMP subprotocol (plain or batched) and
 * permessage-deflate, answers 101 and attaches the connection to a router.
 *
 * @module
 */

import { TLSSocket } from "node:tls";
import {
  type AttachOptions,
  type PeerAcceptor,
  type PeerHandler,
  type Serializer,
  type SerializerName,
  serializers as allSerializers,
  type TransportInfo,
  type TransportLog,
} from "../../wamp/mod.ts";
import { BATCHED_SUFFIX } from "../stream/batched.ts";
import { type CookieOptions, trackingCookie } from "../stream/cookie.ts";
import { type HttpRequestHead, responseHead, textResponse } from "../stream/http.ts";
import { negotiateDeflate } from "./permessage_deflate.ts";
import { tlsInfo } from "../stream/tls_info.ts";
import { acceptKey, CloseCode } from "./framing.ts";
import { WebSocketPeer } from "./link.ts";
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

const TOKEN_SPLIT = /\s*,\s*/;

/**
 * Whether an `Origin` header is allowed by a list of globs.
 *
 * @param origin The request's origin, e.g. `https://app.example.com`.
 * @param globs Allowed origins; `*` matches any characters but `/`.
 * @returns Whether one glob matches the whole origin (ignoring case).
 *
 * @example
 * ```ts
 * import { originAllowed } from "./server.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(originAllowed("https://app.example.com", ["https://*.example.com"]), true);
 * equal(originAllowed("https://example.com.evil.net", ["https://*.example.com"]), false);
 * equal(originAllowed("http://localhost:5173", ["http://localhost:*"]), true);
 * ```
 */
export function originAllowed(origin: string, globs: readonly string[]): boolean {
  return globs.length > 0 && originPolicy(globs)(origin);
}

/**
 * Compiles a list of origin globs once, for a caller that checks every
 * request (long-poll): the predicate {@linkcode originAllowed} applies.
 * An empty list allows every origin.
 *
 * @param globs Allowed origins; `*` matches any characters but `/`.
 * @returns Whether an origin is allowed.
 *
 * @example
 * ```ts
 * import { originPolicy } from "./server.ts";
 * import { equal } from "node:assert/strict";
 *
 * const allowed = originPolicy(["https://*.example.com"]);
 * equal(allowed("https://app.example.com"), true);
 * equal(allowed("https://evil.net"), false);
 * equal(originPolicy([])("https://evil.net"), true);
 * ```
 */
export function originPolicy(globs: readonly string[]): (origin: string) => boolean {
  if (globs.length === 0) return () => true;
  const patterns = globs.map((glob) => {
    const pattern = glob.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\/]/g, "\\$&"))
      .join("[^/]*");
    return new RegExp(`^${pattern}$`, "i");
  });
  return (origin) => patterns.some((pattern) => pattern.test(origin));
}

/** Whether a comma-separated header holds `token` (ignoring case). */
function hasToken(header: string | null, token: string): boolean {
  return header?.toLowerCase().split(TOKEN_SPLIT).includes(token) ?? false;
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
  const checked = checkUpgrade(request, options);
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
  let cookie: string | undefined;
  if (options.cookie !== undefined) {
    const tracking = trackingCookie(
      headers.get("cookie"),
      options.cookie,
      acceptor.renewCookie?.bind(acceptor),
      wire.socket instanceof TLSSocket,
    );
    cookie = tracking.value;
    response.push(["set-cookie", tracking.setCookie]);
  }
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

/** The subprotocol picked for a connection. */
interface Chosen {
  subprotocol: string;
  serializer: Serializer;
  batched: boolean;
}

/** Checks the request: the subprotocol to use, or the refusal to answer with. */
function checkUpgrade(
  request: HttpRequestHead,
  options: WebSocketOptions,
): { chosen: Chosen } | { status: number; text: string; headers?: Record<string, string> } {
  const headers = request.headers;
  if (!(options.paths ?? ["/ws", "/"]).includes(request.path)) {
    return { status: 404, text: `Not found: ${request.path}` };
  }
  const problem = upgradeProblem(request);
  if (problem !== undefined) return { status: 400, text: `Bad WebSocket upgrade: ${problem}` };
  if (headers.get("sec-websocket-version")?.trim() !== "13") {
    return {
      status: 426,
      text: "Unsupported WebSocket version: use 13",
      headers: { "sec-websocket-version": "13" },
    };
  }
  const origin = headers.get("origin");
  const allowed = options.allowedOrigins ?? [];
  if (origin !== null && allowed.length > 0 && !originAllowed(origin, allowed)) {
    return { status: 403, text: `Origin not allowed: ${origin}` };
  }
  const offered = (options.serializers ?? ["json", "msgpack", "cbor"]).map((n) =>
    allSerializers[n]
  );
  const batched = options.batched ?? true;
  const chosen = pickSubprotocol(headers.get("sec-websocket-protocol"), offered, batched);
  if (chosen !== undefined) return { chosen };
  const ours = supportedSubprotocols(offered, batched).join(", ");
  return { status: 400, text: `No supported WAMP subprotocol offered: use one of ${ours}` };
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

/** Every subprotocol we offer, plain and batched. */
function supportedSubprotocols(offered: readonly Serializer[], batched: boolean): string[] {
  return offered.flatMap((s) =>
    batched ? [s.subprotocol, s.subprotocol + BATCHED_SUFFIX] : [s.subprotocol]
  );
}

/** The first subprotocol the client offered that we support. */
function pickSubprotocol(
  header: string | null,
  offered: readonly Serializer[],
  batched: boolean,
): Chosen | undefined {
  if (header === null) return undefined;
  for (const name of header.trim().split(TOKEN_SPLIT)) {
    const isBatched = batched && name.endsWith(BATCHED_SUFFIX);
    const base = isBatched ? name.slice(0, -BATCHED_SUFFIX.length) : name;
    const serializer = offered.find((s) => s.subprotocol === base);
    if (serializer !== undefined) return { subprotocol: name, serializer, batched: isBatched };
  }
  return undefined;
}
