/**
 * Listener options: the `listeners` entries of the CLI's JSON config file
 * and the `--ws`/`--rawsocket`/`--unix` flags, with defaults and validation
 * in one place. The resolved options map one to one onto
 * {@linkcode ListenOptions}.
 *
 * @module
 */

import {
  ConfigObject,
  type OutboundOptions,
  type SerializerName,
  type SlowConsumerPolicy,
} from "../wamp/mod.ts";
import type { ListenerTlsOptions, ListenOptions } from "./listener.ts";
import type { CookieOptions } from "./stream/cookie.ts";

/** The protocols a listener serves: one, or all three on one port. */
export type ListenerType = "universal" | "websocket" | "rawsocket" | "longpoll";

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
  readonly tls?: Readonly<ListenerTlsOptions>;
  /** Serializers offered. */
  readonly serializers: readonly SerializerName[];
  /** Whether the batched WebSocket and long-poll subprotocols are offered. */
  readonly batched: boolean;
  /** The largest incoming message, in bytes. */
  readonly maxMessageSize: number;
  /** Open connections allowed at once (0: no limit). */
  readonly maxConnections: number;
  /** Milliseconds to send the first byte; then each HTTP request head has as long again. */
  readonly handshakeTimeout: number;
  /** Milliseconds for an HTTP request body, and for an idle kept-alive HTTP connection. */
  readonly http: Readonly<{ bodyTimeout: number; idleTimeout: number }>;
  /** Milliseconds from connecting to a joined session. */
  readonly helloTimeout: number;
  /** Milliseconds of silence before a WebSocket or RawSocket ping (0: none). */
  readonly pingInterval: number;
  /** Milliseconds to wait for the answer to a ping. */
  readonly pingTimeout: number;
  /** Outbound limits for each connection. */
  readonly outbound: Readonly<Required<OutboundOptions>>;
  /** WebSocket URL paths. */
  readonly paths: readonly string[];
  /** permessage-deflate: off unless `enabled`. */
  readonly compression: Readonly<{ enabled: boolean; threshold: number; level: number }>;
  /** Origins allowed to open WebSockets and use long-poll (globs; empty: any). */
  readonly allowedOrigins: readonly string[];
  /** The tracking cookie, if any. */
  readonly cookie?: Readonly<Required<CookieOptions>>;
  /** Long-poll settings. */
  readonly longpoll: Readonly<{ path: string; pollTimeout: number; sessionTimeout: number }>;
}

/** A host and port, as parsed by {@linkcode parseAddress}. */
export interface Address {
  /** An IPv4 or IPv6 literal (without brackets) or a hostname. */
  readonly host: string;
  /** The TCP port, 0 to 65535. */
  readonly port: number;
}

const TYPES: readonly ListenerType[] = ["universal", "websocket", "rawsocket", "longpoll"];
const SERIALIZERS: readonly SerializerName[] = ["json", "msgpack", "cbor"];
const SLOW_CONSUMER: readonly SlowConsumerPolicy[] = ["drop", "close"];
const CLIENT_CERTS = ["none", "request", "require"] as const;
const MAX_MESSAGE = 64 * 1024 * 1024;
/** Keys that only some listener types understand. */
const ONLY_FOR: Record<string, readonly ListenerType[]> = {
  paths: ["universal", "websocket"],
  compression: ["universal", "websocket"],
  allowedOrigins: ["universal", "websocket", "longpoll"],
  http: ["universal", "websocket", "longpoll"],
  cookie: ["universal", "websocket"],
  batched: ["universal", "websocket", "longpoll"],
  pingInterval: ["universal", "websocket", "rawsocket"],
  pingTimeout: ["universal", "websocket", "rawsocket"],
  longpoll: ["universal", "longpoll"],
};

