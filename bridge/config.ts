/**
 * The HTTP bridge's configuration: the config file's `bridges` (inbound
 * paths: publisher, caller, webhook, SSE subscriber) and `httpServices`
 * (outgoing REST endpoints served as procedures), with defaults and
 * one-line errors naming the key path.
 *
 * @module
 */

import { ConfigObject, type ConfigObjectOptions } from "../config/mod.ts";
import { isValidUri } from "../wamp/mod.ts";

/** What a bridge path does. */
export type BridgeType = "publisher" | "caller" | "webhook" | "subscriber";

/** How requests to a bridge path prove who sent them. */
export type BridgeAuth =
  | { readonly token: string }
  | {
    /** The key clients name in the `key` query parameter. */
    readonly key: string;
    /** The HMAC-SHA256 secret. */
    readonly secret: string;
    /** Seconds a request's `timestamp` may differ from the router's clock. */
    readonly timestampDelta: number;
  }
  | { readonly none: true };

/** CORS settings of a bridge path, for browser callers. */
export interface BridgeCors {
  /** Allowed origins (`*` for any). */
  readonly origins: readonly string[];
  /** Seconds browsers may cache a preflight answer. */
  readonly maxAge: number;
}

/** One inbound bridge path, as the config file's `bridges` gives it. */
export interface BridgeConfig {
  /** The HTTP path, e.g. `/api/publish`. */
  path: string;
  /** What it does. @default {"publisher"} */
  type?: BridgeType;
  /** The realm it acts in. */
  realm: string;
  /** The authrole its session has (the realm's permissions for it apply). */
  role: string;
  /** A bearer token, a key and secret for signed requests, or `"none"` for an open path. */
  auth: { token: string } | { key: string; secret: string; timestampDelta?: number } | "none";
  /** The largest request body in bytes (413 above it). @default {65536} */
  maxBodySize?: number;
  /** Milliseconds a call may take (caller). @default {10000} */
  timeout?: number;
  /** Requests answered at once; 429 past it. @default {100} */
  maxInFlight?: number;
  /**
   * Requests from one source address whose bodies have not all arrived
   * (signed: not verified yet); 429 past it, 0 for no limit. @default {8}
   */
  maxPendingPerSource?: number;
  /** CORS, when browsers call it. */
  cors?: { origins: string[]; maxAge?: number };
  /** The topic webhooks publish to (webhook only). */
  topic?: string;
  /** Request headers a webhook event carries (webhook only). */
  headers?: string[];
  /** Milliseconds between SSE heartbeat comments (subscriber). @default {15000} */
  heartbeat?: number;
  /** Bytes an SSE stream may have waiting for a slow reader. @default {262144} */
  maxBacklog?: number;
  /**
   * SSE streams open at once from one source address, an IPv4 address or
   * an IPv6 /64 (subscriber); 429 past it, 0 for no limit. @default {16}
   */
  maxStreamsPerSource?: number;
}

/** One REST endpoint served as a procedure, as the config file's `httpServices` gives it. */
export interface HttpServiceConfig {
  /** The realm that serves the procedure. @default {the first realm} */
  realm?: string;
  /** The procedure URI. */
  procedure: string;
  /** The HTTP method. @default {"GET"} */
  method?: string;
  /** The URL template: `{name}` from kwargs, `{0}` from args, URL-encoded. */
  url: string;
  /** Request headers sent as given. */
  headers?: Record<string, string>;
  /** Milliseconds the endpoint has to answer. @default {10000} */
  timeout?: number;
  /** The largest response body read, in bytes. @default {1048576} */
  maxResponseSize?: number;
  /** Requests in flight at once. @default {100} */
  maxInFlight?: number;
}

/** One inbound bridge path, resolved. */
export interface BridgeOptions {
  /** The HTTP path, e.g. `/api/publish`. */
  readonly path: string;
  /** What it does. */
  readonly type: BridgeType;
  /** The realm it acts in. */
  readonly realm: string;
  /** The authrole its session has (the realm's permissions for it apply). */
  readonly role: string;
  /** Bearer token, signed requests, or none (`"auth": "none"`). */
  readonly auth: BridgeAuth;
  /** The largest request body (413 above it). */
  readonly maxBodySize: number;
  /** Milliseconds a call may take (caller), unless the request's `options.timeout` asks for less. */
  readonly timeout: number;
  /** Requests answered at once (a call or publication in flight, an open stream); 429 past it. */
  readonly maxInFlight: number;
  /** Requests from one source address still arriving (signed: not verified); 0 for no limit. */
  readonly maxPendingPerSource: number;
  /** CORS, when browsers call it. */
  readonly cors?: BridgeCors;
  /** The topic webhooks publish to (webhook). */
  readonly topic?: string;
  /** Request headers a webhook event carries (lower case). */
  readonly headers: readonly string[];
  /** Milliseconds between SSE heartbeat comments (subscriber). */
  readonly heartbeat: number;
  /** Bytes an SSE stream may have waiting for a slow reader before it is dropped. */
  readonly maxBacklog: number;
  /** SSE streams open at once from one source address (subscriber); 0 for no limit. */
  readonly maxStreamsPerSource: number;
}

