/**
 * Answers that wait for JetStream: PUBLISHED for a retained publication
 * comes once the retained-events KV write is acknowledged, and
 * `wamp.session.add_testament` returns once the testament is in the
 * cluster's KV bucket. Each is shown both ways against a real nats-server:
 * the write is there when the answer arrives, and when the bucket is gone
 * (deleted behind the nodes' backs) the answer is an ERROR, not a success.
 */

import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import type { Event, Session } from "../../mod.ts";
import { keyToken } from "../../cluster/registrations.ts";
import { isUri, joinNode, sleep, startCluster } from "./_cluster.ts";

/** Runs `body` with a KV bucket of the cluster's NATS server. */
async function withBucket<T>(
  url: string,
  bucket: string,
  body: (kv: {
    keys(): Promise<AsyncIterable<string>>;
    get(key: string): Promise<{ value: Uint8Array } | null>;
    destroy(): Promise<boolean>;
  }) => Promise<T>,
): Promise<T> {
  const { connect } = await import("@nats-io/transport-node");
  const { Kvm } = await import("@nats-io/kv");
  const nc = await connect({ servers: [url] });
  try {
    return await body(await new Kvm(nc).open(bucket));
  } finally {
    await nc.close();
  }
}

async function keysOf(url: string, bucket: string): Promise<string[]> {
  return await withBucket(url, bucket, async (kv) => {
    const keys: string[] = [];
    for await (const key of await kv.keys()) keys.push(key);
    return keys.sort();
  });
}

Deno.test("cluster: PUBLISHED for a retained publication means the KV write is done; a failed write is an ERROR", async () => {
  await using c = await startCluster(2, "ackret");
  const [a] = c.nodes;
  const pub = await joinNode(a!, "msgpack");
  for (let i = 0; i < 20; i++) {
    await pub.publish(`com.example.r${i}`, { args: [i] }, { retain: true, acknowledge: true });
    // No waiting: the retained event is in the bucket when PUBLISHED arrives.
    const value = await withBucket(
      c.nats.url,
      "clv_ackret_retained",
      (kv) => kv.get(`${keyToken("realm1")}.${keyToken(`com.example.r${i}`)}.o`),
    );
    equal(value !== null && value.value.length > 0, true, `retained event ${i} is stored`);
  }
  // Not retained: PUBLISHED as before, nothing stored.
  await pub.publish("com.example.plain", { args: [0] }, { acknowledge: true });
  equal((await keysOf(c.nats.url, "clv_ackret_retained")).length, 20);
  // The bucket goes away: NATS still takes the publication, but the retained
  // event cannot be stored, so the publisher hears about it.
  await withBucket(c.nats.url, "clv_ackret_retained", (kv) => kv.destroy());
  await rejects(
    pub.publish("com.example.lost", { args: [1] }, { retain: true, acknowledge: true }),
    isUri("cloverleaf.error.cluster_unavailable"),
  );
  // A publication that is not retained does not need the bucket.
  await pub.publish("com.example.plain", { args: [2] }, { acknowledge: true });
  await pub.close();
});

Deno.test("cluster: add_testament returns once the testament is stored; a failed write is an ERROR and takes it back", async () => {
  await using c = await startCluster(2, "acktst");
  const [a, b] = c.nodes;
  const session: Session = await joinNode(a!, "cbor");
  const watcher = await joinNode(b!);
  const got: Event[] = [];
  await watcher.subscribe("com.example.will", (e) => {
    got.push(e);
  });
  await session.call("wamp.session.add_testament", { args: ["com.example.will", ["kept"]] });
  // No waiting: the key is there when the RESULT arrives.
  const keys = await keysOf(c.nats.url, "clv_acktst_testaments");
  equal(keys.length, 1);
  ok(keys[0]!.endsWith(`.${session.id}`), keys[0]);
  await withBucket(c.nats.url, "clv_acktst_testaments", (kv) => kv.destroy());
  await rejects(
    session.call("wamp.session.add_testament", { args: ["com.example.will", ["not kept"]] }),
    isUri("cloverleaf.error.cluster_unavailable"),
  );
  // The failed one was taken back: a normal leave fires only the first.
  await session.close();
  const deadline = Date.now() + 3000;
  while (got.length < 1 && Date.now() < deadline) await sleep(20);
  await sleep(200);
  deepEqual(got.map((e) => e.args[0]), ["kept"]);
  await watcher.close();
});
