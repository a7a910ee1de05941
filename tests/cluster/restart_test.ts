/**
 * Restarts: NATS going away and coming back (the nodes serve their own
 * sessions meanwhile, then cross-node PubSub and RPC resume), and a rolling
 * restart of every node of a 3-node cluster under light load (subscribers
 * on the surviving nodes lose nothing published after a failure is
 * detected).
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import type { Event, Session } from "../../mod.ts";
import { startRouter, type TestRouter, until, within } from "../_helpers/router.ts";
import { joinNode, seen, sleep, startCluster, TIMING } from "./_cluster.ts";

async function collect(s: Session, topic: string): Promise<Event[]> {
  const got: Event[] = [];
  await s.subscribe(topic, (e) => {
    got.push(e);
  });
  return got;
}

/** Publishes `probe` until `got` has it (NATS may still be catching up), bounded. */
async function reaches(pub: Session, topic: string, got: Event[], ms = 10_000): Promise<number> {
  const t0 = Date.now();
  let n = 0;
  while (!got.some((e) => e.args[0] === "probe")) {
    if (Date.now() - t0 > ms) throw new Error(`"${topic}" did not cross nodes within ${ms} ms`);
    if (n++ % 10 === 0) await pub.publish(topic, { args: ["probe"] });
    await sleep(20);
  }
  return Date.now() - t0;
}

Deno.test("cluster: NATS restarts: nodes serve their own sessions meanwhile, then PubSub and RPC cross nodes again", async () => {
  await using c = await startCluster(2, "natsdown");
  const [a, b] = c.nodes;
  const onA = await joinNode(a!, "msgpack");
  const onB = await joinNode(b!, "cbor");
  const farEvents = await collect(onB, "com.example.x");
  const nearEvents = await collect(onA, "com.example.x");
  await onB.register("com.example.far", () => ({ args: ["far"] }));
  await onA.register("com.example.near", () => ({ args: ["near"] }));
  await seen(a!, "com.example.far", 1);
  deepEqual((await onA.call("com.example.far")).args, ["far"]);
  await onA.publish("com.example.x", { args: ["before"] }, { acknowledge: true });
  await until(() => farEvents.length === 1);

  // A testament of a session on B: it must not fire while NATS is away.
  const wills = await collect(onA, "com.example.will");
  const willing = await joinNode(b!);
  await willing.call("wamp.session.add_testament", { args: ["com.example.will", ["bye"]] });
  await sleep(200); // the testament reaches the cluster's store

  await c.nats.stop({ keepStore: true });
  // Longer than the node timeout: each node takes the other for down.
  await sleep(TIMING.nodeTimeout + 700);
  ok(a!.logs.some((l) => l.includes("NATS unreachable")), "A logs that it is partitioned");
  await onA.publish("com.example.x", { args: ["local"] }, { exclude_me: false });
  await until(() => nearEvents.some((e) => e.args[0] === "local"));
  deepEqual((await within(onA.call("com.example.near"), 5000, "local call")).args, ["near"]);

  await c.nats.restart();
  await until(() => a!.logs.some((l) => l.includes("reachable again")), 10_000, "A reconnects");
  await until(() => b!.logs.some((l) => l.includes("reachable again")), 10_000, "B reconnects");
  await reaches(onA, "com.example.x", farEvents);
  // The registration table is in sync again: A reaches B's callee, B reaches A's.
  await seen(a!, "com.example.far", 1);
  await seen(b!, "com.example.near", 1);
  deepEqual((await within(onA.call("com.example.far"), 5000, "call far")).args, ["far"]);
  deepEqual((await within(onB.call("com.example.near"), 5000, "call near")).args, ["near"]);
  // B's session is alive: its testament did not fire; it fires when it leaves.
  await sleep(4 * TIMING.heartbeat);
  await onB.publish("com.example.will", { args: ["sentinel"] });
  await until(() => wills.length === 1);
  await willing.close();
  await until(() => wills.length === 2);
  deepEqual(wills.map((e) => e.args[0]), ["sentinel", "bye"]);
  // New subscriptions and registrations cross nodes too.
  const late = await collect(onA, "com.example.late");
  await onB.publish("com.example.late", { args: ["late"] }, { acknowledge: true });
  await until(() => late.length === 1, 5000, "late event");
  await onB.register("com.example.later", () => ({ args: ["later"] }));
  await seen(a!, "com.example.later", 1);
  deepEqual((await within(onA.call("com.example.later"), 5000, "call later")).args, ["later"]);
  await onA.close();
  await onB.close();
});

