import { deepEqual, equal } from "node:assert/strict";
import { MatchIndex } from "../../router/core/match_index.ts";
import { type MatchPolicy, prefixMatch, wildcardMatch } from "../../wamp/mod.ts";

function sorted(values: Iterable<string>): string[] {
  return [...values].sort();
}

Deno.test("MatchIndex.get() returns the value stored for the exact (pattern, match) pair", async (t) => {
  const index = new MatchIndex<string>();
  index.set("com.a", "exact", "e");
  index.set("com.a", "prefix", "p");
  index.set("com.a", "wildcard", "w");
  index.set("com..b", "wildcard", "w2");

  await t.step("each policy is a distinct entry", () => {
    equal(index.size, 4);
    equal(index.get("com.a", "exact"), "e");
    equal(index.get("com.a", "prefix"), "p");
    equal(index.get("com.a", "wildcard"), "w");
    equal(index.get("com..b", "wildcard"), "w2");
  });

  await t.step("does not match", () => {
    equal(index.get("com.ab", "prefix"), undefined);
    equal(index.get("com.x.b", "wildcard"), undefined);
    equal(index.get("com.", "wildcard"), undefined);
    equal(index.get("com..b", "exact"), undefined);
  });

  await t.step("set() replaces without growing", () => {
    index.set("com.a", "prefix", "p2");
    index.set("com..b", "wildcard", "w3");
    equal(index.size, 4);
    equal(index.get("com.a", "prefix"), "p2");
    equal(index.get("com..b", "wildcard"), "w3");
  });

  await t.step("values() yields every value", () => {
    deepEqual(sorted(index.values()), ["e", "p2", "w", "w3"]);
  });

  await t.step("stores undefined as a value", () => {
    const maybe = new MatchIndex<string | undefined>();
    maybe.set("a", "exact", undefined);
    maybe.set("a", "prefix", undefined);
    maybe.set(".b", "wildcard", undefined);
    equal(maybe.size, 3);
    deepEqual(maybe.matches("a.b"), [undefined, undefined]);
    deepEqual(maybe.matches("x.b"), [undefined]);
  });
});

Deno.test("MatchIndex.matches() finds exact, prefix and wildcard entries", async (t) => {
  await t.step("exact", () => {
    const index = new MatchIndex<string>();
    index.set("com.myapp.topic", "exact", "t");
    deepEqual(index.matches("com.myapp.topic"), ["t"]);
    deepEqual(index.matches("com.myapp.topic2"), []);
    deepEqual(index.matches("com.myapp"), []);
  });

  await t.step("prefix is a string prefix", () => {
    const index = new MatchIndex<string>();
    index.set("com.myapp.a", "prefix", "a");
    index.set("com.myapp.", "prefix", "dot");
    deepEqual(index.matches("com.myapp.a-b"), ["a", "dot"]);
    deepEqual(index.matches("com.myapp.a"), ["a", "dot"]);
    deepEqual(index.matches("com.myapp.x"), ["dot"]);
    deepEqual(index.matches("com.myapp2"), []);
    deepEqual(index.matches("com.myapp"), []);
  });

  await t.step("the empty prefix matches everything", () => {
    const index = new MatchIndex<string>();
    index.set("", "prefix", "all");
    deepEqual(index.matches("com.x"), ["all"]);
    deepEqual(index.matches("x"), ["all"]);
    deepEqual(index.matches(""), ["all"]);
    equal(index.best("anything.at.all"), "all");
  });

  await t.step("wildcard matches one whole component per empty component", () => {
    const index = new MatchIndex<string>();
    index.set("com..update", "wildcard", "u");
    index.set("..update", "wildcard", "uu");
    index.set("com.user.", "wildcard", "trail");
    deepEqual(index.matches("com.user.update"), ["trail", "u", "uu"]);
    deepEqual(index.matches("org.user.update"), ["uu"]);
    deepEqual(index.matches("com.user.x.update"), []);
    deepEqual(index.matches("com.update"), []);
    deepEqual(index.matches("com.user.delete"), ["trail"]);
  });

  await t.step("order: exact, prefix (longest first), wildcard", () => {
    const index = new MatchIndex<string>();
    index.set("com..c", "wildcard", "w1");
    index.set("com.b.", "wildcard", "w2");
    index.set("co", "prefix", "p1");
    index.set("com.b", "prefix", "p2");
    index.set("com.b.c", "exact", "e");
    deepEqual(index.matches("com.b.c"), ["e", "p2", "p1", "w2", "w1"]);
    deepEqual(index.matches("com.x.c"), ["p1", "w1"]);
  });
});

