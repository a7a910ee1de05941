/**
 * The Cloverleaf router service: parses flags, loads the JSON config file,
 * starts a {@linkcode Router} and its WebSocket listeners, and shuts down
 * gracefully on SIGINT or SIGTERM (GOODBYE `wamp.close.system_shutdown` to
 * every session, then the listeners close).
 *
 * ```sh
 * deno run --allow-net --allow-read --allow-env cli.ts --ws 0.0.0.0:8080 --realm realm1
 * deno compile --allow-net --allow-read --allow-env --output cloverleaf cli.ts
 * ```
 *
 * Validation lives in `router/config.ts` (realms) and `transports/config.ts`
 * (listeners); this file only wires them together.
 *
 * @module
 */

import { parseArgs } from "node:util";
import denoConfig from "./deno.json" with { type: "json" };
import {
  CloseUri,
  ConfigObject,
  consoleLogger,
  type Logger,
  type LogLevel,
  type RealmOptions,
  Router,
  serveWebSocket,
  type WebSocketListener,
} from "./mod.ts";
import {
  parseAddress,
  type ResolvedListenerOptions,
  resolveListenerOptions,
  toServeWebSocketOptions,
} from "./transports/config.ts";

const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

/** Exit code for bad flags or a bad config file. */
const EXIT_USAGE = 2;

function printUsage(): void {
  console.log(`Cloverleaf ${denoConfig.version}: a WAMP v2 router

Usage: cloverleaf [options]

Options:
  --ws <host:port>       Add a WebSocket listener ([::1]:8080 for IPv6);
                         repeatable. Default, when the config file has no
                         listener either: 127.0.0.1:8080
  --realm <name>         Add a realm (anonymous access); repeatable.
                         Default, when the config file has no realm either:
                         realm1
  -c, --config <file>    Read a JSON config file; flags add to it
  --log-level <level>    debug, info, warn or error (default: the config
                         file's "logLevel", else info)
  -h, --help             Print this help and exit
  -V, --version          Print the version and exit

Config file:
  {
    "logLevel": "info",
    "listeners": [{ "type": "websocket", "host": "127.0.0.1", "port": 8080,
                    "paths": ["/ws", "/"], "serializers": ["json", "msgpack", "cbor"],
                    "maxMessageSize": 16777216,
                    "outbound": { "maxBacklog": 1048576, "slowConsumer": "drop" } }],
    "realms": [{ "name": "realm1", "anonymous": true, "anonymousRole": "anonymous",
                 "strictUris": false, "strictRequestIds": true }]
  }

Exit codes: 0 after a clean shutdown (SIGINT, SIGTERM), 1 when a listener
cannot start, 2 for bad flags or a bad config file.`);
}

/** What the flags and the config file add up to. */
interface ServiceConfig {
  logLevel: LogLevel;
  listeners: ResolvedListenerOptions[];
  realms: RealmOptions[];
  flagRealms: string[];
}

