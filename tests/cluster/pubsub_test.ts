/**
 * PubSub across the nodes of a cluster: our client over WebSocket (json,
 * msgpack, cbor) subscribes on one node and publishes on another, through
 * a real nats-server. Absence of an event is checked by publishing a
 * sentinel afterwards: events from one publisher arrive in order.
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import type { Event, Session } from "../../mod.ts";
import { clusterPubSubOf } from "../../router/router.ts";
import { join, until, type Via } from "../_helpers/router.ts";
import { startCluster } from "./_cluster.ts";

const VIAS: readonly Via[] = ["json", "msgpack", "cbor"];

async function collect(
  s: Session,
  topic: string,
  options: Record<string, unknown> = {},
): Promise<Event[]> {
  const got: Event[] = [];
  await s.subscribe(topic, (e) => {
    got.push(e);
  }, options);
  return got;
}

async function flush(pub: Session, topic: string, inboxes: Event[][]): Promise<void> {
  await pub.publish(topic, { args: ["sentinel"] }, { acknowledge: true });
  await until(
    () => inboxes.every((got) => got.some((e) => e.args[0] === "sentinel")),
    5000,
    "the sentinel",
  );
}

const argsOf = (got: Event[]) => got.map((e) => e.args[0]).filter((a) => a !== "sentinel");

for (const via of VIAS) {
  const test = (name: string, fn: () => Promise<void>) =>
    Deno.test(`[${via}] cluster: ${name}`, fn);

  test("exact, prefix and wildcard subscriptions on B receive what A publishes", async () => {
    await using c = await startCluster(2);
    const [a, b] = c.nodes;
    const sub = await join(b!, via);
    const pub = await join(a!, via);
    const exact = await collect(sub, "com.myapp.a.b");
    const prefix = await collect(sub, "com.myapp", { match: "prefix" });
    const wild = await collect(sub, "com.myapp..b", { match: "wildcard" });
    const publication = await pub.publish("com.myapp.a.b", { args: ["hit"], kwargs: { k: 1 } }, {
      acknowledge: true,
    });
    await pub.publish("com.myapp.x.c", { args: ["prefix only"] });
    await pub.publish("com.myappx.y", { args: ["prefix by string"] });
    await pub.publish("com.other", { args: ["nobody"] });
    await flush(pub, "com.myapp.z.b", [prefix, wild]);
    deepEqual(argsOf(exact), ["hit"]);
    deepEqual(argsOf(prefix), ["hit", "prefix only", "prefix by string"]);
    deepEqual(argsOf(wild), ["hit"]);
    for (const got of [exact, prefix, wild]) equal(got[0]!.publication, publication);
    deepEqual(exact[0]!.kwargs, { k: 1 });
    equal(exact[0]!.details.topic, undefined);
    equal(prefix[1]!.topic, "com.myapp.x.c");
    equal(wild[0]!.topic, "com.myapp.a.b");
    // Three subscriptions, two NATS subjects overlapping: one delivery each.
    equal(clusterPubSubOf(b!.router)!.stats.received, 5); // com.other too: "com.>"
    equal(clusterPubSubOf(b!.router)!.stats.duplicates, 3);
    await Promise.all([sub.close(), pub.close()]);
  });
}