Deno.test("MatchIndex.best() follows the spec's registration precedence", async (t) => {
  const index = new MatchIndex<string>();
  index.set("a1.b2.c33.d4.e5", "exact", "exact");
  index.set("a1.b2", "prefix", "short");
  index.set("a1.b2.c3", "prefix", "long");
  index.set("a1.b2.c33..e5", "wildcard", "w-c33");
  index.set("a1.b2..d4.e5", "wildcard", "w-d4");
  index.set("a1....", "wildcard", "w-a1");
  index.set(".b2...e5", "wildcard", "w-b2");

  await t.step("exact beats prefix and wildcard", () => {
    equal(index.best("a1.b2.c33.d4.e5"), "exact");
  });

  await t.step("the longest prefix beats shorter ones and wildcards", () => {
    index.delete("a1.b2.c33.d4.e5", "exact");
    equal(index.best("a1.b2.c33.d4.e5"), "long");
    equal(index.best("a1.b2.x"), "short");
  });

  await t.step("wildcards: literal components win position by position from the left", () => {
    index.delete("a1.b2.c3", "prefix");
    index.delete("a1.b2", "prefix");
    equal(index.best("a1.b2.c33.d4.e5"), "w-c33");
    index.delete("a1.b2.c33..e5", "wildcard");
    equal(index.best("a1.b2.c33.d4.e5"), "w-d4");
    index.delete("a1.b2..d4.e5", "wildcard");
    equal(index.best("a1.b2.c33.d4.e5"), "w-a1");
    index.delete("a1....", "wildcard");
    equal(index.best("a1.b2.c33.d4.e5"), "w-b2");
    equal(index.best("a1.b2.c33.d4"), undefined);
  });

  await t.step("the spec's example, inserted in either order", () => {
    for (const order of [[0, 1], [1, 0]]) {
      const both = new MatchIndex<string>();
      const patterns = ["a1.b2.c33..e5", "a1.b2..d4.e5"];
      for (const i of order) both.set(patterns[i]!, "wildcard", patterns[i]!);
      equal(both.best("a1.b2.c33.d4.e5"), "a1.b2.c33..e5");
      equal(both.matches("a1.b2.c33.d4.e5")[0], "a1.b2.c33..e5");
    }
  });

  await t.step("a longer literal run beats an earlier tie broken later", () => {
    const ties = new MatchIndex<string>();
    ties.set("a..c.", "wildcard", "a_c_");
    ties.set("a...d", "wildcard", "a__d");
    ties.set("a..c.d", "wildcard", "a_cd");
    equal(ties.best("a.b.c.d"), "a_cd");
    ties.delete("a..c.d", "wildcard");
    equal(ties.best("a.b.c.d"), "a_c_");
    equal(ties.best("a.b.x.d"), "a__d");
  });

  await t.step("undefined when nothing matches", () => {
    equal(new MatchIndex<string>().best("a"), undefined);
    equal(index.best("zzz"), undefined);
  });
});

