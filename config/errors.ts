/**
 * Configuration errors: {@linkcode ConfigError} (one bad key, by its path)
 * and {@linkcode ConfigErrors}, the context of one resolution that
 * collects them and hides the values `${NAME}` references expanded to.
 * Nothing here is module-global: each resolution passes its own
 * `ConfigErrors` down, or none to throw at the first problem.
 *
 * @module
 */

/**
 * A bad configuration value: `path` names the offending key
 * (`realms[0].limits.callsPerSession`, or a flag such as `--ws`) and the
 * one-line `message` names it too.
 *
 * It extends `TypeError` (bad config is a `TypeError` at startup) and
 * keeps its `name`, `"TypeError"`, so code matching on that still does.
 *
 * @example
 * ```ts
 * import { ConfigError } from "./errors.ts";
 * import { resolveRealmOptions } from "../router/core/realm_options.ts";
 * import { equal, ok } from "node:assert/strict";
 *
 * try {
 *   resolveRealmOptions({ name: "realm1", limits: { callsPerSession: 0 } }, "realms[0]");
 * } catch (error) {
 *   ok(error instanceof ConfigError);
 *   equal(error.path, "realms[0].limits.callsPerSession");
 *   equal(
 *     error.message,
 *     'Invalid config "realms[0].limits.callsPerSession": expected an integer from 1 to ' +
 *       `${Number.MAX_SAFE_INTEGER}, got 0`,
 *   );
 * }
 * ```
 */
export class ConfigError extends TypeError {
  /** The path of the offending key (`realms[0].name`), `""` for the whole configuration. */
  readonly path: string;

  /**
   * Makes an error about the key at `path`.
   *
   * @param path The path of the offending key.
   * @param message The one-line message, naming the key (see
   * {@linkcode configError} for the usual `Invalid config "<path>": <reason>`).
   * @param options The cause, if any.
   */
  constructor(path: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.path = path;
  }
}

/**
 * The usual error about a key: `Invalid config "<path>": <reason>`.
 *
 * @param path The path of the offending key.
 * @param reason What is wrong, starting lower case (`expected a boolean, got "yes"`).
 * @returns The error, to throw or to record.
 *
 * @example
 * ```ts
 * import { configError } from "./errors.ts";
 * import { equal } from "node:assert/strict";
 *
 * const error = configError("realms[0].name", '"a b" is not a valid URI');
 * equal(error.path, "realms[0].name");
 * equal(error.message, 'Invalid config "realms[0].name": "a b" is not a valid URI');
 * ```
 */
export function configError(path: string, reason: string): ConfigError {
  return new ConfigError(path, `Invalid config "${path}": ${reason}`);
}

/**
 * The context of one configuration resolution: it collects the errors
 * instead of stopping at the first one, and hides the values of the
 * environment variables the configuration's `${NAME}` references expanded
 * to. Make one per resolution and pass it down (`{ errors }`); nothing is
 * shared between resolutions.
 *
 * Split a configuration into independent parts (each realm, each
 * listener) and run each with {@linkcode ConfigErrors.collect}. Inside a
 * part, every `ConfigObject` given this context records its type errors
 * and unknown keys and goes on with the fallback; any other error ends the
 * part and is recorded too. Only the first error at a path is kept, and
 * none below a path that already has one, so a fallback never causes a
 * second report.
 *
 * @example
 * ```ts
 * import { ConfigErrors } from "./errors.ts";
 * import { resolveListenerOptions } from "../transports/config.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const errors = new ConfigErrors();
 * const listeners = [
 *   { type: "websocket", port: "80", extra: 1 },
 *   { type: "websocket", host: "not a host" },
 * ];
 * listeners.forEach((listener, i) =>
 *   errors.collect(
 *     () => resolveListenerOptions(listener, `listeners[${i}]`, { errors }),
 *     `listeners[${i}]`,
 *   )
 * );
 * deepEqual(errors.messages, [
 *   'Invalid config "listeners[0].port": expected an integer from 0 to 65535, got "80"',
 *   'Invalid config "listeners[0].extra": unknown key',
 *   'Invalid config "listeners[1].host": expected an IPv4 or IPv6 address or a hostname, got "not a host"',
 * ]);
 * ```
 */
export class ConfigErrors {
  #errors: ConfigError[] = [];
  /** Values substituted for `${NAME}` references (value → NAME). */
  #hidden = new Map<string, string>();
  /** The paths of the keys read, when tracing. */
  #read: Set<string> | undefined;

  /**
   * Makes a context.
   *
   * @param options `trace`: also note the path of every key a reader asks
   * for, present or not ({@linkcode ConfigErrors.read}).
   */
  constructor(options: { trace?: boolean } = {}) {
    this.#read = options.trace === true ? new Set() : undefined;
  }

  /**
   * Notes that a reader asked for the key at `path`: a key it accepts
   * (`ConfigObject` calls it; nothing happens unless tracing).
   *
   * @param path The key's path.
   */
  noteRead(path: string): void {
    this.#read?.add(path);
  }

