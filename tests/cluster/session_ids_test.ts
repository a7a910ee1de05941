/**
 * Session IDs unique across a cluster: each node leases its own slot in
 * JetStream KV, and its IDs are `slot × 2^37 + a permutation of a counter`.
 */

import { deepEqual, equal, notEqual, ok } from "node:assert/strict";
import { ClusterNode } from "../../cluster/node.ts";
import { clusterIds, leaseSlot, SLOT_SIZE, type SlotBucket } from "../../cluster/session_ids.ts";
import { isId } from "../../wamp/mod.ts";
import { startNats } from "../_helpers/nats.ts";
import { join } from "../_helpers/router.ts";
import { startCluster } from "./_cluster.ts";

const quiet = () => {};

Deno.test("cluster IDs: a taken slot is never leased twice, a closed one is free again", async () => {
  const nats = await startNats();
  const [a, b] = [
    await ClusterNode.connect({ servers: [nats.url] }, quiet),
    await ClusterNode.connect({ servers: [nats.url] }, quiet),
  ];
  try {
    const first = await clusterIds(a, quiet, { prefer: 7 });
    equal(first.slot, 7);
    const second = await clusterIds(b, quiet, { prefer: 7 });
    notEqual(second.slot, 7);
    const ids = new Set<number>();
    for (let i = 0; i < 5000; i++) {
      for (const source of [first, second]) {
        const id = source.next();
        ok(isId(id));
        equal(Math.floor(id / SLOT_SIZE), source.slot);
        ids.add(id);
      }
    }
    equal(ids.size, 10_000);
    await first.close();
    const third = await clusterIds(a, quiet, { prefer: 7 });
    equal(third.slot, 7);
    await Promise.all([second.close(), third.close()]);
  } finally {
    await a.close();
    await b.close();
    await nats.stop();
  }
});

Deno.test("cluster IDs: sessions on different nodes have IDs from different slots", async () => {
  await using c = await startCluster(3, "test");
  const slots = await Promise.all(c.nodes.map(async (t) => {
    const sessions = await Promise.all([0, 1, 2].map(() => join(t, "json")));
    const mine = new Set(sessions.map((s) => Math.floor(s.id / SLOT_SIZE)));
    equal(mine.size, 1);
    const publication = await sessions[0]!.publish("com.example.id", {}, { acknowledge: true });
    equal(Math.floor(publication! / SLOT_SIZE), [...mine][0]);
    await Promise.all(sessions.map((s) => s.close()));
    return [...mine][0]!;
  }));
  equal(new Set(slots).size, 3);
});

Deno.test("a slot's renewal still in flight when the next is due makes it wait: no second slot is claimed", async () => {
  let inFlight = 0;
  let most = 0;
  const created: string[] = [];
  let revision = 1;
  const bucket: SlotBucket = {
    create: (key) => {
      created.push(key);
      return Promise.resolve(revision);
    },
    update: async (_key, _data, version) => {
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, 200)); // NATS slow
      inFlight--;
      if (version !== revision) throw new Error("wrong last sequence");
      return ++revision;
    },
    delete: () => Promise.resolve(),
  };
  const warnings: string[] = [];
  const lease = await leaseSlot(bucket, "node", 150, (_level, text) => warnings.push(text), 7);
  await new Promise((resolve) => setTimeout(resolve, 700)); // renewals due every 50 ms
  await lease.close();
  equal(most, 1, "one renewal at a time");
  deepEqual(created, ["7"], "the slot was never lost");
  deepEqual(warnings, []);
  equal(lease.slot, 7);
});