/**
 * Validates one listener object from the JSON config and fills in its
 * defaults. Every error is a one-line `TypeError` naming the full key
 * path. TLS files are read here, so a missing file is a config error.
 *
 * @param input The listener object (parsed JSON).
 * @param path Where it came from, for error messages (`listeners[0]`).
 * @returns The resolved options.
 * @throws {TypeError} Naming the first invalid or unknown key.
 *
 * @example
 * ```ts
 * import { resolveListenerOptions } from "./config.ts";
 * import { deepEqual, equal, throws } from "node:assert/strict";
 *
 * const listener = resolveListenerOptions({ type: "universal", port: 0 }, "listeners[0]");
 * equal(listener.host, "127.0.0.1");
 * deepEqual(listener.paths, ["/ws", "/"]);
 * equal(listener.outbound.slowConsumer, "drop");
 *
 * throws(
 *   () => resolveListenerOptions({ type: "websocket", port: 70000 }, "listeners[1]"),
 *   /listeners\[1\]\.port/,
 * );
 * throws(
 *   () => resolveListenerOptions({ type: "rawsocket", paths: ["/ws"] }, "listeners[2]"),
 *   /listeners\[2\]\.paths": only for "universal", "websocket" listeners/,
 * );
 * ```
 */
export function resolveListenerOptions(
  input: unknown,
  path: string,
): ResolvedListenerOptions {
  const c = new ConfigObject(input, path);
  c.string("type"); // required
  const type = c.oneOf("type", TYPES, "universal");
  for (const [key, types] of Object.entries(ONLY_FOR)) {
    if (c.has(key) && !types.includes(type)) {
      throw new TypeError(
        `Invalid config "${c.path(key)}": only for ${
          types.map((t) => `"${t}"`).join(", ")
        } listeners`,
      );
    }
  }
  const unix = c.has("unix") ? c.string("unix") : undefined;
  if (unix !== undefined && (c.has("host") || c.has("port"))) {
    throw new TypeError(
      `Invalid config "${c.path("unix")}": a listener has either "unix" or "host"/"port"`,
    );
  }
  const host = c.string("host", "127.0.0.1");
  if (!isValidHost(host)) {
    throw new TypeError(
      `Invalid config "${c.path("host")}": expected an IPv4 or IPv6 address or a hostname, got ${
        JSON.stringify(host)
      }`,
    );
  }
  const port = c.integer("port", 8080, 0, 65535);
  const tls = resolveTls(c.object("tls"));
  if (tls !== undefined && unix !== undefined) {
    throw new TypeError(`Invalid config "${c.path("tls")}": not for a Unix socket listener`);
  }
  const serializers = stringList(
    c,
    "serializers",
    SERIALIZERS,
    (s) => SERIALIZERS.includes(s as SerializerName),
    `one of ${SERIALIZERS.map((s) => `"${s}"`).join(", ")}`,
  ) as SerializerName[];
  const paths = stringList(c, "paths", ["/ws", "/"], (p) => p.startsWith("/"), "a path");
  const allowedOrigins = c.has("allowedOrigins")
    ? stringList(c, "allowedOrigins", [], (o) => o.length > 0, "an origin glob")
    : [];
  const out = c.object("outbound");
  const outbound = {
    maxBacklog: out?.integer("maxBacklog", 1024 * 1024, 0) ?? 1024 * 1024,
    maxBacklogMessages: out?.integer("maxBacklogMessages", 16384, 1) ?? 16384,
    slowConsumer: out?.oneOf("slowConsumer", SLOW_CONSUMER, "drop") ?? "drop",
  };
  out?.done();
  const z = c.object("compression");
  const compression = {
    enabled: z?.boolean("enabled", true) ?? false,
    threshold: z?.integer("threshold", 256, 0) ?? 256,
    level: z?.integer("level", 6, 0, 9) ?? 6,
  };
  z?.done();
  const cookieConfig = c.object("cookie");
  const cookie = cookieConfig === undefined ? undefined : {
    name: cookieConfig.string("name", "cbtid"),
    maxAge: cookieConfig.integer("maxAge", 86_400, 1),
  };
  cookieConfig?.done();
  const lp = c.object("longpoll");
  const longpoll = {
    path: lp?.string("path", "/lp") ?? "/lp",
    pollTimeout: lp?.integer("pollTimeout", 10_000, 1) ?? 10_000,
    sessionTimeout: lp?.integer("sessionTimeout", 60_000, 1) ?? 60_000,
  };
  if (!longpoll.path.startsWith("/")) {
    throw new TypeError(`Invalid config "${lp!.path("path")}": expected a path starting with "/"`);
  }
  lp?.done();
  const h = c.object("http");
  const http = {
    bodyTimeout: h?.integer("bodyTimeout", 60_000, 1) ?? 60_000,
    idleTimeout: h?.integer("idleTimeout", 60_000, 1) ?? 60_000,
  };
  h?.done();
  const resolved: ResolvedListenerOptions = {
    type,
    host,
    port,
    ...(unix === undefined ? {} : { unix }),
    ...(tls === undefined ? {} : { tls }),
    serializers,
    batched: c.boolean("batched", true),
    maxMessageSize: c.integer("maxMessageSize", 16 * 1024 * 1024, 512, MAX_MESSAGE),
    maxConnections: c.integer("maxConnections", 0, 0),
    handshakeTimeout: c.integer("handshakeTimeout", 10_000, 1),
    http,
    helloTimeout: c.integer("helloTimeout", 10_000, 0),
    pingInterval: c.integer("pingInterval", 30_000, 0),
    pingTimeout: c.integer("pingTimeout", 10_000, 1),
    outbound,
    paths,
    compression,
    allowedOrigins,
    ...(cookie === undefined ? {} : { cookie }),
    longpoll,
  };
  c.done();
  return resolved;
}

