/**
 * The service's configuration: the config file, JSON or YAML (with `${NAME}`
 * expanded from the environment) and the flags, added up into listeners,
 * realms and logging, with every problem recorded in one `ConfigErrors`.
 *
 * @module
 */

import {
  configError,
  type ConfigErrors,
  ConfigObject,
  expandEnv,
  weakSecret,
} from "../config/mod.ts";
import type { FailedLoginOptions, LogLevel } from "../router/mod.ts";
import { resolveFailedLogins } from "../router/core/auth/authentication_failures.ts";
import type { ClusterOptions } from "../cluster/node.ts";
import { isValidHost } from "../transports/address.ts";
import {
  parseAddress,
  type ResolvedListenerOptions,
  resolveListenerOptions,
} from "../transports/config.ts";
import { type AdminConfig, readConfigFile } from "./config_file.ts";
import { secretFlag } from "./secret_file.ts";
import { checkAddresses, checkBridgePaths, checkShareable, type Keyed } from "./addresses.ts";
import { type Flags, isLogLevel, LOG_LEVELS } from "./flags.ts";
import { LOG_FORMATS, type LogFormat } from "../router/logger.ts";
import {
  type BridgeOptions,
  type HttpServiceOptions,
  resolveBridgeOptions,
  resolveHttpService,
} from "../bridge/config.ts";

/** What the flags and the config file add up to. */
export interface ServiceConfig {
  logLevel: LogLevel;
  /** `--log-format`, config `logFormat`: text or JSON lines. */
  logFormat: LogFormat;
  /** `RouterOptions.trustedRole`. */
  trustedRole: string;
  /** `RouterOptions.failedLogins`, from the config file. */
  failedLogins?: FailedLoginOptions;
  /** `RouterOptions.decoySecret`, from {@linkcode DECOY_SECRET_ENV}. */
  decoySecret?: string;
  listeners: ResolvedListenerOptions[];
  /** The config file's realms, as written: `createRouter` resolves them. */
  realms: unknown[];
  flagRealms: string[];
  /** `RouterOptions.cluster`: the config file's `cluster`, with `--cluster` servers added. */
  cluster?: ClusterOptions;
  /** Processes serving the same ports (`--workers`, config `workers`; 1: this one alone). */
  workers: number;
  /** Set in a worker process (internal `--worker <n>`): its number, from 1. */
  worker?: number;
  /** The config file's `bridges`: HTTP bridge paths, each with its path in the file (`bridges[2]`). */
  bridges: { at: string; bridge: BridgeOptions }[];
  /** `--http-bridge <path>` with `--http-token`: the quick-start paths (realm and role come later). */
  quickBridge?: { path: string; token: string };
  /** The config file's `httpServices`: REST endpoints served as procedures. */
  httpServices: HttpServiceOptions[];
  /** Each of `httpServices`' key in the file (`httpServices[i]`), for errors. */
  httpServiceKeys: string[];
  /** The admin listener (`--admin`, config `admin`): off when absent. */
  admin?: AdminConfig;
}

export type { AdminConfig };

/** Reads the config file's `admin` object. */
function readAdmin(file: ConfigObject): AdminConfig | undefined {
  const admin = file.object("admin");
  if (admin === undefined) return undefined;
  const host = admin.string("host", "127.0.0.1");
  if (!isValidHost(host)) {
    admin.reject(
      "host",
      `expected an IPv4 or IPv6 address or a hostname, got ${JSON.stringify(host)}`,
    );
  }
  const port = admin.integer("port", 9090, 0, 65535);
  const token = admin.has("token") ? admin.secret("token") : undefined;
  admin.done();
  return token === undefined ? { host, port } : { host, port, token };
}

/** The environment variable that carries the cluster's NATS token (to `--workers` workers too). */
export const CLUSTER_TOKEN_ENV = "CLOVERLEAF_CLUSTER_TOKEN";

/**
 * The environment variable that carries `RouterOptions.decoySecret`
 * (`--workers` share the supervisor's, or one it draws).
 */
export const DECOY_SECRET_ENV = "CLOVERLEAF_DECOY_SECRET";

