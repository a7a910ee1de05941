/**
 * WebSocket transport, client side, over our own framing (`node:net` or
 * `node:tls` with Nagle off): the upgrade request, strict checks of the
 * answer (status, accept key, a subprotocol we offered, extensions),
 * permessage-deflate and the batched subprotocols.
 *
 * @module
 */

import {
  type Link,
  type SerializerName,
  serializers as allSerializers,
  TransportError,
  type TransportInfo,
} from "../../wamp/mod.ts";
import { BATCHED_SUFFIX } from "../stream/batched.ts";
import { clientBacklog, type ClientTlsOptions, dial } from "../stream/dial.ts";
import { headerTokens, MAX_HEAD_SIZE, MAX_HEADER_LINES } from "../stream/http.ts";
import {
  acceptDeflateResponse,
  DEFLATE_OFFER,
  type PerMessageDeflate,
} from "./permessage_deflate.ts";
import { tlsInfo } from "../stream/tls_info.ts";
import { acceptKey } from "./framing.ts";
import { WebSocketPeer } from "./link.ts";
import { concat } from "../stream/bytes.ts";
import { builtin } from "../../wamp/builtin.ts";
import { toBase64 } from "../../wamp/bytes.ts";
import type { Wire } from "../stream/wire.ts";

/** Options for {@linkcode connectWebSocket}. */
export interface ConnectWebSocketOptions {
  /**
   * Serializers to offer, most preferred first.
   * @default {["json", "msgpack", "cbor"]}
   */
  serializers?: SerializerName[];
  /** Extra HTTP headers for the upgrade request (`Cookie`, `Authorization`, `Origin`). */
  headers?: Record<string, string>;
  /**
   * The largest incoming message, in bytes (after inflating); a larger one
   * closes the connection with 1009. On a batched subprotocol, also the
   * largest batch sent, framing included (a message alone may be larger):
   * the router reads a batch whole against its own limit.
   * @default {16777216}
   */
  maxMessageSize?: number;
  /** Aborts the connection attempt. */
  signal?: AbortSignal;
  /** TLS settings for a `wss://` URL (ignored for `ws://`). */
  tls?: ClientTlsOptions;
  /**
   * Offer permessage-deflate (no context takeover both ways); messages of
   * 256 bytes or more are then sent compressed.
   * @default {false}
   */
  compression?: boolean;
  /**
   * Offer the batched subprotocols, each before its plain one
   * (`wamp.2.json.batched`, `wamp.2.json`, …).
   * @default {false}
   */
  batched?: boolean;
  /**
   * Milliseconds without anything received before a ping (0: never).
   * @default {0}
   */
  pingInterval?: number;
  /**
   * Milliseconds to wait for an answer to a ping before closing.
   * @default {10000}
   */
  pingTimeout?: number;
  /**
   * Milliseconds to wait for the connection and TLS handshake, and again
   * for the upgrade response.
   * @default {10000}
   */
  handshakeTimeout?: number;
  /**
   * Bytes that may wait to go out: past half of it the client stops
   * reading (a router that sends PINGs and never reads its PONGs is not
   * buffered for without bound), and PONGs past it close the connection.
   * @default {16 MiB, or 2 x maxMessageSize when that is more}
   */
  maxBacklog?: number;
}

/** A parsed HTTP response head. */
export interface HttpResponseHead {
  /** The status code. */
  readonly status: number;
  /** The reason phrase. */
  readonly reason: string;
  /** The headers (repeated ones joined by `, `). */
  readonly headers: Headers;
}

/** Headers the upgrade request sets itself. */
const RESERVED = new Set([
  "host",
  "upgrade",
  "connection",
  "sec-websocket-key",
  "sec-websocket-version",
  "sec-websocket-protocol",
  "sec-websocket-extensions",
]);
const latin1 = new TextDecoder("latin1");

/**
 * Parses an HTTP/1.1 response head from the start of `bytes`.
 *
 * @param bytes What has arrived so far.
 * @returns The head and its length (the body starts there), `incomplete`,
 * or an error.
 *
 * @example
 * ```ts
 * import { parseResponseHead } from "./client.ts";
 * import { equal, ok } from "node:assert/strict";
 *
 * const parsed = parseResponseHead(
 *   new TextEncoder().encode("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"),
 * );
 * ok("head" in parsed);
 * equal(parsed.head.status, 101);
 * equal(parsed.head.headers.get("upgrade"), "websocket");
 * ```
 */
