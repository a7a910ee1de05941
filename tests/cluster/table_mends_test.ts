/**
 * The shared registration table's edge cases, over a real nats-server:
 * heads emptied on two nodes at once, descriptions kept apart from the
 * head, resync by the mirror, and takeover marks judged by this node's
 * clock only.
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import { encode } from "@msgpack/msgpack";
import { keyToken } from "../../cluster/registrations.ts";
import { startNats } from "../_helpers/nats.ts";
import { until } from "../_helpers/router.ts";
import { tableHas, tableKeys } from "./_cluster.ts";
import { bucket, close, entry, type Member, members } from "./_table.ts";

const head = (procedure: string) => `${keyToken("r")}.exact.${keyToken(procedure)}`;

Deno.test("the last two callees of shared registrations leave on 2 nodes at once: no head is left", async () => {
  const nats = await startNats();
  const all = await members(nats.url, "empty", 2);
  try {
    const [a, b] = all as [Member, Member];
    const uris = Array.from({ length: 10 }, (_, i) => `com.shared${i}`);
    for (const [i, uri] of uris.entries()) {
      equal(
        await a.table.claim("r", uri, "exact", "roundrobin", entry(a.node.id, 2 * i + 1)),
        undefined,
      );
      equal(
        await b.table.claim("r", uri, "exact", "roundrobin", entry(b.node.id, 2 * i + 2)),
        undefined,
      );
    }
    await tableHas(nats, "empty", 30);
    await new Promise((resolve) => setTimeout(resolve, 100)); // both mirrors show both callees
    // Each node deletes its callee while its mirror still shows the other's.
    await Promise.all(uris.flatMap((uri, i) => [
      a.table.release("r", uri, "exact", a.node.id, 2 * i + 1),
      b.table.release("r", uri, "exact", b.node.id, 2 * i + 2),
    ]));
    await tableHas(nats, "empty", 0);
  } finally {
    await close(all);
    await nats.stop();
  }
});

Deno.test("wamp.reflect.define in a loop: the head is never written, writes coalesce, an old epoch's description counts not", async () => {
  const nats = await startNats();
  const all = await members(nats.url, "define", 2);
  const { nc, kv } = await bucket(nats, "define");
  try {
    const [a, b] = all as [Member, Member];
    equal(await a.table.claim("r", "com.d", "exact", "single", entry(a.node.id, 1)), undefined);
    const before = (await kv.get(head("com.d")))!.revision;
    await Promise.all(
      Array.from({ length: 100 }, (_, i) => a.table.define("r", "com.d", "exact", { n: i }, 1)),
    );
    equal((await kv.get(head("com.d")))!.revision, before, "the head is untouched");
    ok(a.table.descriptions.writes <= 3, `${a.table.descriptions.writes} writes for 100 defines`);
    await until(() => b.described.get("com.d")?.n === 99, 5000, "B sees the last description");
    // Gone and registered again: the old description is not the new registration's.
    await a.table.release("r", "com.d", "exact", a.node.id, 1);
    await tableHas(nats, "define", 0); // the description went with the head
    await kv.put(`${head("com.d")}.d`, encode(["gone-epoch", { stale: true }]));
    equal(await b.table.claim("r", "com.d", "exact", "single", entry(b.node.id, 2)), undefined);
    await until(() => b.described.has("com.d") && a.described.has("com.d"), 5000, "told");
    await new Promise((resolve) => setTimeout(resolve, 100));
    deepEqual([a.described.get("com.d"), b.described.get("com.d")], [undefined, undefined]);
    // A description left without its head (its removal missed it) is removed too.
    await kv.put(`${head("com.orphan")}.d`, encode(["e", { left: true }]));
    await b.table.release("r", "com.d", "exact", b.node.id, 2);
    await tableHas(nats, "define", 0);
  } finally {
    await nc.close();
    await close(all);
    await nats.stop();
  }
});

Deno.test("a node back from a partition re-asserts its callees from the mirror: no read of the table", async () => {
  const nats = await startNats();
  const all = await members(nats.url, "resync", 2);
  const { connect } = await import("@nats-io/transport-node");
  const spy = await connect({ servers: [nats.url] });
  try {
    const [s, l] = all as [Member, Member];
    for (let i = 1; i <= 20; i++) {
      equal(
        await l.table.claim("r", "com.rs", "exact", "roundrobin", entry(l.node.id, i)),
        undefined,
      );
    }
    await tableHas(nats, "resync", 21);
    const keys = `${head("com.rs")}.${l.node.id}.*`;
    const first = await bucket(nats, "resync");
    const before = await Promise.all(
      Array.from({ length: 20 }, (_, i) => first.kv.get(keys.replace("*", String(i + 1)))),
    );
    await first.nc.close();
    let reads = 0;
    spy.subscribe("$JS.API.DIRECT.GET.>", { callback: () => void reads++ });
    spy.subscribe("$JS.API.STREAM.MSG.GET.>", { callback: () => void reads++ });
    await spy.flush();
    // L took S for down (L is not the smallest: it removes nothing), and S is back.
    await l.table.releaseNode(s.node.id);
    await l.table.nodeUp(s.node.id);
    await spy.flush();
    equal(reads, 0, "no KV read");
    equal(l.table.own.restores, 0);
    const { nc, kv: after } = await bucket(nats, "resync");
    for (const [i, was] of before.entries()) {
      const now = await after.get(keys.replace("*", String(i + 1)));
      ok(now!.revision > was!.revision, "each callee written again");
    }
    await nc.close();
  } finally {
    await spy.close();
    await close(all);
    await nats.stop();
  }
});

Deno.test("a takeover mark from a node whose clock is an hour behind still holds for MARK_MS here", async () => {
  const nats = await startNats();
  const all = await members(nats.url, "skew", 2);
  const { nc, kv } = await bucket(nats, "skew");
  try {
    const [a, b] = all as [Member, Member];
    // A (live) marked the head; by B's wall clock the mark is an hour old.
    const next = { node: a.node.id, at: Date.now() - 3_600_000, invoke: "single" };
    await kv.put(head("com.m"), encode({ invoke: "single", epoch: "e1", next }));
    const started = performance.now();
    equal(await b.table.claim("r", "com.m", "exact", "single", entry(b.node.id, 1)), undefined);
    const waited = performance.now() - started;
    ok(waited >= 5500, `B undid a live mark after ${Math.round(waited)} ms`);
    deepEqual((await tableKeys(nats, "skew")).length, 2);
  } finally {
    await nc.close();
    await close(all);
    await nats.stop();
  }
});