function resolveTls(t: ConfigObject | undefined): ListenerTlsOptions | undefined {
  if (t === undefined) return undefined;
  const read = (key: string): string => {
    const file = t.string(key);
    try {
      return Deno.readTextFileSync(file);
    } catch (error) {
      throw new TypeError(
        `Invalid config "${t.path(key)}": cannot read ${JSON.stringify(file)}: ${
          (error as Error).message
        }`,
      );
    }
  };
  const cert = read("cert");
  const key = read("key");
  const ca = t.has("ca") ? [read("ca")] : undefined;
  const clientCertificates = t.oneOf("clientCertificates", CLIENT_CERTS, "none");
  if (clientCertificates !== "none" && ca === undefined) {
    throw new TypeError(
      `Invalid config "${
        t.path("clientCertificates")
      }": needs "ca", the CA client certificates chain to`,
    );
  }
  t.done();
  return { cert, key, ...(ca === undefined ? {} : { ca }), clientCertificates };
}

/**
 * Maps resolved listener options onto the options of `listen()`.
 *
 * @param listener Resolved listener options.
 * @returns The same settings under `listen()`'s names.
 *
 * @example
 * ```ts
 * import { resolveListenerOptions, toListenOptions } from "./config.ts";
 * import { equal } from "node:assert/strict";
 *
 * const listener = resolveListenerOptions({ type: "rawsocket", host: "::1" }, "listener");
 * const options = toListenOptions(listener);
 * equal(options.hostname, "::1");
 * equal(options.websocket, false);
 * ```
 */
export function toListenOptions(listener: ResolvedListenerOptions): ListenOptions {
  const serves = (t: ListenerType) => listener.type === "universal" || listener.type === t;
  const common = {
    serializers: [...listener.serializers],
    maxMessageSize: listener.maxMessageSize,
  };
  const ping = { pingInterval: listener.pingInterval, pingTimeout: listener.pingTimeout };
  return {
    ...(listener.unix === undefined
      ? { hostname: listener.host, port: listener.port }
      : { path: listener.unix }),
    ...(listener.tls === undefined ? {} : { tls: { ...listener.tls } }),
    websocket: serves("websocket")
      ? {
        ...common,
        ...ping,
        paths: [...listener.paths],
        batched: listener.batched,
        compression: { ...listener.compression },
        allowedOrigins: [...listener.allowedOrigins],
        ...(listener.cookie === undefined ? {} : { cookie: { ...listener.cookie } }),
      }
      : false,
    rawsocket: serves("rawsocket") ? { ...common, ...ping } : false,
    longpoll: serves("longpoll")
      ? {
        ...common,
        ...listener.longpoll,
        batched: listener.batched,
        allowedOrigins: [...listener.allowedOrigins],
      }
      : false,
    maxConnections: listener.maxConnections,
    handshakeTimeout: listener.handshakeTimeout,
    http: { ...listener.http },
    attach: { ...listener.outbound, helloTimeout: listener.helloTimeout },
  };
}

