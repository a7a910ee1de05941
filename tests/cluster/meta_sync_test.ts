/**
 * The session meta API's snapshots between nodes: a node that joins gets
 * each other node's sessions once, not twice (once for a broadcast ask and
 * again when it first hears that node).
 */

import { equal } from "node:assert/strict";
import { decode } from "@msgpack/msgpack";
import { unbatch } from "../../cluster/batch.ts";
import { clusterNodeOf } from "../../router/router.ts";
import { startRouter } from "../_helpers/router.ts";
import { joinNode, sleep, startCluster, TIMING } from "./_cluster.ts";

Deno.test("a joining node asks each node for its sessions once", async () => {
  await using c = await startCluster(2, "snap");
  const [a, b] = c.nodes;
  const onA = await joinNode(a!);
  const onB = await joinNode(b!);
  const { connect } = await import("@nats-io/transport-node");
  const nc = await connect({ servers: [c.nats.url] });
  /** Snapshots (first parts) seen, as `from>to`. */
  const snapshots: string[] = [];
  nc.subscribe("clv.snap.node.*.meta", {
    callback: (_e, msg) => {
      const to = msg.subject.split(".")[3];
      for (const one of unbatch(msg.data)) {
        const e = decode(one) as { k: string; node?: string; first?: boolean };
        if (e.k === "snapshot" && e.first === true) snapshots.push(`${e.node}>${to}`);
      }
    },
  });
  await nc.flush();
  await using n = await startRouter({
    realms: [{ name: "realm1" }],
    cluster: { servers: [c.nats.url], name: "snap", ...TIMING },
  });
  await n.router.ready;
  const id = (r: typeof a) => clusterNodeOf(r!.router)!.id;
  const onN = await joinNode(n);
  const deadline = Date.now() + 5000;
  while ((await onN.call("wamp.session.count")).args[0] !== 3) {
    if (Date.now() > deadline) throw new Error("the new node does not see every session");
    await sleep(20);
  }
  await sleep(5 * TIMING.heartbeat);
  for (const from of [a, b]) {
    equal(snapshots.filter((s) => s === `${id(from)}>${id(n)}`).length, 1, snapshots.join(" "));
  }
  await nc.close();
  await onN.close();
  await onA.close();
  await onB.close();
});
