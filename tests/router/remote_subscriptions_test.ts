/**
 * The other nodes' subscriptions (cluster mode), as the subscription meta
 * API sees them: matching through the core's MatchIndex agrees with the
 * URI rules of `wamp/uri.ts`, whatever nodes hold them.
 */

import { deepEqual } from "node:assert/strict";
import { RemoteSubscriptions } from "../../router/core/meta/remote_subscriptions.ts";
import { type MatchPolicy, prefixMatch, wildcardMatch } from "../../wamp/mod.ts";

const created = "2026-01-01T00:00:00.000Z";

function matches(topic: string, pattern: string, match: MatchPolicy): boolean {
  return match === "exact"
    ? topic === pattern
    : match === "prefix"
    ? prefixMatch(pattern, topic)
    : wildcardMatch(pattern, topic);
}

Deno.test("remote subscriptions: matching agrees with the URI rules, across nodes, after removals", () => {
  const remote = new RemoteSubscriptions();
  const patterns: [string, MatchPolicy][] = [
    ["com.a", "exact"],
    ["com.a", "prefix"],
    ["com.a.b", "exact"],
    ["com.", "prefix"],
    ["com.a-b", "prefix"],
    ["com..b", "wildcard"],
    ["com.a.", "wildcard"],
    ["", "prefix"],
    ["org.x", "exact"],
  ];
  let id = 0;
  for (const node of ["n1", "n2"]) {
    for (const [topic, match] of patterns) {
      remote.change(node, { id: ++id, topic, match, created, subscribers: [] }, 7, true);
    }
  }
  const topics = ["com.a", "com.a.b", "com.a-b", "com.ab", "com.x.b", "org.x", "net.y", "com"];
  const check = () => {
    for (const topic of topics) {
      const want = [...remote.values()].filter((s) => matches(topic, s.topic, s.match))
        .map((s) => s.id).sort((a, b) => a - b);
      const got = remote.matching(topic).map((s) => s.id).sort((a, b) => a - b);
      deepEqual(got, want, topic);
    }
  };
  check();
  deepEqual(remote.matching("com.a.b").length, 2 * 6);
  deepEqual(remote.of("com.a", "prefix").map((s) => s.node).sort(), ["n1", "n2"]);
  // n1's last subscriber of each leaves; then n2 goes down.
  for (let i = 1; i <= patterns.length; i++) {
    const [topic, match] = patterns[i - 1]!;
    remote.change("n1", { id: i, topic, match, created, subscribers: [] }, 7, false);
  }
  check();
  deepEqual(remote.of("com.a", "prefix").map((s) => s.node), ["n2"]);
  deepEqual(remote.dropNode("n2").length, patterns.length);
  deepEqual(remote.matching("com.a.b"), []);
  deepEqual(remote.of("com.a", "prefix"), []);
});
