/**
 * Reads one object of a JSON configuration, key by key, with one-line
 * errors that name the full path of the offending key. Shared by the
 * router's realm options and the transports' listener options.
 *
 * By default the first problem throws a `TypeError`. In collecting mode
 * ({@linkcode ConfigErrors}) each problem is recorded and reading goes on
 * with the fallback, so one pass finds every independent error.
 *
 * @module
 */

/** The sink of the innermost {@linkcode ConfigErrors.collect} call. */
let collecting: ConfigErrors | undefined;

/** Values substituted for `${NAME}` references (value → NAME), hidden in error messages. */
const expandedValues = new Map<string, string>();

/**
 * Records that `value` came from the environment variable `name` (the
 * config's `${NAME}` references): from then on, the "got …" part of a
 * config error shows `${NAME}` instead of the value, so a secret is never
 * echoed. `expandEnv()` calls it for every substitution.
 *
 * @param name The variable's name.
 * @param value Its value.
 *
 * @example
 * ```ts
 * import { ConfigObject, hideExpandedValue } from "./check.ts";
 * import { throws } from "node:assert/strict";
 *
 * hideExpandedValue("DOC_TICKET", "s3cret-from-env");
 * const c = new ConfigObject({ port: "s3cret-from-env" }, "listeners[0]");
 * throws(() => c.integer("port", 0), {
 *   message: 'Invalid config "listeners[0].port": expected an integer from 0 to ' +
 *     `${Number.MAX_SAFE_INTEGER}, got "\${DOC_TICKET}"`,
 * });
 * ```
 */
export function hideExpandedValue(name: string, value: string): void {
  if (value.length > 0) expandedValues.set(value, name);
}

/** Options for a {@linkcode ConfigObject}. */
export interface ConfigObjectOptions {
  /**
   * Collecting mode: record each problem here and go on with the fallback
   * (an empty object for a value that should be an object) instead of
   * throwing. Nested objects inherit it.
   * @default {the sink of the enclosing `ConfigErrors.collect()` call, if any}
   */
  errors?: ConfigErrors;
}

/**
 * A typed reader over one configuration object.
 *
 * @example
 * ```ts
 * import { ConfigObject } from "./check.ts";
 * import { equal, throws } from "node:assert/strict";
 *
 * const c = new ConfigObject({ name: "realm1", strictUris: "yes" }, "realms[0]");
 * equal(c.string("name"), "realm1");
 * throws(() => c.boolean("strictUris", false), /realms\[0\]\.strictUris/);
 * ```
 */
export class ConfigObject {
  #input: Record<string, unknown>;
  #path: string;
  #seen = new Set<string>();
  #errors: ConfigErrors | undefined;

  /**
   * Wraps a value that must be a plain object.
   *
   * @param input The value from the configuration.
   * @param path Its path, for error messages (`realms[0]`).
   * @param options Collecting mode.
   * @throws {TypeError} When `input` is not an object (in collecting mode,
   * records that and reads an empty object instead).
   */
  constructor(input: unknown, path: string, options: ConfigObjectOptions = {}) {
    this.#path = path;
    this.#errors = options.errors ?? collecting;
    if (typeof input !== "object" || input === null || Array.isArray(input)) {
      const message = `Invalid config "${path}": expected an object, got ${show(input)}`;
      if (this.#errors === undefined) throw new TypeError(message);
      this.#errors.add(path, message);
      input = {};
    }
    this.#input = input as Record<string, unknown>;
  }

  /** The path of a key, for messages. */
  path(key: string): string {
    return this.#path === "" ? key : `${this.#path}.${key}`;
  }

  /** Whether the key is present. */
  has(key: string): boolean {
    return this.#input[key] !== undefined;
  }

  #get(key: string): unknown {
    this.#seen.add(key);
    return this.#input[key];
  }

  /** Throws, or in collecting mode records and returns `fallback`. */
  #fail<T>(key: string, expected: string, value: unknown, fallback: T): T {
    const message = `Invalid config "${this.path(key)}": expected ${expected}, got ${show(value)}`;
    if (this.#errors === undefined) throw new TypeError(message);
    this.#errors.add(this.path(key), message);
    return fallback;
  }

