/**
 * The meta API inside the router, without sockets: event order, what a
 * kill, kill_all and a closing router publish, testament and
 * modify_details argument checks, and that nothing is built when nobody
 * subscribes to a meta topic. Over sockets: tests/integration/meta_test.ts.
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import { Broker } from "../../router/core/broker/broker.ts";
import type { MetaOptions } from "../../router/core/realm_options.ts";
import { MetaEvents } from "../../router/core/meta/events.ts";
import { MAX_TESTAMENTS } from "../../router/core/meta/testament.ts";
import { realmOf, Router } from "../../router/router.ts";
import type { Connection as Session } from "../../router/connection.ts";
import type { Outbound } from "../../router/core/types.ts";
import {
  CloseUri,
  type Dict,
  ErrorUri,
  type EventMessage,
  type MatchPolicy,
  MessageType,
  MetaProcedure,
  MetaTopic,
  sequentialIdGenerator,
  type WampMessage,
} from "../../wamp/mod.ts";
import { FakePeer } from "../_helpers/fake_peer.ts";
import { sessionInfo } from "../_helpers/session_info.ts";
import { measuredTwice } from "../_helpers/timed.ts";

const ROLES = { publisher: {}, subscriber: {}, caller: {}, callee: {} };

class Client {
  readonly peer = new FakePeer();
  readonly session: Session;
  #request = 0;

  constructor(router: Router) {
    this.session = router.attach(this.peer) as Session;
    this.session.receive({ type: MessageType.HELLO, realm: "realm1", details: { roles: ROLES } });
    equal(this.peer.take()[0]?.type, MessageType.WELCOME);
  }

  get id(): number {
    return this.session.id;
  }

  subscribe(topic: string, match: MatchPolicy = "exact"): number {
    this.session.receive({
      type: MessageType.SUBSCRIBE,
      request: ++this.#request,
      options: match === "exact" ? {} : { match },
      topic,
    });
    const reply = this.peer.take()[0];
    equal(reply?.type, MessageType.SUBSCRIBED);
    return reply?.type === MessageType.SUBSCRIBED ? reply.subscription : 0;
  }

  /** Sends CALL and returns everything the router sent back. */
  call(procedure: string, args: unknown[] = [], kwargs: Dict = {}): WampMessage[] {
    this.session.receive({
      type: MessageType.CALL,
      request: ++this.#request,
      options: {},
      procedure,
      args,
      kwargs,
    });
    return this.peer.take();
  }

  /** Calls and expects ERROR with `uri`. */
  refused(uri: string, procedure: string, args: unknown[] = [], kwargs: Dict = {}): void {
    const [reply] = this.call(procedure, args, kwargs);
    equal(reply?.type === MessageType.ERROR && reply.error, uri, JSON.stringify(reply));
  }

  /** The EVENTs received since the last take. */
  events(): EventMessage[] {
    return this.peer.take().filter((m): m is EventMessage => m.type === MessageType.EVENT);
  }
}

function router(meta: MetaOptions = {}): Router {
  return new Router({
    realms: [{ name: "realm1", meta }],
    logger: () => {},
    idGenerator: sequentialIdGenerator(),
  });
}

Deno.test("Broker.watchesMeta counts subscriptions that may match a wamp. topic", () => {
  const cases: [string, MatchPolicy, boolean][] = [
    ["wamp.session.on_join", "exact", true],
    ["com.example.x", "exact", false],
    ["wamp", "prefix", true],
    ["wa", "prefix", true],
    ["wamp.session", "prefix", true],
    ["com", "prefix", false],
    [".session.on_join", "wildcard", true],
    ["wamp..on_join", "wildcard", true],
    ["com..x", "wildcard", false],
  ];
  for (const [topic, match, watches] of cases) {
    const ids = sequentialIdGenerator();
    const broker = new Broker({ subscriptionIds: ids, publicationIds: ids, now: Date.now });
    broker.subscribe(sessionInfo(1, ["subscriber"]), {
      type: MessageType.SUBSCRIBE,
      request: 1,
      options: { match },
      topic,
    });
    equal(broker.watchesMeta, watches, `${match} "${topic}"`);
    broker.removeSession(1);
    equal(broker.watchesMeta, false, `${match} "${topic}" after removal`);
  }
});

