/**
 * `node:crypto`, reached at call time through `process.getBuiltinModule`
 * (Deno, Node >= 20.16, Bun) instead of a static import, so that the
 * modules of the synchronous router-side crypto (WAMP-CRA, Cryptosign,
 * WAMP-SCRAM verification and key derivation) load and bundle in a browser.
 * The client authenticates through WebCrypto (`webcrypto.ts`) and never
 * calls this.
 *
 * @module
 */

import type * as NodeCrypto from "node:crypto";

interface BuiltinProcess {
  getBuiltinModule?(id: string): unknown;
}

let cached: typeof NodeCrypto | undefined;

/**
 * The platform's `node:crypto`.
 *
 * @param what What needs it, for the error message.
 * @returns The module.
 * @throws {Error} On a platform without it (a browser).
 */
export function nodeCrypto(what: string): typeof NodeCrypto {
  if (cached !== undefined) return cached;
  const process = (globalThis as { process?: BuiltinProcess }).process;
  const found = process?.getBuiltinModule?.("node:crypto") as typeof NodeCrypto | undefined;
  if (found === undefined) {
    throw new Error(
      `Cannot ${what}: needs node:crypto (Deno, Node >= 20.16, Bun); ` +
        "in a browser, the client's own authentication uses WebCrypto",
    );
  }
  cached = found;
  return found;
}
