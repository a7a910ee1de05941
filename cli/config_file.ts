/**
 * The service's config file: its shape ({@linkcode ConfigFile}, the source
 * the JSON Schema `config/schema.json` is generated from by
 * `deno task schema`) and how it is read: JSON, or YAML for a `.yaml` or
 * `.yml` file.
 *
 * @module
 */

import { parse as parseYaml, YAMLParseError } from "yaml";
import type { BridgeConfig, HttpServiceConfig } from "../bridge/config.ts";
import type { ClusterOptions } from "../cluster/node.ts";
import type { LogFormat } from "../router/logger.ts";
import type { FailedLoginOptions, LogLevel, RealmOptions } from "../router/mod.ts";
import type { ListenerOptions } from "../transports/config.ts";

/** The config file's `admin`: where the admin listener serves, and its bearer token. */
export interface AdminFile {
  /** The address. @default {"127.0.0.1"} */
  host?: string;
  /** The port. @default {9090} */
  port?: number;
  /** A bearer token of 16 characters or more; without one, only loopback clients are served. */
  token?: string;
}

/** The admin listener as read: {@linkcode AdminFile} with its defaults filled in. */
export type AdminConfig = Required<Pick<AdminFile, "host" | "port">> & Pick<AdminFile, "token">;

/**
 * The config file (`-c`, `--config`), JSON or YAML. Every key is optional;
 * flags add to it.
 */
export interface ConfigFile {
  /** The JSON Schema the file follows, for editors; ignored by the router. */
  $schema?: string;
  /** The lowest level logged. @default {"info"} */
  logLevel?: LogLevel;
  /** Log lines as text or as JSON lines. @default {"text"} */
  logFormat?: LogFormat;
  /**
   * The authrole that may register dynamic authenticator and authorizer
   * procedures.
   * @default {"trusted"}
   */
  trustedRole?: string;
  /**
   * At most `perSource` failed logins per source address in any `window`
   * (milliseconds); then that address's logins are refused until the
   * oldest is `window` old. Off by default (`perSource` 0): turn it on only
   * where clients connect directly, not behind a reverse proxy (all its
   * clients have one address). Each `--workers` worker counts its own.
   */
  failedLogins?: FailedLoginOptions;
  /** Where the router listens. @default {[{ "type": "universal" }] (127.0.0.1:8080)} */
  listeners?: ListenerOptions[];
  /** The realms served. @default {[{ "name": "realm1" }]} */
  realms?: RealmOptions[];
  /** Join a cluster through these NATS servers. */
  cluster?: ClusterOptions;
  /**
   * Processes serving the same ports (an integer from 1 to 256), or
   * `"auto"`: one per core.
   * @default {1}
   */
  workers?: number | "auto";
  /** HTTP bridge paths, served on every listener that speaks HTTP. */
  bridges?: BridgeConfig[];
  /** REST endpoints served as procedures. */
  httpServices?: HttpServiceConfig[];
  /** The admin listener: metrics, health, readiness and the dashboard. Off when absent. */
  admin?: AdminFile;
}

/** Whether a config file is YAML, by its name: `.yaml` or `.yml`. */
export function isYamlFile(file: string): boolean {
  return /\.ya?ml$/i.test(file);
}

/**
 * Parses the text of a config file: YAML when `yaml`, else JSON. A YAML
 * syntax error becomes one line with its line and column.
 *
 * @param text The file's text.
 * @param yaml Whether it is YAML.
 * @returns The parsed value.
 * @throws {Error} A one-line syntax error.
 *
 * @example
 * ```ts
 * import { parseConfigText } from "./config_file.ts";
 * import { deepEqual, throws } from "node:assert/strict";
 *
 * deepEqual(parseConfigText("realms:\n  - name: realm1 # a comment\n", true), {
 *   realms: [{ name: "realm1" }],
 * });
 * throws(() => parseConfigText("realms: [\n", true), /at line 2, column 1$/);
 * ```
 */
export function parseConfigText(text: string, yaml: boolean): unknown {
  if (!yaml) return JSON.parse(text);
  try {
    // YAML 1.2 core schema: `yes` stays a string, duplicate keys are errors,
    // and aliases are capped (no billion laughs).
    return parseYaml(text, { prettyErrors: true, uniqueKeys: true, maxAliasCount: 100 });
  } catch (error) {
    if (error instanceof YAMLParseError) {
      throw new Error(error.message.split("\n")[0]!.replace(/:$/, ""));
    }
    throw error;
  }
}

/** The deepest nesting of arrays and objects a config file may have (the reader recurses). */
const MAX_DEPTH = 64;

/** Whether arrays and objects nest deeper than `max` in `value` (walked without recursion). */
function depthOver(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const [item, depth] = next;
    if (typeof item !== "object" || item === null) continue;
    if (depth >= max) return true;
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
  return false;
}

/**
 * Reads and parses a config file, JSON or YAML by its extension.
 *
 * @param file Its path.
 * @returns The parsed object.
 * @throws {TypeError} One line, naming the file, when it cannot be read or
 * parsed, or is not an object at the top.
 */
export async function readConfigFile(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    const why = error instanceof Error ? error.message.replace(/: readfile .*$/, "") : error;
    throw new TypeError(`Cannot read config file "${file}": ${why}`);
  }
  const yaml = isYamlFile(file);
  let value: unknown;
  try {
    value = parseConfigText(text, yaml);
  } catch (error) {
    const why = (error instanceof Error ? error.message : String(error)).split("\n")[0];
    throw new TypeError(`Cannot parse config file "${file}": ${why}`);
  }
  if (depthOver(value, MAX_DEPTH)) {
    throw new TypeError(`Invalid config file "${file}": nested deeper than ${MAX_DEPTH} levels`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(
      `Invalid config file "${file}": expected ${
        yaml ? "a YAML mapping" : "a JSON object"
      } at the top`,
    );
  }
  return value as Record<string, unknown>;
}