Deno.test("MetaEvents builds no payload when no subscription can receive it", () => {
  const ids = sequentialIdGenerator();
  const broker = new Broker({ subscriptionIds: ids, publicationIds: ids, now: Date.now });
  const delivered: Outbound[] = [];
  const events = new MetaEvents(() => broker, () => sessionInfo(99, ["publisher"]));
  let built = 0;
  const build = () => {
    built++;
    return [1];
  };
  events.publish(MetaTopic.SESSION_ON_JOIN, build);
  broker.subscribe(sessionInfo(1, ["subscriber"]), {
    type: MessageType.SUBSCRIBE,
    request: 1,
    options: {},
    topic: MetaTopic.SESSION_ON_LEAVE,
  });
  events.publish(MetaTopic.SESSION_ON_JOIN, build); // watched, but not this topic
  events.flush(delivered);
  equal(built, 0);
  events.publish(MetaTopic.SESSION_ON_LEAVE, build);
  events.flush(delivered);
  equal(built, 1);
  equal(delivered.length, 1);
});

Deno.test("meta events follow the reply that caused them", () => {
  const r = router();
  const a = new Client(r);
  const created = a.subscribe(MetaTopic.SUBSCRIPTION_ON_CREATE);
  a.session.receive({
    type: MessageType.SUBSCRIBE,
    request: 2,
    options: {},
    topic: "com.example.topic",
  });
  const [subscribed, event] = a.peer.take();
  equal(subscribed?.type, MessageType.SUBSCRIBED);
  equal(event?.type, MessageType.EVENT);
  if (subscribed?.type !== MessageType.SUBSCRIBED || event?.type !== MessageType.EVENT) return;
  equal(event.subscription, created);
  equal(event.args?.[0], a.id);
  equal((event.args?.[1] as Dict).id, subscribed.subscription);
});

Deno.test("wamp.session.kill: RESULT first, then the target's on_leave; GOODBYE to the target", () => {
  const r = router({ kill: true });
  const a = new Client(r);
  const b = new Client(r);
  a.subscribe(MetaTopic.SESSION_ON_LEAVE);
  const [result, leave] = a.call(MetaProcedure.SESSION_KILL, [b.id], {
    reason: "com.example.bye",
    message: "go",
  });
  equal(result?.type, MessageType.RESULT);
  deepEqual(leave?.type === MessageType.EVENT && leave.args, [
    b.id,
    b.session.info.authid,
    "anonymous",
  ]);
  deepEqual(b.peer.take(), [{
    type: MessageType.GOODBYE,
    details: { message: "go" },
    reason: "com.example.bye",
  }]);
  a.refused(ErrorUri.NO_SUCH_SESSION, MetaProcedure.SESSION_KILL, [a.id]);
  a.refused(ErrorUri.NO_SUCH_SESSION, MetaProcedure.SESSION_KILL, [b.id]);
  const c = new Client(r);
  a.refused(ErrorUri.INVALID_URI, MetaProcedure.SESSION_KILL, [c.id], { reason: "not a uri" });
  a.refused(ErrorUri.INVALID_ARGUMENT, MetaProcedure.SESSION_KILL, ["x"]);
  equal(c.peer.take().length, 0, "a refused kill leaves the session alone");
});

Deno.test("wamp.session.kill_all fires no on_leave and no testament; kill is off by default", () => {
  const r = router({ kill: true });
  const a = new Client(r);
  a.subscribe(MetaTopic.SESSION_ON_LEAVE);
  a.subscribe("com.example.will");
  const victims = [new Client(r), new Client(r)];
  for (const v of victims) {
    equal(
      v.call(MetaProcedure.SESSION_ADD_TESTAMENT, ["com.example.will", [v.id], {}])[0]?.type,
      MessageType.RESULT,
    );
  }
  a.peer.take();
  const [result, ...rest] = a.call(MetaProcedure.SESSION_KILL_ALL, [], {});
  deepEqual(result?.type === MessageType.RESULT && result.args, [2]);
  deepEqual(rest, []);
  for (const v of victims) equal(v.peer.take()[0]?.type, MessageType.GOODBYE);
  equal(a.session.joined, true);

  const off = new Client(router());
  off.refused(ErrorUri.NO_SUCH_PROCEDURE, MetaProcedure.SESSION_KILL_ALL);
  off.refused(ErrorUri.NO_SUCH_PROCEDURE, MetaProcedure.SESSION_MODIFY_DETAILS, [off.id, {}]);
});

