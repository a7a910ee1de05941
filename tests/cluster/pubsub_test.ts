/**
 * PubSub across the nodes of a cluster: our client over WebSocket (json,
 * msgpack, cbor) subscribes on one node and publishes on another, through
 * a real nats-server. Absence of an event is checked by publishing a
 * sentinel afterwards: events from one publisher arrive in order.
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import type { Event, Session } from "../../mod.ts";
import { clusterOf } from "../../router/router.ts";
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
    await using c = await startCluster(2, "test");
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
    const stats = clusterOf(b!.router)!.pubsub.stats;
    equal(stats.received, 4);
    equal(stats.duplicates, 3);
    // com.other came too ("com.myapp" holds "com.>"), and was dropped from its head, undecoded.
    equal(stats.skipped, 1);
    await Promise.all([sub.close(), pub.close()]);
  });
}

for (const via of VIAS) {
  const test = (name: string, fn: () => Promise<void>) =>
    Deno.test(`[${via}] cluster: ${name}`, fn);

  test("exclude_me, black/white lists by session, authid and authrole across nodes", async () => {
    await using c = await startCluster(2, "test");
    const [a, b] = c.nodes;
    const [x, y] = [await join(b!, via), await join(b!, via)];
    const pub = await join(a!, via);
    const topic = "com.example.bw";
    const inboxes = [await collect(x, topic), await collect(y, topic), await collect(pub, topic)];
    const p = (arg: string, options: Record<string, unknown>) =>
      pub.publish(topic, { args: [arg] }, { acknowledge: true, ...options });
    await p("excluded me", {});
    await p("not excluded", { exclude_me: false });
    await p("exclude y", { exclude: [y.id] });
    await p("eligible x", { eligible: [x.id] });
    await p("exclude_authid x", { exclude_authid: [x.details.authid] });
    await p("eligible_authid y", { eligible_authid: [y.details.authid] });
    await p("eligible_authrole anonymous", { eligible_authrole: ["anonymous"] });
    await p("exclude_authrole anonymous", { exclude_authrole: ["anonymous"] });
    await flush(pub, topic, inboxes.slice(0, 2));
    deepEqual(inboxes.map(argsOf), [
      ["excluded me", "not excluded", "exclude y", "eligible x", "eligible_authrole anonymous"],
      [
        "excluded me",
        "not excluded",
        "exclude_authid x",
        "eligible_authid y",
        "eligible_authrole anonymous",
      ],
      ["not excluded"],
    ]);
    await Promise.all([x.close(), y.close(), pub.close()]);
  });

  test("publisher disclosure, trust levels and payload passthru across nodes", async () => {
    await using c = await startCluster(2, "test", {
      trustLevels: [{ transport: "websocket", trustlevel: 2 }],
    });
    const [a, b] = c.nodes;
    const sub = await join(b!, via);
    const pub = await join(a!, via);
    const got = await collect(sub, "com.example.d");
    await pub.publish("com.example.d", { args: ["plain"] });
    await pub.publish("com.example.d", { args: ["disclosed"] }, { disclose_me: true });
    const blob = new Uint8Array([0, 1, 2, 250, 255]);
    const ppt = { ppt_scheme: "x_custom", ppt_serializer: "custom", ppt_keyid: "k1" };
    await pub.publish("com.example.d", { args: [blob] }, { ...ppt, acknowledge: true });
    await until(() => got.length === 3);
    deepEqual(got[0]!.details, { trustlevel: 2 });
    deepEqual(got[1]!.details, {
      publisher: pub.id,
      publisher_authid: pub.details.authid,
      publisher_authrole: "anonymous",
      trustlevel: 2,
    });
    deepEqual(got[2]!.details, { ...ppt, trustlevel: 2 });
    deepEqual(new Uint8Array(got[2]!.args[0] as Uint8Array), blob);
    await Promise.all([sub.close(), pub.close()]);
  });
}

Deno.test("cluster: a realm that always discloses does so on every node", async () => {
  await using c = await startCluster(2, "test", { disclosePublisher: "always" });
  const sub = await join(c.nodes[1]!, "json");
  const pub = await join(c.nodes[0]!, "json");
  const got = await collect(sub, "com.example.always");
  await pub.publish("com.example.always", { args: [1] });
  await until(() => got.length === 1);
  equal(got[0]!.details.publisher, pub.id);
  await Promise.all([sub.close(), pub.close()]);
});

Deno.test("cluster: 3 nodes, one NATS message per publication, encoded once", async () => {
  await using c = await startCluster(3, "test");
  const [a, b, cc] = c.nodes;
  const subsB = [await join(b!, "json"), await join(b!, "msgpack")];
  const subC = await join(cc!, "cbor");
  const local = await join(a!, "json");
  const pub = await join(a!, "json");
  const inboxes = [
    ...(await Promise.all(subsB.map((s) => collect(s, "com.example.fan")))),
    await collect(subC, "com.example.fan"),
    await collect(local, "com.example.fan"),
  ];
  for (let i = 0; i < 10; i++) await pub.publish("com.example.fan", { args: [i] });
  await flush(pub, "com.example.fan", inboxes);
  for (const got of inboxes) deepEqual(argsOf(got), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const [sa, sb, sc] = c.nodes.map((t) => clusterOf(t.router)!.pubsub.stats);
  equal(sa!.published, 11);
  equal(sb!.received, 11); // two subscribers on B: one NATS message each time
  equal(sc!.received, 11);
  equal(sa!.received, 0); // noEcho: A never gets its own
  // Same publication ID everywhere.
  ok(new Set(inboxes.map((got) => got[0]!.publication)).size === 1);
  await Promise.all([...subsB, subC, local, pub].map((s) => s.close()));
});

Deno.test("cluster: a node subscribes to a subject only while a local subscription needs it", async () => {
  await using c = await startCluster(2, "test");
  const [a, b] = c.nodes;
  const bridge = clusterOf(b!.router)!.pubsub;
  const s = await join(b!, "json");
  const pub = await join(a!, "json");
  deepEqual(bridge.subjects(), []);
  const p1 = await s.subscribe("com.example.ab", () => {}, { match: "prefix" });
  const p2 = await s.subscribe("com.example.cd", () => {}, { match: "prefix" });
  const e1 = await s.subscribe("com.example.x", () => {});
  deepEqual(bridge.subjects(), [
    "clv.test.pub.realm1.com.example.>",
    "clv.test.pub.realm1.com.example.x",
  ]);
  await p1.unsubscribe();
  deepEqual(bridge.subjects().length, 2); // p2 still needs com.example.>
  await p2.unsubscribe();
  deepEqual(bridge.subjects(), ["clv.test.pub.realm1.com.example.x"]);
  // A publication nobody on B needs does not reach B.
  const before = bridge.stats.received;
  await pub.publish("com.example.ab.1", { args: [1] }, { acknowledge: true });
  await e1.unsubscribe();
  deepEqual(bridge.subjects(), []);
  await pub.publish("com.example.x", { args: [1] }, { acknowledge: true });
  equal(bridge.stats.received, before);
  await s.close();
  await pub.close();
});

Deno.test("cluster: SUBSCRIBED on B means the next publication on A reaches it", async () => {
  await using c = await startCluster(2, "test");
  const [a, b] = c.nodes;
  const pub = await join(a!, "json");
  for (let i = 0; i < 20; i++) {
    const s = await join(b!, "json");
    const got = await collect(s, `com.example.race${i}`);
    await pub.publish(`com.example.race${i}`, { args: [i] });
    await until(() => got.length === 1, 2000, `event ${i}`);
    await s.close();
  }
  await pub.close();
});

Deno.test("cluster: a testament published on A when its session leaves reaches B", async () => {
  await using c = await startCluster(2, "test");
  const [a, b] = c.nodes;
  const sub = await join(b!, "json");
  const got = await collect(sub, "com.example.gone");
  const leaving = await join(a!, "json");
  await leaving.call("wamp.session.add_testament", {
    args: ["com.example.gone", ["bye"], {}],
  });
  await leaving.close();
  await until(() => got.length === 1);
  deepEqual(got[0]!.args, ["bye"]);
  await sub.close();
});

Deno.test("cluster: PUBLISHED only once NATS accepted the publication", async () => {
  await using c = await startCluster(2, "test");
  const [a, b] = c.nodes;
  const local = await join(a!, "json");
  const remote = await join(b!, "json");
  const pub = await join(a!, "json");
  const got = await collect(local, "com.example.ack");
  const far = await collect(remote, "com.example.ack");
  await pub.publish("com.example.ack", { args: ["up"] }, { acknowledge: true });
  await until(() => far.length === 1);
  await c.nats.stop({ keepStore: true });
  // NATS is gone: local subscribers are served, the acknowledgement says
  // the publication did not leave this node.
  const error = await pub.publish("com.example.ack", { args: ["down"] }, { acknowledge: true })
    .then(() => undefined, (e) => e);
  equal(error?.uri, "cloverleaf.error.cluster_unavailable");
  deepEqual(argsOf(got), ["up", "down"]);
  await c.nats.restart();
  await until(() => a!.logs.some((l) => l.includes("reachable again")), 5000, "reconnect");
  await Promise.all([local.close(), remote.close(), pub.close()]);
});

Deno.test("cluster: a publication over NATS's max_payload stays local and says so", async () => {
  await using c = await startCluster(2, "test");
  const [a, b] = c.nodes;
  const local = await join(a!, "msgpack");
  const remote = await join(b!, "msgpack");
  const pub = await join(a!, "msgpack");
  const got = await collect(local, "com.example.big");
  const far = await collect(remote, "com.example.big");
  const big = "x".repeat(1_200_000); // nats-server's default max_payload is 1 MB
  const error = await pub.publish("com.example.big", { args: [big] }, { acknowledge: true })
    .then(() => undefined, (e) => e);
  equal(error?.uri, "cloverleaf.error.cluster_unavailable");
  await until(() => got.length === 1);
  equal((got[0]!.args[0] as string).length, big.length);
  await flush(pub, "com.example.big", [got, far]);
  deepEqual(argsOf(far), []);
  await Promise.all([local.close(), remote.close(), pub.close()]);
});

Deno.test("cluster: each node's event history keeps what any node published", async () => {
  await using c = await startCluster(2, "test", {
    eventHistory: [{ topic: "com.example.log", match: "prefix", limit: 10 }],
  });
  const [a, b] = c.nodes;
  const pub = await join(a!, "json");
  const reader = await join(b!, "json");
  for (let i = 1; i <= 3; i++) {
    await pub.publish(`com.example.log.${i}`, { args: [i] }, { acknowledge: true });
  }
  const sub = await reader.subscribe("com.example.log", undefined, { match: "prefix" });
  const id = sub.id;
  await sub.unsubscribe();
  const events = async () =>
    ((await reader.call("wamp.subscription.get_events", { args: [id] })).args as {
      args: unknown[];
    }[]).map((e) => e.args[0]);
  let got: unknown[] = [];
  for (let tries = 0; tries < 100 && got.length < 3; tries++) {
    got = await events();
    if (got.length < 3) await new Promise((r) => setTimeout(r, 10));
  }
  deepEqual(got, [1, 2, 3]);
  await Promise.all([pub.close(), reader.close()]);
});

Deno.test("cluster: a prefix ending inside a component holds a wider subject; what it does not match is dropped undecoded", async () => {
  await using c = await startCluster(2, "test");
  const [a, b] = c.nodes;
  const sub = await join(b!, "json");
  const pub = await join(a!, "json");
  const stats = clusterOf(b!.router)!.pubsub.stats;
  const narrow = await collect(sub, "com.ab", { match: "prefix" }); // holds "com.>"
  for (let i = 0; i < 100; i++) pub.publish("com.x.y", { args: [i] });
  await flush(pub, "com.abc", [narrow]);
  deepEqual(argsOf(narrow), []);
  equal(stats.skipped, 100);
  equal(stats.received, 1, "the sentinel only");
  // A subscription that wants all of the subject: everything is decoded while it is there.
  const wide = await sub.subscribe("com.", () => {}, { match: "prefix" });
  await pub.publish("com.x.y", { args: ["wide"] }, { acknowledge: true });
  await flush(pub, "com.abd", [narrow]);
  equal(stats.skipped, 100);
  await wide.unsubscribe();
  await pub.publish("com.x.y", { args: ["narrow again"] }, { acknowledge: true });
  await flush(pub, "com.abe", [narrow]);
  equal(stats.skipped, 101);
  deepEqual(narrow.map((e) => e.topic), ["com.abc", "com.abd", "com.abe"]);
  await Promise.all([sub.close(), pub.close()]);
});

Deno.test("cluster: past 16 pattern subjects, a realm's patterns share its whole subject: a publication reaches a node at most 17 times", async () => {
  await using c = await startCluster(2, "test");
  const [a, b] = c.nodes;
  const bridge = clusterOf(b!.router)!.pubsub;
  const s = await join(b!, "json");
  const pub = await join(a!, "json");
  // 24 distinct wildcard patterns, all matching a.a.a.a.a.x: each would be a NATS subject of its own.
  let got = 0;
  const subs = [];
  for (let i = 0; i < 24; i++) {
    const parts = [0, 1, 2, 3, 4].map((k) => (i >> k) & 1 ? "" : "a");
    subs.push(
      await s.subscribe([...parts, "x"].join("."), () => void got++, { match: "wildcard" }),
    );
  }
  const subjects = bridge.subjects();
  equal(subjects.length, 17);
  ok(subjects.includes("clv.test.pub.realm1.>"), subjects.join("\n"));
  const before = { ...bridge.stats };
  await pub.publish("a.a.a.a.a.x", { args: [1] }, { acknowledge: true });
  await until(() => got === subs.length, 5000, "one EVENT per subscription");
  await new Promise((resolve) => setTimeout(resolve, 100));
  const copies = bridge.stats.received - before.received + bridge.stats.duplicates -
    before.duplicates;
  ok(copies <= 17, `${copies} copies`);
  equal(bridge.stats.received - before.received, 1);
  for (const sub of subs) await sub.unsubscribe();
  deepEqual(bridge.subjects(), []);
  await s.close();
  await pub.close();
});
