/**
 * The configuration machinery shared by the router's realm options, the
 * transports' listener options and the CLI: {@linkcode ConfigObject}
 * reads one object key by key, {@linkcode expandEnv} replaces `${NAME}`
 * references, and every problem is a {@linkcode ConfigError} naming the
 * key by its path. By default the first problem throws; a
 * {@linkcode ConfigErrors} context, made per resolution and passed down,
 * collects them all instead (what `cloverleaf check` prints) and hides
 * the values of expanded variables. Nothing is module-global.
 *
 * @example
 * ```ts
 * import { ConfigErrors } from "./errors.ts";
 * import { ConfigObject } from "./check.ts";
 * import { expandEnv } from "./env.ts";
 * import { deepEqual, equal } from "node:assert/strict";
 *
 * const errors = new ConfigErrors();
 * const json = expandEnv({ port: "${PORT}", extra: 1 }, () => "80", { errors });
 * const c = new ConfigObject(json, "listeners[0]", { errors });
 * equal(c.integer("port", 8080, 0, 65535), 8080); // the fallback
 * c.done();
 * deepEqual(errors.messages, [
 *   'Invalid config "listeners[0].port": expected an integer from 0 to 65535, got "${PORT}"',
 *   'Invalid config "listeners[0].extra": unknown key',
 * ]);
 * ```
 *
 * @module
 */

export { ConfigObject, type ConfigObjectOptions } from "./check.ts";
export { ConfigError, configError, ConfigErrors } from "./errors.ts";
export { expandEnv, type ExpandEnvOptions } from "./env.ts";
export { MIN_SECRET_LENGTH, weakSecret } from "./secret.ts";