export function parseResponseHead(
  bytes: Uint8Array,
):
  | { readonly head: HttpResponseHead; readonly length: number }
  | { readonly incomplete: true }
  | { readonly error: string } {
  let end = -1;
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) {
      end = i;
      break;
    }
  }
  if (end < 0 || end > MAX_HEAD_SIZE) {
    return bytes.length > MAX_HEAD_SIZE
      ? { error: "response head too large" }
      : { incomplete: true };
  }
  const lines = latin1.decode(bytes.subarray(0, end)).split("\r\n");
  const status = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(lines[0]!);
  if (status === null) return { error: `malformed status line "${lines[0]!.slice(0, 80)}"` };
  // As for requests: each line appended to one name rebuilds its value (4,000 lines took 20 ms).
  if (lines.length - 1 > MAX_HEADER_LINES) return { error: "too many header lines" };
  const headers = new Headers();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon <= 0) return { error: "malformed header line" };
    try {
      headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
    } catch {
      return { error: "malformed header line" };
    }
  }
  return {
    head: { status: Number(status[1]), reason: status[2] ?? "", headers },
    length: end + 4,
  };
}

/**
 * Opens a WebSocket to a WAMP router and checks the handshake strictly:
 * status 101, the accept key, a subprotocol we offered, and
 * permessage-deflate (when offered) without server context takeover.
 * Messages that arrive before the link is bound wait for it.
 *
 * @param url A `ws://` or `wss://` URL.
 * @param options Serializers, headers, TLS, compression, batching, limits.
 * @returns The open link.
 * @throws {TransportError} When the connection or the handshake fails.
 * @throws {TypeError} When a header is malformed or one the handshake sets.
 *
 * @example
 * ```ts
 * import { connect, Router } from "@cloverleaf/wamp";
 * import { serveWebSocket } from "@cloverleaf/wamp/transports";
 * import { connectWebSocket } from "./client.ts";
 * import { equal } from "node:assert/strict";
 *
 * const router = new Router({ realms: [{ name: "realm1" }] });
 * const listener = serveWebSocket(router, { port: 0 });
 * const link = await connectWebSocket(listener.url, { serializers: ["cbor"] });
 * equal(link.info.serializer, "cbor");
 * link.close();
 * await router.close();
 * await listener.close();
 * ```
 */
export async function connectWebSocket(
  url: string,
  options: ConnectWebSocketOptions = {},
): Promise<Link> {
  let u: URL;
  try {
    u = new URL(url);
  } catch (error) {
    throw new TransportError(`Cannot connect to ${url}: not a URL`, { cause: error });
  }
  if (u.protocol !== "ws:" && u.protocol !== "wss:") {
    throw new TransportError(`Cannot connect to ${url}: unsupported scheme "${u.protocol}"`);
  }
  const secure = u.protocol === "wss:";
  const serializers = (options.serializers ?? ["json", "msgpack", "cbor"]).map((n) =>
    allSerializers[n]
  );
  const protocols = serializers.flatMap((s) =>
    options.batched ? [s.subprotocol + BATCHED_SUFFIX, s.subprotocol] : [s.subprotocol]
  );
  const key = toBase64(crypto.getRandomValues(new Uint8Array(16)));
  const request = requestHead(u, key, protocols, options);
  const wire = await dial(
    { host: u.hostname.replace(/^\[(.*)\]$/, "$1"), port: Number(u.port || (secure ? 443 : 80)) },
    {
      tls: secure ? options.tls ?? {} : undefined,
      signal: options.signal,
      timeout: options.handshakeTimeout,
      maxBacklog: options.maxBacklog ?? clientBacklog(options.maxMessageSize),
    },
  );
  wire.write(request);
  const { head, early } = await responseHead(wire, url, options);
  const checked = checkResponse(head, early, acceptKey(key), protocols, options);
  if ("error" in checked) {
    wire.destroy();
    throw new TransportError(`Cannot connect to ${url}: ${checked.error}`);
  }
  const { chosen, deflate } = checked;
  const batched = chosen.endsWith(BATCHED_SUFFIX);
  const serializer = serializers.find((s) =>
    s.subprotocol === (batched ? chosen.slice(0, -BATCHED_SUFFIX.length) : chosen)
  )!;
  const socket = wire.socket;
  const info: TransportInfo = {
    type: "websocket",
    serializer: serializer.name,
    peer: url,
    ...(socket instanceof builtin("node:tls").TLSSocket ? { tls: tlsInfo(socket, "client") } : {}),
  };
  return new WebSocketPeer(wire, {
    role: "client",
    serializer,
    batched,
    info,
    maxMessageSize: options.maxMessageSize ?? 16 * 1024 * 1024,
    deflate,
    pingInterval: options.pingInterval ?? 0,
    pingTimeout: options.pingTimeout ?? 10_000,
  }, concat(early)); // binds the wire at once: nothing arrives in between
}