Deno.test("kill_by_authid returns the killed IDs and spares the caller", () => {
  const r = router({ kill: true });
  const a = new Client(r);
  const b = new Client(r);
  const [byId] = a.call(MetaProcedure.SESSION_KILL_BY_AUTHID, [b.session.info.authid]);
  deepEqual(byId?.type === MessageType.RESULT && byId.args, [[b.id]]);
  const [self] = a.call(MetaProcedure.SESSION_KILL_BY_AUTHID, [a.session.info.authid]);
  deepEqual(self?.type === MessageType.RESULT && self.args, [[]]);
  const [byRole] = a.call(MetaProcedure.SESSION_KILL_BY_AUTHROLE, ["anonymous"]);
  deepEqual(byRole?.type === MessageType.RESULT && byRole.args, [0]);
  equal(a.session.joined, true);
});

Deno.test("a closing router publishes no testaments and no on_leave", async () => {
  const r = router();
  const a = new Client(r);
  const b = new Client(r);
  a.subscribe(MetaTopic.SESSION_ON_LEAVE);
  a.subscribe("com.example.will");
  b.call(MetaProcedure.SESSION_ADD_TESTAMENT, ["com.example.will", [], {}]);
  a.peer.take();
  const closing = r.close(CloseUri.SYSTEM_SHUTDOWN, 0);
  deepEqual(a.peer.take().map((m) => m.type), [MessageType.GOODBYE]);
  await closing;
});

Deno.test("wamp.session.add_testament checks its arguments", () => {
  const a = new Client(router());
  const add = MetaProcedure.SESSION_ADD_TESTAMENT;
  a.refused(ErrorUri.INVALID_URI, add, ["wamp.session.on_join", [], {}]);
  a.refused(ErrorUri.INVALID_URI, add, ["not a uri", [], {}]);
  a.refused(ErrorUri.INVALID_ARGUMENT, add, [5, [], {}]);
  a.refused(ErrorUri.INVALID_ARGUMENT, add, ["com.x", "args", {}]);
  a.refused(ErrorUri.INVALID_ARGUMENT, add, ["com.x", [], []]);
  a.refused(ErrorUri.INVALID_ARGUMENT, add, ["com.x", [], {}], { scope: "forever" });
  a.refused(ErrorUri.INVALID_ARGUMENT, add, ["com.x", [], {}], { publish_options: [] });
  a.refused(ErrorUri.INVALID_ARGUMENT, add, ["com.x", [], {}], {
    publish_options: { exclude: "x" },
  });
  a.refused(ErrorUri.INVALID_ARGUMENT, add, ["com.x", [], {}], {
    publish_options: { exclude_me: "no" },
  });
  a.refused(ErrorUri.INVALID_ARGUMENT, MetaProcedure.SESSION_FLUSH_TESTAMENTS, [], { scope: 1 });
  for (let i = 0; i < MAX_TESTAMENTS; i++) {
    equal(a.call(add, ["com.x", [i], {}])[0]?.type, MessageType.RESULT);
  }
  a.refused(ErrorUri.LIMIT_EXCEEDED, add, ["com.x", [], {}]);
  equal(a.call(add, ["com.x", [], {}], { scope: "detached" })[0]?.type, MessageType.RESULT);
});

Deno.test("testaments: detached before destroyed, flush empties one scope, options honoured", async () => {
  const r = router();
  const watcher = new Client(r);
  const other = new Client(r);
  watcher.subscribe("com.example.will");
  other.subscribe("com.example.will");
  const dying = new Client(r);
  const add = (args: unknown[], kwargs: Dict = {}) =>
    equal(
      dying.call(MetaProcedure.SESSION_ADD_TESTAMENT, ["com.example.will", args, {}], kwargs)[0]
        ?.type,
      MessageType.RESULT,
    );
  add(["destroyed 1"]);
  add(["detached 1"], { scope: "detached" });
  add(["dropped"], { scope: "detached" });
  dying.call(MetaProcedure.SESSION_FLUSH_TESTAMENTS, [], { scope: "detached" });
  add(["detached 2"], { scope: "detached" });
  add(["only watcher"], { publish_options: { eligible: [watcher.id], acknowledge: true } });
  dying.session.closed(); // transport lost, no GOODBYE
  // The first at once, each of the others in a turn of its own.
  await new Promise((resolve) => setTimeout(resolve, 50));
  deepEqual(watcher.events().map((e) => e.args?.[0]), [
    "detached 2",
    "destroyed 1",
    "only watcher",
  ]);
  deepEqual(other.events().map((e) => e.args?.[0]), ["detached 2", "destroyed 1"]);
});

