/**
 * The router's default logger: the console, from a level up.
 *
 * @module
 */

import type { Logger, LogLevel } from "./core/types.ts";

const LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

/**
 * A logger that writes to the console at or above `level`.
 *
 * @param level The lowest level written.
 * @returns The logger.
 *
 * @example
 * ```ts
 * import { consoleLogger, Router } from "@cloverleaf/wamp";
 *
 * const router = new Router({ logger: consoleLogger("warn") });
 * await router.close();
 * ```
 */
export function consoleLogger(level: LogLevel = "info"): Logger {
  const min = LEVELS.indexOf(level);
  return (at, message) => {
    if (LEVELS.indexOf(at) < min) return;
    const line = `${new Date().toISOString()} ${at.toUpperCase()} ${message}`;
    if (at === "error" || at === "warn") console.error(line);
    else console.log(line);
  };
}
