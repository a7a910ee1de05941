/**
 * Listener options: the `listeners` entries of the CLI's JSON config file
 * and the `--ws`/`--rawsocket`/`--unix` flags, with defaults and validation
 * in one place. The resolved options map one to one onto
 * {@linkcode ListenOptions}.
 *
 * @module
 */

import { ConfigObject, type ConfigObjectOptions } from "../config/mod.ts";
import { DEFAULT_OUTBOUND, type SerializerName, type SlowConsumerPolicy } from "../wamp/mod.ts";
import { isValidHost } from "./address.ts";
import type { ListenerTlsOptions, ListenOptions } from "./listener.ts";
import type {
  ClientCertificates,
  ListenerType,
  ResolvedListenerOptions,
  ResolvedListenerTls,
} from "./listener_options.ts";

export { type Address, parseAddress } from "./address.ts";
export type {
  ClientCertificates,
  ListenerOptions,
  ListenerTlsFiles,
  ListenerType,
  ResolvedListenerOptions,
  ResolvedListenerTls,
  ResolvedOutboundOptions,
} from "./listener_options.ts";

const TYPES: readonly ListenerType[] = ["universal", "websocket", "rawsocket", "longpoll"];
const SERIALIZERS: readonly SerializerName[] = ["json", "msgpack", "cbor"];
const SLOW_CONSUMER: readonly SlowConsumerPolicy[] = ["drop", "close"];
const CLIENT_CERTS: readonly ClientCertificates[] = ["none", "request", "require"];
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
 * Validates one listener object ({@linkcode ListenerOptions}, from code or
 * parsed JSON) and fills in its defaults. Every error is a one-line
 * `ConfigError` naming the full key path. TLS files are read here, so a
 * missing file is a config error.
 *
 * @param input The listener object.
 * @param path Where it came from, for error messages (`listeners[0]`).
 * @param options A `ConfigErrors` context to collect errors in, instead of
 * throwing at the first (errors that end the listener still throw).
 * @returns The resolved options.
 * @throws {ConfigError} Naming the first invalid or unknown key.
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
  options: ConfigObjectOptions = {},
): ResolvedListenerOptions {
  const c = new ConfigObject(input, path, options);
  c.string("type"); // required
  const type = c.oneOf("type", TYPES, "universal");
  for (const [key, types] of Object.entries(ONLY_FOR)) {
    if (c.has(key) && !types.includes(type)) {
      c.reject(key, `only for ${types.map((t) => `"${t}"`).join(", ")} listeners`);
    }
  }
  const unix = c.has("unix") ? c.string("unix") : undefined;
  if (unix !== undefined && (c.has("host") || c.has("port"))) {
    c.reject("unix", 'a listener has either "unix" or "host"/"port"');
  }
  const host = c.string("host", "127.0.0.1");
  if (!isValidHost(host)) {
    c.reject("host", `expected an IPv4 or IPv6 address or a hostname, got ${JSON.stringify(host)}`);
  }
  const port = c.integer("port", 8080, 0, 65535);
  const tlsConfig = c.object("tls");
  const tls = tlsConfig === undefined ? undefined : c.part("tls", () => resolveTls(tlsConfig));
  if (tlsConfig !== undefined && unix !== undefined) {
    c.reject("tls", "not for a Unix socket listener");
  }
  const serializers = (c.part("serializers", () =>
    stringList(
      c,
      "serializers",
      SERIALIZERS,
      isSerializer,
      `one of ${SERIALIZERS.map((s) => `"${s}"`).join(", ")}`,
    )) ?? [...SERIALIZERS]).filter(isSerializer);
  const paths = c.part(
    "paths",
    () => stringList(c, "paths", ["/ws", "/"], (p) => p.startsWith("/"), "a path"),
  ) ?? ["/ws", "/"];
  const allowedOrigins = c.has("allowedOrigins")
    ? c.part(
      "allowedOrigins",
      () => stringList(c, "allowedOrigins", [], (o) => o.length > 0, "an origin glob"),
    ) ?? []
    : [];
  const out = c.object("outbound");
  const { maxBacklog, maxBacklogMessages, slowConsumer } = DEFAULT_OUTBOUND;
  const outbound = {
    maxBacklog: out?.integer("maxBacklog", maxBacklog, 0) ?? maxBacklog,
    maxBacklogMessages: out?.integer("maxBacklogMessages", maxBacklogMessages, 1) ??
      maxBacklogMessages,
    slowConsumer: out?.oneOf("slowConsumer", SLOW_CONSUMER, slowConsumer) ?? slowConsumer,
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
  const longpoll = c.part("longpoll", () => longpollOptions(lp)) ?? longpollOptions(undefined);
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
    acceptCheckInterval: c.integer("acceptCheckInterval", 5000, 0, 2 ** 31 - 1),
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

function longpollOptions(lp: ConfigObject | undefined): ResolvedListenerOptions["longpoll"] {
  if (lp === undefined) {
    return { path: "/lp", pollTimeout: 10_000, sessionTimeout: 60_000, maxTransportsPerSource: 16 };
  }
  const longpoll = {
    path: lp.string("path", "/lp"),
    pollTimeout: lp.integer("pollTimeout", 10_000, 1),
    sessionTimeout: lp.integer("sessionTimeout", 60_000, 1),
    maxTransportsPerSource: lp.integer("maxTransportsPerSource", 16, 0),
  };
  if (!longpoll.path.startsWith("/")) throw lp.error("path", 'expected a path starting with "/"');
  lp.done();
  return longpoll;
}

function resolveTls(t: ConfigObject): ResolvedListenerTls {
  const read = (key: string): string => {
    const file = t.string(key);
    try {
      return Deno.readTextFileSync(file);
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      throw t.error(key, `cannot read ${JSON.stringify(file)}: ${why}`);
    }
  };
  const cert = read("cert");
  const key = read("key");
  const ca = t.has("ca") ? [read("ca")] : undefined;
  const clientCertificates = t.oneOf("clientCertificates", CLIENT_CERTS, "none");
  if (clientCertificates !== "none" && ca === undefined) {
    throw t.error("clientCertificates", 'needs "ca", the CA client certificates chain to');
  }
  t.done();
  return { cert, key, ...(ca === undefined ? {} : { ca }), clientCertificates };
}

function listenerTls({ ca, ...tls }: ResolvedListenerTls): ListenerTlsOptions {
  return { ...tls, ...(ca === undefined ? {} : { ca: [...ca] }) };
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
    ...(listener.tls === undefined ? {} : { tls: listenerTls(listener.tls) }),
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
    acceptCheckInterval: listener.acceptCheckInterval,
    handshakeTimeout: listener.handshakeTimeout,
    http: { ...listener.http },
    attach: { ...listener.outbound, helloTimeout: listener.helloTimeout },
  };
}

function isSerializer(name: string): name is SerializerName {
  return (SERIALIZERS as readonly string[]).includes(name);
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
  if (list.length === 0) throw c.error(key, "expected a non-empty array, got []");
  const out: string[] = [];
  list.forEach((item, i) => {
    if (typeof item !== "string" || !valid(item)) {
      const got = JSON.stringify(item) ?? String(item);
      throw c.error(`${key}[${i}]`, `expected ${expected}, got ${got}`);
    }
    if (list.indexOf(item) !== i) throw c.error(`${key}[${i}]`, `${JSON.stringify(item)} repeats`);
    out.push(item);
  });
  return out;
}
