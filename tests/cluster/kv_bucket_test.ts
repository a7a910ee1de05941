/**
 * Every node creates the cluster's KV buckets at start; creations at the
 * same moment must all end with the bucket (a worker of `--workers` failed
 * to start on "subjects overlap with an existing stream").
 */

import { equal } from "node:assert/strict";
import { kvBucket } from "../../cluster/kv_bucket.ts";
import { withTwoNodes } from "./_cluster.ts";

Deno.test("kvBucket(): nodes creating one bucket at the same moment all get it", async () => {
  await withTwoNodes(async (a, b) => {
    for (let round = 0; round < 20; round++) {
      const name = `clv_race_${round}`;
      const buckets = await Promise.all(
        [a, b, a, b].map((node) => kvBucket(node, name, { history: 1, ttl: 5000 })),
      );
      await buckets[0]!.put("k", new TextEncoder().encode(String(round)));
      const entry = await buckets[1]!.get("k");
      equal(new TextDecoder().decode(entry?.value), String(round));
    }
  });
});