/** One outgoing REST service, served as a procedure. */
export interface HttpServiceOptions {
  /** The realm that serves the procedure (default: the first realm). */
  readonly realm?: string;
  /** The procedure URI. */
  readonly procedure: string;
  /** The HTTP method. */
  readonly method: string;
  /** The URL template: `{name}` from kwargs, `{0}` from args, URL-encoded. */
  readonly url: string;
  /** Request headers sent as given. */
  readonly headers: Readonly<Record<string, string>>;
  /** Milliseconds the endpoint has to answer (ERROR `wamp.error.timeout` after). */
  readonly timeout: number;
  /** The largest response body read (ERROR past it). */
  readonly maxResponseSize: number;
  /** Requests in flight at once; CALLs past it get `cloverleaf.error.limit_exceeded`. */
  readonly maxInFlight: number;
}

const TYPES: readonly BridgeType[] = ["publisher", "caller", "webhook", "subscriber"];
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;
const HEADER = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;

/**
 * Validates one `bridges` entry and fills in its defaults.
 *
 * @param input The entry (parsed JSON or code).
 * @param path Where it came from (`bridges[0]`).
 * @param options A `ConfigErrors` context to collect errors in.
 * @returns The resolved bridge path.
 * @throws {ConfigError} Naming the first invalid or unknown key.
 *
 * @example
 * ```ts
 * import { resolveBridgeOptions } from "./config.ts";
 * import { equal, throws } from "node:assert/strict";
 *
 * const bridge = resolveBridgeOptions(
 *   { path: "/pub", type: "publisher", realm: "realm1", role: "app", auth: { token: "t" } },
 *   "bridges[0]",
 * );
 * equal(bridge.maxBodySize, 65536);
 * throws(
 *   () => resolveBridgeOptions({ path: "/hook", type: "webhook", realm: "r", role: "a" }, "bridges[1]"),
 *   /bridges\[1\]\.auth/,
 * );
 * ```
 */
export function resolveBridgeOptions(
  input: unknown,
  path: string,
  options: ConfigObjectOptions = {},
): BridgeOptions {
  const c = new ConfigObject(input, path, options);
  const at = c.string("path");
  if (!/^\/[\x21-\x7e]*$/.test(at) || at.includes("?") || at.includes("#")) {
    throw c.error("path", `expected a path starting with "/", got ${JSON.stringify(at)}`);
  }
  c.string("type");
  const type = c.oneOf("type", TYPES, "publisher");
  const realm = c.string("realm");
  if (!isValidUri(realm)) throw c.error("realm", `${JSON.stringify(realm)} is not a valid URI`);
  const role = c.string("role");
  const auth = resolveAuth(c);
  const cors = resolveCors(c.object("cors"));
  let topic: string | undefined;
  if (type === "webhook") {
    topic = c.string("topic");
    if (!isValidUri(topic)) throw c.error("topic", `${JSON.stringify(topic)} is not a valid URI`);
  } else if (c.has("topic")) throw c.error("topic", 'only for "webhook" bridges');
  const headers = c.array("headers").map((h, i) => {
    if (typeof h !== "string" || !HEADER.test(h.toLowerCase())) {
      throw c.error(`headers[${i}]`, `expected a header name, got ${JSON.stringify(h)}`);
    }
    return h.toLowerCase();
  });
  if (headers.length > 0 && type !== "webhook") {
    throw c.error("headers", 'only for "webhook" bridges');
  }
  const resolved: BridgeOptions = {
    path: at,
    type,
    realm,
    role,
    auth,
    maxBodySize: c.integer("maxBodySize", 64 * 1024, 0, 64 * 1024 * 1024),
    timeout: c.integer("timeout", 10_000, 1, 3_600_000),
    maxInFlight: c.integer("maxInFlight", 100, 1, 100_000),
    maxPendingPerSource: c.integer("maxPendingPerSource", 8, 0, 100_000),
    ...(cors === undefined ? {} : { cors }),
    ...(topic === undefined ? {} : { topic }),
    headers,
    heartbeat: c.integer("heartbeat", 15_000, 100, 3_600_000),
    maxBacklog: c.integer("maxBacklog", 256 * 1024, 1024, 64 * 1024 * 1024),
    maxStreamsPerSource: c.integer("maxStreamsPerSource", 16, 0, 100_000),
  };
  c.done();
  return resolved;
}

