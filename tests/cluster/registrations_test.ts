/**
 * The shared registration table over a real nats-server, without routers:
 * one key per callee (a shared registration of thousands of callees, each
 * change O(1)), and a dead node's callees removed by one survivor only,
 * with a takeover when that one dies too.
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import { startNats } from "../_helpers/nats.ts";
import { type TestRouter, until } from "../_helpers/router.ts";
import { connectLocal } from "../../mod.ts";
import { seen, startCluster, tableHas, tableKeys } from "./_cluster.ts";
import { close, entry, type Member, members } from "./_table.ts";

Deno.test("2000 callees join one shared registration from 2 nodes at once, one key each", async () => {
  const nats = await startNats();
  const all = await members(nats.url, "scale", 2);
  try {
    const [a, b] = all as [Member, Member];
    const started = Date.now();
    const claims = all.flatMap((m, i) =>
      Array.from(
        { length: 1000 },
        (_, j) =>
          m.table.claim("r", "com.big", "exact", "roundrobin", entry(m.node.id, i * 1000 + j + 1)),
      )
    );
    const results = await Promise.all(claims);
    const ms = Date.now() - started;
    equal(results.filter((r) => r !== undefined).length, 0, "every claim is in");
    await until(() => a.seen.get("com.big")?.length === 2000, 20_000, "A sees 2000 callees");
    await until(() => b.seen.get("com.big")?.length === 2000, 20_000, "B sees 2000 callees");
    equal((await tableKeys(nats, "scale")).length, 2001, "a head and one key per callee");
    ok(ms < 30_000, `2000 claims took ${ms} ms`);
    // procedure_already_exists holds: another policy, or single, is refused.
    ok(await a.table.claim("r", "com.big", "exact", "single", entry(a.node.id, 5000)));
    ok(await b.table.claim("r", "com.big", "exact", "random", entry(b.node.id, 5001)));
    // A's callees leave: B sees B's 1000 left; the last one out removes the head.
    await Promise.all(
      Array.from(
        { length: 1000 },
        (_, j) => a.table.release("r", "com.big", "exact", a.node.id, j + 1),
      ),
    );
    await until(() => b.seen.get("com.big")?.length === 1000, 20_000, "B sees 1000 callees");
    await Promise.all(
      Array.from(
        { length: 1000 },
        (_, j) => b.table.release("r", "com.big", "exact", b.node.id, 1001 + j),
      ),
    );
    await until(() => a.seen.get("com.big")?.length === 0, 20_000, "A sees it gone");
    await tableHas(nats, "scale", 0);
    // Gone, the procedure takes any policy again.
    equal(
      await b.table.claim("r", "com.big", "exact", "single", entry(b.node.id, 6000)),
      undefined,
    );
  } finally {
    await close(all);
    await nats.stop();
  }
});

Deno.test("racing REGISTERs with different policies on an empty procedure: exactly one policy wins", async () => {
  const nats = await startNats();
  const all = await members(nats.url, "race", 2);
  try {
    const [a, b] = all as [Member, Member];
    for (let round = 0; round < 5; round++) {
      const uri = `com.race${round}`;
      const results = await Promise.all([
        a.table.claim("r", uri, "exact", "single", entry(a.node.id, round * 10 + 1)),
        b.table.claim("r", uri, "exact", "roundrobin", entry(b.node.id, round * 10 + 2)),
        b.table.claim("r", uri, "exact", "roundrobin", entry(b.node.id, round * 10 + 3)),
      ]);
      const winners = results.map((r) => r === undefined);
      ok(
        deepEqualBool(winners, [true, false, false]) || deepEqualBool(winners, [false, true, true]),
        `round ${round}: ${JSON.stringify(results)}`,
      );
      const n = winners[0] ? 1 : 2;
      await until(() => a.seen.get(uri)?.length === n, 5000, `${uri} with ${n} callees`);
    }
  } finally {
    await close(all);
    await nats.stop();
  }
});

function deepEqualBool(x: boolean[], y: boolean[]): boolean {
  try {
    deepEqual(x, y);
    return true;
  } catch {
    return false;
  }
}

Deno.test("a dead node's callees are removed by the smallest survivor only, and by the next when it dies too", async () => {
  const nats = await startNats();
  const all = await members(nats.url, "clean", 4);
  try {
    const [s1, s2, s3, x] = all as [Member, Member, Member, Member];
    // The largest node holds 50 callees and dies: only s1 removes them.
    for (let i = 1; i <= 50; i++) {
      equal(
        await x.table.claim("r", "com.x", "exact", "roundrobin", entry(x.node.id, i)),
        undefined,
      );
    }
    await until(() => s3.seen.get("com.x")?.length === 50, 5000, "s3 sees x's callees");
    x.table.close();
    await x.node.close(500);
    await tableHas(nats, "clean", 0);
    deepEqual([s1.table.released, s2.table.released, s3.table.released], [50, 0, 0]);
    // s3 holds callees and dies while s1, the smallest, is dying too (its table
    // closed, its node still beating): s2 takes over once s1 is down.
    for (let i = 1; i <= 20; i++) {
      equal(
        await s3.table.claim("r", "com.y", "exact", "random", entry(s3.node.id, 100 + i)),
        undefined,
      );
    }
    await until(() => s2.seen.get("com.y")?.length === 20, 5000, "s2 sees s3's callees");
    s1.table.close();
    s3.table.close();
    await s3.node.close(500);
    await until(() => s2.seen.get("com.y")?.length === 0, 5000, "s2 ignores s3's callees");
    equal((await tableKeys(nats, "clean")).length, 21, "s1, the smallest, was to remove them");
    await s1.node.close(500);
    await tableHas(nats, "clean", 0);
    equal(s2.table.released, 20);
  } finally {
    await close(all);
    await nats.stop();
  }
});

Deno.test("end to end: 2000 sessions on 2 nodes register one roundrobin procedure, calls rotate over them", async () => {
  await using c = await startCluster(2, "big");
  const [a, b] = c.nodes as [TestRouter, TestRouter];
  const sessions = await Promise.all(
    [a, b].flatMap((n) => Array.from({ length: 1000 }, () => connectLocal(n.router, "realm1"))),
  );
  const registered = await Promise.allSettled(
    sessions.map((s, i) => s.register("com.big", () => ({ args: [i] }), { invoke: "roundrobin" })),
  );
  equal(registered.filter((r) => r.status === "rejected").length, 0);
  await seen(a, "com.big", 2000);
  await seen(b, "com.big", 2000);
  const callees = new Set<number>();
  for (let i = 0; i < 100; i++) callees.add((await sessions[0]!.call("com.big")).args[0] as number);
  equal(callees.size, 100, "roundrobin: a new callee each call");
  await Promise.all(sessions.slice(0, 1000).map((s) => s.close()));
  await seen(b, "com.big", 1000);
  await Promise.all(sessions.slice(1000).map((s) => s.close()));
  await seen(a, "com.big", 0);
  await tableHas(c.nats, "big", 0);
});
