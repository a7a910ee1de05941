/**
 * Failure under load: a node SIGKILLed in the middle of a flood of
 * acknowledged publications and of calls to its callees. The survivors'
 * subscribers get every publication acknowledged after the failure is
 * detected, exactly once and in order per publisher; every call in flight
 * to the dead node ends with `wamp.error.canceled`, none hangs.
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import { ApplicationError, connect, type Session } from "../../mod.ts";
import { clusterNodeOf } from "../../router/router.ts";
import type { SerializerName } from "../../wamp/mod.ts";
import { until, within } from "../_helpers/router.ts";
import { joinNode, seen, sleep, spawnNode, startCluster, TIMING } from "./_cluster.ts";

Deno.test("cluster: a node SIGKILLed mid-flood and mid-call: survivors lose nothing after detection, no caller hangs", async () => {
  await using c = await startCluster(2, "flood");
  const [a, b] = c.nodes as [typeof c.nodes[0], typeof c.nodes[0]];
  const { url, process: child } = await spawnNode(c.nats.url, "flood");
  let killed = false;
  const sessions: Session[] = [];
  try {
    // Clients of the doomed node: a callee, a subscriber and a publisher.
    const callee = await connect(url, { realm: "realm1", serializers: ["msgpack"] });
    const started: number[] = [];
    await callee.register("com.example.slow", (args) => {
      started.push(args[0] as number);
      return new Promise(() => {});
    });
    const doomedSub = await connect(url, { realm: "realm1", serializers: ["json"] });
    await doomedSub.subscribe("com.example.flood", () => {});
    const doomedPub = await connect(url, { realm: "realm1", serializers: ["cbor"] });
    await seen(a, "com.example.slow", 1);
    await seen(b, "com.example.slow", 1);

    // Subscribers on both surviving nodes, one per serializer.
    const subs: { node: number; got: [number, number][] }[] = [];
    const serializers: SerializerName[] = ["json", "msgpack", "cbor"];
    for (const [i, node] of [a, b].entries()) {
      for (const serializer of serializers) {
        const s = await joinNode(node, serializer);
        sessions.push(s);
        const got: [number, number][] = [];
        await s.subscribe("com.example.flood", (e) => {
          got.push([e.args[0] as number, e.args[1] as number]);
        });
        subs.push({ node: i, got });
      }
    }
    // Publishers on the surviving nodes (and on the doomed one, whose
    // publications may be lost once it dies).
    const pubs = [await joinNode(a, "json"), await joinNode(b, "msgpack")];
    sessions.push(...pubs);
    // Every survivor subscriber's interest reached the other nodes.
    for (const [p, pub] of pubs.entries()) {
      const deadline = Date.now() + 5000;
      for (let probe = -1;; probe--) {
        await pub.publish("com.example.flood", { args: [p, probe] }, { acknowledge: true });
        await sleep(30);
        if (subs.every((s) => s.got.some(([from, n]) => from === p && n === probe))) break;
        ok(Date.now() < deadline, "subscriptions reached every node");
      }
    }
    for (const s of subs) s.got.length = 0;

    // The flood: each survivor publisher publishes a numbered stream,
    // acknowledged; `acked[p][n]` is when PUBLISHED came.
    const acked: Map<number, number>[] = [new Map(), new Map()];
    let flooding = true;
    const errors: unknown[] = [];
    const flood = pubs.map(async (pub, p) => {
      let n = 0;
      while (flooding) {
        const batch: Promise<void>[] = [];
        for (let k = 0; k < 20; k++) {
          const seq = n++;
          batch.push(
            pub.publish("com.example.flood", { args: [p, seq] }, { acknowledge: true })
              .then(() => void acked[p]!.set(seq, Date.now()), (e) => void errors.push(e)),
          );
        }
        await Promise.all(batch);
        await sleep(2);
      }
    });
    let doomedFlooding = true;
    const doomedFlood = (async () => {
      let n = 0;
      while (doomedFlooding) {
        doomedPub.publish("com.example.flood", { args: [2, n++] }).catch(() => {});
        await sleep(2);
      }
    })();
    // Calls in flight to the callee on the doomed node, from a caller on A.
    const caller = await joinNode(a, "cbor");
    sessions.push(caller);
    const calls = [0, 1, 2, 3, 4].map((i) =>
      caller.call("com.example.slow", { args: [i] }).then(() => "resolved", (e) => e)
    );
    await until(() => started.length === 5, 5000, "every call started");
    await sleep(300);

    // Down it goes, mid-flood.
    const down: number[] = [];
    for (const node of [a, b]) {
      clusterNodeOf(node.router)!.onNodeDown(() => void down.push(Date.now()));
    }
    const t0 = Date.now();
    child.kill("SIGKILL");
    killed = true;
    doomedFlooding = false;
    await doomedFlood;
    // Calls made after the kill, before the survivors notice: forwarded to a dead node.
    const callerB = await joinNode(b, "json");
    sessions.push(callerB);
    for (const who of [caller, callerB, caller]) {
      calls.push(who.call("com.example.slow", { args: [9] }).then(() => "resolved", (e) => e));
      await sleep(50);
    }
    const outcomes = await within(Promise.all(calls), TIMING.nodeTimeout + 3000);
    for (const outcome of outcomes) {
      ok(
        outcome instanceof ApplicationError && outcome.uri === "wamp.error.canceled",
        `call ended with ${outcome}`,
      );
    }
    ok(Date.now() - t0 <= TIMING.nodeTimeout + 2000, "calls canceled in time");
    equal(outcomes.length, 8);
    await until(() => down.length === 2, 5000, "both survivors report the node down");
    const detected = Math.max(...down);
    // Flood on for a while after detection.
    await sleep(1000);
    flooding = false;
    await Promise.all(flood);
    deepEqual(errors, []);

    // Every publication acknowledged since detection reached every survivor
    // subscriber, exactly once, in order per publisher.
    for (const [p] of pubs.entries()) {
      const since = [...acked[p]!].filter(([, at]) => at >= detected).map(([n]) => n);
      ok(since.length > 50, `publisher ${p} published ${since.length} after detection`);
      for (const s of subs) {
        await until(
          () => since.every((n) => s.got.some(([from, m]) => from === p && m === n)),
          5000,
          `a subscriber on node ${s.node} has publisher ${p}'s publications`,
        );
        const mine = s.got.filter(([from]) => from === p).map(([, n]) => n);
        equal(new Set(mine).size, mine.length, `duplicates from publisher ${p} on node ${s.node}`);
        ok(
          mine.every((n, i) => i === 0 || n > mine[i - 1]!),
          `publisher ${p} out of order on node ${s.node}`,
        );
      }
    }
    for (const outcome of outcomes) ok(outcome !== "resolved");
    callee.close().catch(() => {});
    doomedSub.close().catch(() => {});
    doomedPub.close().catch(() => {});
  } finally {
    if (!killed) child.kill("SIGKILL");
    await child.status;
    for (const s of sessions) await s.close().catch(() => {});
  }
});
