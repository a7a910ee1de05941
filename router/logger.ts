/**
 * The router's default logger: the console, from a level up, as
 * human-readable text (`time LEVEL message key=value …`) or as JSON lines
 * (`{"level","time","msg",…fields}`) for a log collector.
 *
 * @module
 */

import { LOG_LEVELS, type LogFields, type Logger, type LogLevel } from "../wamp/log.ts";

/** How log lines are written: `text` for people, `json` (one object per line) for collectors. */
export type LogFormat = "text" | "json";

/** The log formats. */
export const LOG_FORMATS: readonly LogFormat[] = ["text", "json"];

/** A value that may go in a text line as is (others are quoted as JSON strings). */
const BARE = /^[\w.:/@+*#%?&~-]+$/;
// deno-lint-ignore no-control-regex -- control characters are what it finds
const CONTROL = /[\x00-\x1f\x7f]/g;
/** A control character as JSON writes it (`\n`, `\u0007`). */
const escapeControl = (char: string): string => JSON.stringify(char).slice(1, -1);

/**
 * Formats one log line.
 *
 * @param format `text` or `json`.
 * @param level The level.
 * @param message The message.
 * @param fields Structured fields (`undefined` values are left out).
 * @param time When, as an ISO 8601 string.
 * @returns The line, without a newline.
 *
 * @example
 * ```ts
 * import { formatLogLine } from "@cloverleaf/wamp/router";
 * import { equal } from "node:assert/strict";
 *
 * const time = "2026-01-01T00:00:00.000Z";
 * equal(
 *   formatLogLine("json", "info", "Session joined", { realm: "realm1", session: 7 }, time),
 *   '{"level":"info","time":"2026-01-01T00:00:00.000Z","msg":"Session joined","realm":"realm1","session":7}',
 * );
 * equal(
 *   formatLogLine("text", "warn", "Denied", { reason: "no such procedure" }, time),
 *   '2026-01-01T00:00:00.000Z WARN Denied reason="no such procedure"',
 * );
 * ```
 */
export function formatLogLine(
  format: LogFormat,
  level: LogLevel,
  message: string,
  fields: LogFields | undefined,
  time: string,
): string {
  if (format === "json") {
    const line: Record<string, unknown> = { level, time, msg: message };
    if (fields !== undefined) {
      for (const key in fields) {
        // The three keys of the line itself are not overwritten by a field.
        if (fields[key] !== undefined && !(key in line)) line[key] = fields[key];
      }
    }
    return JSON.stringify(line);
  }
  // A peer's text in a message cannot start a line of its own: control characters escaped.
  let line = `${time} ${level.toUpperCase()} ${message.replace(CONTROL, escapeControl)}`;
  if (fields !== undefined) {
    for (const key in fields) {
      const value = fields[key];
      if (value === undefined) continue;
      const text = String(value);
      line += ` ${key}=${BARE.test(text) ? text : JSON.stringify(text)}`;
    }
  }
  return line;
}

/**
 * A logger that writes to the console at or above `level`: `debug` and
 * `info` lines to stdout, `warn` and `error` lines to stderr.
 *
 * @param level The lowest level written.
 * @param format `text` (human-readable, `key=value` fields) or `json` (one
 * object per line: `level`, `time`, `msg` and the fields).
 * @returns The logger.
 *
 * @example
 * ```ts
 * import { consoleLogger, Router } from "@cloverleaf/wamp";
 *
 * const router = new Router({ logger: consoleLogger("warn", "json") });
 * await router.close();
 * ```
 */
export function consoleLogger(level: LogLevel = "info", format: LogFormat = "text"): Logger {
  const min = LOG_LEVELS.indexOf(level);
  return (at, message, fields) => {
    if (LOG_LEVELS.indexOf(at) < min) return;
    const line = formatLogLine(format, at, message, fields, new Date().toISOString());
    if (at === "error" || at === "warn") console.error(line);
    else console.log(line);
  };
}

/**
 * A logger that adds fixed fields to every line (a worker's number, a
 * component's name), under the line's own.
 *
 * @param log The logger written to.
 * @param fixed The fields every line gets.
 * @returns The logger.
 */
export function withFields(log: Logger, fixed: LogFields): Logger {
  return (level, message, fields) => log(level, message, { ...fixed, ...fields });
}
