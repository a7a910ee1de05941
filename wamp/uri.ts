/**
 * URI validation and pattern matching, after the spec's "URIs" and
 * pattern-based subscription/registration sections.
 *
 * @module
 */

/** How a subscription or registration URI is matched against concrete URIs. */
export type MatchPolicy = "exact" | "prefix" | "wildcard";

/**
 * The longest URI a router takes, in UTF-16 code units. The spec sets no
 * limit; a router stores the URIs of subscriptions, registrations and
 * authorization decisions, so one without a limit lets one session hold
 * gigabytes (1000 subscriptions of 16 MiB topics). No real application
 * comes near it.
 */
export const MAX_URI_LENGTH = 4096;

/**
 * The most components a wildcard pattern may have. The spec sets no limit;
 * finding what matches one URI walks every stored pattern as far as it
 * matches, so 1000 patterns of 2048 components made every CALL and PUBLISH
 * to a URI they almost matched take 30 ms. No real application comes near
 * it.
 */
export const MAX_WILDCARD_COMPONENTS = 64;

const LOOSE = /^([^\s.#]+\.)*([^\s.#]+)$/u;
const LOOSE_EMPTY = /^(([^\s.#]+\.)|\.)*([^\s.#]+)?$/u;
const STRICT = /^([0-9a-z_]+\.)*([0-9a-z_]+)$/;
const STRICT_EMPTY = /^(([0-9a-z_]+\.)|\.)*([0-9a-z_]+)?$/;

/** Options for {@linkcode isValidUri}. */
export interface UriCheckOptions {
  /**
   * Only `[0-9a-z_]` in components (the spec's SHOULD rule).
   * @default {false}
   */
  strict?: boolean;
  /**
   * How the URI will be matched: `prefix` and `wildcard` patterns may
   * contain empty components; `exact` URIs may not.
   * @default {"exact"}
   */
  match?: MatchPolicy;
}

/**
 * Checks a URI against the spec's loose or strict rules. Exact URIs need
 * non-empty components; prefix and wildcard patterns may have empty ones
 * (a wildcard position, or a trailing dot on a prefix). A URI must be
 * well-formed UTF-16 (no lone surrogates) and at most
 * {@linkcode MAX_URI_LENGTH} long; a wildcard pattern has at most
 * {@linkcode MAX_WILDCARD_COMPONENTS} components.
 *
 * @param uri The URI to check.
 * @param options Strictness and match policy.
 * @returns Whether the URI is valid.
 *
 * @example
 * ```ts
 * import { isValidUri } from "@cloverleaf/wamp/wamp";
 * import { equal } from "node:assert/strict";
 *
 * equal(isValidUri("com.myapp.topic1"), true);
 * equal(isValidUri("com..topic1"), false);
 * equal(isValidUri("com..topic1", { match: "wildcard" }), true);
 * equal(isValidUri("Com.MyApp", { strict: true }), false);
 * equal(isValidUri("com." + "x".repeat(5000)), false);
 * ```
 */
export function isValidUri(uri: string, options: UriCheckOptions = {}): boolean {
  const emptyAllowed = options.match !== undefined && options.match !== "exact";
  // The last URI found valid under each rule: a stream of messages mostly repeats its URIs.
  const rule = (options.strict ? 2 : 0) + (emptyAllowed ? 1 : 0);
  // Before the cache, which prefix and wildcard patterns share.
  if (options.match === "wildcard" && !componentsAtMost(uri, MAX_WILDCARD_COMPONENTS)) return false;
  if (uri === lastValid[rule]) return true;
  if (uri.length === 0 || uri.length > MAX_URI_LENGTH || !uri.isWellFormed()) return false;
  // WAMP's JSON would read a URI that starts with U+0000 as binary.
  if (uri.charCodeAt(0) === 0) return false;
  const valid =
    (options.strict ? (emptyAllowed ? STRICT_EMPTY : STRICT) : (emptyAllowed ? LOOSE_EMPTY : LOOSE))
      .test(uri);
  if (valid) lastValid[rule] = uri;
  return valid;
}

const lastValid: (string | undefined)[] = [undefined, undefined, undefined, undefined];

/** Whether `uri` has at most `most` dot-separated components (counted, not split). */
function componentsAtMost(uri: string, most: number): boolean {
  let dots = 0;
  for (let at = uri.indexOf("."); at >= 0; at = uri.indexOf(".", at + 1)) {
    if (++dots >= most) return false;
  }
  return true;
}

/**
 * Whether `uri` falls under the reserved `wamp.` namespace, which only the
 * router itself may register or publish to.
 *
 * @param uri A URI.
 * @returns True for `wamp` and `wamp.*`.
 *
 * @example
 * ```ts
 * import { isReservedUri } from "@cloverleaf/wamp/wamp";
 * import { equal } from "node:assert/strict";
 *
 * equal(isReservedUri("wamp.session.count"), true);
 * equal(isReservedUri("wampy.x"), false);
 * ```
 */
export function isReservedUri(uri: string): boolean {
  return uri === "wamp" || uri.startsWith("wamp.");
}

/**
 * Prefix matching: a string prefix, as Crossbar and the spec's examples do
 * (`com.myapp.a` matches `com.myapp.a-b`). End a pattern with `.` to match
 * whole components only.
 *
 * @param pattern The registered or subscribed prefix.
 * @param uri The concrete URI.
 * @returns Whether `uri` starts with `pattern`.
 *
 * @example
 * ```ts
 * import { prefixMatch } from "@cloverleaf/wamp/wamp";
 * import { equal } from "node:assert/strict";
 *
 * equal(prefixMatch("com.myapp.", "com.myapp.x"), true);
 * equal(prefixMatch("com.myapp.", "com.myapp2"), false);
 * ```
 */
export function prefixMatch(pattern: string, uri: string): boolean {
  return uri.startsWith(pattern);
}

/** Components up to this long are compared in a loop (a short slice would be a copy). */
const LOOP_COMPARE_MAX = 16;

/**
 * Wildcard matching: component-wise, an empty pattern component matches
 * exactly one component of any content, and the component counts must be
 * equal.
 *
 * @param pattern The wildcard pattern (`com..update`).
 * @param uri The concrete URI.
 * @returns Whether the URI matches.
 *
 * @example
 * ```ts
 * import { wildcardMatch } from "@cloverleaf/wamp/wamp";
 * import { equal } from "node:assert/strict";
 *
 * equal(wildcardMatch("com..update", "com.user.update"), true);
 * equal(wildcardMatch("com..update", "com.user.x.update"), false);
 * ```
 */
export function wildcardMatch(pattern: string, uri: string): boolean {
  // Component by component in place: nothing is split (a retained-event walk tests every topic).
  let p = 0;
  let u = 0;
  for (;;) {
    const pDot = pattern.indexOf(".", p);
    const uDot = uri.indexOf(".", u);
    const pEnd = pDot < 0 ? pattern.length : pDot;
    const uEnd = uDot < 0 ? uri.length : uDot;
    if (pEnd > p) { // an empty pattern component matches any one component
      const n = pEnd - p;
      if (n !== uEnd - u) return false;
      if (n > LOOP_COMPARE_MAX) {
        // Compared natively (slices share their string's characters): ~20x a loop's speed.
        if (pattern.slice(p, pEnd) !== uri.slice(u, uEnd)) return false;
      } else {
        for (let i = 0; i < n; i++) {
          if (pattern.charCodeAt(p + i) !== uri.charCodeAt(u + i)) return false;
        }
      }
    }
    if (pDot < 0 || uDot < 0) return pDot < 0 && uDot < 0;
    p = pDot + 1;
    u = uDot + 1;
  }
}
