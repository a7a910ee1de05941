/**
 * The Cloverleaf router service: parses flags, loads the config file (JSON or YAML)
 * (expanding `${NAME}` from the environment), starts a {@linkcode Router}
 * and its WebSocket listeners, and shuts down gracefully on SIGINT or
 * SIGTERM (GOODBYE `wamp.close.system_shutdown` to every session, then the
 * listeners close). `cloverleaf check` validates the same config and flags
 * and reports every error instead. `cloverleaf call|publish|subscribe|
 * register|meta` are a WAMP client for the shell (`cli/client/`), and
 * `cloverleaf keygen|hash-secret` make credentials for the config.
 *
 * ```sh
 * deno run --allow-net --allow-read --allow-env cli.ts --ws 0.0.0.0:8080 --realm realm1
 * deno run --allow-net --allow-read --allow-env cli.ts check -c cloverleaf.json
 * deno compile --allow-net --allow-read --allow-env --output cloverleaf cli.ts
 * ```
 *
 * Validation lives in `router/core/realm_options.ts` (realms),
 * `transports/config.ts` (listeners) and `config/` (`${NAME}`, the
 * reader and its errors); this file only wires them together, with one
 * `ConfigErrors` context per run.
 *
 * @module
 */

import denoConfig from "./deno.json" with { type: "json" };
import { ConfigErrors } from "./config/mod.ts";
import { CloseUri, consoleLogger, type Logger, type RealmOptions, Router } from "./mod.ts";
import { toListenOptions } from "./transports/config.ts";
import { listen, type Listener } from "./transports/listener.ts";
import { authority } from "./transports/address.ts";
import { type AdminServer, serveAdmin } from "./admin/mod.ts";
import { addRealmTo, clusterNodeOf } from "./router/router.ts";
import { withFields } from "./router/logger.ts";
import { EXIT_USAGE, type Flags, parseFlags, printUsage } from "./cli/flags.ts";
import { loadConfig, type ServiceConfig } from "./cli/service_config.ts";
import { superviseWorkers, WORKER_READY } from "./cli/workers.ts";
import { startWorkerSide, supervisorGone, workerListenOptions } from "./cli/worker.ts";
import { interrupted } from "./cli/process.ts";
import type { LongPollRelay } from "./transports/longpoll/relay.ts";
import { CLIENT_COMMANDS, runClientCommand } from "./cli/client/mod.ts";
import { keygen } from "./cli/keygen.ts";
import { hashSecret } from "./cli/hash_secret.ts";
import type { BridgeOptions } from "./bridge/config.ts";
import { httpBridge } from "./bridge/mount.ts";
import { clusterSignatures } from "./cluster/bridge_signatures.ts";
import { bridgesOf } from "./cli/bridges.ts";

/**
 * Creates the router with the config's realms, then the --realm ones, else
 * realm1, recording every problem in `errors`.
 */
function createRouter(
  config: ServiceConfig,
  logger: Logger,
  errors: ConfigErrors,
  join: boolean,
): Router {
  const router = new Router({
    logger,
    trustedRole: config.trustedRole,
    ...(config.failedLogins === undefined ? {} : { failedLogins: config.failedLogins }),
    ...(config.decoySecret === undefined ? {} : { decoySecret: config.decoySecret }),
    ...(config.cluster === undefined || !join ? {} : { cluster: config.cluster }),
  });
  config.realms.forEach((realm, i) => {
    const path = `realms[${i}]`;
    // The file's JSON, unchecked until addRealm resolves it (with `errors`).
    errors.collect((errors) => addRealmTo(router, realm as RealmOptions, path, { errors }), path);
  });
  for (const name of config.flagRealms) {
    errors.collect((errors) => addRealmTo(router, { name }, "--realm", { errors }), "--realm");
  }
  if (router.realmNames.length === 0) {
    router.addRealm({ name: "realm1" }, "default realm");
  }
  return router;
}

/**
 * The console logger in the configured level and format, its lines marked
 * with the worker's number in a worker (a `Worker <n>: ` prefix in text, a
 * `worker` field in JSON).
 */
function serviceLogger(config: ServiceConfig): Logger {
  const log = consoleLogger(config.logLevel, config.logFormat);
  const worker = config.worker;
  if (worker === undefined) return log;
  if (config.logFormat === "json") return withFields(log, { worker });
  const prefix = `Worker ${worker}: `;
  return (level, message, fields) => log(level, prefix + message, fields);
}

/**
 * Loads the configuration and creates the router, collecting every
 * problem. Throws when the file cannot be read or parsed; returns the
 * router unless a problem was found (then it is closed again). Only a
 * router that will serve (`logger` not given, and no `--workers`
 * supervisor) joins its cluster.
 */
