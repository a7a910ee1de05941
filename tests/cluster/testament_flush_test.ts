/**
 * `wamp.session.flush_testaments` in a cluster: each call used to queue its
 * own JetStream write of the session's testaments (60 KB here), without
 * bound. Now a session has at most one write in flight and one latest
 * state waiting, every merged caller answered once the write lands: 500
 * calls make a handful of writes, and the store holds the latest state.
 */

import { decode } from "@msgpack/msgpack";
import { equal, ok } from "node:assert/strict";
import { join, within } from "../_helpers/router.ts";
import { startCluster } from "./_cluster.ts";

Deno.test("flush_testaments calls merge their writes to the cluster's store", async () => {
  await using c = await startCluster(2, "flush");
  const [a] = c.nodes;
  const s = await join(a!, "json");
  try {
    await s.call("wamp.session.add_testament", {
      args: ["com.will", ["x".repeat(60_000)], {}],
      kwargs: { scope: "detached" },
    });
    const calls = Array.from(
      { length: 500 },
      () => s.call("wamp.session.flush_testaments", { kwargs: { scope: "destroyed" } }),
    );
    await within(Promise.all(calls), 20_000, "every flush answered");
    await s.call("wamp.session.add_testament", {
      args: ["com.will2", [1], {}],
      kwargs: { scope: "destroyed" },
    });

    const { connect } = await import("@nats-io/transport-node");
    const { Kvm } = await import("@nats-io/kv");
    const nc = await connect({ servers: [c.nats.url] });
    try {
      const kv = await new Kvm(nc).open("clv_flush_testaments");
      const status = await kv.status();
      const writes = status.streamInfo.state.last_seq;
      ok(writes <= 12, `500 flushes made ${writes} writes (at most 1 in flight + 1 waiting)`);
      const keys: string[] = [];
      for await (const key of await kv.keys()) keys.push(key);
      equal(keys.length, 1);
      const [, testaments] = decode((await kv.get(keys[0]!))!.value) as [
        unknown,
        { topic: string }[],
      ];
      equal(testaments.map((t) => t.topic).join(), "com.will,com.will2", "the latest state");
    } finally {
      await nc.close();
    }
  } finally {
    await s.close().catch(() => {});
  }
});