  /** Reads a boolean. */
  boolean(key: string, fallback: boolean): boolean {
    const value = this.#get(key);
    if (value === undefined) return fallback;
    return typeof value === "boolean" ? value : this.#fail(key, "a boolean", value, fallback);
  }

  /**
   * Reads a string (required when no fallback is given; in collecting
   * mode a missing one reads as `""`).
   */
  string(key: string, fallback?: string): string {
    const value = this.#get(key);
    if (value === undefined && fallback !== undefined) return fallback;
    return typeof value === "string" && value.length > 0
      ? value
      : this.#fail(key, "a non-empty string", value, fallback ?? "");
  }

  /** Reads an integer within [min, max]. */
  integer(key: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    const value = this.#get(key);
    if (value === undefined) return fallback;
    return typeof value === "number" && Number.isInteger(value) && value >= min &&
        value <= max
      ? value
      : this.#fail(key, `an integer from ${min} to ${max}`, value, fallback);
  }

  /** Reads one of a set of strings. */
  oneOf<T extends string>(key: string, values: readonly T[], fallback: T): T {
    const value = this.#get(key);
    if (value === undefined) return fallback;
    return values.includes(value as T)
      ? value as T
      : this.#fail(key, `one of ${values.map((v) => `"${v}"`).join(", ")}`, value, fallback);
  }

  /** Reads an array (empty when absent). */
  array(key: string): unknown[] {
    const value = this.#get(key);
    if (value === undefined) return [];
    return Array.isArray(value) ? value : this.#fail(key, "an array", value, []);
  }