Deno.test("MatchIndex.delete() removes entries and prunes", async (t) => {
  await t.step("returns whether there was an entry", () => {
    const index = new MatchIndex<number>();
    index.set("a", "exact", 1);
    index.set("a", "prefix", 2);
    index.set("a.", "wildcard", 3);
    equal(index.delete("a", "wildcard"), false);
    equal(index.delete("a.", "prefix"), false);
    equal(index.delete("a.", "wildcard"), true);
    equal(index.delete("a.", "wildcard"), false);
    equal(index.delete("a", "prefix"), true);
    equal(index.size, 1);
    deepEqual(index.matches("a"), [1]);
    equal(index.delete("a", "exact"), true);
    equal(index.size, 0);
    deepEqual([...index.values()], []);
  });

  await t.step("leaves no stale prefix matches when lengths are shared", () => {
    const index = new MatchIndex<string>();
    index.set("ab", "prefix", "ab");
    index.set("xy", "prefix", "xy");
    index.set("abc", "prefix", "abc");
    index.delete("ab", "prefix");
    deepEqual(index.matches("abcd"), ["abc"]);
    deepEqual(index.matches("xyz"), ["xy"]);
    index.delete("xy", "prefix");
    deepEqual(index.matches("xyz"), []);
    index.set("xy", "prefix", "xy2");
    deepEqual(index.matches("xyz"), ["xy2"]);
  });

  await t.step("pruning a wildcard branch keeps its siblings and ancestors", () => {
    const index = new MatchIndex<string>();
    index.set("a..c", "wildcard", "a_c");
    index.set("a..d", "wildcard", "a_d");
    index.set("a.", "wildcard", "a_");
    index.set("a.b.c", "wildcard", "abc");
    equal(index.delete("a..c", "wildcard"), true);
    deepEqual(index.matches("a.b.c"), ["abc"]);
    deepEqual(index.matches("a.x.d"), ["a_d"]);
    deepEqual(index.matches("a.x"), ["a_"]);
    equal(index.delete("a..", "wildcard"), false);
    equal(index.delete("a..d", "wildcard"), true);
    equal(index.delete("a.b.c", "wildcard"), true);
    deepEqual(index.matches("a.b.c"), []);
    deepEqual(index.matches("a.b"), ["a_"]);
    equal(index.delete("a.", "wildcard"), true);
    equal(index.size, 0);
    deepEqual(index.matches("a.b"), []);
    index.set("a..c", "wildcard", "again");
    deepEqual(index.matches("a.b.c"), ["again"]);
  });
});

/** mulberry32: a small seeded PRNG, so failures reproduce. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), seed | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const POLICIES: readonly MatchPolicy[] = ["exact", "prefix", "wildcard"];

function key(pattern: string, match: MatchPolicy): string {
  return `${match}:${pattern}`;
}

/** The reference: a linear scan with the spec's ranking. */
function bruteMatches(entries: Map<string, [string, MatchPolicy]>, uri: string): string[] {
  const out: string[] = [];
  for (const [k, [pattern, match]] of entries) {
    if (
      (match === "exact" && pattern === uri) ||
      (match === "prefix" && prefixMatch(pattern, uri)) ||
      (match === "wildcard" && wildcardMatch(pattern, uri))
    ) out.push(k);
  }
  return out;
}

/** Compares two matching wildcard patterns: negative when `a` ranks higher. */
function wildcardRank(a: string, b: string): number {
  const pa = a.split(".");
  const pb = b.split(".");
  for (let i = 0; i < pa.length; i++) {
    const la = pa[i] !== "";
    const lb = pb[i] !== "";
    if (la !== lb) return la ? -1 : 1;
  }
  return 0;
}

function bruteBest(entries: Map<string, [string, MatchPolicy]>, uri: string): string | undefined {
  const found = bruteMatches(entries, uri).map((k) => entries.get(k)!);
  const exact = found.find(([, m]) => m === "exact");
  if (exact) return key(...exact);
  const prefixes = found.filter(([, m]) => m === "prefix");
  if (prefixes.length > 0) {
    prefixes.sort(([a], [b]) => b.length - a.length);
    return key(...prefixes[0]!);
  }
  const wildcards = found.filter(([, m]) => m === "wildcard");
  wildcards.sort(([a], [b]) => wildcardRank(a, b));
  return wildcards.length > 0 ? key(...wildcards[0]!) : undefined;
}

