/**
 * A `single` registration taken over while its node was taken for down:
 * the node that lost it revokes its callee (UNREGISTERED with a reason),
 * so every node is left with one holder, the one in the table. Two routers,
 * a real nats-server.
 */

import { deepEqual, equal } from "node:assert/strict";
import { LOST_REASON } from "../../cluster/own_callees.ts";
import { clusterOf, realmOf } from "../../router/router.ts";
import { until } from "../_helpers/router.ts";
import { joinNode, startCluster, tableHas } from "./_cluster.ts";

Deno.test("a single registration taken over during a partition: the node back revokes its callee, one holder everywhere", async () => {
  await using c = await startCluster(2, "partition");
  const [s, l] = [...c.nodes].sort((x, y) =>
    clusterOf(x.router)!.node.id < clusterOf(y.router)!.node.id ? -1 : 1
  );
  const [onS, onL] = [clusterOf(s!.router)!, clusterOf(l!.router)!];
  const reasons: string[] = [];
  const first = await joinNode(l!, "msgpack");
  const reg = await first.register("com.example.one", () => ({ args: ["first"] }), {
    onRevoked: (reason) => reasons.push(reason ?? ""),
  });
  const dealerOf = (node: typeof s) => realmOf(node!.router, "realm1")!.dealer;
  await until(() => dealerOf(s)?.lookup("com.example.one") !== undefined, 5000, "S sees it");
  // S takes L for down (a partition): it removes L's callee, and a callee on S takes the URI.
  await onS.registrations!.releaseNode(onL.node.id);
  let most = 0; // L's holders of the single registration, at most, meanwhile
  const watch = setInterval(() => {
    most = Math.max(most, dealerOf(l)!.lookup("com.example.one")?.callees.length ?? 0);
  }, 1);
  const second = await joinNode(s!, "cbor");
  await second.register("com.example.one", () => ({ args: ["second"] }));
  // L hears of it: its callee is revoked, the table's holder counts on L too.
  await until(() => reasons.length === 1, 5000, "L's callee is revoked");
  await until(() => dealerOf(l)!.lookup("com.example.one")?.callees.length === 1, 5000, "c2");
  clearInterval(watch);
  equal(most, 1, "L never had two holders");
  deepEqual(reasons, [LOST_REASON]);
  equal(reg.active, false);
  await onS.registrations!.nodeUp(onL.node.id); // the partition heals
  for (const node of [s, l]) {
    await until(
      () => dealerOf(node)!.lookup("com.example.one")?.callees.join() === String(second.id),
      5000,
      "one holder, on S",
    );
  }
  for (const node of [s, l]) {
    const caller = await joinNode(node!);
    deepEqual((await caller.call("com.example.one")).args, ["second"]);
    await caller.close();
  }
  await tableHas(c.nats, "partition", 2); // the head and S's callee
  await first.close();
  await second.close();
  await tableHas(c.nats, "partition", 0);
});