Deno.test("a leaving session's testaments go out a few per turn of the event loop, on_leave after them", async () => {
  const r = router();
  const watcher = new Client(r);
  watcher.subscribe("com.example.will");
  watcher.subscribe(MetaTopic.SESSION_ON_LEAVE);
  const dying = new Client(r);
  for (let i = 0; i < MAX_TESTAMENTS; i++) {
    dying.call(MetaProcedure.SESSION_ADD_TESTAMENT, ["com.example.will", [i], {}]);
  }
  // Each could fan out to every subscriber of its topic: the leave publishes only the first.
  dying.session.closed();
  deepEqual(watcher.events().map((e) => e.args?.[0]), [0]);
  const seen: unknown[] = [0];
  for (let turn = 0; turn < 100 && seen.length <= MAX_TESTAMENTS; turn++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    const events = watcher.events();
    ok(events.length < MAX_TESTAMENTS / 2, `${events.length} testaments in 10 ms`);
    seen.push(...events.map((e) => e.args?.[0]));
  }
  deepEqual(seen, [...Array.from({ length: MAX_TESTAMENTS }, (_, i) => i), dying.id]);
});

Deno.test("sessions leaving together take turns publishing their testaments: their turns do not add up", async () => {
  const r = router();
  const watcher = new Client(r);
  watcher.subscribe("com.example.will");
  watcher.subscribe(MetaTopic.SESSION_ON_LEAVE);
  const [a, b] = [new Client(r), new Client(r)];
  for (const [name, dying] of [["a", a], ["b", b]] as const) {
    for (let i = 1; i <= 3; i++) {
      dying.call(MetaProcedure.SESSION_ADD_TESTAMENT, ["com.example.will", [`${name}${i}`], {}]);
    }
  }
  a.session.closed();
  b.session.closed();
  await new Promise((resolve) => setTimeout(resolve, 50));
  // Each leave publishes its first at once; then one of each session in turn.
  deepEqual(watcher.events().map((e) => e.args?.[0]), [
    "a1",
    "b1",
    "a2",
    "b2",
    "a3",
    a.id,
    "b3",
    b.id,
  ]);
});

Deno.test("a session's testaments and on_leave do not wait behind another's hundreds", async () => {
  const r = router();
  const watcher = new Client(r);
  watcher.subscribe("com.example.will");
  watcher.subscribe(MetaTopic.SESSION_ON_LEAVE);
  const [many, few] = [new Client(r), new Client(r)];
  for (const scope of ["detached", "destroyed"]) {
    for (let i = 0; i < MAX_TESTAMENTS; i++) {
      const args = ["com.example.will", [`many ${scope} ${i}`], {}];
      many.call(MetaProcedure.SESSION_ADD_TESTAMENT, args, { scope });
    }
  }
  few.call(MetaProcedure.SESSION_ADD_TESTAMENT, ["com.example.will", ["few 1"], {}]);
  few.call(MetaProcedure.SESSION_ADD_TESTAMENT, ["com.example.will", ["few 2"], {}]);
  many.session.closed();
  few.session.closed();
  const seen: unknown[] = [];
  for (let turn = 0; turn < 200 && !seen.includes(many.id); turn++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    seen.push(...watcher.events().map((e) => e.args?.[0]));
  }
  // Before: "few 2" and few's on_leave came after all 512 of the other's (4.3 s for 4 such sessions).
  deepEqual(seen.slice(0, 6), [
    "many detached 0",
    "few 1",
    "many detached 1",
    "few 2",
    few.id,
    "many detached 2",
  ]);
  equal(seen.length, 2 * MAX_TESTAMENTS + 2 + 2);
  equal(seen.at(-1), many.id);
});

