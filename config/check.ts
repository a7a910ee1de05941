/**
 * Reads one object of a JSON configuration, key by key, with one-line
 * errors that name the full path of the offending key. Shared by the
 * router's realm options and the transports' listener options.
 *
 * By default the first problem throws a {@linkcode ConfigError}. Given a
 * {@linkcode ConfigErrors} context, each problem is recorded there and
 * reading goes on with the fallback, so one pass finds every independent
 * error.
 *
 * @module
 */

import { type ConfigError, configError, type ConfigErrors, show } from "./errors.ts";
import { weakSecret } from "./secret.ts";

/** Options for a {@linkcode ConfigObject}. */
export interface ConfigObjectOptions {
  /**
   * Collecting mode: record each problem here and go on with the fallback
   * (an empty object for a value that should be an object) instead of
   * throwing. Nested objects inherit it.
   * @default {undefined} (throw at the first problem)
   */
  errors?: ConfigErrors;
}

/**
 * A typed reader over one configuration object.
 *
 * @example
 * ```ts
 * import { ConfigError } from "./errors.ts";
 * import { ConfigObject } from "./check.ts";
 * import { equal, throws } from "node:assert/strict";
 *
 * const c = new ConfigObject({ name: "realm1", strictUris: "yes" }, "realms[0]");
 * equal(c.string("name"), "realm1");
 * throws(() => c.boolean("strictUris", false), ConfigError);
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
   * @throws {ConfigError} When `input` is not an object (in collecting
   * mode, records that and reads an empty object instead).
   */
  constructor(input: unknown, path: string, options: ConfigObjectOptions = {}) {
    this.#path = path;
    this.#errors = options.errors;
    if (isObject(input)) this.#input = input;
    else {
      this.#report(configError(path, `expected an object, got ${this.#show(input)}`));
      this.#input = {};
    }
  }

  /** The mode of this object, for readers that wrap more values in it. */
  get options(): ConfigObjectOptions {
    return this.#errors === undefined ? {} : { errors: this.#errors };
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
    this.#errors?.noteRead(this.path(key));
    return this.#input[key];
  }

  #show(value: unknown): string {
    return this.#errors === undefined ? show(value) : this.#errors.show(value);
  }

  /** Throws `error`, or in collecting mode records it. */
  #report(error: ConfigError): void {
    if (this.#errors === undefined) throw error;
    this.#errors.add(error.path, error.message);
  }

  /** Throws, or in collecting mode records and returns `fallback`. */
  #fail<T>(key: string, expected: string, value: unknown, fallback: T): T {
    this.#report(this.error(key, `expected ${expected}, got ${this.#show(value)}`));
    return fallback;
  }

  /**
   * An error about one key, to throw when its value is of the right type
   * but wrong (`"a b" is not a valid URI`): throwing ends the part being
   * read, also in collecting mode.
   *
   * @param key The key.
   * @param reason What is wrong, starting lower case.
   * @returns `Invalid config "<path of key>": <reason>`.
   */
  error(key: string, reason: string): ConfigError {
    return configError(this.path(key), reason);
  }

  /**
   * Reports a key whose value is of the right type but wrong: throws, or
   * in collecting mode records it and reading goes on, so the keys after
   * it (and unknown ones, at {@linkcode done}) are still checked.
   *
   * @param key The key.
   * @param reason What is wrong, starting lower case.
   * @throws {ConfigError} Unless collecting.
   */
  reject(key: string, reason: string): void {
    this.#report(this.error(key, reason));
  }

  /**
   * Reads a part below `key` that may throw (a list item that is wrong, a
   * file that cannot be read): in collecting mode its error is recorded
   * and `undefined` returned, so the rest of this object is still read.
   *
   * @param key The part's key, for errors that are not `ConfigError`s.
   * @param read Reads the part.
   * @returns What `read` returns, or `undefined` when it threw (collecting).
   * @throws {ConfigError} What `read` throws, unless collecting.
   */
  part<T>(key: string, read: () => T): T | undefined {
    if (this.#errors === undefined) return read();
    return this.#errors.collect(read, this.path(key));
  }

  /**
   * Wraps a value found under `key` (an array item: `roles[0]`), in the
   * same mode as this object.
   *
   * @param input The value.
   * @param key Its key below this object, for messages.
   * @returns The reader over it.
   * @throws {ConfigError} When `input` is not an object (unless collecting).
   */
  child(input: unknown, key: string): ConfigObject {
    return new ConfigObject(input, this.path(key), this.options);
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

  /**
   * Reads a bearer token or shared secret: a string of at least
   * `MIN_SECRET_LENGTH` (16) characters (`config/secret.ts`). A short one
   * is rejected without showing it, and read on.
   */
  secret(key: string): string {
    const value = this.string(key);
    const problem = weakSecret(value);
    if (problem !== undefined && value !== "") this.reject(key, problem);
    return value;
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
    return isOneOf(value, values)
      ? value
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
    return this.child(value, key);
  }

  /**
   * Fails on the first key nobody read (in collecting mode, records every
   * such key).
   * @throws {ConfigError} Naming the unknown key.
   */
  done(): void {
    for (const key of Object.keys(this.#input)) {
      if (!this.#seen.has(key)) this.#report(this.error(key, "unknown key"));
    }
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isOneOf<T extends string>(value: unknown, values: readonly T[]): value is T {
  return (values as readonly unknown[]).includes(value);
}