async function configure(
  flags: Flags,
  errors: ConfigErrors,
  logger?: Logger,
): Promise<{ config: ServiceConfig; router: Router; bridges: BridgeOptions[] } | undefined> {
  const config = await loadConfig(flags, errors);
  // Lines are held until the config is known good, then written: a bad
  // config prints its one error line and nothing else. A --workers
  // supervisor's router only checks the config (its workers log).
  const held: Parameters<Logger>[] = [];
  let log: Logger = (...line) => held.push(line);
  const router = createRouter(
    config,
    logger ?? ((...line) => log(...line)),
    errors,
    logger === undefined && config.workers === 1,
  );
  const bridges = bridgesOf(config, router, errors);
  if (errors.size > 0) {
    log = () => {};
    await router.close();
    return undefined;
  }
  log = config.workers > 1 ? () => {} : serviceLogger(config);
  for (const line of held) log(...line);
  return { config, router, bridges };
}

/** A listener's URLs, one per transport, comma-separated. */
function listenerUrls(listener: Listener): string {
  return Object.values(listener.urls).join(", ") || listener.url;
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/**
 * `cloverleaf check`: validates the config file and the flags as startup
 * would, without listening, and reports every error, one per line.
 */
async function check(flags: Flags): Promise<number> {
  const errors = new ConfigErrors();
  let summary = "";
  try {
    const configured = await configure(flags, errors, () => {});
    if (configured !== undefined) {
      const { config, router } = configured;
      summary = `config OK: ${plural(router.realmNames.length, "realm")}, ${
        plural(config.listeners.length, "listener")
      }${config.workers === 1 ? "" : `, ${config.workers} workers`}${
        config.cluster === undefined
          ? ""
          : `, cluster "${config.cluster.name ?? "cloverleaf"}" through ${
            plural(config.cluster.servers.length, "NATS server")
          }`
      }`;
      await router.close();
    }
  } catch (error) {
    // The file cannot be read or parsed: nothing more to check.
    errors.add("", error instanceof Error ? error.message : String(error));
  }
  if (errors.size > 0) {
    for (const message of errors.messages) console.error(`cloverleaf: ${message}`);
    return EXIT_USAGE;
  }
  console.log(summary);
  return 0;
}

function usageError(error: unknown): never {
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS_")) {
    throw new TypeError(
      `${(error as Error).message.split("\n")[0]} (see --help)`,
    );
  }
  throw error;
}

/**
 * Runs until SIGINT or SIGTERM (or `stop` resolves), then shuts down (a
 * second signal meanwhile is ignored); resolves with 0, or 1 when the
 * shutdown failed.
 */
async function runUntilSignal(
  router: Router,
  listeners: Listener[],
  admin: AdminServer | undefined,
  worker?: { stop: Promise<void>; relay: LongPollRelay | undefined },
): Promise<number> {
  const signals = interrupted();
  try {
    await Promise.race([signals.promise, worker?.stop ?? signals.promise]);
    router.log("info", "Shutting down: closing sessions and listeners");
    await router.close(CloseUri.SYSTEM_SHUTDOWN);
    await Promise.all(listeners.map(async (listener) => {
      await listener.close();
      const url = listenerUrls(listener);
      router.log("info", `Listener on ${url} closed`, { listener: url });
    }));
    await admin?.close();
    const relay = worker?.relay;
    if (relay !== undefined) {
      await relay.close();
      const { forwarded, served } = relay.counts;
      router.log("info", `Long-poll relay: passed ${forwarded} requests on, answered ${served}`);
    }
    router.log("info", "Stopped");
    return 0;
  } catch (error) {
    router.log("error", `Shutdown failed: ${error instanceof Error ? error.message : error}`);
    return 1;
  } finally {
    signals.dispose();
  }
}

/**
 * Runs the router service with command-line arguments: prints usage or the
 * version, or starts the router and its listeners and serves until SIGINT
 * or SIGTERM. Bad flags or a bad config file print one line,
 * `cloverleaf: <message>`, to stderr. With the `check` command, validates
 * the config file and the flags instead, printing every error (one line
 * each, on stderr) or `config OK: <n> realms, <n> listeners` (on stdout).
 * The client commands (`call`, `publish`, `subscribe`, `register`, `meta`)
 * and `keygen` and `hash-secret` run with flags of their own and exit 0,
 * 1 (a WAMP error, its URI on stderr) or 2 (bad usage).
 *
 * @param args The arguments, without the program name (`Deno.args`).
 * @returns The exit code: 0 after `--help`, `--version`, a clean shutdown
 * or a passing check; 1 when a listener cannot start; 2 for bad flags or
 * config.
 *
 * @example
 * ```ts
 * import { main } from "@cloverleaf/wamp/cli";
 * import { equal } from "node:assert/strict";
 *
 * equal(await main(["--version"]), 0);
 * equal(await main(["--no-such-flag"]), 2);
 * equal(await main(["check", "--realm", "com.example"]), 0);
 * ```
 */
