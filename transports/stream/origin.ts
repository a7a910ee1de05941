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
  // By "/"-separated parts, since `*` never spans one: matching stays linear
  // in the origin whatever the globs (a regex of several `[^/]*` backtracks
  // for seconds on a 16 KiB header).
  const patterns = globs.map((glob) => glob.toLowerCase().split("/"));
  return (origin) => {
    const parts = origin.toLowerCase().split("/");
    return patterns.some((pattern) =>
      pattern.length === parts.length && pattern.every((part, i) => wildcard(part, parts[i]!))
    );
  };
}

/**
 * Whether `text` matches `glob`, where `*` matches any run of characters:
 * the greedy two-pointer match, which only ever resumes after the last
 * `*`, in O(glob × text) steps at worst.
 */
function wildcard(glob: string, text: string): boolean {
  let g = 0;
  let t = 0;
  let star = -1;
  let resume = 0;
  while (t < text.length) {
    if (g < glob.length && glob[g] === "*") {
      star = g++;
      resume = t;
    } else if (g < glob.length && glob[g] === text[t]) {
      g++;
      t++;
    } else if (star >= 0) {
      g = star + 1;
      t = ++resume;
    } else return false;
  }
  while (g < glob.length && glob[g] === "*") g++;
  return g === glob.length;
}
