/**
 * Node's built-in modules (`node:net`, `node:tls`, `node:zlib`,
 * `node:crypto`, `node:buffer`), reached at call time through `process.getBuiltinModule`
 * (Deno, Node >= 20.16, Bun) instead of static imports, so every module
 * the client loads also loads and bundles in a browser: the socket
 * transports (there the client uses the global `WebSocket`) and the
 * router's synchronous WAMP-CRA, Cryptosign and WAMP-SCRAM crypto (the
 * client's own is WebCrypto, `auth/webcrypto.ts`).
 *
 * @module
 */

import type * as NodeBuffer from "node:buffer";
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
  /** Hashes, HMAC, PBKDF2, Ed25519: the WebSocket accept key, `tls-unique`, the router's auth. */
  "node:crypto": typeof NodeCrypto;
  /** `Buffer.from(text)`: UTF-8 encoding, faster than Deno's `TextEncoder` on short strings. */
  "node:buffer": typeof NodeBuffer;
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
 * @param what What needs it, for the error message.
 * @returns The module.
 * @throws {Error} On a platform without it (a browser).
 */
export function builtin<K extends keyof Builtins>(id: K, what = `use ${id}`): Builtins[K] {
  if (!hasBuiltin(id)) {
    throw new Error(`Cannot ${what}: ${id} is missing (Deno, Node >= 20.16 and Bun have it)`);
  }
  return found.get(id) as Builtins[K];
}
