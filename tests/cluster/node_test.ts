/**
 * Cluster nodes over a real nats-server: they see each other, and one that
 * leaves or dies is reported down.
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import { ClusterNode } from "../../cluster/node.ts";
import { startNats } from "../_helpers/nats.ts";
import { until } from "../_helpers/router.ts";
import { withTwoNodes } from "./_cluster.ts";

const quiet = () => {};

Deno.test("cluster nodes see each other, and a node that closes is down at once", async () => {
  await withTwoNodes(async (a, b) => {
    deepEqual(a.nodes(), [a.id, b.id].sort());
    const down: string[] = [];
    a.onNodeDown((id) => down.push(id));
    await b.close();
    await until(() => down.length === 1, 1000);
    deepEqual(down, [b.id]);
    deepEqual(a.nodes(), [a.id]);
  });
});

Deno.test("a node not heard from within nodeTimeout is down", async () => {
  const nats = await startNats();
  const a = await ClusterNode.connect(
    { servers: [nats.url], heartbeat: 50, nodeTimeout: 300 },
    quiet,
  );
  // Publishes for the ghost (a node never receives its own publications: noEcho).
  const other = await ClusterNode.connect({ servers: [nats.url], heartbeat: 50 }, quiet);
  try {
    // A node that beats once and then falls silent, as a SIGKILLed process does.
    other.publish(a.subject("nodes", "hb", "ghost"), new Uint8Array([1]));
    await until(() => a.nodes().includes("ghost"), 1000);
    const down: string[] = [];
    a.onNodeDown((id) => down.push(id));
    const start = Date.now();
    await until(() => down.length === 1, 2000);
    ok(Date.now() - start >= 150, "not before the timeout");
    equal(down[0], "ghost");
  } finally {
    await a.close();
    await other.close();
    await nats.stop();
  }
});

Deno.test("cluster publish and subscribe carry bytes between nodes", async () => {
  const nats = await startNats();
  const a = await ClusterNode.connect({ servers: [nats.url] }, quiet);
  const b = await ClusterNode.connect({ servers: [nats.url] }, quiet);
  try {
    const got: string[] = [];
    b.subscribe(b.subject("t", "*"), (data, subject) => got.push(`${subject}:${data.length}`));
    await b.flush();
    a.publish(a.subject("t", "x"), new Uint8Array(3));
    await a.flush();
    await until(() => got.length === 1, 2000);
    deepEqual(got, ["clv.cloverleaf.t.x:3"]);
  } finally {
    await a.close();
    await b.close();
    await nats.stop();
  }
});

Deno.test("a node whose process stalls past the node timeout takes no node for down", async () => {
  await withTwoNodes(async (a, b) => {
    const down: string[] = [];
    a.onNodeDown((id) => down.push(id));
    b.onNodeDown((id) => down.push(id));
    const stop = Date.now() + 600; // both stall (one process): heartbeats wait in the socket
    while (Date.now() < stop) { /* busy */ }
    await new Promise((resolve) => setTimeout(resolve, 300));
    deepEqual(down, []);
    equal(a.nodes().length, 2);
  });
});
