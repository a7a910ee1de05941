/**
 * The shared registration table's races, made deterministic over a real
 * nats-server by wrapping a table's claim or a bucket: a callee leaving or
 * deleted again during its restore, a node taken for down that still
 * reaches the bucket, a mark's age, heads of a down node, and a
 * description written for an epoch gone.
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import { decode, encode } from "@msgpack/msgpack";
import { keyToken } from "../../cluster/registrations.ts";
import type { Described, Kv } from "../../cluster/registration_mirror.ts";
import { RegistrationDescriptions } from "../../cluster/registration_descriptions.ts";
import { startNats } from "../_helpers/nats.ts";
import { until } from "../_helpers/router.ts";
import { tableHas, tableKeys } from "./_cluster.ts";
import { bucket, close, entry, type Member, members } from "./_table.ts";

const head = (procedure: string) => `${keyToken("r")}.exact.${keyToken(procedure)}`;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("a callee that leaves while its node restores it leaves no ghost callee in the table", async () => {
  const nats = await startNats();
  const all = await members(nats.url, "ghost", 1);
  const { nc, kv } = await bucket(nats, "ghost");
  try {
    const [a] = all as [Member];
    equal(await a.table.claim("r", "com.g", "exact", "single", entry(a.node.id, 1)), undefined);
    await tableHas(nats, "ghost", 2);
    const claim = a.table.claim.bind(a.table);
    let claimed = false;
    a.table.claim = async (...args) => { // the restore's claim: the callee leaves just before
      a.table.claim = claim;
      await a.table.release("r", "com.g", "exact", a.node.id, 1);
      const refused = await claim(...args);
      claimed = true;
      return refused;
    };
    await kv.delete(`${head("com.g")}.${a.node.id}.1`); // as by a node that took A for down
    await until(() => claimed, 5000, "A restores its callee");
    await pause(200); // the restore ends
    await tableHas(nats, "ghost", 0); // neither the departed callee nor its head stays
  } finally {
    await nc.close();
    await close(all);
    await nats.stop();
  }
});

Deno.test("a callee deleted again while its node restores it is restored once more", async () => {
  const nats = await startNats();
  const all = await members(nats.url, "again", 1);
  const { nc, kv } = await bucket(nats, "again");
  try {
    const [a] = all as [Member];
    for (const session of [1, 2]) { // the second keeps the head from the empty-head sweep
      equal(
        await a.table.claim("r", "com.a", "exact", "roundrobin", entry(a.node.id, session)),
        undefined,
      );
    }
    const name = `${head("com.a")}.${a.node.id}.1`;
    const claim = a.table.claim.bind(a.table);
    a.table.claim = async (...args) => { // the restore's claim: deleted again once it is in
      a.table.claim = claim;
      const refused = await claim(...args);
      await kv.delete(name);
      await pause(300); // the watcher tells A meanwhile
      return refused;
    };
    await kv.delete(name);
    await until(() => a.table.own.restores === 2, 5000, "A restores its callee again");
    await tableHas(nats, "again", 3);
  } finally {
    await nc.close();
    await close(all);
    await nats.stop();
  }
});

Deno.test("the smallest node takes a live node for down: its registration is restored once, not swept in a loop", async () => {
  const nats = await startNats();
  const all = await members(nats.url, "livelock", 2);
  try {
    const [s, x] = all as [Member, Member];
    equal(await x.table.claim("r", "com.l", "exact", "single", entry(x.node.id, 1)), undefined);
    await tableHas(nats, "livelock", 2);
    await s.table.releaseNode(x.node.id); // X still reaches the bucket
    await until(() => x.table.own.restores === 1, 5000, "X restores its callee");
    await pause(3500); // past three sweeps of S
    equal(x.table.own.restores, 1, "X's registration was swept and restored again");
    await tableHas(nats, "livelock", 2);
  } finally {
    await close(all);
    await nats.stop();
  }
});

Deno.test("a mark a live node left is stale MARK_MS after the watcher saw it, not after a REGISTER first read it", async () => {
  const nats = await startNats();
  const all = await members(nats.url, "markage", 2);
  const { nc, kv } = await bucket(nats, "markage");
  try {
    const [a, b] = all as [Member, Member];
    // A's callee keeps the head from the empty-head sweep; B joins once the mark is undone.
    const next = { node: a.node.id };
    await kv.put(head("com.m"), encode({ invoke: "roundrobin", epoch: "e1", next }));
    await kv.put(`${head("com.m")}.${a.node.id}.7`, encode(["e1", entry(a.node.id, 7)]));
    await until(() => b.seen.has("com.m"), 5000, "B's watcher sees the mark");
    await pause(6200);
    const started = performance.now();
    equal(await b.table.claim("r", "com.m", "exact", "roundrobin", entry(b.node.id, 1)), undefined);
    const waited = performance.now() - started;
    ok(waited < 2000, `B waited ${Math.round(waited)} ms more for a mark already stale`);
  } finally {
    await nc.close();
    await close(all);
    await nats.stop();
  }
});

Deno.test("a REGISTER waits a fresh live mark out, however short its pauses", async () => {
  const nats = await startNats();
  const all = await members(nats.url, "freshmark", 2);
  const { nc, kv } = await bucket(nats, "freshmark");
  const random = Math.random;
  try {
    const [a, b] = all as [Member, Member];
    const next = { node: a.node.id };
    await kv.put(`${head("com.f")}.${a.node.id}.7`, encode(["e1", entry(a.node.id, 7)]));
    await kv.put(head("com.f"), encode({ invoke: "roundrobin", epoch: "e1", next }));
    Math.random = () => 0; // the claim's pauses at their shortest: 50 of them pass in well under 6 s
    equal(await b.table.claim("r", "com.f", "exact", "roundrobin", entry(b.node.id, 1)), undefined);
  } finally {
    Math.random = random;
    await nc.close();
    await close(all);
    await nats.stop();
  }
});

Deno.test("a node down: its heads are removed by the sweep only, not by the node-down cleanup too", async () => {
  const nats = await startNats();
  const all = await members(nats.url, "downheads", 1);
  try {
    const [s] = all as [Member];
    for (let i = 1; i <= 5; i++) {
      equal(await s.table.claim("r", `com.h${i}`, "exact", "single", entry("gone", i)), undefined);
      s.table.own.forget(head(`com.h${i}`), i); // another node's callee: S keeps it not in
    }
    await tableHas(nats, "downheads", 10);
    await s.table.releaseNode("gone");
    equal(s.table.released, 5);
    deepEqual((await tableKeys(nats, "downheads")).length, 5, "the heads wait for the sweep");
    await tableHas(nats, "downheads", 0);
  } finally {
    await close(all);
    await nats.stop();
  }
});

Deno.test("a description written for an epoch gone never replaces the next registration's", async () => {
  const nats = await startNats();
  const all = await members(nats.url, "describe", 1);
  const { nc, kv } = await bucket(nats, "describe");
  try {
    const [a] = all as [Member];
    const h = head("com.d");
    equal(await a.table.claim("r", "com.d", "exact", "single", entry(a.node.id, 1)), undefined);
    let raced = false;
    const racing: Kv = {
      get: async (key) => {
        const read = await kv.get(key);
        if (key === h && !raced) { // after this read: the registration goes, comes, is defined
          raced = true;
          await a.table.release("r", "com.d", "exact", a.node.id, 1);
          await tableHas(nats, "describe", 0);
          equal(
            await a.table.claim("r", "com.d", "exact", "single", entry(a.node.id, 2)),
            undefined,
          );
          await a.table.define("r", "com.d", "exact", { next: true }, 2);
        }
        return read;
      },
      create: (key, data) => kv.create(key, data),
      put: (key, data) => kv.put(key, data),
      update: (key, data, revision) => kv.update(key, data, revision),
      delete: (key, options) => kv.delete(key, options),
      keys: (filter) => kv.keys(filter),
      watch: (options) => kv.watch(options),
    };
    await new RegistrationDescriptions(racing, a.node.id).define(h, { old: true }, 1);
    ok(raced);
    const described = await kv.get(`${h}.d`);
    ok(described !== null && described.operation === "PUT", "the next description was removed");
    deepEqual((decode(described.value) as Described)[1], { next: true });
  } finally {
    await nc.close();
    await close(all);
    await nats.stop();
  }
});