async function readConfigFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    const why = error instanceof Error ? error.message.replace(/: readfile .*$/, "") : error;
    throw new TypeError(`Cannot read config file "${file}": ${why}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new TypeError(
      `Cannot parse config file "${file}": ${(error as Error).message}`,
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(
      `Invalid config file "${file}": expected a JSON object at the top`,
    );
  }
  return value;
}

async function loadConfig(
  args: ReturnType<typeof parseFlags>,
): Promise<ServiceConfig> {
  const config: ServiceConfig = {
    logLevel: "info",
    listeners: [],
    realms: [],
    flagRealms: args.realm ?? [],
  };
  if (args.config !== undefined) {
    const file = new ConfigObject(await readConfigFile(args.config), "");
    config.logLevel = file.oneOf("logLevel", LOG_LEVELS, "info");
    config.listeners = file.array("listeners").map((listener, i) =>
      resolveListenerOptions(listener, `listeners[${i}]`)
    );
    // Validated by the Router constructor (resolveRealmOptions), path realms[i].
    config.realms = file.array("realms") as RealmOptions[];
    file.done();
  }
  if (args["log-level"] !== undefined) {
    const level = args["log-level"] as LogLevel;
    if (!LOG_LEVELS.includes(level)) {
      throw new TypeError(
        `Invalid --log-level ${JSON.stringify(level)}: expected one of ${
          LOG_LEVELS.map((l) => `"${l}"`).join(", ")
        }`,
      );
    }
    config.logLevel = level;
  }
  for (const address of args.ws ?? []) {
    config.listeners.push(
      resolveListenerOptions({
        type: "websocket",
        ...parseAddress(address, "--ws"),
      }, "--ws"),
    );
  }
  if (config.listeners.length === 0) {
    config.listeners.push(
      resolveListenerOptions({ type: "websocket" }, "default listener"),
    );
  }
  return config;
}

function parseFlags(args: string[]) {
  return parseArgs({
    args,
    options: {
      ws: { type: "string", multiple: true },
      realm: { type: "string", multiple: true },
      config: { type: "string", short: "c" },
      "log-level": { type: "string" },
      help: { type: "boolean", short: "h" },
      version: { type: "boolean", short: "V" },
    },
    strict: true,
    allowPositionals: false,
  }).values;
}

function createRouter(config: ServiceConfig, logger: Logger): Router {
  const router = new Router({ realms: config.realms, logger });
  for (const name of config.flagRealms) router.addRealm({ name }, "--realm");
  if (router.realmNames.length === 0) {
    router.addRealm({ name: "realm1" }, "default realm");
  }
  return router;
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

/** Runs until SIGINT or SIGTERM, then shuts down; resolves with 0. */
function runUntilSignal(
  router: Router,
  listeners: WebSocketListener[],
): Promise<number> {
  const signals: Deno.Signal[] = Deno.build.os === "windows"
    ? ["SIGINT", "SIGBREAK"]
    : ["SIGINT", "SIGTERM"];
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = async () => {
      if (stopping) return;
      stopping = true;
      router.log("info", "Shutting down: closing sessions and listeners");
      let code = 0;
      try {
        await router.close(CloseUri.SYSTEM_SHUTDOWN);
        await Promise.all(listeners.map((l) => l.close()));
        router.log("info", "Stopped");
      } catch (error) {
        router.log("error", `Shutdown failed: ${error instanceof Error ? error.message : error}`);
        code = 1;
      }
      for (const signal of signals) Deno.removeSignalListener(signal, onSignal);
      resolve(code);
    };
    for (const signal of signals) Deno.addSignalListener(signal, onSignal);
  });
}

/**
 * Runs the router service with command-line arguments: prints usage or the
 * version, or starts the router and its listeners and serves until SIGINT
 * or SIGTERM. Bad flags or a bad config file print one line,
 * `cloverleaf: <message>`, to stderr.
 *
 * @param args The arguments, without the program name (`Deno.args`).
 * @returns The exit code: 0 after `--help`, `--version` or a clean
 * shutdown; 1 when a listener cannot start; 2 for bad flags or config.
 *
 * @example
 * ```ts
 * import { main } from "@cloverleaf/wamp/cli";
 * import { equal } from "node:assert/strict";
 *
 * equal(await main(["--version"]), 0);
 * equal(await main(["--no-such-flag"]), 2);
 * ```
 */
export async function main(args: string[]): Promise<number> {
  let config: ServiceConfig;
  let router: Router;
  try {
    let flags: ReturnType<typeof parseFlags>;
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
    config = await loadConfig(flags);
    router = createRouter(config, consoleLogger(config.logLevel));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`cloverleaf: ${message.split("\n")[0]}`);
    return EXIT_USAGE;
  }

  const listeners: WebSocketListener[] = [];
  for (const options of config.listeners) {
    let listener: WebSocketListener;
    try {
      listener = serveWebSocket(router, toServeWebSocketOptions(options));
    } catch (error) {
      const host = options.host.includes(":") ? `[${options.host}]` : options.host;
      console.error(
        `cloverleaf: Cannot listen on ${host}:${options.port}: ${
          error instanceof Error ? error.message.split("\n")[0] : String(error)
        }`,
      );
      await router.close(CloseUri.SYSTEM_SHUTDOWN);
      await Promise.all(listeners.map((l) => l.close()));
      return 1;
    }
    listeners.push(listener);
    router.log(
      "info",
      `Listening on ${listener.url} (realms: ${router.realmNames.join(", ")})`,
    );
  }
  return await runUntilSignal(router, listeners);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