/** Checks the upgrade response: the subprotocol and deflate settings, or what is wrong. */
function checkResponse(
  head: HttpResponseHead,
  early: readonly Uint8Array[],
  accept: string,
  protocols: readonly string[],
  options: ConnectWebSocketOptions,
): { chosen: string; deflate: PerMessageDeflate | undefined } | { error: string } {
  const h = head.headers;
  if (head.status !== 101) {
    const body = new TextDecoder().decode(concat(early).subarray(0, 200)).trim();
    return { error: `HTTP ${head.status} ${head.reason}${body === "" ? "" : `: ${body}`}` };
  }
  if (!headerTokens(h.get("upgrade")?.toLowerCase() ?? "").includes("websocket")) {
    return { error: "no Upgrade: websocket" };
  }
  if (!headerTokens(h.get("connection")?.toLowerCase() ?? "").includes("upgrade")) {
    return { error: "no Connection: upgrade" };
  }
  if (h.get("sec-websocket-accept") !== accept) return { error: "wrong Sec-WebSocket-Accept" };
  const chosen = h.get("sec-websocket-protocol");
  if (chosen === null) return { error: "server chose no subprotocol" };
  if (!protocols.includes(chosen)) return { error: `server chose subprotocol "${chosen}"` };
  const extensions = h.get("sec-websocket-extensions");
  if (options.compression) {
    const answer = acceptDeflateResponse(extensions);
    return answer.error === undefined
      ? { chosen, deflate: answer.deflate }
      : { error: answer.error };
  }
  if (extensions !== null && extensions.trim() !== "") {
    return { error: `server chose extensions "${extensions}" we did not offer` };
  }
  return { chosen, deflate: undefined };
}

/** The upgrade request's bytes. */
function requestHead(
  u: URL,
  key: string,
  protocols: readonly string[],
  options: ConnectWebSocketOptions,
): Uint8Array {
  const lines = [
    `GET ${u.pathname}${u.search} HTTP/1.1`,
    `Host: ${u.host}`,
    "Upgrade: websocket",
    "Connection: Upgrade",
    `Sec-WebSocket-Key: ${key}`,
    "Sec-WebSocket-Version: 13",
    `Sec-WebSocket-Protocol: ${protocols.join(", ")}`,
  ];
  if (options.compression) lines.push(`Sec-WebSocket-Extensions: ${DEFLATE_OFFER}`);
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || /[\r\n\0]/.test(value)) {
      throw new TypeError(`Cannot send header "${name}": malformed name or value`);
    }
    if (RESERVED.has(name.toLowerCase())) {
      throw new TypeError(`Cannot send header "${name}": the WebSocket handshake sets it`);
    }
    lines.push(`${name}: ${value}`);
  }
  return new TextEncoder().encode(lines.join("\r\n") + "\r\n\r\n");
}

/**
 * Reads the response head; bytes after it are kept (in arrival order) for
 * the connection, which the caller creates without awaiting anything.
 */
function responseHead(
  wire: Wire,
  url: string,
  options: ConnectWebSocketOptions,
): Promise<{ head: HttpResponseHead; early: Uint8Array[] }> {
  const timeout = options.handshakeTimeout ?? 10_000;
  return new Promise((resolve, reject) => {
    let buffered: Uint8Array = new Uint8Array(0);
    const done = (error?: string) => {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      if (error === undefined) return;
      wire.destroy();
      reject(new TransportError(`Cannot connect to ${url}: ${error}`));
    };
    const onAbort = () => done("aborted");
    const timer = setTimeout(() => done(`no upgrade response in ${timeout} ms`), timeout);
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    wire.bind({
      data(chunk) {
        buffered = buffered.length === 0 ? chunk : concat([buffered, chunk]);
        const parsed = parseResponseHead(buffered);
        if ("incomplete" in parsed) return;
        if ("error" in parsed) return done(parsed.error);
        done();
        // Frames that come with or right after the head wait for the connection.
        const early = [buffered.subarray(parsed.length)];
        wire.bind({ data: (more) => void early.push(more), closed() {} });
        resolve({ head: parsed.head, early });
      },
      closed: () => done("connection closed during the handshake"),
    });
  });
}
