/**
 * Reads one object of a JSON configuration, key by key, with one-line
 * errors that name the full path of the offending key. Shared by the
 * router's realm options and the transports' listener options.
 *
 * @module
 */

/**
 * A typed reader over one configuration object.
 *
 * @example
 * ```ts
 * import { ConfigObject } from "@cloverleaf/wamp";
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

  /**
   * Wraps a value that must be a plain object.
   *
   * @param input The value from the configuration.
   * @param path Its path, for error messages (`realms[0]`).
   * @throws {TypeError} When `input` is not an object.
   */
  constructor(input: unknown, path: string) {
    if (typeof input !== "object" || input === null || Array.isArray(input)) {
      throw new TypeError(`Invalid config "${path}": expected an object, got ${show(input)}`);
    }
    this.#input = input as Record<string, unknown>;
    this.#path = path;
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

  #fail(key: string, expected: string, value: unknown): never {
    throw new TypeError(
      `Invalid config "${this.path(key)}": expected ${expected}, got ${show(value)}`,
    );
  }

  /** Reads a boolean. */
  boolean(key: string, fallback: boolean): boolean {
    const value = this.#get(key);
    if (value === undefined) return fallback;
    return typeof value === "boolean" ? value : this.#fail(key, "a boolean", value);
  }

  /** Reads a string (required when no fallback is given). */
  string(key: string, fallback?: string): string {
    const value = this.#get(key);
    if (value === undefined && fallback !== undefined) return fallback;
    return typeof value === "string" && value.length > 0
      ? value
      : this.#fail(key, "a non-empty string", value);
  }

  /** Reads an integer within [min, max]. */
  integer(key: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    const value = this.#get(key);
    if (value === undefined) return fallback;
    return typeof value === "number" && Number.isInteger(value) && value >= min &&
        value <= max
      ? value
      : this.#fail(key, `an integer from ${min} to ${max}`, value);
  }

  /** Reads one of a set of strings. */
  oneOf<T extends string>(key: string, values: readonly T[], fallback: T): T {
    const value = this.#get(key);
    if (value === undefined) return fallback;
    return values.includes(value as T)
      ? value as T
      : this.#fail(key, `one of ${values.map((v) => `"${v}"`).join(", ")}`, value);
  }

  /** Reads an array (empty when absent). */
  array(key: string): unknown[] {
    const value = this.#get(key);
    if (value === undefined) return [];
    return Array.isArray(value) ? value : this.#fail(key, "an array", value);
  }

  /** The keys present, for objects keyed by name (principals by authid). */
  keys(): string[] {
    return Object.keys(this.#input);
  }

  /** Reads a value of any type (the caller checks it). */
  value(key: string): unknown {
    return this.#get(key);
  }

  /** Reads a nested object (undefined when absent). */
  object(key: string): ConfigObject | undefined {
    const value = this.#get(key);
    return value === undefined ? undefined : new ConfigObject(value, this.path(key));
  }

  /**
   * Fails on the first key nobody read.
   * @throws {TypeError} Naming the unknown key.
   */
  done(): void {
    for (const key of Object.keys(this.#input)) {
      if (!this.#seen.has(key)) {
        throw new TypeError(`Invalid config "${this.path(key)}": unknown key`);
      }
    }
  }
}

function show(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}