/**
 * Parses a `host:port` address, as given to the `--ws` flag. IPv6 literals
 * go in brackets (`[::1]:8080`); the brackets are not part of the result.
 *
 * @param text The address.
 * @param what The flag or key it came from, for error messages (`--ws`).
 * @returns The host and port.
 * @throws {TypeError} With a one-line message naming `what`.
 *
 * @example
 * ```ts
 * import { parseAddress } from "./config.ts";
 * import { deepEqual, throws } from "node:assert/strict";
 *
 * deepEqual(parseAddress("0.0.0.0:8888", "--ws"), { host: "0.0.0.0", port: 8888 });
 * deepEqual(parseAddress("[::1]:8080", "--ws"), { host: "::1", port: 8080 });
 * throws(() => parseAddress("localhost", "--ws"), /--ws/);
 * throws(() => parseAddress("::1:8080", "--ws"), /in brackets/);
 * ```
 */
export function parseAddress(text: string, what: string): Address {
  const fail: (why: string) => never = (why) => {
    throw new TypeError(
      `Invalid ${what} address ${JSON.stringify(text)}: ${why}`,
    );
  };
  let host: string;
  let portText: string;
  if (text.startsWith("[")) {
    const bracketed = /^\[([^\]]*)\]:(.*)$/.exec(text);
    if (bracketed === null) fail("expected [ipv6]:port");
    host = bracketed[1]!;
    portText = bracketed[2]!;
    if (!isIPv6(host)) fail("expected an IPv6 address in brackets");
  } else {
    const colon = text.lastIndexOf(":");
    if (colon < 0) fail("expected host:port, or [ipv6]:port");
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    if (host.includes(":")) {
      fail("put an IPv6 address in brackets, as in [::1]:8080");
    }
    if (!isValidHost(host)) {
      fail("expected an IPv4 address or a hostname before the port");
    }
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    fail("expected a port from 0 to 65535 after the colon");
  }
  return { host, port: Number(portText) };
}

/**
 * Whether `host` is an IPv4 literal, an IPv6 literal (without brackets) or
 * a hostname as RFC 1123 allows.
 */
function isValidHost(host: string): boolean {
  if (host.includes(":")) return isIPv6(host);
  if (/^[\d.]+$/.test(host)) return isIPv4(host);
  if (host.length > 253) return false;
  const labels = host.endsWith(".") ? host.slice(0, -1).split(".") : host.split(".");
  // A hostname's last label is never all digits (that would be an IPv4 typo).
  if (/^\d+$/.test(labels.at(-1) ?? "")) return false;
  return labels.every((l) => /^[a-z\d]([a-z\d-]{0,61}[a-z\d])?$/i.test(l));
}

function isIPv4(host: string): boolean {
  const parts = host.split(".");
  return parts.length === 4 &&
    parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255);
}

function isIPv6(host: string): boolean {
  if (!/^[\da-f:.]+$/i.test(host) || !host.includes(":")) return false;
  try {
    new URL(`http://[${host}]/`);
    return true;
  } catch {
    return false;
  }
}

function stringList(
  c: ConfigObject,
  key: string,
  fallback: readonly string[],
  valid: (s: string) => boolean,
  expected: string,
): string[] {
  if (!c.has(key)) {
    c.array(key); // marks the key as read
    return [...fallback];
  }
  const list = c.array(key);
  if (list.length === 0) {
    throw new TypeError(
      `Invalid config "${c.path(key)}": expected a non-empty array, got []`,
    );
  }
  list.forEach((item, i) => {
    if (typeof item !== "string" || !valid(item)) {
      throw new TypeError(
        `Invalid config "${c.path(key)}[${i}]": expected ${expected}, got ${
          JSON.stringify(item) ?? String(item)
        }`,
      );
    }
    if (list.indexOf(item) !== i) {
      throw new TypeError(
        `Invalid config "${c.path(key)}[${i}]": ${JSON.stringify(item)} repeats`,
      );
    }
  });
  return list as string[];
}
