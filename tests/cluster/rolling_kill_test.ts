/**
 * A rolling restart by SIGKILL: 3 nodes, each its own process
 * (`tests/cluster/_node.ts`), killed and restarted in turn under light
 * acknowledged publishing from every node. Subscribers on the nodes that
 * stay up get every publication acknowledged after the victim was reported
 * down (`wamp.session.on_leave` for the victim's sessions, on every
 * surviving node), exactly once; calls to callees on live nodes keep
 * working; the restarted node serves as a full member again.
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import { connect, type Result, type Session } from "../../mod.ts";
import type { SerializerName } from "../../wamp/mod.ts";
import { startNats } from "../_helpers/nats.ts";
import { until, within } from "../_helpers/router.ts";
import { type NodeProcess, sleep, spawnNode, TIMING } from "./_cluster.ts";

const NAME = "rollkill";
const SERIALIZERS: SerializerName[] = ["json", "msgpack", "cbor"];

/** One node's clients: subscriber, publisher, callee, caller, on_leave watcher. */
interface Clients {
  sub: Session;
  pub: Session;
  callee: Session;
  caller: Session;
  watcher: Session;
  /** [publisher node, sequence] of every event the subscriber got. */
  got: [number, number][];
  /** Session IDs the watcher saw leave, with when. */
  left: Map<number, number>;
}

async function clientsOf(url: string, node: number): Promise<Clients> {
  const open = (i: number) =>
    connect(url, { realm: "realm1", serializers: [SERIALIZERS[(node + i) % 3]!] });
  const [sub, pub, callee, caller, watcher] = await Promise.all([0, 1, 2, 0, 1].map(open));
  const got: [number, number][] = [];
  await sub!.subscribe("com.example.load", (e) => {
    got.push([e.args[0] as number, e.args[1] as number]);
  });
  await callee!.register(`com.example.node${node}`, (args) => ({ args: [node, args[0]] }));
  const left = new Map<number, number>();
  await watcher!.meta.sessions.onLeave((id) => void left.set(id, Date.now()));
  return { sub: sub!, pub: pub!, callee: callee!, caller: caller!, watcher: watcher!, got, left };
}

function sessionsOf(c: Clients): Session[] {
  return [c.sub, c.pub, c.callee, c.caller, c.watcher];
}

/** Every live caller reaches every live node's callee (retrying while registrations settle). */
async function callsWork(clients: (Clients | undefined)[], ms = 10_000): Promise<void> {
  for (const [from, c] of clients.entries()) {
    if (c === undefined) continue;
    for (const [to, d] of clients.entries()) {
      if (d === undefined) continue;
      const deadline = Date.now() + ms;
      for (let attempt = 0;; attempt++) {
        try {
          const result: Result = await within(
            c.caller.call(`com.example.node${to}`, { args: [attempt] }),
            2000,
            `call from node ${from} to node ${to}`,
          );
          deepEqual(result.args, [to, attempt]);
          break;
        } catch (error) {
          if (Date.now() > deadline) throw error;
          await sleep(50);
        }
      }
    }
  }
}

/** Every live publisher's probes reach every live subscriber (interest is everywhere). */
async function probesArrive(clients: (Clients | undefined)[], probe: number): Promise<void> {
  for (const [p, c] of clients.entries()) {
    if (c === undefined) continue;
    const deadline = Date.now() + 10_000;
    for (let k = probe;; k--) {
      await c.pub.publish("com.example.load", { args: [p, k] }, { acknowledge: true });
      await sleep(30);
      const all = clients.every((s) =>
        s === undefined || s.got.some(([q, n]) => q === p && n === k)
      );
      if (all) break;
      ok(Date.now() < deadline, `publisher ${p}'s probes reach every subscriber`);
    }
  }
}

