/**
 * The Cloverleaf router service: parses flags, loads the JSON config file
 * (expanding `${NAME}` from the environment), starts a {@linkcode Router}
 * and its WebSocket listeners, and shuts down gracefully on SIGINT or
 * SIGTERM (GOODBYE `wamp.close.system_shutdown` to every session, then the
 * listeners close). `cloverleaf check` validates the same config and flags
 * and reports every error instead.
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

import { parseArgs } from "node:util";
import denoConfig from "./deno.json" with { type: "json" };
import { ConfigErrors, ConfigObject, expandEnv } from "./config/mod.ts";
import {
  CloseUri,
  consoleLogger,
  type Logger,
  type LogLevel,
  type RealmOptions,
  Router,
} from "./mod.ts";
import {
  parseAddress,
  type ResolvedListenerOptions,
  resolveListenerOptions,
  toListenOptions,
} from "./transports/config.ts";
import { listen, type Listener } from "./transports/listener.ts";
import { addRealmTo } from "./router/router.ts";

const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

/** Exit code for bad flags or a bad config file. */
const EXIT_USAGE = 2;

function printUsage(): void {
  console.log(`Cloverleaf ${denoConfig.version}: a WAMP v2 router

Usage: cloverleaf [options]
       cloverleaf check [options]

Commands:
  (none)                 Start the router and serve until SIGINT or SIGTERM
  check                  Validate the config file and the flags without
                         starting anything: print every error with its path,
                         one per line, and exit 2; or print one line such as
                         "config OK: 2 realms, 1 listener" and exit 0

Options:
  --listen <host:port>   Add a listener serving WebSocket, RawSocket and
                         HTTP long-poll on one port ([::1]:8080 for IPv6);
                         repeatable. Default, when the config file and the
                         flags give no listener: 127.0.0.1:8080
  --ws <host:port>       Add a WebSocket-only listener; repeatable
  --rawsocket <host:port>
                         Add a RawSocket-only listener; repeatable
  --unix <path>          Add a listener on a Unix socket (RawSocket and
                         WebSocket); repeatable
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
    "listeners": [{ "type": "universal", "host": "127.0.0.1", "port": 8080,
                    "paths": ["/ws", "/"], "serializers": ["json", "msgpack", "cbor"],
                    "maxMessageSize": 16777216, "maxConnections": 0,
                    "tls": { "cert": "cert.pem", "key": "key.pem" },
                    "compression": { "enabled": true, "threshold": 256 },
                    "pingInterval": 30000, "pingTimeout": 10000,
                    "outbound": { "maxBacklog": 1048576, "maxBacklogMessages": 16384,
                                  "slowConsumer": "drop" } }],
    (types: "universal", "websocket", "rawsocket", "longpoll"; every key is
    in the README's "Transports" section)
    "realms": [{ "name": "realm1", "anonymous": true, "anonymousRole": "anonymous",
                 "strictUris": false, "strictRequestIds": true },
               { "name": "realm2", "auth": { "ticket": { "principals": {
                   "alice": { "ticket": "\${ALICE_TICKET}", "role": "user" } } } } }],
    "trustedRole": "trusted"
    (the authrole that may register dynamic authenticator and authorizer
    procedures; default "trusted")
  }

Environment variables in the config file:
  Any string value may name environment variables as \${NAME}, the whole
  string ("\${ALICE_TICKET}") or part of it ("Bearer \${TOKEN}"); NAME is
  letters, digits and _. The variable's value replaces the reference when
  the file is loaded. An unset variable is an error that names the key's
  path and the variable, never a value. Write $\${ for a literal \${. Keys
  and numbers, booleans and null are never expanded.

Exit codes: 0 after a clean shutdown (SIGINT, SIGTERM) or a passing check,
1 when a listener cannot start, 2 for bad flags or a bad config file.`);
}