function randomUri(random: () => number, allowEmpty: boolean): string {
  const alphabet = allowEmpty ? ["a", "b", "ab", ""] : ["a", "b", "ab"];
  const n = 1 + Math.floor(random() * 4);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(alphabet[Math.floor(random() * alphabet.length)]!);
  const uri = parts.join(".");
  // Prefix patterns: sometimes cut mid-component or keep a trailing dot.
  return allowEmpty && random() < 0.3 ? uri.slice(0, Math.floor(random() * (uri.length + 1))) : uri;
}

Deno.test("MatchIndex agrees with a linear scan over prefixMatch() and wildcardMatch()", () => {
  const random = prng(0xC10FE);
  const index = new MatchIndex<string>();
  const entries = new Map<string, [string, MatchPolicy]>();
  for (let round = 0; round < 3000; round++) {
    const match = POLICIES[Math.floor(random() * 3)]!;
    const pattern = randomUri(random, match !== "exact");
    const k = key(pattern, match);
    if (random() < 0.35) {
      equal(index.delete(pattern, match), entries.delete(k), `delete ${k}`);
    } else {
      index.set(pattern, match, k);
      entries.set(k, [pattern, match]);
    }
    equal(index.size, entries.size);
    for (let q = 0; q < 5; q++) {
      const uri = randomUri(random, false);
      const got = index.matches(uri);
      deepEqual(sorted(got), sorted(bruteMatches(entries, uri)), `matches ${uri}`);
      const best = index.best(uri);
      equal(best, bruteBest(entries, uri), `best ${uri}`);
      equal(best, got[0], `best ${uri} is first of matches`);
    }
  }
  deepEqual(sorted(index.values()), sorted(entries.keys()));
});

Deno.test("MatchIndex counts its wildcard trie's nodes: shared beginnings once, freed on delete", () => {
  const index = new MatchIndex<number>();
  index.set("a..c", "wildcard", 1);
  equal(index.wildcardNodes, 3);
  index.set("a..d", "wildcard", 2); // shares "a" and the wildcard
  equal(index.wildcardNodes, 4);
  index.set("a.b", "exact", 3);
  index.set("a", "prefix", 4);
  equal(index.wildcardNodes, 4, "other policies have no nodes");
  equal(index.wildcardFull("x.y.z", 6), true);
  equal(index.wildcardFull("x.y", 6), false);
  equal(index.wildcardFull("a..c", 4), false, "a pattern stored already adds nothing");
  index.delete("a..c", "wildcard");
  equal(index.wildcardNodes, 3);
  index.delete("a..d", "wildcard");
  equal(index.wildcardNodes, 0);
});

Deno.test("MatchIndex.wildcardNodes is the patterns' distinct beginnings, as runs split and merge", () => {
  const random = prng(0x51DE);
  const index = new MatchIndex<string>();
  const patterns = new Set<string>();
  for (let round = 0; round < 2000; round++) {
    const parts = Array.from(
      { length: 1 + Math.floor(random() * 6) },
      () => ["a", "b", ""][Math.floor(random() * 3)]!,
    );
    const pattern = parts.join(".");
    if (random() < 0.4) equal(index.delete(pattern, "wildcard"), patterns.delete(pattern));
    else {
      index.set(pattern, "wildcard", pattern);
      patterns.add(pattern);
    }
    const beginnings = new Set<string>();
    for (const p of patterns) {
      const ps = p.split(".");
      for (let i = 1; i <= ps.length; i++) beginnings.add(ps.slice(0, i).join("."));
    }
    equal(index.wildcardNodes, beginnings.size, `after ${round} changes`);
    for (const p of patterns) equal(index.get(p, "wildcard"), p);
  }
});