  /**
   * The paths of the keys readers asked for, in order, when tracing (else
   * none): every key the checker accepts, in each object the configuration
   * has. The JSON Schema drift test walks them through the schema.
   */
  get read(): string[] {
    return [...(this.#read ?? [])];
  }

  /** The errors, in the order found. */
  get errors(): readonly ConfigError[] {
    return [...this.#errors];
  }

  /** The error messages, one line each, in the order found. */
  get messages(): string[] {
    return this.#errors.map((error) => error.message);
  }

  /** How many errors were recorded. */
  get size(): number {
    return this.#errors.length;
  }

  /**
   * Records an error, unless `path` or a path enclosing it already has one
   * (then it is a follow-on error and is dropped).
   *
   * @param path The path of the offending key (`realms[0].name`).
   * @param message The message, naming the path; only its first line is kept.
   * @returns Whether the error was recorded.
   *
   * @example
   * ```ts
   * import { ConfigErrors } from "./errors.ts";
   * import { equal } from "node:assert/strict";
   *
   * const errors = new ConfigErrors();
   * equal(errors.add("realms[0]", 'Invalid config "realms[0]": expected an object, got 1'), true);
   * equal(errors.add("realms[0].name", 'Invalid config "realms[0].name": unknown key'), false);
   * equal(errors.size, 1);
   * ```
   */
  add(path: string, message: string): boolean {
    return this.#record(path, message);
  }

  #record(path: string, message: string, options?: ErrorOptions): boolean {
    if (this.#errors.some((error) => within(path, error.path))) return false;
    this.#errors.push(new ConfigError(path, message.split("\n")[0]!, options));
    return true;
  }

  /**
   * Runs one independent part of a configuration: `fn` reads it with this
   * context (it gets it as its argument, to pass as `{ errors }`). An
   * error `fn` throws ends the part and is recorded: a
   * {@linkcode ConfigError} at its own path; any other error at `path`,
   * prefixed with `Invalid config "<path>": ` unless it names `path`
   * already, and kept as the recorded error's `cause`.
   *
   * @param fn Reads the part; it must be synchronous.
   * @param path The part's path, for errors that are not `ConfigError`s.
   * @returns What `fn` returns, or `undefined` when it threw.
   *
   * @example
   * ```ts
   * import { ConfigErrors } from "./errors.ts";
   * import { resolveRealmOptions } from "../router/core/realm_options.ts";
   * import { deepEqual, equal } from "node:assert/strict";
   *
   * const errors = new ConfigErrors();
   * const realm = errors.collect(
   *   (errors) =>
   *     resolveRealmOptions({ name: "realm1", anonymous: "yes", strict: true }, "realms[0]", {
   *       errors,
   *     }),
   *   "realms[0]",
   * );
   * equal(realm?.anonymous, true); // the fallback
   * deepEqual(errors.messages, [
   *   'Invalid config "realms[0].anonymous": expected a boolean, got "yes"',
   *   'Invalid config "realms[0].strict": unknown key',
   * ]);
   * ```
   */
  collect<T>(fn: (errors: ConfigErrors) => T, path: string): T | undefined {
    try {
      return fn(this);
    } catch (error) {
      this.#addThrown(error, path);
      return undefined;
    }
  }

  #addThrown(error: unknown, path: string): void {
    if (error instanceof ConfigError) {
      this.add(error.path, error.message);
      return;
    }
    const message = (error instanceof Error ? error.message : String(error)).split("\n")[0]!;
    if (path !== "" && message.includes(path)) this.#record(path, message, { cause: error });
    else {
      const lower = /^[A-Z][a-z]/.test(message)
        ? message[0]!.toLowerCase() + message.slice(1)
        : message;
      this.#record(path, `Invalid config "${path}": ${lower}`, { cause: error });
    }
  }

  /**
   * Records that `value` came from the environment variable `name` (a
   * `${NAME}` reference): from then on, the "got …" part of an error
   * recorded in this context shows `${NAME}` instead of the value, so a
   * secret is never echoed. `expandEnv()` calls it for every substitution
   * when given this context.
   *
   * @param name The variable's name.
   * @param value Its value.
   *
   * @example
   * ```ts
   * import { ConfigErrors } from "./errors.ts";
   * import { ConfigObject } from "./check.ts";
   * import { deepEqual } from "node:assert/strict";
   *
   * const errors = new ConfigErrors();
   * errors.hide("DOC_TICKET", "s3cret-from-env");
   * const c = new ConfigObject({ port: "s3cret-from-env" }, "listeners[0]", { errors });
   * c.integer("port", 0);
   * deepEqual(errors.messages, [
   *   'Invalid config "listeners[0].port": expected an integer from 0 to ' +
   *   `${Number.MAX_SAFE_INTEGER}, got "\${DOC_TICKET}"`,
   * ]);
   * ```
   */
  hide(name: string, value: string): void {
    if (value.length > 0) this.#hidden.set(value, name);
  }

  /**
   * A value as an error message shows it: JSON, the values of this
   * context's `${NAME}` references hidden, cut to 40 characters.
   *
   * @param value The offending value.
   * @returns Its text.
   */
  show(value: unknown): string {
    return show(value, this.#hidden);
  }
}

/**
 * A value as an error message shows it: JSON, cut to 40 characters, each
 * of `hidden`'s values (value → NAME) replaced by `${NAME}` first.
 *
 * @param value The offending value.
 * @param hidden The values to hide.
 * @returns Its text.
 */
export function show(value: unknown, hidden?: ReadonlyMap<string, string>): string {
  if (value === undefined) return "nothing";
  // Infinity and NaN (YAML's `.inf`, `.nan`) are what they are, not JSON's null.
  let text = typeof value === "number" && !Number.isFinite(value)
    ? String(value)
    : JSON.stringify(value) ?? String(value);
  if (hidden !== undefined && hidden.size > 0) {
    // Longest values first, so one that contains another is hidden whole.
    const sorted = [...hidden].sort(([a], [b]) => b.length - a.length);
    for (const [secret, name] of sorted) {
      const encoded = JSON.stringify(secret).slice(1, -1);
      if (text.includes(encoded)) text = text.replaceAll(encoded, `\${${name}}`);
    }
  }
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** Whether `path` is `outer` or lies below it. */
function within(path: string, outer: string): boolean {
  if (path === outer) return true;
  return outer !== "" && (path.startsWith(`${outer}.`) || path.startsWith(`${outer}[`));
}
