/**
 * Listener options: the `listeners` entries of the CLI's JSON config file
 * and the `--ws <host:port>` flag, with defaults and validation in one
 * place. The resolved options map one to one onto
 * {@linkcode ServeWebSocketOptions}.
 *
 * @module
 */

import {
  ConfigObject,
  type OutboundOptions,
  type SerializerName,
  type SlowConsumerPolicy,
} from "../wamp/mod.ts";
import type { CookieOptions, ServeWebSocketOptions } from "./websocket.ts";

/** Options for one listener, as written in the JSON config file. */
export interface ListenerOptions {
  /** The transport. Only `"websocket"` exists so far. */
  type: "websocket";
  /**
   * The interface to listen on: an IPv4 or IPv6 literal (no brackets) or a
   * hostname.
   * @default {"127.0.0.1"}
   */
  host?: string;
  /**
   * The TCP port; 0 picks a free one.
   * @default {8080}
   */
  port?: number;
  /**
   * URL paths that accept WebSocket upgrades; the first one is the URL
   * shown in logs.
   * @default {["/ws", "/"]}
   */
  paths?: string[];
  /**
   * Serializers offered, in the router's order of preference.
   * @default {["json", "msgpack", "cbor"]}
   */
  serializers?: SerializerName[];
  /**
   * The largest incoming message accepted, in bytes (at most 64 MiB, the
   * runtime's frame limit).
   * @default {16777216}
   */
  maxMessageSize?: number;
  /** Outbound limits for each connection. */
  outbound?: OutboundOptions;
  /** A tracking cookie for cookie authentication (off when absent). */
  cookie?: CookieOptions;
}

/** Listener options with every default filled in. */
export interface ResolvedListenerOptions {
  /** The transport. */
  readonly type: "websocket";
  /** The interface to listen on. */
  readonly host: string;
  /** The TCP port (0: any free port). */
  readonly port: number;
  /** URL paths that accept upgrades. */
  readonly paths: readonly string[];
  /** Serializers offered. */
  readonly serializers: readonly SerializerName[];
  /** The largest incoming message, in bytes. */
  readonly maxMessageSize: number;
  /** Outbound limits for each connection. */
  readonly outbound: Readonly<Required<OutboundOptions>>;
  /** The tracking cookie, if any. */
  readonly cookie?: Readonly<Required<CookieOptions>>;
}

/** A host and port, as parsed by {@linkcode parseAddress}. */
export interface Address {
  /** An IPv4 or IPv6 literal (without brackets) or a hostname. */
  readonly host: string;
  /** The TCP port, 0 to 65535. */
  readonly port: number;
}

const SERIALIZERS: readonly SerializerName[] = ["json", "msgpack", "cbor"];
const SLOW_CONSUMER: readonly SlowConsumerPolicy[] = ["drop", "close"];
const MAX_FRAME = 64 * 1024 * 1024;

/**
 * Validates one listener object from the JSON config and fills in its
 * defaults. Every error is a one-line `TypeError` naming the full key path.
 *
 * @param input The listener object (parsed JSON).
 * @param path Where it came from, for error messages (`listeners[0]`).
 * @returns The resolved options.
 * @throws {TypeError} Naming the first invalid or unknown key.
 *
 * @example
 * ```ts
 * import { resolveListenerOptions } from "@cloverleaf/wamp";
 * import { deepEqual, equal, throws } from "node:assert/strict";
 *
 * const listener = resolveListenerOptions({ type: "websocket", port: 0 }, "listeners[0]");
 * equal(listener.host, "127.0.0.1");
 * deepEqual(listener.paths, ["/ws", "/"]);
 * equal(listener.outbound.slowConsumer, "drop");
 *
 * throws(
 *   () => resolveListenerOptions({ type: "websocket", port: 70000 }, "listeners[1]"),
 *   /listeners\[1\]\.port/,
 * );
 * throws(
 *   () => resolveListenerOptions({ type: "websocket", outbound: { limit: 1 } }, "listeners[2]"),
 *   /listeners\[2\]\.outbound\.limit": unknown key/,
 * );
 * ```
 */
export function resolveListenerOptions(
  input: unknown,
  path: string,
): ResolvedListenerOptions {
  const c = new ConfigObject(input, path);
  const type = c.string("type");
  if (type !== "websocket") {
    throw new TypeError(
      `Invalid config "${c.path("type")}": expected one of "websocket", got ${
        JSON.stringify(type)
      }`,
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
  const paths = stringList(
    c,
    "paths",
    ["/ws", "/"],
    (p) => p.startsWith("/"),
    "a path",
  );
  const serializers = stringList(
    c,
    "serializers",
    SERIALIZERS,
    (s) => SERIALIZERS.includes(s as SerializerName),
    `one of ${SERIALIZERS.map((s) => `"${s}"`).join(", ")}`,
  ) as SerializerName[];
  const maxMessageSize = c.integer(
    "maxMessageSize",
    16 * 1024 * 1024,
    1,
    MAX_FRAME,
  );
  const out = c.object("outbound");
  const outbound = {
    maxBacklog: out?.integer("maxBacklog", 1024 * 1024, 0) ?? 1024 * 1024,
    maxBacklogMessages: out?.integer("maxBacklogMessages", 16384, 1) ?? 16384,
    slowConsumer: out?.oneOf("slowConsumer", SLOW_CONSUMER, "drop") ?? "drop",
  };
  out?.done();
  const cookieConfig = c.object("cookie");
  const cookie = cookieConfig === undefined ? undefined : {
    name: cookieConfig.string("name", "cbtid"),
    maxAge: cookieConfig.integer("maxAge", 86_400, 1),
  };
  cookieConfig?.done();
  c.done();
  return {
    type,
    host,
    port,
    paths,
    serializers,
    maxMessageSize,
    outbound,
    ...(cookie === undefined ? {} : { cookie }),
  };
}

/**
 * Maps resolved listener options onto the options of `serveWebSocket()`.
 *
 * @param listener Resolved listener options.
 * @returns The same settings under `serveWebSocket()`'s names.
 *
 * @example
 * ```ts
 * import {
 *   resolveListenerOptions,
 *   toServeWebSocketOptions,
 * } from "@cloverleaf/wamp";
 * import { equal } from "node:assert/strict";
 *
 * const listener = resolveListenerOptions({ type: "websocket", host: "::1" }, "listener");
 * equal(toServeWebSocketOptions(listener).hostname, "::1");
 * ```
 */
export function toServeWebSocketOptions(
  listener: ResolvedListenerOptions,
): ServeWebSocketOptions {
  return {
    hostname: listener.host,
    port: listener.port,
    paths: [...listener.paths],
    serializers: [...listener.serializers],
    maxMessageSize: listener.maxMessageSize,
    outbound: { ...listener.outbound },
    ...(listener.cookie === undefined ? {} : { cookie: { ...listener.cookie } }),
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
 * import { parseAddress } from "@cloverleaf/wamp";
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