function resolveAuth(c: ConfigObject): BridgeAuth {
  if (c.value("auth") === "none") return { none: true };
  const a = c.object("auth");
  if (a === undefined) {
    throw c.error(
      "auth",
      'expected { "token" } or { "key", "secret" }, or "none" for an open path',
    );
  }
  let auth: BridgeAuth;
  if (a.has("token")) {
    auth = { token: a.string("token") };
    if (a.has("key") || a.has("secret")) throw a.error("token", 'either "token" or "key"/"secret"');
  } else {
    auth = {
      key: a.string("key"),
      secret: a.string("secret"),
      timestampDelta: a.integer("timestampDelta", 300, 1, 86_400),
    };
  }
  a.done();
  return auth;
}

function resolveCors(x: ConfigObject | undefined): BridgeCors | undefined {
  if (x === undefined) return undefined;
  const origins = x.array("origins").map((o, i) => {
    if (typeof o !== "string" || (o !== "*" && !/^https?:\/\/[^\s/]+$/.test(o))) {
      throw x.error(`origins[${i}]`, `expected "*" or an origin like "https://app.example.com"`);
    }
    return o;
  });
  if (origins.length === 0) throw x.error("origins", "expected at least one origin");
  const cors = { origins, maxAge: x.integer("maxAge", 600, 0, 86_400) };
  x.done();
  return cors;
}

/**
 * Validates one `httpServices` entry: the procedure, and a URL whose
 * scheme, host and port are fixed (placeholders only in the path and
 * query), so a caller can never pick the host.
 *
 * @param input The entry.
 * @param path Where it came from (`httpServices[0]`).
 * @param options A `ConfigErrors` context to collect errors in.
 * @returns The resolved service.
 * @throws {ConfigError} Naming the first invalid or unknown key.
 *
 * @example
 * ```ts
 * import { resolveHttpService } from "./config.ts";
 * import { equal, throws } from "node:assert/strict";
 *
 * const service = resolveHttpService(
 *   { procedure: "com.example.user", url: "http://127.0.0.1:9000/users/{id}" },
 *   "httpServices[0]",
 * );
 * equal(service.method, "GET");
 * throws(
 *   () => resolveHttpService({ procedure: "p", url: "http://{host}/x" }, "httpServices[1]"),
 *   /httpServices\[1\]\.url/,
 * );
 * ```
 */
export function resolveHttpService(
  input: unknown,
  path: string,
  options: ConfigObjectOptions = {},
): HttpServiceOptions {
  const c = new ConfigObject(input, path, options);
  const realm = c.has("realm") ? c.string("realm") : undefined;
  const procedure = c.string("procedure");
  if (!isValidUri(procedure) || procedure.startsWith("wamp.")) {
    throw c.error("procedure", `${JSON.stringify(procedure)} is not a valid procedure URI`);
  }
  const method = c.oneOf("method", METHODS, "GET");
  const url = c.string("url");
  const origin = /^(https?:\/\/[^/?#]+)(?:[/?#]|$)/.exec(url)?.[1];
  if (origin === undefined || origin.includes("{") || !URL.canParse(url.replace(/[{}]/g, ""))) {
    throw c.error(
      "url",
      `expected an http(s) URL with a fixed host ({name} only in its path or query), got ${
        JSON.stringify(url)
      }`,
    );
  }
  const h = c.object("headers");
  const headers: Record<string, string> = {};
  for (const name of h?.keys() ?? []) {
    if (!HEADER.test(name.toLowerCase())) throw h!.error(name, "not a header name");
    headers[name] = h!.string(name);
  }
  h?.done();
  const resolved: HttpServiceOptions = {
    ...(realm === undefined ? {} : { realm }),
    procedure,
    method,
    url,
    headers,
    timeout: c.integer("timeout", 10_000, 1, 3_600_000),
    maxResponseSize: c.integer("maxResponseSize", 1024 * 1024, 0, 64 * 1024 * 1024),
    maxInFlight: c.integer("maxInFlight", 100, 1, 100_000),
  };
  c.done();
  return resolved;
}
