/**
 * The WAMP side of a WebSocket upgrade, shared by the listener
 * (`server.ts`, over our own framing) and the `Deno.serve` adapter
 * (`deno_serve.ts`): the `Origin` check, the subprotocol (the first one the
 * client offered that we support, plain or batched) and the tracking
 * cookie. What is left to each is HTTP itself: the path, the upgrade
 * headers, the response.
 *
 * @module
 */

import {
  type PeerAcceptor,
  type Serializer,
  type SerializerName,
  serializers as allSerializers,
} from "../../wamp/mod.ts";
import { BATCHED_SUFFIX } from "../stream/batched.ts";
import { type CookieOptions, trackingCookie } from "../stream/cookie.ts";
import { headerTokens } from "../stream/http.ts";
import { originAllowed } from "../stream/origin.ts";

/** What {@linkcode negotiateWebSocket} is told: the WAMP settings of an endpoint. */
export interface NegotiateOptions {
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
   * Origins allowed, as globs where `*` stands for any characters but `/`.
   * A request without `Origin` (not from a browser) is allowed. Empty or
   * absent: any origin.
   */
  allowedOrigins?: string[];
  /** The tracking cookie to set, for cookie authentication. */
  cookie?: CookieOptions;
}

/** The upgrade request, as far as the negotiation reads it. */
export interface UpgradeRequest {
  /** The request's headers. */
  readonly headers: Headers;
  /** Whether it came over TLS (the cookie is then `Secure`). */
  readonly secure: boolean;
}

/** A subprotocol we speak, as picked for a connection. */
export interface Subprotocol {
  /** Its name, e.g. `wamp.2.cbor.batched`. */
  readonly subprotocol: string;
  /** Its serializer. */
  readonly serializer: Serializer;
  /** Whether it is the serializer's batched variant. */
  readonly batched: boolean;
}

/** An accepted upgrade: the subprotocol and, when configured, the tracking cookie. */
export interface Negotiated extends Subprotocol {
  /** The connection's tracking cookie and its `Set-Cookie` header. */
  readonly cookie?: { readonly value: string; readonly setCookie: string };
}

/** A refused upgrade: the HTTP status and a one-line reason. */
export interface Refused {
  /** 403 (origin) or 400 (no subprotocol we speak). */
  readonly status: 400 | 403;
  /** The reason, without a trailing newline. */
  readonly text: string;
}

/**
 * Negotiates the WAMP side of a WebSocket upgrade: checks the `Origin`
 * against `allowedOrigins` (403), picks the subprotocol (400 naming ours
 * when the client offered none of them) and, when configured, makes the
 * tracking cookie: always a fresh value, which the acceptor's
 * `renewCookie` moves to it whatever a presented cookie stood for.
 *
 * @param request The request's headers and whether it came over TLS.
 * @param acceptor The router the connection attaches to (for `renewCookie`).
 * @param options Serializers, batched variants, allowed origins, cookie.
 * @returns The subprotocol and cookie, or the refusal to answer with.
 *
 * @example
 * ```ts
 * import { negotiateWebSocket } from "./negotiate.ts";
 * import { deepEqual, equal } from "node:assert/strict";
 *
 * const headers = new Headers({ "sec-websocket-protocol": "wamp.2.cbor.batched, wamp.2.json" });
 * const chosen = negotiateWebSocket({ headers, secure: false }, {}, {});
 * equal("subprotocol" in chosen && chosen.subprotocol, "wamp.2.cbor.batched");
 * deepEqual(negotiateWebSocket({ headers, secure: false }, {}, { serializers: ["msgpack"] }), {
 *   status: 400,
 *   text: "No supported WAMP subprotocol offered: use one of wamp.2.msgpack, wamp.2.msgpack.batched",
 * });
 * ```
 */
export function negotiateWebSocket(
  request: UpgradeRequest,
  acceptor: Pick<PeerAcceptor, "renewCookie">,
  options: NegotiateOptions,
): Negotiated | Refused {
  const headers = request.headers;
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
  if (chosen === undefined) {
    const ours = supportedSubprotocols(offered, batched).join(", ");
    return { status: 400, text: `No supported WAMP subprotocol offered: use one of ${ours}` };
  }
  if (options.cookie === undefined) return chosen;
  const cookie = trackingCookie(
    headers.get("cookie"),
    options.cookie,
    acceptor.renewCookie?.bind(acceptor),
    request.secure,
  );
  return { ...chosen, cookie };
}

/**
 * Picks the subprotocol: the first one the client offered that we support.
 *
 * @param header The `Sec-WebSocket-Protocol` request header.
 * @param offered Our serializers.
 * @param batched Whether the batched variants are offered too.
 * @returns The subprotocol, or `undefined` when nothing matches.
 *
 * @example
 * ```ts
 * import { pickSubprotocol } from "./negotiate.ts";
 * import { json, msgpack } from "../../wamp/mod.ts";
 * import { equal } from "node:assert/strict";
 *
 * const picked = pickSubprotocol("wamp.2.cbor, wamp.2.msgpack.batched", [json, msgpack], true);
 * equal(picked?.subprotocol, "wamp.2.msgpack.batched");
 * equal(pickSubprotocol("wamp.2.msgpack.batched", [msgpack], false), undefined);
 * ```
 */
export function pickSubprotocol(
  header: string | null,
  offered: readonly Serializer[],
  batched: boolean,
): Subprotocol | undefined {
  if (header === null) return undefined;
  for (const name of headerTokens(header)) {
    const isBatched = batched && name.endsWith(BATCHED_SUFFIX);
    const base = isBatched ? name.slice(0, -BATCHED_SUFFIX.length) : name;
    const serializer = offered.find((s) => s.subprotocol === base);
    if (serializer !== undefined) return { subprotocol: name, serializer, batched: isBatched };
  }
  return undefined;
}

/**
 * Picks the serializer of a plain (not batched) subprotocol: the first one
 * the client offered that we support.
 *
 * @param header The `Sec-WebSocket-Protocol` request header.
 * @param offered Our serializers.
 * @returns The serializer, or `undefined` when nothing matches.
 *
 * @example
 * ```ts
 * import { negotiateSubprotocol } from "./negotiate.ts";
 * import { cbor, json } from "../../wamp/mod.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(negotiateSubprotocol("wamp.2.msgpack, wamp.2.cbor", [json, cbor]), cbor);
 * equal(negotiateSubprotocol(null, [json]), undefined);
 * ```
 */
export function negotiateSubprotocol(
  header: string | null,
  offered: readonly Serializer[],
): Serializer | undefined {
  return pickSubprotocol(header, offered, false)?.serializer;
}

/**
 * Every subprotocol offered, plain and (when `batched`) batched.
 *
 * @param offered Our serializers.
 * @param batched Whether the batched variants are offered too.
 * @returns The names, e.g. `["wamp.2.json", "wamp.2.json.batched"]`.
 */
export function supportedSubprotocols(
  offered: readonly Serializer[],
  batched: boolean,
): string[] {
  return offered.flatMap((s) =>
    batched ? [s.subprotocol, s.subprotocol + BATCHED_SUFFIX] : [s.subprotocol]
  );
}