/** An environment variable, when set, not empty and readable. */
function lookupEnvQuietly(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined; // no --allow-env
  }
}

/** The most workers `--workers` accepts. */
export const MAX_WORKERS = 256;

/** Reads a worker count: an integer from 1 to {@linkcode MAX_WORKERS}, or `auto` (one per core). */
function parseWorkers(value: unknown): number | undefined {
  if (value === "auto") return Math.min(Math.max(navigator.hardwareConcurrency, 1), MAX_WORKERS);
  const n = typeof value === "string" && /^[0-9]+$/.test(value) ? Number(value) : value;
  return typeof n === "number" && Number.isInteger(n) && n >= 1 && n <= MAX_WORKERS ? n : undefined;
}

const NATS_URL = /^(nats|tls|ws|wss):\/\/[^\s/]+$/;
const CLUSTER_NAME = /^[A-Za-z0-9_-]+$/;

/** Reads the config file's `cluster` object. */
function readCluster(file: ConfigObject, errors: ConfigErrors): ClusterOptions | undefined {
  const cluster = file.object("cluster");
  if (cluster === undefined) return undefined;
  const servers = cluster.array("servers").map((server, i) => {
    if (typeof server !== "string" || !NATS_URL.test(server)) {
      throw cluster.error(`servers[${i}]`, `expected a URL such as "nats://127.0.0.1:4222"`);
    }
    return server;
  });
  const name = cluster.string("name", "cloverleaf");
  if (!CLUSTER_NAME.test(name)) {
    throw cluster.error("name", `${errors.show(name)} must be letters, digits, _ or -`);
  }
  const heartbeat = cluster.integer("heartbeat", 1000, 10, 60_000);
  const nodeTimeout = cluster.integer("nodeTimeout", 5000, 50, 600_000);
  const token = cluster.has("token") ? cluster.string("token") : undefined;
  cluster.done();
  return { servers, name, heartbeat, nodeTimeout, ...(token === undefined ? {} : { token }) };
}

/** `Deno.env.get`, with a one-line error when env access is denied. */
function lookupEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch (error) {
    throw new TypeError(
      `Cannot read environment variable "${name}": ${
        error instanceof Error ? error.message.split("\n")[0] : error
      }`,
    );
  }
}

/**
 * The environment variable that may carry `--http-bridge`'s token: the
 * supervisor gives it to `--workers` workers this way, not on their argv.
 */
export const HTTP_TOKEN_ENV = "CLOVERLEAF_HTTP_TOKEN";

/**
 * `--http-bridge <path>` and its token: `--http-token`, `--http-token-file`
 * or, when neither is given, {@linkcode HTTP_TOKEN_ENV}. Each error names
 * the flag (or variable) it is about.
 */
