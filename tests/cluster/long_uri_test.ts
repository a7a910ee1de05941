/**
 * URIs up to the router's limit (4096 characters) in every cluster role:
 * each NATS subject and KV key built from one stays short, so no node's
 * line passes nats-server's `max_control_line` (4096 here: the test
 * server's default) and the node stays on NATS. Two long topics that share
 * their first components (one hashed subject) still reach only their own
 * subscribers: the broker compares the full URI.
 */

import { deepEqual, equal } from "node:assert/strict";
import type { Event, Session } from "../../mod.ts";
import type { MatchPolicy } from "../../wamp/mod.ts";
import { join, until, within } from "../_helpers/router.ts";
import { startCluster } from "./_cluster.ts";

const LONG = "com." + "a".repeat(4080);
const WIDE = "com." + "é".repeat(1300); // escaped: 3 bytes each, 3 characters a byte
const DEEP = Array.from({ length: 40 }, (_, i) => `c${i}`).join(".");

async function inbox(s: Session, topic: string, match?: MatchPolicy): Promise<Event[]> {
  const got: Event[] = [];
  await s.subscribe(topic, (e) => void got.push(e), match ? { match } : {});
  return got;
}

Deno.test("long URIs across the cluster keep every node on NATS", async () => {
  await using c = await startCluster(2, "long");
  const [a, b] = c.nodes;
  const onA = await join(a!, "json");
  const onB = await join(b!, "json");
  try {
    const ok = await inbox(onA, "com.ok");
    const long = await inbox(onB, LONG);
    const wide = await inbox(onB, WIDE);
    const deep = await inbox(onB, `${DEEP}.x`);
    const deepOther = await inbox(onB, `${DEEP}.y`);
    const prefix = await inbox(onB, `${DEEP}.`, "prefix");
    const wildcard = await inbox(onB, `com.${"a".repeat(200)}..z`, "wildcard");
    await onB.register(LONG, () => ({ args: ["long"] }));
    await onB.register(WIDE, () => ({ args: ["wide"] }));
    await onB.publish(LONG, { args: ["kept"] }, { acknowledge: true, retain: true });
    const sentinel = await inbox(onB, "com.sentinel");

    await onA.publish(LONG, { args: [1] }, { acknowledge: true });
    await onA.publish(WIDE, { args: [2] }, { acknowledge: true });
    await onA.publish(`${DEEP}.x`, { args: [3] }, { acknowledge: true });
    await onA.publish(`com.${"a".repeat(200)}.${"q".repeat(300)}.z`, { args: [4] }, {
      acknowledge: true,
    });
    await onA.publish("com.sentinel", { args: [] }, { acknowledge: true });
    await until(() => sentinel.length === 1, 5000, "the sentinel");
    await until(() => long.length + wide.length + deep.length + wildcard.length === 4, 3000, "all");
    deepEqual([long, wide, deep, wildcard].map((got) => got[0]?.args[0]), [1, 2, 3, 4]);
    equal(deepOther.length, 0, "a topic sharing the hashed subject is not delivered");
    equal(prefix.length, 1, "a prefix subscription past 16 components gets the deep topic");

    equal((await within(onA.call(LONG), 5000, "long call")).args[0], "long");
    equal((await within(onA.call(WIDE), 5000, "wide call")).args[0], "wide");
    const retained: Event[] = [];
    await onA.subscribe(LONG, (e) => void retained.push(e), { get_retained: true });
    await until(() => retained.some((e) => e.args[0] === "kept"), 3000, "the retained event");

    // Both nodes still exchange plain traffic both ways.
    await onB.publish("com.ok", { args: ["after"] }, { acknowledge: true });
    await until(() => ok.length === 1, 3000, "an event from b after the long URIs");
    const back = await inbox(onB, "com.back");
    await onA.publish("com.back", { args: [] }, { acknowledge: true });
    await until(() => back.length === 1, 3000, "an event from a after the long URIs");
    for (const node of [a!, b!]) {
      const lost = node.logs.filter((l) => /disconnect|reconnect|max_control_line/i.test(l));
      deepEqual(lost, [], "no node lost NATS");
    }
  } finally {
    await onA.close().catch(() => {});
    await onB.close().catch(() => {});
  }
});
