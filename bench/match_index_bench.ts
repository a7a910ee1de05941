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

/**
 * The worst a subscriber can make one URI cost within the default limits
 * (10,000 pattern subscriptions, 100,000 wildcard components): patterns
 * that match the URI in every component but the last, differing in which
 * of the others are empty, so that a lookup must follow each of them.
 */
function nearlyMatching(length: number, count: number, spread: "low bits" | "random"): string[] {
  const parts = Array.from({ length }, (_, i) => `c${String(i).padStart(2, "0")}`);
  let seed = 1;
  const random = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const out: string[] = [];
  for (let k = 0; k < count; k++) {
    const pattern = parts.slice();
    for (let i = 0; i < length - 1; i++) {
      if (spread === "random" ? random() < 0.5 : i < 14 && (k >> i) & 1) pattern[i] = "";
    }
    pattern[length - 1] = `x${k}`;
    out.push(pattern.join("."));
  }
  return out;
}

for (
  const [length, count, spread] of [[18, 10_000, "low bits"], [64, 1_500, "random"]] as const
) {
  const index = new MatchIndex<string>();
  for (const pattern of nearlyMatching(length, count, spread)) {
    if (index.wildcardFull(pattern, 100_000)) throw new Error("Bench setup is wrong");
    index.set(pattern, "wildcard", pattern);
  }
  const uri = Array.from({ length }, (_, i) => `c${String(i).padStart(2, "0")}`).join(".");
  if (index.matches(uri).length !== 0) throw new Error("Bench setup is wrong");
  Deno.bench({
    name:
      `MatchIndex.matches() with ${count} wildcard patterns of ${length} components that nearly match`,
    group: "adversarial",
    fn() {
      index.matches(uri);
    },
  });
}
