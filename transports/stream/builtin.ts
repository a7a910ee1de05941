/**
 * Node's built-in modules (`node:net`, `node:tls`, `node:zlib`,
 * `node:crypto`), reached at call time through `process.getBuiltinModule`
 * (Deno, Node >= 20.16, Bun) instead of static imports, so the client's
 * socket transports stay loadable and bundle for a browser, where the
 * client falls back to the global `WebSocket` instead.
 *
 * @module
 */

import type * as NodeCrypto from "node:crypto";
import type * as NodeNet from "node:net";
import type * as NodeTls from "node:tls";
import type * as NodeZlib from "node:zlib";

/** The built-in modules this reaches, by name. */
export interface Builtins {
  /** TCP and Unix sockets. */
  "node:net": typeof NodeNet;
  /** TLS sockets. */
  "node:tls": typeof NodeTls;
  /** Deflate for permessage-deflate. */
  "node:zlib": typeof NodeZlib;
  /** Hashes for the WebSocket accept key and `tls-unique`. */
  "node:crypto": typeof NodeCrypto;
}

interface BuiltinProcess {
  getBuiltinModule?(id: string): unknown;
}

const found = new Map<keyof Builtins, unknown>();

/**
 * Whether the platform has a built-in module (and so sockets, for `node:net`).
 *
 * @param id The module.
 * @returns Whether {@linkcode builtin} gives it.
 */
export function hasBuiltin(id: keyof Builtins): boolean {
  if (found.has(id)) return true;
  const process = (globalThis as { process?: BuiltinProcess }).process;
  const module = process?.getBuiltinModule?.(id);
  if (module === undefined || module === null) return false;
  found.set(id, module);
  return true;
}

/**
 * A built-in module.
 *
 * @param id The module.
 * @returns The module.
 * @throws {Error} On a platform without it (a browser).
 */
export function builtin<K extends keyof Builtins>(id: K): Builtins[K] {
  if (!hasBuiltin(id)) {
    throw new Error(
      `${id} is not available on this platform (Deno, Node >= 20.16 and Bun have it)`,
    );
  }
  return found.get(id) as Builtins[K];
}
