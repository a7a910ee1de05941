/**
 * Every node creates the cluster's KV buckets at start; creations at the
 * same moment must all end with the bucket (a worker of `--workers` failed
 * to start on "subjects overlap with an existing stream").
 */

import { equal, rejects } from "node:assert/strict";
import process from "node:process";
import { ClusterNode } from "../../cluster/node.ts";
import { kvBucket } from "../../cluster/kv_bucket.ts";
import { startNats } from "../_helpers/nats.ts";
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

/** Timers running (`setTimeout`, `setInterval`: Deno's and nats.js's alike). */
const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;

Deno.test("kvBucket(): a listing whose consumer would start as its node closes leaves no timer running", async () => {
  const before = timers();
  const nats = await startNats();
  const node = await ClusterNode.connect({ servers: [nats.url] }, () => {});
  try {
    const kv = await kvBucket(node, "clv_closing", { history: 1 });
    await kv.put("k", new TextEncoder().encode("v"));
    // The listing's consumer is made and described; it starts once the connection drains.
    type Request = (subject: string, ...rest: unknown[]) => Promise<unknown>;
    const nc = node.connection as { request: Request };
    const request = nc.request.bind(nc);
    const described = Promise.withResolvers<void>();
    const draining = Promise.withResolvers<void>();
    nc.request = async (subject, ...rest) => {
      const answer = await request(subject, ...rest);
      if (subject.startsWith("$JS.API.CONSUMER.INFO.")) {
        described.resolve();
        await draining.promise;
      }
      return answer;
    };
    const listing = kv.keys(">");
    await described.promise;
    const closed = node.close(); // drains at once
    draining.resolve();
    await rejects(listing); // refused: the connection drains
    await closed;
  } finally {
    await nats.stop();
  }
  // nats.js armed the consumer's heartbeat timer, then its subscription was refused: the timer
  // ran for good (every 5 s), and kept the process from exiting.
  equal(timers(), before);
});
