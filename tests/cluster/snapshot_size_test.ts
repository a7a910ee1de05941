/**
 * A node's snapshot of its sessions and subscriptions, sent to a node that
 * starts, goes in parts by encoded size: 300 prefix subscriptions of
 * 4000-character non-ASCII topics (about 2.4 MB) still reach a newcomer
 * over a nats-server with the default 1 MiB max_payload.
 */

import { equal, ok } from "node:assert/strict";
import { join, startRouter, within } from "../_helpers/router.ts";
import { startCluster, TIMING } from "./_cluster.ts";

Deno.test("a large snapshot reaches a newcomer, in parts under max_payload", async () => {
  await using c = await startCluster(1, "snap");
  const [a] = c.nodes;
  const many = await join(a!, "json");
  const long = "é".repeat(4000);
  for (let i = 0; i < 300; i++) {
    await many.subscribe(`com.x${i}.${long}`, () => {}, { match: "prefix" });
  }
  const victim = await join(a!, "json");
  await victim.subscribe("com.victim", () => {});
  await using newcomer = await startRouter({
    realms: [{ name: "realm1" }],
    cluster: { servers: [c.nats.url], name: "snap", ...TIMING },
  });
  await newcomer.router.ready;
  const q = await join(newcomer, "json");
  try {
    let found: unknown = null;
    let prefixes = 0;
    for (let i = 0; i < 50 && (found === null || prefixes < 300); i++) {
      found = (await q.call("wamp.subscription.lookup", { args: ["com.victim"] })).args[0];
      const list = (await q.call("wamp.subscription.list")).args[0] as { prefix: unknown[] };
      prefixes = list.prefix.length;
      if (found === null || prefixes < 300) await new Promise((r) => setTimeout(r, 100));
    }
    ok(typeof found === "number", "the newcomer knows the subscription to com.victim");
    equal(prefixes, 300, "and every prefix subscription");
    equal((await within(q.call("wamp.session.count"), 5000)).args[0], 3);
    equal(a!.logs.filter((l) => /cannot send session news/.test(l)).length, 0);
  } finally {
    for (const s of [many, victim, q]) await s.close().catch(() => {});
  }
});
