/**
 * MatchIndex with N non-matching prefix and wildcard patterns (plus a few
 * that match), against a linear scan. Run: deno bench bench/match_index_bench.ts
 */

import { MatchIndex } from "../router/core/match_index.ts";
import { type MatchPolicy, prefixMatch, wildcardMatch } from "../wamp/mod.ts";

const URI = "com.example.user.42.update";

/**
 * Patterns that cannot match `URI`. Ids are zero-padded so that every N uses
 * the same few prefix lengths: the prefix probe count depends on distinct
 * lengths (at most the URI's length), not on N.
 */
function nonMatching(n: number): [string, MatchPolicy][] {
  const out: [string, MatchPolicy][] = [];
  for (let i = 0; i < n; i++) {
    const id = String(i).padStart(6, "0");
    out.push([i % 2 === 0 ? `com.example.other${id}` : `com.${id}.`, "prefix"]);
    out.push([i % 2 === 0 ? `com..user${id}.update` : `com.example..${id}.`, "wildcard"]);
  }
  return out;
}

const MATCHING: [string, MatchPolicy][] = [
  ["com.example.", "prefix"],
  ["com.example.user.", "prefix"],
  ["com.example..42.", "wildcard"],
  ["..user..update", "wildcard"],
];

/** The naive alternative: test every pattern. */
function linearMatches(patterns: [string, MatchPolicy][], uri: string): string[] {
  const out: string[] = [];
  for (const [pattern, match] of patterns) {
    if (
      match === "exact"
        ? pattern === uri
        : match === "prefix"
        ? prefixMatch(pattern, uri)
        : wildcardMatch(pattern, uri)
    ) out.push(pattern);
  }
  return out;
}

for (const n of [10, 1_000, 100_000]) {
  const patterns = [...nonMatching(n), ...MATCHING];
  const index = new MatchIndex<string>();
  for (const [pattern, match] of patterns) index.set(pattern, match, pattern);
  if (index.matches(URI).length !== MATCHING.length) throw new Error("Bench setup is wrong");

  Deno.bench({
    name: `MatchIndex.matches() with ${n} non-matching patterns per policy`,
    group: "matches",
    baseline: n === 10,
    fn() {
      index.matches(URI);
    },
  });
  Deno.bench({
    name: `MatchIndex.best() with ${n} non-matching patterns per policy`,
    group: "best",
    baseline: n === 10,
    fn() {
      index.best(URI);
    },
  });
  // Without the matching prefixes, best() has to rank the wildcard entries.
  const wildcardOnly = new MatchIndex<string>();
  for (const [pattern, match] of patterns) {
    if (match === "wildcard" || !MATCHING.some(([p]) => p === pattern)) {
      wildcardOnly.set(pattern, match, pattern);
    }
  }
  if (wildcardOnly.best(URI) !== "com.example..42.") throw new Error("Bench setup is wrong");
  Deno.bench({
    name: `MatchIndex.best() via wildcards with ${n} non-matching patterns per policy`,
    group: "best via wildcards",
    baseline: n === 10,
    fn() {
      wildcardOnly.best(URI);
    },
  });
  Deno.bench({
    name: `linear scan with ${n} non-matching patterns per policy`,
    group: "matches",
    fn() {
      linearMatches(patterns, URI);
    },
  });
}
