/**
 * The service's configuration: the JSON config file (with `${NAME}`
 * expanded from the environment) and the flags, added up into listeners,
 * realms and logging, with every problem recorded in one `ConfigErrors`.
 *
 * @module
 */

import { type ConfigErrors, ConfigObject, expandEnv } from "../config/mod.ts";
import type { LogLevel } from "../router/mod.ts";
import {
  parseAddress,
  type ResolvedListenerOptions,
  resolveListenerOptions,
} from "../transports/config.ts";
import { type Flags, isLogLevel, LOG_LEVELS } from "./flags.ts";

/** What the flags and the config file add up to. */
export interface ServiceConfig {
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
export async function loadConfig(args: Flags, errors: ConfigErrors): Promise<ServiceConfig> {
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