Deno.test("cluster: rolling restart by SIGKILL of 3 node processes under light load: survivors lose nothing acknowledged after detection, calls to live nodes work", async () => {
  const nats = await startNats();
  const children: (NodeProcess | undefined)[] = [];
  const clients: (Clients | undefined)[] = [];
  const everyone: Session[] = [];
  let loading = true;
  let load: Promise<void> = Promise.resolve();
  try {
    for (let i = 0; i < 3; i++) children.push(await spawnNode(nats.url, NAME));
    for (let i = 0; i < 3; i++) {
      const c = await clientsOf(children[i]!.url, i);
      clients.push(c);
      everyone.push(...sessionsOf(c));
    }
    await callsWork(clients);
    await probesArrive(clients, -1);

    // Light load: each node's publisher, acknowledged, one every 10 ms;
    // acked[p] maps sequence → when PUBLISHED came.
    const acked: Map<number, number>[] = [new Map(), new Map(), new Map()];
    const seqs = [0, 0, 0]; // per node, on across its restarts
    load = (async () => {
      while (loading) {
        for (let p = 0; p < 3; p++) {
          const c = clients[p];
          if (c === undefined) continue;
          const n = seqs[p]!++;
          const at = acked[p]!;
          c.pub.publish("com.example.load", { args: [p, n] }, { acknowledge: true })
            .then(() => void at.set(n, Date.now()), () => {});
        }
        await sleep(10);
      }
    })();
    await sleep(300);

    for (let victim = 0; victim < 3; victim++) {
      const doomed = clients[victim]!;
      const marker = doomed.sub.id;
      const t0 = Date.now();
      children[victim]!.process.kill("SIGKILL");
      await children[victim]!.process.status;
      children[victim] = undefined;
      clients[victim] = undefined;
      const survivors = clients.filter((c): c is Clients => c !== undefined);
      // Calls between live nodes work while the victim is not yet detected too (no retry).
      await callsWork(clients, 0);
      await until(
        () => survivors.every((s) => s.left.has(marker)),
        TIMING.nodeTimeout + 4000,
        `every survivor reports node ${victim} down`,
      );
      const detected = Math.max(...survivors.map((s) => s.left.get(marker)!));
      ok(detected - t0 < TIMING.nodeTimeout + 3000, `node ${victim} detected in time`);
      for (const s of sessionsOf(doomed)) s.close().catch(() => {});
      // Calls to callees on live nodes work, from live nodes.
      await callsWork(clients, 5000);
      // Load on for a while after detection.
      await sleep(800);
      for (const [p, at] of acked.entries()) {
        if (clients[p] === undefined) continue;
        const since = [...at].filter(([, when]) => when >= detected).map(([n]) => n);
        ok(since.length > 20, `publisher ${p} acknowledged ${since.length} after detection`);
        for (const s of survivors) {
          await until(
            () => since.every((n) => s.got.some(([q, m]) => q === p && m === n)),
            5000,
            `a survivor subscriber has publisher ${p}'s publications since node ${victim} left`,
          );
        }
      }

      // The node comes back: a new process, new clients.
      children[victim] = await spawnNode(nats.url, NAME);
      const fresh = await clientsOf(children[victim]!.url, victim);
      everyone.push(...sessionsOf(fresh));
      clients[victim] = fresh;
      await callsWork(clients);
      await probesArrive(clients, -1000 * (victim + 1));
    }
    loading = false;
    await load;
    // Nothing arrived twice anywhere, and each publisher's stream stayed in order.
    for (const [i, c] of clients.entries()) {
      for (let p = 0; p < 3; p++) {
        const mine = c!.got.filter(([q, n]) => q === p && n >= 0).map(([, n]) => n);
        equal(new Set(mine).size, mine.length, `duplicates from publisher ${p} on node ${i}`);
        ok(
          mine.every((n, k) => k === 0 || n > mine[k - 1]!),
          `publisher ${p} in order on node ${i}`,
        );
      }
    }
  } finally {
    loading = false;
    await load;
    for (const s of everyone) await s.close().catch(() => {});
    for (const child of children) {
      if (child === undefined) continue;
      child.process.kill("SIGKILL");
      await child.process.status;
    }
    await nats.stop();
  }
});
