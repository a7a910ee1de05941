/**
 * `${NAME}` references in a JSON configuration: secrets and per-host
 * settings come from environment variables, not from the file. Pure: the
 * caller passes the lookup (the CLI passes `Deno.env.get`), so the router
 * library never reads the environment.
 *
 * @module
 */

import { configError, type ConfigErrors } from "./errors.ts";

/** Options for {@linkcode expandEnv}. */
export interface ExpandEnvOptions {
  /**
   * The path of the value in the configuration, for error messages.
   * @default {""} (the top)
   */
  path?: string;
  /**
   * Collecting mode: record each string with an unset variable or a bad
   * reference here, and leave that string as written, instead of throwing
   * at the first. Each value substituted is hidden in the errors this
   * context records later ({@linkcode ConfigErrors.hide}).
   * @default {undefined}
   */
  errors?: ConfigErrors;
}

/** `$${` (a literal `${`), `${NAME}`, or a `${` that starts neither. */
const REFERENCE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$\{/g;

/**
 * Replaces `${NAME}` in every string value of a JSON configuration with the
 * value of the variable `NAME`: a whole string (`"${TICKET}"`) or part of
 * one (`"Bearer ${TOKEN}"`). `$${` stands for a literal `${`. Object keys
 * and non-string values are left alone, and `input` is not modified.
 *
 * A variable that `lookup` does not know, or a `${` not followed by
 * `NAME}` (letters, digits and `_`, not starting with a digit), is an
 * error naming the key's path and the variable, never a value.
 *
 * @param input The parsed JSON.
 * @param lookup Returns a variable's value, or `undefined` when it is unset.
 * @param options The path of `input`, and collecting mode.
 * @returns A copy of `input` with the references replaced.
 * @throws {ConfigError} At the first unset variable or bad reference
 * (unless collecting).
 *
 * @example
 * ```ts
 * import { expandEnv } from "./env.ts";
 * import { deepEqual, throws } from "node:assert/strict";
 *
 * const env: Record<string, string> = { TOKEN: "s3cret", REALM: "realm1" };
 * const lookup = (name: string) => env[name];
 *
 * deepEqual(
 *   expandEnv({ realm: "${REALM}", header: "Bearer ${TOKEN}", price: "$${5}", port: 8080 }, lookup),
 *   { realm: "realm1", header: "Bearer s3cret", price: "${5}", port: 8080 },
 * );
 * throws(
 *   () => expandEnv({ auth: { ticket: "${TICKET}" } }, lookup),
 *   { message: 'Invalid config "auth.ticket": environment variable "TICKET" is not set' },
 * );
 * ```
 */
export function expandEnv<T>(
  input: T,
  lookup: (name: string) => string | undefined,
  options: ExpandEnvOptions = {},
): T {
  return expand(input, options.path ?? "", lookup, options.errors) as T;
}

function expand(
  value: unknown,
  path: string,
  lookup: (name: string) => string | undefined,
  errors: ConfigErrors | undefined,
): unknown {
  if (typeof value === "string") return expandString(value, path, lookup, errors);
  if (Array.isArray(value)) {
    return value.map((item, i) => expand(item, `${path}[${i}]`, lookup, errors));
  }
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      out[key] = expand(item, path === "" ? key : `${path}.${key}`, lookup, errors);
    }
    return out;
  }
  return value;
}

function expandString(
  text: string,
  path: string,
  lookup: (name: string) => string | undefined,
  errors: ConfigErrors | undefined,
): string {
  if (!text.includes("${")) return text;
  const unset: string[] = [];
  let bad = false;
  const expanded = text.replace(REFERENCE, (match, name: string | undefined) => {
    if (match === "$${") return "${";
    if (name === undefined) {
      bad = true;
      return match;
    }
    const value = lookup(name);
    if (value === undefined) {
      if (!unset.includes(name)) unset.push(name);
      return match;
    }
    errors?.hide(name, value);
    return value;
  });
  if (!bad && unset.length === 0) return expanded;
  const why = bad
    ? 'expected ${NAME} after "${", NAME made of letters, digits and "_" (write "$${" for a literal "${")'
    : unset.length === 1
    ? `environment variable "${unset[0]}" is not set`
    : `environment variables ${unset.map((n) => `"${n}"`).join(", ")} are not set`;
  const error = configError(path, why);
  if (errors === undefined) throw error;
  errors.add(error.path, error.message);
  return text;
}
