/**
 * What a reflection list (`wamp.reflection.procedure.list`,
 * `wamp.reflection.topic.list`) costs: the URIs are kept in order as they
 * come and go (`SortedUris`), so a call sorts nothing but what changed
 * since the last, and a list past `MAX_LIST_CHARS` (16 Mi characters) is
 * refused instead of built (what a caller cannot receive:
 * tests/integration/reflection_room_test.ts).
 */

import { deepEqual, equal, ok, throws } from "node:assert/strict";
import type { Session } from "../../client/mod.ts";
import { connectLocal, Router, type RouterOptions } from "../../mod.ts";
import { CallError } from "../../router/core/errors.ts";
import { MAX_LIST_CHARS, mergedUris, type UriList } from "../../router/core/procedures.ts";
import { SortedUris } from "../../router/core/sorted_uris.ts";

/** Runs `body` with a local session on realm1 of a router made with `options`. */
async function withSession(
  body: (session: Session, router: Router) => Promise<void>,
  options: Partial<RouterOptions> = {},
): Promise<void> {
  const router = new Router({ realms: [{ name: "realm1" }], logger: () => {}, ...options });
  const session = await connectLocal(router, "realm1");
  try {
    await body(session, router);
  } finally {
    await session.close();
    await router.close();
  }
}

/** How many elements `Array.prototype.sort` sorts while `body` runs, in arrays holding `marker` URIs. */
async function sortedDuring(marker: string, body: () => Promise<void>): Promise<number> {
  const sort = Array.prototype.sort;
  let items = 0;
  Array.prototype.sort = function (this: unknown[], compare?: (a: unknown, b: unknown) => number) {
    if (this.some((x) => typeof x === "string" && x.includes(marker))) items += this.length;
    return sort.call(this, compare);
  };
  try {
    await body();
  } finally {
    Array.prototype.sort = sort;
  }
  return items;
}

async function list(session: Session, what: "procedure" | "topic"): Promise<string[]> {
  return (await session.call(`wamp.reflection.${what}.list`)).args[0] as string[];
}

Deno.test("wamp.reflection.procedure.list and topic.list sort only what changed since the last call", () =>
  withSession(async (session) => {
    const uris = Array.from({ length: 999 }, (_, i) => `com.example.listed.u${998 - i}`);
    for (const uri of uris) {
      await session.register(uri, () => {});
      await session.subscribe(uri, () => {});
    }
    const expected = [...uris].sort();
    deepEqual(await list(session, "procedure"), expected);
    const topics = await list(session, "topic");
    deepEqual(topics.filter((t) => t.includes(".listed.")), expected);
    // Asked again and again, nothing was sorted: 999 sorted per call before.
    const again = await sortedDuring(".listed.", async () => {
      for (let i = 0; i < 10; i++) {
        equal((await list(session, "procedure")).length, 999);
        ok((await list(session, "topic")).length >= 999);
      }
    });
    equal(again, 0);
    // One more of each: that one is sorted in (merged), not the 999 again.
    await session.register("com.example.listed.new", () => {});
    await session.subscribe("com.example.listed.new", () => {});
    const one = await sortedDuring(".listed.", async () => {
      equal((await list(session, "procedure")).length, 1000);
      ok((await list(session, "topic")).includes("com.example.listed.new"));
    });
    equal(one, 2);
  }));

Deno.test("a reflection list over MAX_LIST_CHARS (16 Mi characters) is refused with limit_exceeded, before it is merged", () => {
  let merged = 0;
  const list = (chars: number, size: number): UriList => ({
    chars,
    size,
    sorted: () => (merged++, chars > MAX_LIST_CHARS ? undefined : []),
  });
  for (
    const lists of [[list(MAX_LIST_CHARS + 1, 4000)], [list(10, 1), list(MAX_LIST_CHARS + 1, 1)]]
  ) {
    throws(
      () => mergedUris(lists, "topics"),
      (e) =>
        e instanceof CallError && e.uri === "cloverleaf.error.limit_exceeded" &&
        e.message === `the topics take more than ${MAX_LIST_CHARS} characters`,
    );
  }
  equal(merged, 0);
});

Deno.test("one session cannot switch wamp.reflection.topic.list or procedure.list off for the realm", () =>
  withSession(async (victim, router) => {
    // Under the 1 Mi bound of 99ce086, 257 retained topics of ~4,090 characters (~1.2 MB of the
    // realm's 16 MiB retainedBytes) refused every topic.list for good: retained topics stay.
    await victim.subscribe("com.victim.topic", () => {});
    await victim.register("com.victim.proc", () => {});
    const attacker = await connectLocal(router, "realm1");
    const long = (i: number) => `com.a.${"x".repeat(4080)}${String(i).padStart(4, "0")}`;
    for (let i = 0; i < 257; i++) {
      await attacker.publish(long(i), { args: [] }, { retain: true, acknowledge: true });
      await attacker.register(long(i), () => {});
    }
    equal((await list(victim, "topic")).length, 258);
    equal((await list(victim, "procedure")).length, 258);
    await attacker.close();
    equal((await list(victim, "topic")).length, 258);
    deepEqual(await list(victim, "procedure"), ["com.victim.proc"]);
  }));

Deno.test("wamp.reflection.topic.list holds the subscriptions of the realm's history rules and its retained topics", () =>
  withSession(
    async (session) => {
      session.publish("com.example.kept", { args: [1] }, { retain: true });
      await session.subscribe("com.example.sub", () => {});
      deepEqual(await list(session, "topic"), [
        "com.example.history",
        "com.example.kept",
        "com.example.sub",
      ]);
    },
    { realms: [{ name: "realm1", eventHistory: [{ topic: "com.example.history" }] }] },
  ));

Deno.test("SortedUris lists what a sorted set of the URIs lists, across its limits", () => {
  let seed = 7;
  const random = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  for (let run = 0; run < 20; run++) {
    const max = 40 + random(200);
    const uris = new SortedUris(max);
    const model = new Map<string, number>();
    for (let step = 0; step < 2000; step++) {
      const uri = `u${random(60)}${"x".repeat(random(12))}`;
      if (random(3) > 0) {
        uris.add(uri);
        model.set(uri, (model.get(uri) ?? 0) + 1);
      } else {
        uris.delete(uri);
        const count = model.get(uri);
        if (count === 1) model.delete(uri);
        else if (count !== undefined) model.set(uri, count - 1);
      }
      if (random(10) > 0) continue;
      const distinct = [...model.keys()].sort();
      const chars = distinct.reduce((sum, u) => sum + u.length, 0);
      equal(uris.chars, chars);
      deepEqual(uris.sorted(), chars > max ? undefined : distinct, `run ${run}, step ${step}`);
    }
  }
});

Deno.test("SortedUris.sorted() gives the same array while nothing changed", () => {
  const uris = new SortedUris();
  for (let i = 0; i < 300; i++) uris.add(`com.example.u${i}`);
  const first = uris.sorted();
  equal(uris.sorted(), first);
  uris.add("com.example.u1"); // once more: no change in the list
  equal(uris.sorted(), first);
  uris.delete("com.example.u2");
  const second = uris.sorted();
  equal(second!.length, 299);
  equal(first!.length, 300); // the array given before is left as it was
});