  /** The keys present, for objects keyed by name (principals by authid). */
  keys(): string[] {
    return Object.keys(this.#input);
  }

  /** Reads a value of any type (the caller checks it). */
  value(key: string): unknown {
    return this.#get(key);
  }

  /**
   * Reads a nested object (undefined when absent), in the same mode as
   * this one.
   */
  object(key: string): ConfigObject | undefined {
    const value = this.#get(key);
    if (value === undefined) return undefined;
    return new ConfigObject(value, this.path(key), this.#errors ? { errors: this.#errors } : {});
  }

  /**
   * Fails on the first key nobody read (in collecting mode, records every
   * such key).
   * @throws {TypeError} Naming the unknown key.
   */
  done(): void {
    for (const key of Object.keys(this.#input)) {
      if (this.#seen.has(key)) continue;
      const message = `Invalid config "${this.path(key)}": unknown key`;
      if (this.#errors === undefined) throw new TypeError(message);
      this.#errors.add(this.path(key), message);
    }
  }
}

/**
 * Collects the errors of a configuration instead of stopping at the first
 * one: the sink of {@linkcode ConfigObject}'s collecting mode.
 *
 * Split a configuration into independent parts (each realm, each
 * listener) and run each with {@linkcode ConfigErrors.collect}. Inside a
 * part, every `ConfigObject` records its type errors and unknown keys and
 * goes on with the fallback; any other error ends the part and is recorded
 * too. Only the first error at a path is kept, and none below a path that
 * already has one, so a fallback never causes a second report.
 *
 * @example
 * ```ts
 * import { resolveListenerOptions } from "../transports/config.ts";
 * import { ConfigErrors } from "./check.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const errors = new ConfigErrors();
 * const listeners = [
 *   { type: "websocket", port: "80", extra: 1 },
 *   { type: "websocket", host: "not a host" },
 * ];
 * listeners.forEach((listener, i) =>
 *   errors.collect(() => resolveListenerOptions(listener, `listeners[${i}]`), `listeners[${i}]`)
 * );
 * deepEqual(errors.messages, [
 *   'Invalid config "listeners[0].port": expected an integer from 0 to 65535, got "80"',
 *   'Invalid config "listeners[0].extra": unknown key',
 *   'Invalid config "listeners[1].host": expected an IPv4 or IPv6 address or a hostname, got "not a host"',
 * ]);
 * ```
 */
export class ConfigErrors {
  #paths: string[] = [];
  #messages: string[] = [];

  /** The error messages, one line each, in the order found. */
  get messages(): string[] {
    return [...this.#messages];
  }

  /** How many errors were recorded. */
  get size(): number {
    return this.#messages.length;
  }

  /**
   * Records an error, unless `path` or a path enclosing it already has one
   * (then it is a follow-on error and is dropped).
   *
   * @param path The path of the offending key (`realms[0].name`).
   * @param message The one-line message, naming the path.
   * @returns Whether the error was recorded.
   *
   * @example
   * ```ts
   * import { ConfigErrors } from "./check.ts";
   * import { equal } from "node:assert/strict";
   *
   * const errors = new ConfigErrors();
   * equal(errors.add("realms[0]", 'Invalid config "realms[0]": expected an object, got 1'), true);
   * equal(errors.add("realms[0].name", 'Invalid config "realms[0].name": unknown key'), false);
   * equal(errors.size, 1);
   * ```
   */
  add(path: string, message: string): boolean {
    if (this.#paths.some((p) => within(path, p))) return false;
    this.#paths.push(path);
    this.#messages.push(message.split("\n")[0]!);
    return true;
  }

  /**
   * Runs one independent part of a configuration in collecting mode: every
   * {@linkcode ConfigObject} created while `fn` runs records its errors
   * here. An error `fn` throws is recorded too, at the path its message
   * names (`Invalid config "…"`), else at `path`.
   *
   * @param fn Reads the part; it must be synchronous.
   * @param path The part's path, for errors that name none.
   * @returns What `fn` returns, or `undefined` when it threw.
   *
   * @example
   * ```ts
   * import { resolveRealmOptions } from "../router/core/realm_options.ts";
   * import { ConfigErrors } from "./check.ts";
   * import { deepEqual, equal } from "node:assert/strict";
   *
   * const errors = new ConfigErrors();
   * const realm = errors.collect(
   *   () => resolveRealmOptions({ name: "realm1", anonymous: "yes", strict: true }, "realms[0]"),
   *   "realms[0]",
   * );
   * equal(realm?.anonymous, true); // the fallback
   * deepEqual(errors.messages, [
   *   'Invalid config "realms[0].anonymous": expected a boolean, got "yes"',
   *   'Invalid config "realms[0].strict": unknown key',
   * ]);
   * ```
   */
  collect<T>(fn: () => T, path: string): T | undefined {
    const outer = collecting;
    collecting = this;
    try {
      return fn();
    } catch (error) {
      this.#addThrown(error, path);
      return undefined;
    } finally {
      collecting = outer;
    }
  }

  #addThrown(error: unknown, path: string): void {
    const message = (error instanceof Error ? error.message : String(error)).split("\n")[0]!;
    const named = /^Invalid config "(.*?)": /.exec(message);
    if (named !== null) this.add(named[1]!, message);
    else if (path !== "" && message.includes(path)) this.add(path, message);
    else {
      const lower = /^[A-Z][a-z]/.test(message)
        ? message[0]!.toLowerCase() + message.slice(1)
        : message;
      this.add(path, `Invalid config "${path}": ${lower}`);
    }
  }
}

/** Whether `path` is `outer` or lies below it. */
function within(path: string, outer: string): boolean {
  if (path === outer) return true;
  return outer !== "" && (path.startsWith(`${outer}.`) || path.startsWith(`${outer}[`));
}

function show(value: unknown): string {
  if (value === undefined) return "nothing";
  let text = JSON.stringify(value) ?? String(value);
  // Longest values first, so one that contains another is hidden whole.
  const hidden = [...expandedValues].sort(([a], [b]) => b.length - a.length);
  for (const [secret, name] of hidden) {
    const encoded = JSON.stringify(secret).slice(1, -1);
    if (text.includes(encoded)) text = text.replaceAll(encoded, `\${${name}}`);
  }
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}
