/**
 * A cluster over a nats-server whose `max_payload` is under a batch's
 * 64 KiB: a message over it is refused as a bigger one is over 1 MiB
 * (`payload_test.ts`), not lost with PUBLISHED answered or a CALL left
 * without an answer.
 */

import { equal } from "node:assert/strict";
import { connect } from "../../mod.ts";
import { startNats } from "../_helpers/nats.ts";
import { startRouter, type TestRouter, until, within } from "../_helpers/router.ts";
import { seen, TIMING } from "./_cluster.ts";

Deno.test("max_payload 16 KiB: a 20 kB CALL and acknowledged PUBLISH across nodes get ERROR cluster_unavailable", async () => {
  const nats = await startNats({ maxPayload: 16_384 });
  const nodes: TestRouter[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      nodes.push(await startRouter({ cluster: { servers: [nats.url], name: "sp", ...TIMING } }));
      await nodes[i]!.router.ready;
    }
    const [a, b] = nodes as [TestRouter, TestRouter];
    const peer = await connect(b.url, { realm: "realm1" });
    const events: number[] = [];
    await peer.subscribe("com.example.t", (e) => void events.push(String(e.args[0]).length));
    await peer.register("com.example.len", (args) => ({ args: [String(args[0]).length] }));
    await seen(a, "com.example.len", 1);
    const client = await connect(a.url, { realm: "realm1" });
    await client.publish("com.example.t", { args: ["x".repeat(100)] }, { acknowledge: true });
    await until(() => events.length === 1, 5000, "the small event");
    const big = "x".repeat(20_000);
    const refused = (p: Promise<unknown>) =>
      within(p.then(() => "answered", (e) => e.uri), 5000, "the answer");
    equal(
      await refused(client.publish("com.example.t", { args: [big] }, { acknowledge: true })),
      "cloverleaf.error.cluster_unavailable",
    );
    equal(
      await refused(client.call("com.example.len", { args: [big] })),
      "cloverleaf.error.cluster_unavailable",
    );
    equal((await client.call("com.example.len", { args: ["x".repeat(8000)] })).args[0], 8000);
    equal(events.length, 1);
    await client.close();
    await peer.close();
  } finally {
    for (const node of nodes) await node[Symbol.asyncDispose]();
    await nats.stop();
  }
});
