/** Realm limits in cluster mode, where a REGISTER is a claim of the shared table first. */

import { equal, ok } from "node:assert/strict";
import { realmOf } from "../../router/router.ts";
import { until } from "../_helpers/router.ts";
import { isUri, joinNode, sleep, startCluster } from "./_cluster.ts";

/** The registration heads ever written to the shared table, from now on. */
async function headsEverPut(
  url: string,
  bucket: string,
): Promise<{ seen: Set<string>; stop(): Promise<void> }> {
  const { connect } = await import("@nats-io/transport-node");
  const { Kvm } = await import("@nats-io/kv");
  const nc = await connect({ servers: [url] });
  const kv = await new Kvm(nc).open(bucket);
  const watcher = await kv.watch({ key: "*.*.*" });
  const seen = new Set<string>();
  const done = (async () => {
    for await (const e of watcher) if (e.operation === "PUT") seen.add(e.key);
  })();
  return {
    seen,
    async stop() {
      watcher.stop();
      await done;
      await nc.close();
    },
  };
}

Deno.test("the realm's registration limit counts REGISTERs still claiming the shared table", async () => {
  await using c = await startCluster(1, "lim", {
    limits: { registrations: 3, registrationsPerSession: 100 },
  });
  const node = c.nodes[0]!;
  const heads = await headsEverPut(c.nats.url, "clv_lim_registrations");
  const s = await joinNode(node);
  const outcomes = await Promise.allSettled(
    ["a", "b", "c", "d", "e", "f"].map((p) => s.register(`com.example.${p}`, () => ({}))),
  );
  equal(outcomes.filter((o) => o.status === "fulfilled").length, 3);
  for (const o of outcomes) {
    if (o.status === "rejected") ok(isUri("cloverleaf.error.limit_exceeded")(o.reason));
  }
  // Refused before claiming: the shared table (every node's view) never held more than 3.
  await sleep(200);
  equal(heads.seen.size, 3, [...heads.seen].join(", "));
  await heads.stop();
  await s.close();
  const dealer = realmOf(node.router, "realm1")!.dealer;
  await until(() => [...dealer.registrations()].length === 0, 5000, "s's registrations gone");
  // Claims of one new shared procedure count once: 1 + (rr, y) fits in 3.
  const t1 = await joinNode(node);
  const t2 = await joinNode(node);
  await t1.register("com.example.x", () => ({}));
  const more = await Promise.allSettled([
    t1.register("com.example.rr", () => ({}), { invoke: "roundrobin" }),
    t2.register("com.example.rr", () => ({}), { invoke: "roundrobin" }),
    t1.register("com.example.y", () => ({})),
  ]);
  equal(more.filter((o) => o.status === "fulfilled").length, 3, JSON.stringify(more));
  await t1.close();
  await t2.close();
});
