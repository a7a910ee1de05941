/**
 * WAMP URIs as NATS subjects. A subject is dot-separated tokens, like a
 * URI's components, but a token may not be empty nor contain `*`, `>` or
 * whitespace, and NATS recommends printable ASCII: every character of a
 * component outside `[A-Za-z0-9_-]` is written `%XX` (its UTF-8 bytes in
 * hex), so the mapping is one-to-one and a component never becomes a
 * wildcard. Matching by component is NATS's; WAMP's prefix matching is by
 * string, so a prefix subscription takes the closest NATS wildcard that
 * covers it and the broker filters what arrives.
 *
 * Every subject is bounded, whatever the URI (nats-server closes a
 * connection whose line passes its `max_control_line`): a token longer
 * than {@linkcode TOKEN_MAX} becomes `#` and the SHA-256 of the component,
 * and a URI of more than {@linkcode TOKENS_MAX} components keeps its first
 * ones and a last `#` token hashing the whole URI. A hash never matches a
 * wrong topic: the receiving broker still compares the full URI.
 *
 * @module
 */

import type { MatchPolicy } from "../wamp/mod.ts";
import { boundedToken, sha256 } from "./key_tokens.ts";

const SAFE = /^[A-Za-z0-9_-]+$/;

/** The longest token kept as written (escaped): longer ones are hashed. */
export const TOKEN_MAX = 64;
/** The most tokens of a URI kept: past them, one token hashes the whole URI. */
export const TOKENS_MAX = 16;

/**
 * One URI component as a subject token.
 *
 * @param component A non-empty URI component.
 * @returns The token (at most {@linkcode TOKEN_MAX} characters).
 *
 * @example
 * ```ts
 * import { escapeToken } from "./subjects.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(escapeToken("news"), "news");
 * equal(escapeToken("a*b"), "a%2Ab");
 * equal(escapeToken("é"), "%C3%A9");
 * ```
 */
export function escapeToken(component: string): string {
  if (component.length <= TOKEN_MAX && SAFE.test(component)) return component;
  // `#` starts a hashed token: no escaped component can.
  return boundedToken(component, "%", TOKEN_MAX, "#");
}

/**
 * A topic or procedure URI as the subject tokens after a prefix.
 *
 * @param uri A URI with non-empty components.
 * @returns Its tokens joined with `.` (at most {@linkcode TOKENS_MAX} + 1).
 *
 * @example
 * ```ts
 * import { uriSubject } from "./subjects.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(uriSubject("com.example.news"), "com.example.news");
 * equal(uriSubject("com." + "a".repeat(4000)).length, 4 + 44); // `#` and 43 characters
 * equal(uriSubject(Array(40).fill("c").join(".")).split(".").length, 17);
 * ```
 */
export function uriSubject(uri: string): string {
  const components = uri.split(".");
  if (components.length <= TOKENS_MAX) return components.map(escapeToken).join(".");
  const kept = components.slice(0, TOKENS_MAX).map(escapeToken);
  return `${kept.join(".")}.#${sha256(uri)}`;
}

/** Tokens past {@linkcode TOKENS_MAX} as `>`: what a long URI's subject keeps, and more. */
function covering(tokens: string[], rest: boolean): string {
  if (tokens.length > TOKENS_MAX) return `${tokens.slice(0, TOKENS_MAX).join(".")}.>`;
  return rest ? `${tokens.join(".")}.>` : tokens.join(".");
}

/**
 * The NATS subject (under a prefix) that receives every publication a
 * subscription may match: the exact URI; a wildcard's empty components as
 * `*`; for a prefix, the complete components followed by `>` (or the
 * prefix's own subject too, when the prefix is itself a whole URI).
 *
 * @param prefix The subject prefix (no trailing dot).
 * @param topic The subscription's topic or pattern.
 * @param match The match policy.
 * @returns The subjects to subscribe to.
 *
 * @example
 * ```ts
 * import { interestSubjects } from "./subjects.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(interestSubjects("p", "a.b", "exact"), ["p.a.b"]);
 * deepEqual(interestSubjects("p", "a..c", "wildcard"), ["p.a.*.c"]);
 * deepEqual(interestSubjects("p", "a.b.", "prefix"), ["p.a.b.>"]);
 * deepEqual(interestSubjects("p", "a.bc", "prefix"), ["p.a.>"]);
 * deepEqual(interestSubjects("p", "", "prefix"), ["p.>"]);
 * deepEqual(interestSubjects("p", "a..b", "prefix"), ["p.a.*.>"]);
 * ```
 */
export function interestSubjects(prefix: string, topic: string, match: MatchPolicy): string[] {
  if (match === "exact") return [`${prefix}.${uriSubject(topic)}`];
  if (match === "wildcard") {
    const tokens = topic.split(".").map((c) => c === "" ? "*" : escapeToken(c));
    return [`${prefix}.${covering(tokens, false)}`];
  }
  // Prefix: string matching. "a.b." covers a.b.*...; "a.bc" covers a.bc, a.bcd, a.bc.x: all under a.
  const components = topic.split(".");
  components.pop(); // matched by string: under `>`, filtered by the broker
  // An empty component (the loose rule lets a prefix have one) matches no valid topic; as `*` the
  // subject stays valid.
  const whole = components.map((c) => c === "" ? "*" : escapeToken(c));
  return [whole.length === 0 ? `${prefix}.>` : `${prefix}.${covering(whole, true)}`];
}

/**
 * Whether the subject {@linkcode interestSubjects} gives carries only the
 * publications the subscription matches: an exact topic's does; a
 * wildcard's of at most {@linkcode TOKENS_MAX} components does; a
 * prefix's does when the prefix is empty or ends with `.` after at most
 * {@linkcode TOKENS_MAX} non-empty components. A prefix ending inside a
 * component is wider (`com.example.log` takes `com.example.>`, every topic
 * under `com.example`), as are longer patterns (their tail is `>`).
 *
 * @param topic The subscription's topic or pattern.
 * @param match The match policy.
 * @returns True when NATS matching is the subscription's own.
 *
 * @example
 * ```ts
 * import { interestExact } from "./subjects.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(interestExact("a.b", "exact"), true);
 * equal(interestExact("a..c", "wildcard"), true);
 * equal(interestExact("a.b.", "prefix"), true);
 * equal(interestExact("", "prefix"), true);
 * equal(interestExact("a.bc", "prefix"), false);
 * equal(interestExact("a..b.", "prefix"), false);
 * ```
 */
export function interestExact(topic: string, match: MatchPolicy): boolean {
  if (match === "exact") return true;
  const components = topic.split(".");
  if (match === "wildcard") return components.length <= TOKENS_MAX;
  if (components.pop() !== "") return false;
  return components.length <= TOKENS_MAX && !components.includes("");
}
