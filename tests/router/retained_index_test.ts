/**
 * The retained events of a pattern are found through the sorted topics:
 * the same ones a look at every topic finds, for prefixes and wildcards,
 * with topics and patterns drawn at random (components that are prefixes
 * of each other, empty ones, non-ASCII code units).
 */

import { deepEqual } from "node:assert/strict";
import { RetainedEvents } from "../../router/core/broker/retained.ts";
import { SortedTopics } from "../../router/core/broker/sorted_topics.ts";
import { prefixMatch, wildcardMatch } from "../../wamp/mod.ts";
import type { Publication } from "../../router/core/broker/publication.ts";
import { sessionInfo } from "../_helpers/session_info.ts";

const PARTS = ["a", "ab", "b", "", "a.b", "\u00e9", "\ud83d\ude00", "z", "~"];

function random(seed: number): () => number {
  return () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
}

function uri(next: () => number, empty: boolean): string {
  const count = 1 + Math.floor(next() * 4);
  const parts: string[] = [];
  for (let i = 0; i < count; i++) {
    let part = PARTS[Math.floor(next() * PARTS.length)]!;
    if (!empty && part === "") part = "q";
    parts.push(part);
  }
  return parts.join(".");
}

Deno.test("SortedTopics.startingWith() finds what a look at every topic finds", () => {
  for (let seed = 1; seed <= 20; seed++) {
    const next = random(seed);
    const topics = new SortedTopics();
    const all = new Set<string>();
    for (let i = 0; i < 700; i++) {
      const topic = uri(next, false);
      if (!all.has(topic)) topics.add(topic), all.add(topic);
      if (i % 50 !== 0) continue;
      for (let q = 0; q < 20; q++) {
        const prefix = uri(next, true).slice(0, Math.floor(next() * 6));
        deepEqual(
          [...topics.startingWith(prefix)].sort(),
          [...all].filter((t) => t.startsWith(prefix)).sort(),
          `seed ${seed}, prefix ${JSON.stringify(prefix)}`,
        );
      }
    }
  }
});

Deno.test("RetainedEvents.for() a pattern: the events of every matching topic, found through the index", () => {
  const session = sessionInfo(7, ["subscriber"]);
  for (let seed = 1; seed <= 10; seed++) {
    const next = random(seed);
    const retained = new RetainedEvents();
    const all = new Set<string>();
    for (let i = 0; i < 600; i++) {
      const topic = uri(next, false);
      const pub = { id: i, topic, details: {}, excluded: undefined } as unknown as Publication;
      retained.retain(pub);
      all.add(topic);
      if (i % 60 !== 0) continue;
      for (let q = 0; q < 30; q++) {
        const match = next() < 0.5 ? "prefix" : "wildcard";
        const pattern = match === "prefix"
          ? uri(next, false).slice(0, 1 + Math.floor(next() * 5))
          : uri(next, true);
        const matches = match === "prefix" ? prefixMatch : wildcardMatch;
        deepEqual(
          retained.for(pattern, match, session).map((p) => p.topic).sort(),
          [...all].filter((t) => matches(pattern, t)).sort(),
          `seed ${seed}, ${match} ${JSON.stringify(pattern)}`,
        );
      }
    }
  }
});
