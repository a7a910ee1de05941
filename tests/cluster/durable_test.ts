/**
 * What outlives a node: retained events (JetStream KV, mirrored by every
 * node, read again by a node that restarts) and testaments (fired by a
 * surviving node when their session's node dies), over real sockets and a
 * real nats-server.
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import { connect, type Event, type Session } from "../../mod.ts";
import { clusterOf, realmOf } from "../../router/router.ts";
import { startRouter, type TestRouter, until, within } from "../_helpers/router.ts";
import { joinNode, spawnNode, startCluster, TIMING } from "./_cluster.ts";

async function retainedOn(s: Session, topic: string, match = "exact"): Promise<Event[]> {
  const got: Event[] = [];
  await s.subscribe(topic, (e) => {
    got.push(e);
  }, { get_retained: true, match } as Record<string, unknown>);
  return got;
}

function retainedTopics(node: TestRouter): string[] {
  return [...realmOf(node.router, "realm1")!.broker.retained.topics()].sort();
}

Deno.test("cluster: get_retained on B gets the retained event published on A, also after A restarts", async () => {
  await using c = await startCluster(2, "ret");
  const [a, b] = c.nodes;
  const pub = await joinNode(a!, "msgpack");
  await pub.publish("com.example.r", { args: ["old"] }, { retain: true, acknowledge: true });
  await pub.publish("com.example.r", { args: ["new"] }, { retain: true, acknowledge: true });
  await pub.publish("com.example.s", { args: ["s"] }, { retain: true, acknowledge: true });
  await until(() => retainedTopics(b!).length === 2, 5000, "B mirrors the retained events");
  const sub = await joinNode(b!, "cbor");
  const got = await retainedOn(sub, "com.example.r");
  await until(() => got.length === 1);
  deepEqual(got[0]!.args, ["new"]);
  equal(got[0]!.details.retained, true);
  const prefix = await retainedOn(sub, "com.example", "prefix");
  await until(() => prefix.length === 2);
  deepEqual(prefix.map((e) => e.args[0]).sort(), ["new", "s"]);
  await pub.close();
  await sub.close();
  // Every node down, then a new one: the retained events are still there.
  await c.nodes.pop()![Symbol.asyncDispose]();
  await c.nodes.pop()![Symbol.asyncDispose]();
  const fresh = await startRouter({ cluster: { servers: [c.nats.url], name: "ret", ...TIMING } });
  c.nodes.push(fresh);
  await fresh.router.ready;
  deepEqual(retainedTopics(fresh), ["com.example.r", "com.example.s"]);
  const late = await joinNode(fresh);
  const again = await retainedOn(late, "com.example.r");
  await until(() => again.length === 1);
  deepEqual(again[0]!.args, ["new"]);
  await late.close();
});

Deno.test("cluster: a restricted retained event keeps its black/white lists on other nodes", async () => {
  await using c = await startCluster(2, "retlists");
  const [a, b] = c.nodes;
  const pub = await joinNode(a!);
  await pub.publish("com.example.t", { args: ["open"] }, { retain: true, acknowledge: true });
  await pub.publish("com.example.t", { args: ["for bob"] }, {
    retain: true,
    acknowledge: true,
    eligible_authid: ["bob"],
  });
  const broker = realmOf(b!.router, "realm1")!.broker;
  const anyone = await joinNode(b!);
  const info = { id: 1, authid: "anonymous", authrole: "anonymous" } as never;
  await until(() => broker.retained.for("com.example.t", "exact", info).length === 1);
  await until(() =>
    broker.retained.for(
      "com.example.t",
      "exact",
      { ...(info as object), authid: "bob" } as never,
    )[0]?.args?.[0] === "for bob"
  );
  const got = await retainedOn(anyone, "com.example.t");
  await until(() => got.length === 1);
  deepEqual(got[0]!.args, ["open"]);
  await pub.close();
  await anyone.close();
});

async function kvHas(url: string, bucket: string, n: number): Promise<void> {
  const { connect } = await import("@nats-io/transport-node");
  const { Kvm } = await import("@nats-io/kv");
  const nc = await connect({ servers: [url] });
  try {
    const kv = await new Kvm(nc).open(bucket);
    const deadline = Date.now() + 5000;
    for (;;) {
      const keys: string[] = [];
      for await (const key of await kv.keys()) keys.push(key);
      if (keys.length === n) return;
      if (Date.now() > deadline) throw new Error(`${bucket} has ${keys.length} keys, not ${n}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  } finally {
    await nc.close();
  }
}

Deno.test("cluster: testaments fire when their session's node is SIGKILLed", async () => {
  await using c = await startCluster(2, "will");
  const [a, b] = c.nodes;
  const { url, process: child } = await spawnNode(c.nats.url, "will");
  let killed = false;
  try {
    const doomed = await connect(url, { realm: "realm1", serializers: ["msgpack"] });
    const onA = await joinNode(a!);
    const onB = await joinNode(b!, "cbor");
    const gotA: Event[] = [];
    const gotB: Event[] = [];
    await onA.subscribe("com.example.gone", (e) => {
      gotA.push(e);
    });
    await onB.subscribe("com.example.gone", (e) => {
      gotB.push(e);
    });
    await doomed.call("wamp.session.add_testament", {
      args: ["com.example.gone", ["detached"], { who: doomed.id }],
      kwargs: { scope: "detached" },
    });
    await doomed.call("wamp.session.add_testament", {
      args: ["com.example.gone", ["destroyed 1"]],
    });
    await doomed.call("wamp.session.add_testament", {
      args: ["com.example.gone", ["destroyed 2"]],
    });
    // add_testament returned, so the cluster's store has them (durable_ack_test).
    await kvHas(c.nats.url, "clv_will_testaments", 1);
    child.kill("SIGKILL");
    killed = true;
    const t0 = Date.now();
    await within(
      until(() => gotA.length === 3 && gotB.length === 3, TIMING.nodeTimeout + 3000),
      TIMING.nodeTimeout + 4000,
    );
    const waited = Date.now() - t0;
    ok(waited <= TIMING.nodeTimeout + 2000, `fired after ${waited} ms`);
    for (const got of [gotA, gotB]) {
      deepEqual(got.map((e) => e.args[0]), ["detached", "destroyed 1", "destroyed 2"]);
    }
    deepEqual(gotA[0]!.kwargs, { who: doomed.id });
    // Fired once: nothing more arrives.
    await new Promise((resolve) => setTimeout(resolve, 300));
    equal(gotA.length, 3);
    equal(gotB.length, 3);
    doomed.close().catch(() => {});
    await onA.close();
    await onB.close();
  } finally {
    if (!killed) child.kill("SIGKILL");
    await child.status;
  }
});

Deno.test("cluster: a testament fires once on a normal leave, and a node that closes normally fires none", async () => {
  await using c = await startCluster(3, "will2");
  const [a, b, d] = c.nodes;
  const onA = await joinNode(a!);
  const got: Event[] = [];
  await onA.subscribe("com.example.bye", (e) => {
    got.push(e);
  });
  const leaving = await joinNode(b!);
  await leaving.call("wamp.session.add_testament", { args: ["com.example.bye", ["left"]] });
  const flushed = await joinNode(b!);
  await flushed.call("wamp.session.add_testament", { args: ["com.example.bye", ["flushed"]] });
  await flushed.call("wamp.session.flush_testaments", {});
  await leaving.close();
  await until(() => got.length === 1);
  // A session on a node that closes normally: nothing fires (as on one router).
  const onD = await joinNode(d!);
  await onD.call("wamp.session.add_testament", { args: ["com.example.bye", ["closed"]] });
  c.nodes.splice(2, 1);
  await d![Symbol.asyncDispose]();
  await flushed.close();
  await new Promise((resolve) => setTimeout(resolve, TIMING.nodeTimeout + 800));
  await onA.publish("com.example.bye", { args: ["sentinel"] }, { exclude_me: false });
  await until(() => got.length === 2);
  deepEqual(got.map((e) => e.args[0]), ["left", "sentinel"]);
  onD.close().catch(() => {});
  await onA.close();
});

Deno.test("cluster: testaments still fire when the survivor due to fire them dies too", async () => {
  await using c = await startCluster(3, "will2");
  const [s1, , s3] = [...c.nodes].sort((x, y) =>
    clusterOf(x.router)!.node.id < clusterOf(y.router)!.node.id ? -1 : 1
  );
  const { url, process: child } = await spawnNode(c.nats.url, "will2");
  let killed = false;
  try {
    const doomed = await connect(url, { realm: "realm1", serializers: ["msgpack"] });
    const onS3 = await joinNode(s3!);
    const got: Event[] = [];
    await onS3.subscribe("com.example.gone", (e) => {
      got.push(e);
    });
    await doomed.call("wamp.session.add_testament", { args: ["com.example.gone", ["last"]] });
    await kvHas(c.nats.url, "clv_will2_testaments", 1);
    // s1, the smallest survivor, is dying (its store closed) when the node dies.
    await clusterOf(s1!.router)!.pubsub.testamentStore!.close();
    child.kill("SIGKILL");
    killed = true;
    await new Promise((resolve) => setTimeout(resolve, TIMING.nodeTimeout + 500));
    equal(got.length, 0, "s1 was to fire it");
    await s1![Symbol.asyncDispose]();
    await within(until(() => got.length === 1, 5000), 6000, "s2 fires it once s1 is down");
    deepEqual(got[0]!.args, ["last"]);
    doomed.close().catch(() => {});
    await onS3.close();
  } finally {
    if (!killed) child.kill("SIGKILL");
    await child.status;
  }
});
