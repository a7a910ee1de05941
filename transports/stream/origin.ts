/**
 * Which web origins may use an endpoint: globs over the `Origin` header,
 * checked by the WebSocket negotiation and by long-poll.
 *
 * @module
 */

/**
 * Whether an `Origin` header is allowed by a list of globs.
 *
 * @param origin The request's origin, e.g. `https://app.example.com`.
 * @param globs Allowed origins; `*` matches any characters but `/`.
 * @returns Whether one glob matches the whole origin (ignoring case).
 *
 * @example
 * ```ts
 * import { originAllowed } from "./origin.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(originAllowed("https://app.example.com", ["https://*.example.com"]), true);
 * equal(originAllowed("https://example.com.evil.net", ["https://*.example.com"]), false);
 * equal(originAllowed("http://localhost:5173", ["http://localhost:*"]), true);
 * ```
 */
export function originAllowed(origin: string, globs: readonly string[]): boolean {
  return globs.length > 0 && originPolicy(globs)(origin);
}

/**
 * Compiles a list of origin globs once, for a caller that checks every
 * request (long-poll): the predicate {@linkcode originAllowed} applies.
 * An empty list allows every origin.
 *
 * @param globs Allowed origins; `*` matches any characters but `/`.
 * @returns Whether an origin is allowed.
 *
 * @example
 * ```ts
 * import { originPolicy } from "./origin.ts";
 * import { equal } from "node:assert/strict";
 *
 * const allowed = originPolicy(["https://*.example.com"]);
 * equal(allowed("https://app.example.com"), true);
 * equal(allowed("https://evil.net"), false);
 * equal(originPolicy([])("https://evil.net"), true);
 * ```
 */
export function originPolicy(globs: readonly string[]): (origin: string) => boolean {
  if (globs.length === 0) return () => true;
  const patterns = globs.map((glob) => {
    const pattern = glob.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\/]/g, "\\$&"))
      .join("[^/]*");
    return new RegExp(`^${pattern}$`, "i");
  });
  return (origin) => patterns.some((pattern) => pattern.test(origin));
}