Deno.test("cluster: rolling restart of 3 nodes under light load: survivors lose nothing published after a failure is detected", async () => {
  await using c = await startCluster(3, "rolling");
  const subs: { session: Session; node: number; got: Event[] }[] = [];
  const pubs: Session[] = [];
  for (let i = 0; i < 3; i++) {
    const session = await joinNode(c.nodes[i]!, "msgpack");
    subs.push({ session, node: i, got: await collect(session, "com.example.load") });
    pubs.push(await joinNode(c.nodes[i]!, "json"));
  }
  // Light load: each node's publisher publishes every 10 ms.
  let seq = 0;
  const sent: { n: number; from: number; at: number }[] = [];
  let loading = true;
  const load = (async () => {
    while (loading) {
      for (let i = 0; i < 3; i++) {
        const pub = pubs[i];
        if (pub === undefined) continue;
        const n = ++seq;
        pub.publish("com.example.load", { args: [n] }).catch(() => {});
        sent.push({ n, from: i, at: Date.now() });
      }
      await sleep(10);
    }
  })();
  const sentSince = (at: number, except: number) =>
    sent.filter((s) => s.at >= at && s.from !== except).map((s) => s.n);

  for (let victim = 0; victim < 3; victim++) {
    const old = c.nodes[victim]!;
    // The victim's clients go away with it.
    const pub = pubs[victim]!;
    pubs[victim] = undefined as unknown as Session;
    subs.splice(subs.findIndex((s) => s.node === victim), 1);
    await old[Symbol.asyncDispose]();
    const detected = Date.now();
    await sleep(200);
    pub.close().catch(() => {});
    // Survivors got everything the survivors published since.
    const survivors = subs.filter((s) => s.node !== victim);
    const cut = Date.now();
    for (const s of survivors) {
      const expect = sentSince(detected, victim).filter((n) => n < seq - 3);
      await until(
        () => expect.every((n) => s.got.some((e) => e.args[0] === n)),
        5000,
        `node ${s.node} has every publication since node ${victim} left`,
      );
    }
    ok(cut >= detected);
    // The node comes back (a new process in its place) with its clients.
    const fresh: TestRouter = await startRouter({
      cluster: { servers: [c.nats.url], name: "rolling", ...TIMING },
    });
    await fresh.router.ready;
    c.nodes[victim] = fresh;
    const session = await joinNode(fresh, "msgpack");
    const got = await collect(session, "com.example.load");
    subs.push({ session, node: victim, got });
    pubs[victim] = await joinNode(fresh, "json");
    // Its subscriber receives what the others publish from now on.
    const from = Date.now();
    await sleep(100);
    const expect = sentSince(from, victim).filter((n) => n < seq - 3);
    await until(
      () => expect.every((n) => got.some((e) => e.args[0] === n)),
      5000,
      `restarted node ${victim} receives the others' publications`,
    );
  }
  loading = false;
  await load;
  // Nothing arrived twice anywhere.
  for (const s of subs) {
    const ns = s.got.map((e) => e.args[0] as number);
    equal(new Set(ns).size, ns.length, `node ${s.node} got duplicates`);
  }
  for (const s of subs) await s.session.close();
  for (const p of pubs) await p.close();
});