/** What the flags and the config file add up to. */
interface ServiceConfig {
  logLevel: LogLevel;
  /** `RouterOptions.trustedRole`. */
  trustedRole: string;
  listeners: ResolvedListenerOptions[];
  /** The config file's realms, as written: `createRouter` resolves them. */
  realms: unknown[];
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
 * Adds up the flags and the config file, recording every problem in
 * `errors` (one context per run: it also hides the values `${NAME}`
 * references expanded to). Throws only when the file cannot be read or
 * parsed.
 */
async function loadConfig(args: Flags, errors: ConfigErrors): Promise<ServiceConfig> {
  const config: ServiceConfig = {
    logLevel: "info",
    trustedRole: "trusted",
    listeners: [],
    realms: [],
    flagRealms: args.realm ?? [],
  };
  const addListener = (path: string, input: () => unknown) => {
    const listener = errors.collect(
      (errors) => resolveListenerOptions(input(), path, { errors }),
      path,
    );
    if (listener !== undefined) config.listeners.push(listener);
  };
  if (args.config !== undefined) {
    const json = expandEnv(await readConfigFile(args.config), lookupEnv, { errors });
    const file = new ConfigObject(json, "", { errors });
    config.logLevel = file.oneOf("logLevel", LOG_LEVELS, "info");
    config.trustedRole = file.string("trustedRole", "trusted");
    file.array("listeners").forEach((listener, i) =>
      addListener(`listeners[${i}]`, () => listener)
    );
    // Resolved by createRouter (resolveRealmOptions), path realms[i].
    config.realms = file.array("realms");
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
  const flagListeners = [
    ["listen", "universal"],
    ["ws", "websocket"],
    ["rawsocket", "rawsocket"],
  ] as const;
  for (const [flag, type] of flagListeners) {
    for (const address of args[flag] ?? []) {
      addListener(`--${flag}`, () => ({ type, ...parseAddress(address, `--${flag}`) }));
    }
  }
  for (const path of args.unix ?? []) {
    addListener("--unix", () => ({ type: "universal", unix: path }));
  }
  if (config.listeners.length === 0) {
    config.listeners.push(resolveListenerOptions({ type: "universal" }, "default listener"));
  }
  return config;
}

function isLogLevel(level: string): level is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(level);
}

const COMMANDS = ["check"] as const;

/** What the command line asks for. */
type Flags = ReturnType<typeof parseFlags>;

function parseFlags(args: string[]) {
  const { values, positionals } = parseArgs({
    args,
    options: {
      listen: { type: "string", multiple: true },
      ws: { type: "string", multiple: true },
      rawsocket: { type: "string", multiple: true },
      unix: { type: "string", multiple: true },
      realm: { type: "string", multiple: true },
      config: { type: "string", short: "c" },
      "log-level": { type: "string" },
      help: { type: "boolean", short: "h" },
      version: { type: "boolean", short: "V" },
    },
    strict: true,
    allowPositionals: true,
  });
  const [command, extra] = positionals;
  if (command !== undefined && !(COMMANDS as readonly string[]).includes(command)) {
    throw new TypeError(
      `Unknown command ${JSON.stringify(command)}: expected ${
        COMMANDS.map((c) => `"${c}"`).join(", ")
      } or none (see --help)`,
    );
  }
  if (extra !== undefined) {
    throw new TypeError(
      `Unexpected argument ${JSON.stringify(extra)} after "${command}" (see --help)`,
    );
  }
  return { ...values, command: command as typeof COMMANDS[number] | undefined };
}

/**
 * Creates the router with the config's realms, then the --realm ones, else
 * realm1, recording every problem in `errors`.
 */
function createRouter(config: ServiceConfig, logger: Logger, errors: ConfigErrors): Router {
  const router = new Router({ logger, trustedRole: config.trustedRole });
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
 * Loads the configuration and creates the router, collecting every
 * problem. Throws when the file cannot be read or parsed; returns the
 * router unless a problem was found (then it is closed again).
 */
async function configure(
  flags: Flags,
  errors: ConfigErrors,
  logger?: Logger,
): Promise<{ config: ServiceConfig; router: Router } | undefined> {
  const config = await loadConfig(flags, errors);
  const router = createRouter(config, logger ?? consoleLogger(config.logLevel), errors);
  if (errors.size === 0) return { config, router };
  await router.close();
  return undefined;
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

/** Runs until SIGINT or SIGTERM, then shuts down; resolves with 0. */
function runUntilSignal(
  router: Router,
  listeners: Listener[],
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
 * `cloverleaf: <message>`, to stderr. With the `check` command, validates
 * the config file and the flags instead, printing every error (one line
 * each, on stderr) or `config OK: <n> realms, <n> listeners` (on stdout).
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
  let config: ServiceConfig;
  let router: Router;
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
    ({ config, router } = configured);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`cloverleaf: ${message.split("\n")[0]}`);
    return EXIT_USAGE;
  }

  const listeners: Listener[] = [];
  for (const options of config.listeners) {
    let listener: Listener;
    try {
      listener = await listen(router, {
        ...toListenOptions(options),
        log: (level, message) => router.log(level, message),
      });
    } catch (error) {
      const host = options.host.includes(":") ? `[${options.host}]` : options.host;
      console.error(
        `cloverleaf: Cannot listen on ${options.unix ?? `${host}:${options.port}`}: ${
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
      `Listening on ${Object.values(listener.urls).join(", ") || listener.url} (realms: ${
        router.realmNames.join(", ")
      })`,
    );
  }
  return await runUntilSignal(router, listeners);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
