/**
 * The Meta API across cluster nodes: session meta events and procedures
 * (count, list, get, kill*), a SIGKILLed node's sessions leaving every
 * view, and the registration meta API over callees on other nodes. Real
 * nats-server, our client over WebSocket.
 */

import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { encode } from "@msgpack/msgpack";
import { connect, type Session } from "../../mod.ts";
import { startRouter, until, within } from "../_helpers/router.ts";
import { isUri, joinNode, seen, spawnNode, startCluster, TIMING } from "./_cluster.ts";
import { type ClusterSession, NOTHING, type Output } from "../../router/core/output.ts";
import type { MetaEvents } from "../../router/core/meta/events.ts";
import { SessionCluster, type SessionEnvelope } from "../../router/core/meta/cluster_sessions.ts";
import { MAX_KILL_MESSAGE } from "../../router/core/meta/session_meta.ts";
import { realmOf } from "../../router/router.ts";

/** realm1 with the kill procedures and modify_details on. */
const META = { meta: { kill: true, modifyDetails: true } } as const;

/** Waits until `session`'s view of the realm is exactly `ids` (any order). */
async function viewIs(session: Session, ids: number[]): Promise<void> {
  const want = [...ids].sort();
  const deadline = Date.now() + 5000;
  let last = (await session.meta.sessions.list()).sort();
  while (JSON.stringify(last) !== JSON.stringify(want)) {
    if (Date.now() > deadline) throw new Error(`view ${want}, have ${last}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
    last = (await session.meta.sessions.list()).sort();
  }
}

Deno.test("session meta across nodes: on_join/on_leave, count, list (authrole filter), get", async () => {
  await using c = await startCluster(3, "meta1", META);
  const [a, b, d] = c.nodes;
  const watcher = await joinNode(a!, "msgpack");
  const onB = await joinNode(b!, "cbor");
  const onD = await joinNode(d!);
  await viewIs(watcher, [watcher.id, onB.id, onD.id]);
  const joins: number[] = [];
  const leaves: [number, string, string][] = [];
  await watcher.meta.sessions.onJoin((details) => void joins.push(details.session as number));
  await watcher.meta.sessions.onLeave((id, authid, authrole) =>
    void leaves.push([id, authid, authrole])
  );
  const late = await joinNode(b!, "json");
  await until(() => joins.includes(late.id), 5000, "on_join for a session on another node");
  equal(joins.length, 1);
  // Every node sees every session.
  for (const s of [watcher, onB, onD]) await viewIs(s, [watcher.id, onB.id, onD.id, late.id]);
  equal(await watcher.meta.sessions.count(), 4);
  equal(await watcher.meta.sessions.count(["anonymous"]), 4);
  equal(await watcher.meta.sessions.count(["nobody"]), 0);
  deepEqual(await watcher.meta.sessions.list(["nobody"]), []);
  const details = await watcher.meta.sessions.get(late.id);
  equal(details.session, late.id);
  equal(details.authid, late.details.authid);
  equal(details.authrole, "anonymous");
  equal(details.realm, "realm1");
  equal((details.transport as { type: string }).type, "websocket");
  await rejects(watcher.meta.sessions.get(4242), isUri("wamp.error.no_such_session"));
  await late.close();
  await until(() => leaves.length === 1, 5000, "on_leave for a session on another node");
  deepEqual(leaves[0], [late.id, late.details.authid, "anonymous"]);
  await viewIs(onD, [watcher.id, onB.id, onD.id]);
  equal(joins.length, 1);
  for (const s of [watcher, onB, onD]) await s.close();
});

Deno.test("wamp.session.kill, kill_by_authid, kill_by_authrole and kill_all reach other nodes", async () => {
  await using c = await startCluster(2, "meta2", META);
  const [a, b] = c.nodes;
  const admin = await joinNode(a!);
  const victims = [await joinNode(b!), await joinNode(b!), await joinNode(b!), await joinNode(a!)];
  await viewIs(admin, [admin.id, ...victims.map((v) => v.id)]);
  const leaves: number[] = [];
  await admin.meta.sessions.onLeave((id) => void leaves.push(id));

  await admin.meta.sessions.kill(victims[0]!.id, { reason: "com.example.bye", message: "go" });
  const closed = await within(victims[0]!.closed, 5000, "the killed session closing");
  equal(closed.reason, "com.example.bye");
  // The answer comes once the session is gone from the view.
  ok(!(await admin.meta.sessions.list()).includes(victims[0]!.id));
  await until(() => leaves.includes(victims[0]!.id), 5000, "on_leave for the killed session");

  deepEqual(await admin.meta.sessions.killByAuthid(victims[1]!.details.authid as string), [
    victims[1]!.id,
  ]);
  await within(victims[1]!.closed, 5000, "killed by authid");

  equal(await admin.meta.sessions.killByAuthrole("anonymous"), 2); // the caller is spared
  await within(victims[2]!.closed, 5000, "killed by authrole (node B)");
  await within(victims[3]!.closed, 5000, "killed by authrole (node A)");
  deepEqual(await admin.meta.sessions.list(), [admin.id]);

  const more = [await joinNode(b!), await joinNode(b!)];
  await viewIs(admin, [admin.id, ...more.map((s) => s.id)]);
  const before = leaves.length;
  equal(await admin.meta.sessions.killAll(), 2);
  for (const s of more) await within(s.closed, 5000, "killed by kill_all");
  deepEqual(await admin.meta.sessions.list(), [admin.id]);
  await new Promise((resolve) => setTimeout(resolve, 200));
  equal(leaves.length, before, "kill_all fires no on_leave, on any node");
  await rejects(admin.meta.sessions.kill(4242), isUri("wamp.error.no_such_session"));
  await admin.close();
});

Deno.test("wamp.session.modify_details on a session of another node", async () => {
  await using c = await startCluster(2, "modify", META);
  const [a, b] = c.nodes;
  const admin = await joinNode(a!, "msgpack");
  const other = await joinNode(b!, "cbor");
  const watcher = await joinNode(b!);
  await viewIs(admin, [admin.id, other.id, watcher.id]);
  await admin.meta.sessions.modifyDetails(other.id, { label: "x", nested: { n: 1 } });
  // The answer comes once the caller's node shows the change.
  const got = await admin.meta.sessions.get(other.id);
  equal(got.label, "x");
  deepEqual(got.nested, { n: 1 });
  equal((await watcher.meta.sessions.get(other.id)).label, "x");
  await admin.meta.sessions.modifyDetails(other.id, { label: null });
  equal((await admin.meta.sessions.get(other.id)).label, undefined);
  equal((await watcher.meta.sessions.get(other.id)).label, undefined);
  await rejects(
    admin.meta.sessions.modifyDetails(other.id, { authrole: "admin" }),
    isUri("wamp.error.invalid_argument"),
  );
  await rejects(
    admin.meta.sessions.modifyDetails(4242, { a: 1 }),
    isUri("wamp.error.no_such_session"),
  );
  for (const s of [admin, other, watcher]) await s.close();
});

Deno.test("wamp.reflection.topic.list and describe see every node's subscriptions", async () => {
  await using c = await startCluster(3, "reflect", META);
  const [a, b, d] = c.nodes;
  const asker = await joinNode(a!, "json");
  const subs = [await joinNode(b!, "msgpack"), await joinNode(d!, "cbor"), await joinNode(a!)];
  // com.example.r: subscribed on B and C (two nodes, not A); com.example.r.* as wildcard on A only.
  await subs[0]!.subscribe("com.example.r", () => {});
  await subs[1]!.subscribe("com.example.r", () => {});
  await subs[2]!.subscribe("com.example..x", () => {}, { match: "wildcard" });
  const onlyRemote = await subs[0]!.subscribe("com.example.only", () => {}, { match: "prefix" });
  type Described = { id: number; match: string; subscribers: number; history: boolean };
  const describe = async (s: Session, topic: string) =>
    (await s.call("wamp.reflection.topic.describe", { args: [topic] })).kwargs
      .subscriptions as Described[];
  const deadline = Date.now() + 5000;
  while (
    !(await describe(asker, "com.example.r").then(([r]) => r?.subscribers === 2, () => false)) ||
    !(await describe(asker, "com.example.only").then(() => true, () => false))
  ) {
    ok(Date.now() < deadline, "both nodes' subscribers described on A");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const list = (await asker.call("wamp.reflection.topic.list")).args[0] as string[];
  for (const topic of ["com.example.r", "com.example..x", "com.example.only"]) {
    ok(list.includes(topic), `${topic} listed on node A`);
  }
  const [r] = await describe(asker, "com.example.r");
  // The ID is the one wamp.subscription.lookup gives on A (another node's, the lowest).
  equal(r!.id, await asker.meta.subscriptions.lookup("com.example.r"));
  equal(r!.match, "exact");
  deepEqual(
    (await describe(asker, "com.example.only")).map(({ id, match, subscribers }) => ({
      id,
      match,
      subscribers,
    })),
    [{ id: onlyRemote.id, match: "prefix", subscribers: 1 }],
  );
  // On C, which has its own subscription to com.example.r: its own ID, every node's subscribers.
  const onC = await joinNode(d!);
  const mine = await describe(onC, "com.example.r");
  equal(mine.length, 1);
  equal(mine[0]!.subscribers, 2);
  equal(mine[0]!.id, await onC.meta.subscriptions.lookup("com.example.r"));
  equal((await describe(onC, "com.example..x"))[0]!.subscribers, 1);
  for (const s of [asker, onC, ...subs]) await s.close();
});

Deno.test("a node SIGKILLed: its sessions leave every view within nodeTimeout, with on_leave", async () => {
  await using c = await startCluster(2, "meta3", META);
  const [a, b] = c.nodes;
  const { url, process: child } = await spawnNode(c.nats.url, "meta3");
  let killed = false;
  try {
    const watcher = await joinNode(a!);
    const other = await joinNode(b!);
    const doomed = [
      await connect(url, { realm: "realm1" }),
      await connect(url, { realm: "realm1" }),
    ];
    await viewIs(watcher, [watcher.id, other.id, ...doomed.map((s) => s.id)]);
    await doomed[0]!.subscribe("com.example.doom", () => {});
    await watcher.subscribe("com.example.doom", () => {});
    const sub = (await watcher.meta.subscriptions.lookup("com.example.doom"))!;
    const deadline = Date.now() + 5000;
    while ((await watcher.meta.subscriptions.countSubscribers(sub)) !== 2) {
      if (Date.now() > deadline) throw new Error("count_subscribers never reached 2");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const leaves: number[] = [];
    await watcher.meta.sessions.onLeave((id) => void leaves.push(id));
    child.kill("SIGKILL");
    killed = true;
    const t0 = Date.now();
    await until(() => leaves.length === 2, TIMING.nodeTimeout + 2000, "on_leave for both");
    const waited = Date.now() - t0;
    ok(waited <= TIMING.nodeTimeout + 1000, `gone after ${waited} ms`);
    deepEqual(leaves.sort(), doomed.map((s) => s.id).sort());
    await viewIs(watcher, [watcher.id, other.id]);
    await viewIs(other, [watcher.id, other.id]);
    equal(await other.meta.sessions.count(), 2);
    deepEqual(await watcher.meta.subscriptions.listSubscribers(sub), [watcher.id]);
    await watcher.close();
    await other.close();
    for (const s of doomed) await s.closed.catch(() => {});
  } finally {
    if (!killed) child.kill("SIGKILL");
    await child.status;
  }
});

Deno.test("registration meta across nodes: events once per node, list_callees/count_callees", async () => {
  await using c = await startCluster(2, "meta4", META);
  const [a, b] = c.nodes;
  const watcher = await joinNode(a!);
  const creates: unknown[][] = [];
  const registers: unknown[][] = [];
  await watcher.subscribe("wamp.registration.on_create", (e) => void creates.push(e.args));
  await watcher.subscribe("wamp.registration.on_register", (e) => void registers.push(e.args));
  const calleeB = await joinNode(b!);
  const calleeA = await joinNode(a!);
  await calleeB.register("com.example.shared", () => ({ args: ["b"] }), { invoke: "roundrobin" });
  await seen(a!, "com.example.shared", 1);
  await calleeA.register("com.example.shared", () => ({ args: ["a"] }), { invoke: "roundrobin" });
  await seen(a!, "com.example.shared", 2);
  await seen(b!, "com.example.shared", 2);
  const regs = watcher.meta.registrations;
  const id = await regs.lookup("com.example.shared");
  ok(typeof id === "number");
  equal(await regs.countCallees(id), 2);
  deepEqual((await regs.listCallees(id)).sort(), [calleeA.id, calleeB.id].sort());
  // The same from node B, with B's registration ID.
  const idB = await calleeB.meta.registrations.lookup("com.example.shared");
  deepEqual(
    (await calleeB.meta.registrations.listCallees(idB!)).sort(),
    [calleeA.id, calleeB.id].sort(),
  );
  await until(() => registers.length === 2, 5000, "on_register for both callees");
  await new Promise((resolve) => setTimeout(resolve, 200));
  deepEqual(creates, [[calleeB.id, { ...(creates[0]![1] as object) }]]);
  equal((creates[0]![1] as { id: number }).id, id);
  deepEqual(registers, [[calleeB.id, id], [calleeA.id, id]], "each once, with this node's ID");
  await calleeB.close();
  await seen(a!, "com.example.shared", 1);
  equal(await regs.countCallees(id), 1);
  await calleeA.close();
  await watcher.close();
});

Deno.test("subscription meta across nodes: lookup, get, list, match, list/count_subscribers", async () => {
  await using c = await startCluster(2, "meta5", META);
  const [a, b] = c.nodes;
  const watcher = await joinNode(a!);
  const sA = await joinNode(a!), sB = await joinNode(b!, "msgpack"), sB2 = await joinNode(b!);
  await sA.subscribe("com.example.t", () => {});
  await sB.subscribe("com.example.t", () => {});
  await sB2.subscribe("com.example.", () => {}, { match: "prefix" });
  const subs = watcher.meta.subscriptions;
  const exact = await subs.lookup("com.example.t");
  ok(typeof exact === "number");
  const deadline = Date.now() + 10_000;
  while ((await subs.countSubscribers(exact)) !== 2) {
    if (Date.now() > deadline) throw new Error("count_subscribers never reached 2");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  deepEqual((await subs.listSubscribers(exact)).sort(), [sA.id, sB.id].sort());
  // A subscription only node B has: its ID there, from node A.
  let prefix: number | null = null;
  while ((prefix = await subs.lookup("com.example.", { match: "prefix" })) === null) {
    if (Date.now() > deadline) throw new Error("the prefix subscription never showed on A");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const details = await subs.get(prefix);
  equal(details.uri, "com.example.");
  equal(details.match, "prefix");
  deepEqual(await subs.listSubscribers(prefix), [sB2.id]);
  equal(await subs.countSubscribers(prefix), 1);
  const lists = await subs.list();
  ok(lists.exact.includes(exact) && lists.prefix.includes(prefix));
  deepEqual((await subs.match("com.example.t")).sort(), [exact, prefix].sort());
  // A node that starts now learns the others' sessions and subscriptions (snapshots).
  const late = await startRouter({
    realms: [{ name: "realm1" }],
    cluster: { servers: [c.nats.url], name: "meta5", ...TIMING },
  });
  c.nodes.push(late);
  await late.router.ready;
  const onLate = await joinNode(late);
  await viewIs(onLate, [watcher.id, sA.id, sB.id, sB2.id, onLate.id]);
  const seenLate = await onLate.meta.subscriptions.lookup("com.example.t");
  deepEqual(
    (await onLate.meta.subscriptions.listSubscribers(seenLate!)).sort(),
    [sA.id, sB.id].sort(),
  );
  await onLate.close();
  // Node B's own ID for com.example.t counts every node's subscribers too.
  const exactB = await sB.meta.subscriptions.lookup("com.example.t");
  equal(await sB.meta.subscriptions.countSubscribers(exactB!), 2);
  await sB.close();
  await sB2.close();
  while ((await subs.countSubscribers(exact)) !== 1) {
    if (Date.now() > deadline) throw new Error("count_subscribers never fell to 1");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  while ((await subs.lookup("com.example.", { match: "prefix" })) !== null) {
    if (Date.now() > deadline) throw new Error("the prefix subscription never went from A");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await rejects(subs.get(prefix), isUri("wamp.error.no_such_subscription"));
  await sA.close();
  await watcher.close();
});

Deno.test("subscription meta events for subscriptions on other nodes, once each, with their node's IDs", async () => {
  await using c = await startCluster(2, "meta6", META);
  const [a, b] = c.nodes;
  const watcher = await joinNode(a!);
  const events: [string, unknown[]][] = [];
  for (const what of ["on_create", "on_subscribe", "on_unsubscribe", "on_delete"]) {
    await watcher.subscribe(`wamp.subscription.${what}`, (e) => void events.push([what, e.args]));
  }
  const sB = await joinNode(b!, "cbor");
  const sA = await joinNode(a!);
  const subB = await sB.subscribe("com.example.ev", () => {});
  await until(() => events.length === 2, 5000, "on_create and on_subscribe from node B");
  const idB = await sB.meta.subscriptions.lookup("com.example.ev");
  equal(events[0]![0], "on_create");
  deepEqual(events[0]![1][0], sB.id);
  equal((events[0]![1][1] as { id: number; uri: string }).id, idB);
  equal((events[0]![1][1] as { id: number; uri: string }).uri, "com.example.ev");
  deepEqual(events[1], ["on_subscribe", [sB.id, idB]]);
  await sA.subscribe("com.example.ev", () => {});
  await until(() => events.length === 4, 5000, "on_create and on_subscribe on node A");
  const idA = await watcher.meta.subscriptions.lookup("com.example.ev");
  deepEqual(events.slice(2).map(([what]) => what), ["on_create", "on_subscribe"]);
  deepEqual(events[3], ["on_subscribe", [sA.id, idA]]);
  await subB.unsubscribe();
  await until(() => events.length === 6, 5000, "on_unsubscribe and on_delete from node B");
  deepEqual(events.slice(4), [["on_unsubscribe", [sB.id, idB]], ["on_delete", [sB.id, idB]]]);
  await new Promise((resolve) => setTimeout(resolve, 200));
  equal(events.length, 6, "no duplicate");
  for (const s of [sA, sB, watcher]) await s.close();
});

Deno.test("a kill that cannot reach a session's node is an ERROR, not a success; a long message is refused first", async () => {
  await using t = await startRouter({ realms: [{ name: "realm1", ...META }] });
  const asked: string[] = [];
  const cluster = realmOf(t.router, "realm1")!.shareSessions({
    node: "n1",
    realm: "realm1",
    kill: (_sessions, _reason, message) => {
      asked.push(message ?? "");
      return Promise.reject(new Error("over NATS's max_payload"));
    },
    modify: () => Promise.resolve(undefined),
  });
  cluster.receive({ k: "join", realm: "realm1", node: "n2", details: { session: 9999 } });
  const admin = await connect(t.url, { realm: "realm1" });
  await rejects(
    admin.meta.sessions.kill(9999, { message: "x".repeat(MAX_KILL_MESSAGE + 1) }),
    isUri("wamp.error.invalid_argument"),
  );
  deepEqual(asked, [], "refused before any node is asked");
  await rejects(
    admin.meta.sessions.kill(9999, { message: "bye" }),
    isUri("cloverleaf.error.cluster_unavailable"),
  );
  deepEqual(asked, ["bye"]);
  await admin.close();
});

Deno.test("a snapshot of many sessions and subscribers goes in parts, and is whole again on arrival", () => {
  const hooks = {
    node: "n1",
    realm: "realm1",
    kill: () => Promise.resolve(),
    modify: () => Promise.resolve(undefined),
  };
  const pad = "é".repeat(1000); // 2 KB of UTF-8 a session: parts go by bytes, not count
  const details = Array.from({ length: 600 }, (_, i) => ({ session: i + 1, authid: `a${i}`, pad }));
  const subscribers = Array.from({ length: 40_000 }, (_, i) => i + 1);
  const settle = (out: Output) => out;
  const events = { publish() {}, silent: false } as unknown as MetaEvents;
  const from = new SessionCluster(hooks, {
    events,
    local: () => details,
    subscriptions: () => [
      { id: 7, topic: "com.example.t", match: "exact", created: "", subscribers },
    ],
    kill: () => NOTHING,
    modify: () => undefined,
    settle,
  });
  const parts = from.snapshot("n2").effects as ClusterSession[];
  ok(parts.length >= 7, `1.2 MB of sessions, 40,000 subscribers: ${parts.length} parts`);
  for (const part of parts) ok(encode(part.envelope).length <= 256 * 1024, "a part is small");
  const to = new SessionCluster({ ...hooks, node: "n2" }, {
    events,
    local: () => [],
    subscriptions: () => [],
    kill: () => NOTHING,
    modify: () => undefined,
    settle,
  });
  to.receive({ k: "join", realm: "realm1", node: "n1", details: { session: 9999 } });
  for (const part of parts) to.receive(part.envelope as SessionEnvelope);
  equal([...to.sessions()].length, 600, "the first part replaced what was known");
  equal(to.remote.get(7)?.subscribers.size, 40_000);
});