async function readQuickBridge(
  args: Flags,
  config: ServiceConfig,
  errors: ConfigErrors,
): Promise<void> {
  const path = args["http-bridge"];
  const file = args["http-token-file"];
  let key = file === undefined ? "--http-token" : "--http-token-file";
  let token: string | undefined;
  try {
    token = await secretFlag("http-token", args["http-token"], file);
  } catch (error) {
    errors.add(key, (error as Error).message);
    return;
  }
  if (path === undefined) {
    if (token !== undefined) errors.add(key, `Invalid ${key}: only with --http-bridge <path>`);
    return;
  }
  if (token === undefined) {
    token = lookupEnvQuietly(HTTP_TOKEN_ENV);
    key = HTTP_TOKEN_ENV;
  }
  const weak = token === undefined ? undefined : weakSecret(token);
  if (token === undefined) {
    errors.add(
      "--http-bridge",
      `Invalid --http-bridge: needs --http-token <token> (or --http-token-file <file>, or ${HTTP_TOKEN_ENV})`,
    );
  } else if (weak !== undefined) {
    errors.add(key, `Invalid ${key}: ${weak}`);
  } else if (!/^\/[\x21-\x7e]*$/.test(path) || /[?#]/.test(path)) {
    errors.add("--http-bridge", `Invalid --http-bridge ${JSON.stringify(path)}: expected a path`);
  } else config.quickBridge = { path: path.replace(/\/+$/, ""), token };
}

/**
 * Adds up the flags and the config file, recording every problem in
 * `errors` (one context per run: it also hides the values `${NAME}`
 * references expanded to). Throws only when the file cannot be read or
 * parsed.
 */
export async function loadConfig(args: Flags, errors: ConfigErrors): Promise<ServiceConfig> {
  const config: ServiceConfig = {
    logLevel: "info",
    logFormat: "text",
    trustedRole: "trusted",
    listeners: [],
    realms: [],
    flagRealms: args.realm ?? [],
    workers: 1,
    bridges: [],
    httpServices: [],
    httpServiceKeys: [],
  };
  const keyed: Keyed<ResolvedListenerOptions>[] = [];
  const addListener = (path: string, input: () => unknown) => {
    const listener = errors.collect(
      (errors) => resolveListenerOptions(input(), path, { errors }),
      path,
    );
    if (listener !== undefined) keyed.push({ at: path, value: listener });
  };
  if (args.config !== undefined) {
    const json = expandEnv(await readConfigFile(args.config), lookupEnv, { errors });
    const file = new ConfigObject(json, "", { errors });
    // For editors (the JSON Schema); nothing for the router.
    if (file.has("$schema")) file.string("$schema");
    config.logLevel = file.oneOf("logLevel", LOG_LEVELS, "info");
    config.logFormat = file.oneOf("logFormat", LOG_FORMATS, "text");
    config.trustedRole = file.string("trustedRole", "trusted");
    const failedLogins = file.value("failedLogins");
    if (failedLogins !== undefined) {
      config.failedLogins = resolveFailedLogins(failedLogins, "failedLogins", { errors });
    }
    file.array("listeners").forEach((listener, i) =>
      addListener(`listeners[${i}]`, () => listener)
    );
    // Resolved by createRouter (resolveRealmOptions), path realms[i].
    config.realms = file.array("realms");
    file.array("bridges").forEach((bridge, i) => {
      const path = `bridges[${i}]`;
      const resolved = errors.collect(
        (errors) => resolveBridgeOptions(bridge, path, { errors }),
        path,
      );
      if (resolved !== undefined) config.bridges.push({ at: path, bridge: resolved });
      // An open path of the trusted role would let anyone call the realms' authenticators.
      if (
        resolved !== undefined && "none" in resolved.auth && resolved.role === config.trustedRole
      ) {
        errors.collect(() => {
          throw configError(
            `${path}.role`,
            `an open path ("auth": "none") may not have the trusted role "${resolved.role}"`,
          );
        }, path);
      }
    });
    file.array("httpServices").forEach((service, i) => {
      const path = `httpServices[${i}]`;
      const resolved = errors.collect(
        (errors) => resolveHttpService(service, path, { errors }),
        path,
      );
      if (resolved === undefined) return;
      config.httpServices.push(resolved);
      config.httpServiceKeys.push(path);
    });
    const admin = errors.collect(() => readAdmin(file), "admin");
    if (admin !== undefined) config.admin = admin;
    const cluster = errors.collect(() => readCluster(file, errors), "cluster");
    if (cluster !== undefined) config.cluster = cluster;
    if (file.has("workers")) {
      const workers = parseWorkers(file.value("workers"));
      if (workers === undefined) {
        errors.add(
          "workers",
          `Invalid config "workers": expected an integer from 1 to ${MAX_WORKERS} or "auto", got ${
            errors.show(file.value("workers"))
          }`,
        );
      } else config.workers = workers;
    }
    file.done();
  }
  const level = args["log-level"];
  if (level !== undefined) {
    if (isLogLevel(level)) config.logLevel = level;
    else {
      const expected = LOG_LEVELS.map((l) => `"${l}"`).join(", ");
      errors.add(
        "--log-level",
        `Invalid --log-level ${JSON.stringify(level)}: expected one of ${expected}`,
      );
    }
  }
  const format = args["log-format"];
  if (format !== undefined) {
    if ((LOG_FORMATS as readonly string[]).includes(format)) config.logFormat = format as LogFormat;
    else {
      errors.add(
        "--log-format",
        `Invalid --log-format ${JSON.stringify(format)}: expected one of "text", "json"`,
      );
    }
  }
  const flagListeners = [
    ["listen", "universal"],
    ["ws", "websocket"],
    ["rawsocket", "rawsocket"],
    ["tcp", "rawsocket"],
  ] as const;
  for (const [flag, type] of flagListeners) {
    for (const address of args[flag] ?? []) {
      addListener(`--${flag}`, () => ({ type, ...parseAddress(address, `--${flag}`) }));
    }
  }
  for (const server of args.cluster ?? []) {
    // Credentials in the URL would be on argv, the workers' too: not repeated here either.
    if (/^[a-z]+:\/\/[^/]*@/.test(server)) {
      errors.add(
        "--cluster",
        `Invalid --cluster: a URL with credentials shows in the process list; give the token in ${CLUSTER_TOKEN_ENV} or the config file's cluster.token`,
      );
      continue;
    }
    if (!NATS_URL.test(server)) {
      errors.add(
        "--cluster",
        `Invalid --cluster ${
          JSON.stringify(server)
        }: expected a URL such as "nats://127.0.0.1:4222"`,
      );
      continue;
    }
    config.cluster ??= { servers: [] };
    config.cluster.servers.push(server);
  }
  const decoySecret = lookupEnvQuietly(DECOY_SECRET_ENV);
  if (decoySecret !== undefined && decoySecret.length < 16) {
    errors.add(DECOY_SECRET_ENV, `Invalid ${DECOY_SECRET_ENV}: give at least 16 characters`);
  } else if (decoySecret !== undefined) config.decoySecret = decoySecret;
  const token = lookupEnvQuietly(CLUSTER_TOKEN_ENV);
  if (config.cluster !== undefined && token !== undefined) config.cluster.token ??= token;
  if (config.cluster !== undefined && config.cluster.servers.length === 0) {
    errors.add("cluster.servers", 'Invalid config "cluster.servers": expected at least one server');
  }
  await readQuickBridge(args, config, errors);
  if (args.admin !== undefined) {
    const address = errors.collect(() => parseAddress(args.admin!, "--admin"), "--admin");
    if (address !== undefined) config.admin = { ...config.admin, ...address };
  }
  for (const path of args.unix ?? []) {
    addListener("--unix", () => ({ type: "universal", unix: path }));
  }
  if (keyed.length === 0) {
    const value = resolveListenerOptions({ type: "universal" }, "default listener");
    keyed.push({ at: "the default listener", value });
  }
  config.listeners = keyed.map(({ value }) => value);
  const admin = config.admin &&
    { at: args.admin === undefined ? "admin" : "--admin", value: config.admin };
  checkAddresses(keyed, admin, errors);
  const quick = ["publish", "call", "subscribe"].map((p) => `${config.quickBridge?.path}/${p}`);
  const paths = config.bridges.map(({ at, bridge }) => ({ at, value: bridge.path }));
  if (config.quickBridge) paths.push(...quick.map((value) => ({ at: "--http-bridge", value })));
  checkBridgePaths(keyed, paths, errors);
  if (args.workers !== undefined) {
    const workers = parseWorkers(args.workers);
    if (workers === undefined) {
      errors.add(
        "--workers",
        `Invalid --workers ${
          JSON.stringify(args.workers)
        }: expected an integer from 1 to ${MAX_WORKERS} or "auto"`,
      );
    } else config.workers = workers;
  }
  if (args.worker !== undefined) {
    // A worker serves alone: the supervisor already read `workers`.
    const worker = /^[1-9][0-9]*$/.test(args.worker) ? Number(args.worker) : undefined;
    if (worker === undefined || args.workers !== undefined) {
      errors.add("--worker", `Invalid --worker ${JSON.stringify(args.worker)} (internal flag)`);
    } else {
      config.worker = worker;
      config.workers = 1;
    }
  }
  if (config.workers > 1) checkShareable(config.listeners, config.workers, errors);
  return config;
}