export async function main(args: string[]): Promise<number> {
  // The client and credentials commands have flags of their own.
  const [command, ...rest] = args;
  if (command !== undefined && CLIENT_COMMANDS.has(command)) {
    return await runClientCommand(command, rest);
  }
  if (command === "keygen") return await keygen(rest);
  if (command === "hash-secret") return await hashSecret(rest);
  let config: ServiceConfig;
  let router: Router;
  let bridges: BridgeOptions[];
  try {
    let flags: Flags;
    try {
      flags = parseFlags(args);
    } catch (error) {
      usageError(error);
    }
    if (flags.help) {
      printUsage();
      return 0;
    }
    if (flags.version) {
      console.log(`cloverleaf ${denoConfig.version}`);
      return 0;
    }
    if (flags.command === "check") return await check(flags);
    // Startup checks as `check` does, and reports the first problem as
    // it was thrown (an error that is not a ConfigError is its cause).
    const errors = new ConfigErrors();
    const configured = await configure(flags, errors);
    if (configured === undefined) {
      const first = errors.errors[0];
      throw first?.cause ?? first;
    }
    ({ config, router, bridges } = configured);
    if (config.workers > 1) {
      // The supervisor serves nothing itself: the workers do.
      await router.close();
      return await superviseWorkers(args, config, serviceLogger(config));
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`cloverleaf: ${message.split("\n")[0]}`);
    return EXIT_USAGE;
  }
  const worker = config.worker;
  const name = worker === undefined ? "cloverleaf" : `cloverleaf worker ${worker}`;
  const listeners: Listener[] = [];
  let relay: LongPollRelay | undefined;
  /** One line saying what could not start and why, then everything started is closed: exit 1. */
  const cannot = async (what: string, error: unknown): Promise<number> => {
    const why = error instanceof Error ? error.message.split("\n")[0] : String(error);
    console.error(`${name}: Cannot ${what}: ${why}`);
    await router.close(CloseUri.SYSTEM_SHUTDOWN);
    await Promise.all(listeners.map((l) => l.close()));
    await relay?.close();
    return 1;
  };

  try {
    await router.ready;
  } catch (error) {
    return await cannot(`join cluster through ${config.cluster?.servers.join(", ")}`, error);
  }
  // A worker's admin listener is on its private socket; the supervisor serves --admin.
  let adminConfig: { host: string; port: number; token?: string; path?: string } | undefined =
    config.admin;
  try {
    // A worker's long-poll requests may land on any worker: the relay passes them to the owner.
    if (worker !== undefined) {
      const side = startWorkerSide(worker, router.log);
      relay = side.relay;
      adminConfig = side.admin === undefined ? undefined : { host: "", port: 0, ...side.admin };
    }
  } catch (error) {
    return await cannot("set up its private sockets", error);
  }
  // In a cluster (and so under --workers) a signed bridge request is taken once by every node.
  const node = clusterNodeOf(router);
  const bridge = bridges.length === 0
    ? undefined
    : httpBridge(router, bridges, node === undefined ? undefined : clusterSignatures(node));
  for (const [index, options] of config.listeners.entries()) {
    let listener: Listener;
    try {
      const listenOptions = toListenOptions(options);
      listener = await listen(router, {
        ...(worker === undefined
          ? listenOptions
          : workerListenOptions(listenOptions, index, relay)),
        // Every listener that speaks HTTP serves the bridge paths.
        ...(bridge === undefined || options.type === "rawsocket" ? {} : { mounts: [bridge] }),
        log: (level, message, fields) => router.log(level, message, fields),
      });
    } catch (error) {
      return await cannot(
        `listen on ${options.unix ?? authority(options.host, options.port)}`,
        error,
      );
    }
    listeners.push(listener);
    const url = listenerUrls(listener);
    const realms = router.realmNames.join(", ");
    const transports = Object.keys(listener.urls).join(", ");
    router.log("info", `Listening on ${url} (realms: ${realms})`, {
      listener: url,
      transports,
      realms,
    });
    if (bridge !== undefined && options.type !== "rawsocket" && listener.addr.transport === "tcp") {
      const { hostname, port } = listener.addr;
      const base = `${options.tls === undefined ? "http" : "https"}://${authority(hostname, port)}`;
      router.log(
        "info",
        `HTTP bridge on ${base}: ${bridges.map((b) => `${b.path} (${b.type})`).join(", ")}`,
      );
    }
  }
  let admin: AdminServer | undefined;
  if (adminConfig !== undefined) {
    const { host, port, token, path } = adminConfig;
    try {
      admin = await serveAdmin(router, {
        ...(path === undefined ? { hostname: host, port } : { path }),
        listeners,
        ...(token === undefined ? {} : { token }),
      });
    } catch (error) {
      return await cannot(`serve the admin listener on ${path ?? authority(host, port)}`, error);
    }
    router.log(
      "info",
      `Admin listener on ${admin.url} (/metrics, /health, /ready, dashboard at /)${
        token === undefined ? ", loopback clients only" : ", bearer token required"
      }`,
    );
  }
  if (worker === undefined) return await runUntilSignal(router, listeners, admin);
  console.log(WORKER_READY);
  return await runUntilSignal(router, listeners, admin, { stop: supervisorGone(), relay });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