Deno.test("on_leave after testaments names the session that left, though its connection joined again", async () => {
  const r = router();
  const watcher = new Client(r);
  watcher.subscribe(MetaTopic.SESSION_ON_LEAVE);
  const dying = new Client(r);
  for (let i = 0; i < 3; i++) {
    dying.call(MetaProcedure.SESSION_ADD_TESTAMENT, ["com.example.will", [i], {}]);
  }
  const old = dying.id;
  dying.session.receive({ type: MessageType.GOODBYE, details: {}, reason: CloseUri.NORMAL });
  dying.session.receive({ type: MessageType.HELLO, realm: "realm1", details: { roles: ROLES } });
  ok(dying.id !== old, "joined again as a new session");
  await new Promise((resolve) => setTimeout(resolve, 50));
  deepEqual(watcher.events().map((e) => e.args?.[0]), [old]);
});

Deno.test("wamp.session.modify_details changes reported details, never the identity", () => {
  const a = new Client(router({ modifyDetails: true }));
  const modify = MetaProcedure.SESSION_MODIFY_DETAILS;
  equal(a.call(modify, [a.id, { x_team: "blue", x_n: 1 }])[0]?.type, MessageType.RESULT);
  equal(a.call(modify, [a.id, { x_n: null }])[0]?.type, MessageType.RESULT);
  const [got] = a.call(MetaProcedure.SESSION_GET, [a.id]);
  const details = got?.type === MessageType.RESULT ? got.args?.[0] as Dict : {};
  equal(details.x_team, "blue");
  ok(!("x_n" in details));
  equal(details.authrole, "anonymous");
  for (const key of ["authrole", "authid", "session", "transport"]) {
    a.refused(ErrorUri.INVALID_ARGUMENT, modify, [a.id, { [key]: "admin" }]);
  }
  a.refused(ErrorUri.NO_SUCH_SESSION, modify, [12345, {}]);
  a.refused(ErrorUri.INVALID_ARGUMENT, modify, [a.id, "x"]);
});

Deno.test("cluster mode: a node that is down leaves its sessions' testaments here, fired in rotation as ours", () => {
  const r = router();
  const realm = realmOf(r, "realm1")!;
  const watcher = new Client(r);
  watcher.subscribe("com.example.will");
  const testaments = Array.from({ length: 20 }, (_, i) => ({
    scope: "destroyed" as const,
    topic: "com.example.will",
    args: [i],
    kwargs: {},
    options: {},
    disclose: true, // its role's permission forced the publisher's disclosure
  }));
  const out = realm.fireTestaments(
    { ...sessionInfo(99, ["publisher"]), realm: "realm1" },
    testaments,
  );
  // The first at once; the others wait for the timer that publishes them a few per turn.
  const events = out.messages.filter((m) => m.msg.type === MessageType.EVENT);
  deepEqual(events.map((m) => (m.msg as EventMessage).args), [[0]]);
  equal((events[0]!.msg as EventMessage).details.publisher, 99);
  equal(out.effects.filter((e) => e.kind === "arm").length, 1);
});

Deno.test("a router that closes publishes the testaments still queued at once (no later turn comes)", async () => {
  const r = router();
  const watcher = new Client(r);
  watcher.subscribe("com.example.will");
  const dying = new Client(r);
  for (let i = 0; i < 20; i++) {
    dying.call(MetaProcedure.SESSION_ADD_TESTAMENT, ["com.example.will", [i], {}]);
  }
  dying.session.closed();
  deepEqual(watcher.events().map((e) => e.args?.[0]), [0]);
  await r.close(CloseUri.SYSTEM_SHUTDOWN, 0);
  const rest = watcher.events().map((e) => e.args?.[0]);
  deepEqual(rest, Array.from({ length: 19 }, (_, i) => i + 1));
});

Deno.test(
  "meta lookups and matches with a URI longer than any valid one answer without splitting it",
  measuredTwice(() => {
    const r = router();
    const a = new Client(r);
    a.subscribe("com..x", "wildcard");
    const dots = ".".repeat(8 * 1024 * 1024);
    const start = performance.now();
    const lookup = a.call(MetaProcedure.SUBSCRIPTION_LOOKUP, [dots, { match: "wildcard" }])[0];
    const match = a.call(MetaProcedure.SUBSCRIPTION_MATCH, [dots])[0];
    const took = performance.now() - start;
    deepEqual(lookup?.type === MessageType.RESULT && lookup.args, [null]);
    deepEqual(match?.type === MessageType.RESULT && match.args, [null]);
    // Split into 8 million components, each took about 0.15 s.
    ok(took < 100, `the two calls took ${took.toFixed(0)} ms`);
  }),
);
