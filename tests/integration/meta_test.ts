/**
 * The Meta API end to end (spec "Session Meta API", "Registration Meta
 * API", "Subscription Meta API", "Session Testament"): our client, through
 * its typed `session.meta` helpers and through plain `call()`/`subscribe()`
 * for the wire shapes, against our router, once per way of connecting
 * (ws+json, ws+msgpack, ws+cbor, local).
 *
 * Meta events reach a watcher over one link in the order the router
 * publishes them, so "A before B" is checked on one watcher's inbox, and
 * "no event" is checked against a later event the router must publish
 * after it (on_leave comes after the leaver's testaments, on_join of a
 * fresh session after everything before it).
 */

import type { SerializerName } from "../../wamp/mod.ts";
import { deepEqual, equal, match, ok, rejects } from "node:assert/strict";
import { ApplicationError, type Event, type RealmOptions, Session } from "../../mod.ts";
import { connectWebSocket, linkedPeers } from "../../transports/mod.ts";
import { type Dict, type Link, MAX_ID } from "../../wamp/mod.ts";
import { rawWebSocket } from "../_helpers/raw_websocket.ts";
import {
  join,
  startRouter,
  type TestRouter,
  until,
  type Via,
  VIAS,
  within,
} from "../_helpers/router.ts";

/** An ID no router handed out in these tests. */
const UNKNOWN_ID = MAX_ID;

/** ISO 8601 date-time, as `created` must be. */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** The keys of SessionDetails, without `modify_details` additions. */
const SESSION_KEYS = [
  "authid",
  "authmethod",
  "authprovider",
  "authrole",
  "realm",
  "session",
  "transport",
];

/** Registers one test per way of connecting. */
function feature(name: string, fn: (via: Via) => Promise<void>): void {
  for (const via of VIAS) Deno.test(`[${via}] ${name}`, () => fn(via));
}

/** A router whose realm1 has these options. */
function routerWith(realm: Omit<RealmOptions, "name"> = {}): Promise<TestRouter> {
  return startRouter({ realms: [{ name: "realm1", ...realm }] });
}

/** Joins `n` sessions. */
function sessions(t: TestRouter, via: Via, n: number): Promise<Session[]> {
  return Promise.all(Array.from({ length: n }, () => join(t, via)));
}

/** A session whose transport can be dropped without GOODBYE. */
interface Droppable {
  session: Session;
  /** Closes the transport under the session: no GOODBYE is sent. */
  drop(): void;
}

/** Joins realm1 keeping the link, so the test can lose the transport. */
async function joinDroppable(t: TestRouter, via: Via): Promise<Droppable> {
  let link: Link;
  if (via === "local") {
    const [routerEnd, clientEnd] = linkedPeers();
    routerEnd.bind(t.router.attach(routerEnd));
    link = clientEnd;
  } else {
    link = await connectWebSocket(t.url, { serializers: [via as SerializerName] });
  }
  const session = await Session.join(link, { realm: "realm1" });
  return { session, drop: () => link.close() };
}

/** One event as a watcher saw it. */
interface Seen {
  /** The topic subscribed to (short: without the `wamp.` prefix). */
  sub: string;
  topic: string;
  args: unknown[];
  kwargs: Dict;
  details: Dict;
}

/** Subscribes `s` to `topics` and collects every event into one list. */
async function watch(
  s: Session,
  topics: string[],
  options: Dict = {},
  seen: Seen[] = [],
): Promise<Seen[]> {
  for (const topic of topics) {
    await s.subscribe(topic, (e: Event) => {
      const { args, kwargs, details } = e;
      seen.push({ sub: topic.replace(/^wamp\./, ""), topic: e.topic, args, kwargs, details });
    }, options);
  }
  return seen;
}

/** `[short topic, ...args]` per event: compact for deepEqual. */
function rows(seen: Seen[]): unknown[][] {
  return seen.map((e) => [e.sub, ...e.args]);
}

/** Waits until some event satisfies `check`. */
function seenUntil(seen: Seen[], check: (e: Seen) => boolean, what: string): Promise<void> {
  return until(() => seen.some(check), 5000, what);
}

/** Waits for the on_leave of session `id` in `seen`. */
function leftAt(seen: Seen[], id: number): Promise<void> {
  return seenUntil(
    seen,
    (e) => e.topic === "wamp.session.on_leave" && e.args[0] === id,
    `on_leave of ${id}`,
  );
}

/** Checks that `e` is an ApplicationError with this URI. */
function isUri(uri: string) {
  return (e: unknown) => {
    ok(e instanceof ApplicationError, `expected ApplicationError ${uri}, got ${e}`);
    equal(e.uri, uri);
    return true;
  };
}

/** Checks a SessionDetails dict against the session it describes. */
function checkSessionDetails(d: unknown, s: Session, via: Via): void {
  ok(typeof d === "object" && d !== null, `SessionDetails is not a dict: ${d}`);
  const details = d as Dict;
  deepEqual(Object.keys(details).sort(), SESSION_KEYS);
  equal(details.session, s.id);
  equal(details.authid, s.details.authid);
  equal(details.authrole, s.details.authrole);
  equal(details.authmethod, "anonymous");
  equal(typeof details.authprovider, "string");
  equal(details.realm, "realm1");
  const transport = details.transport as Dict;
  equal(transport.type, via === "local" ? "local" : "websocket");
  if (via !== "local") equal(transport.serializer, via);
  if (transport.peer !== undefined) equal(typeof transport.peer, "string");
}

/** Checks the `[]`/`{}` result of procedures that return nothing. */
function isEmpty(result: { args: unknown[]; kwargs: Dict }): void {
  deepEqual([result.args, result.kwargs], [[], {}]);
}

// ---- announcement ----------------------------------------------------------

feature("the router announces the meta API features", async (via) => {
  await using t = await routerWith();
  const s = await join(t, via);
  const roles = s.details.roles as Record<string, { features: Dict }>;
  const broker = roles.broker!.features;
  const dealer = roles.dealer!.features;
  for (const key of ["session_meta_api", "subscription_meta_api"]) equal(broker[key], true, key);
  for (const key of ["session_meta_api", "registration_meta_api", "testament_meta_api"]) {
    equal(dealer[key], true, key);
  }
  await s.close();
});

// ---- session meta ------------------------------------------------------------

feature(
  "session_meta_api: on_join and on_leave, on GOODBYE and on a lost transport",
  async (via) => {
    await using t = await routerWith();
    const watcher = await join(t, via);
    const joins: [Dict, Event][] = [];
    const leaves: unknown[][] = [];
    await watcher.meta.sessions.onJoin((details, event) => {
      joins.push([details, event]);
    });
    await watcher.meta.sessions.onLeave((session, authid, authrole, event) => {
      leaves.push([session, authid, authrole, event.args.length]);
    });

    const a = await join(t, via);
    await until(() => joins.length === 1, 5000, "on_join of a");
    const [details, event] = joins[0]!;
    checkSessionDetails(details, a, via);
    equal(event.args.length, 1);
    deepEqual(event.kwargs, {});
    equal(event.topic, "wamp.session.on_join");

    await a.close();
    await until(() => leaves.length === 1, 5000, "on_leave of a");
    deepEqual(leaves[0], [a.id, a.details.authid, "anonymous", 3]);

    const b = await joinDroppable(t, via);
    await until(() => joins.length === 2, 5000, "on_join of b");
    equal(joins[1]![0].session, b.session.id);
    b.drop();
    await until(() => leaves.length === 2, 5000, "on_leave of b after a lost transport");
    deepEqual(leaves[1], [b.session.id, b.session.details.authid, "anonymous", 3]);
    await within(b.session.closed);
    equal(joins.length, 2);
    await watcher.close();
  },
);

feature(
  "session_meta_api: count, list and get; the router's own session is not there",
  async (via) => {
    await using t = await routerWith();
    const [a, b, c] = await sessions(t, via, 3);
    const ids = [a!.id, b!.id, c!.id].sort();
    const meta = a!.meta.sessions;

    deepEqual((await a!.call("wamp.session.count")).args, [3]);
    equal(await meta.count(), 3);
    equal(await meta.count(["anonymous"]), 3);
    equal(await meta.count(["nobody", "anonymous"]), 3);
    equal(await meta.count(["nobody"]), 0);

    const listed = await a!.call("wamp.session.list");
    equal(listed.args.length, 1);
    deepEqual((listed.args[0] as number[]).slice().sort(), ids);
    deepEqual((await meta.list(["anonymous"])).sort(), ids);
    deepEqual(await meta.list(["nobody"]), []);

    const got = await a!.call("wamp.session.get", { args: [b!.id] });
    equal(got.args.length, 1);
    checkSessionDetails(got.args[0], b!, via);
    checkSessionDetails(await meta.get(a!.id), a!, via);
    await rejects(meta.get(UNKNOWN_ID), isUri("wamp.error.no_such_session"));

    await c!.close();
    equal(await meta.count(), 2);
    deepEqual((await meta.list()).sort(), [a!.id, b!.id].sort());
    await rejects(meta.get(c!.id), isUri("wamp.error.no_such_session"));
    await Promise.all([a!.close(), b!.close()]);
  },
);

feature("session_meta_api: kill procedures and modify_details are off by default", async (via) => {
  await using t = await routerWith();
  const [a, b] = await sessions(t, via, 2);
  const meta = a!.meta.sessions;
  const refused = isUri("wamp.error.no_such_procedure");
  await rejects(meta.kill(b!.id), refused);
  await rejects(meta.killByAuthid(b!.details.authid as string), refused);
  await rejects(meta.killByAuthrole("anonymous"), refused);
  await rejects(meta.killAll(), refused);
  await rejects(meta.modifyDetails(b!.id, { x_note: "no" }), refused);
  ok(a!.isOpen && b!.isOpen);
  equal(await meta.count(), 2);
  await Promise.all([a!.close(), b!.close()]);
});

feature("session_meta_api: kill closes another session with GOODBYE", async (via) => {
  await using t = await routerWith({ meta: { kill: true } });
  const [admin, target, plain, spared] = await sessions(t, via, 4);
  const seen = await watch(admin!, ["wamp.session.on_leave"]);

  const result = await admin!.call("wamp.session.kill", {
    args: [target!.id],
    kwargs: { reason: "com.example.kicked", message: "go away" },
  });
  isEmpty(result);
  const closed = await within(target!.closed, 5000, "the killed session closing");
  equal(closed.reason, "com.example.kicked");
  equal(closed.details.message, "go away");
  await leftAt(seen, target!.id);
  deepEqual(seen[0]!.args, [target!.id, target!.details.authid, "anonymous"]);

  await admin!.meta.sessions.kill(plain!.id);
  equal((await within(plain!.closed)).reason, "wamp.close.normal");

  await rejects(admin!.meta.sessions.kill(admin!.id), isUri("wamp.error.no_such_session"));
  await rejects(admin!.meta.sessions.kill(UNKNOWN_ID), isUri("wamp.error.no_such_session"));
  await rejects(
    admin!.meta.sessions.kill(spared!.id, { reason: "com. bad" }),
    isUri("wamp.error.invalid_uri"),
  );
  ok(admin!.isOpen && spared!.isOpen);
  deepEqual((await admin!.meta.sessions.list()).sort(), [admin!.id, spared!.id].sort());
  await Promise.all([admin!.close(), spared!.close()]);
});

feature(
  "session_meta_api: kill_by_authid, kill_by_authrole and kill_all spare the caller",
  async (via) => {
    await using t = await routerWith({ meta: { kill: true } });
    const [admin, x, y, z] = await sessions(t, via, 4);
    const meta = admin!.meta.sessions;

    const byAuthid = await admin!.call("wamp.session.kill_by_authid", {
      args: [x!.details.authid],
    });
    deepEqual(byAuthid.args, [[x!.id]]);
    equal((await within(x!.closed)).reason, "wamp.close.normal");
    deepEqual(await meta.killByAuthid(admin!.details.authid as string), []);
    ok(admin!.isOpen);

    const byAuthrole = await admin!.call("wamp.session.kill_by_authrole", {
      args: ["anonymous"],
      kwargs: { reason: "com.example.role", message: "roles" },
    });
    deepEqual(byAuthrole.args, [2]);
    for (const s of [y!, z!]) {
      const closed = await within(s.closed);
      deepEqual([closed.reason, closed.details.message], ["com.example.role", "roles"]);
    }
    ok(admin!.isOpen);
    equal(await meta.killByAuthrole("nobody"), 0);

    const [p, q] = await sessions(t, via, 2);
    deepEqual((await admin!.call("wamp.session.kill_all", { kwargs: { message: "all" } })).args, [
      2,
    ]);
    for (const s of [p!, q!]) {
      const closed = await within(s.closed);
      deepEqual([closed.reason, closed.details.message], ["wamp.close.normal", "all"]);
    }
    ok(admin!.isOpen);
    equal(await meta.killAll(), 0);
    equal(await meta.count(), 1);
    await admin!.close();
  },
);

feature("session_meta_api: kill_all publishes no meta or testament events", async (via) => {
  await using t = await routerWith({ meta: { kill: true } });
  const [admin, x, y] = await sessions(t, via, 3);
  await x!.subscribe("com.example.t", () => {});
  await x!.register("com.example.p", () => {});
  await x!.meta.sessions.addTestament("com.example.will", { args: ["destroyed"] });
  await y!.meta.sessions.addTestament("com.example.will", { args: ["detached"] }, {
    scope: "detached",
  });
  const seen = await watch(admin!, ["wamp."], { match: "prefix" });
  await watch(admin!, ["com.example.will", "com.example.sync"], {}, seen);
  await admin!.publish("com.example.sync", {}, { exclude_me: false, acknowledge: true });
  await seenUntil(seen, (e) => e.sub === "com.example.sync", "the sync event");
  const mark = seen.length;

  equal(await admin!.meta.sessions.killAll(), 2);
  await within(Promise.all([x!.closed, y!.closed]));
  equal(await admin!.meta.sessions.count(), 1);
  const fresh = await join(t, via);
  await seenUntil(
    seen,
    (e) => e.topic === "wamp.session.on_join" && (e.args[0] as Dict).session === fresh.id,
    "on_join of a fresh session",
  );
  deepEqual(seen.slice(mark).map((e) => e.topic), ["wamp.session.on_join"]);
  await Promise.all([admin!.close(), fresh.close()]);
});

feature("session_meta_api: modify_details", async (via) => {
  await using t = await routerWith({ meta: { modifyDetails: true } });
  const [admin, b] = await sessions(t, via, 2);
  const meta = admin!.meta.sessions;

  isEmpty(
    await admin!.call("wamp.session.modify_details", {
      args: [b!.id, { x_location: "lab", x_n: 2 }],
    }),
  );
  const changed = await meta.get(b!.id);
  equal(changed.x_location, "lab");
  equal(changed.x_n, 2);
  equal(changed.session, b!.id);
  equal(changed.authid, b!.details.authid);

  await meta.modifyDetails(b!.id, { x_location: null });
  const after = await meta.get(b!.id);
  ok(!("x_location" in after), "x_location was removed");
  equal(after.x_n, 2);

  for (
    const key of [
      "session",
      "authid",
      "authrole",
      "authmethod",
      "authprovider",
      "realm",
      "transport",
      "authextra",
    ]
  ) {
    await rejects(
      meta.modifyDetails(b!.id, { [key]: "changed" }),
      isUri("wamp.error.invalid_argument"),
      key,
    );
  }
  await rejects(meta.modifyDetails(UNKNOWN_ID, { x_n: 1 }), ApplicationError);
  const unchanged = await meta.get(b!.id);
  equal(unchanged.authid, b!.details.authid);
  equal(unchanged.x_n, 2);
  await Promise.all([admin!.close(), b!.close()]);
});

// ---- testaments ----------------------------------------------------------------

feature(
  "testament_meta_api: testaments publish on GOODBYE and on a lost transport",
  async (via) => {
    await using t = await routerWith();
    const watcher = await join(t, via);
    const seen = await watch(watcher, ["com.example.will", "wamp.session.on_leave"]);

    const polite = await join(t, via);
    isEmpty(
      await polite.call("wamp.session.add_testament", {
        args: ["com.example.will", ["goodbye", 1], { who: "polite" }],
      }),
    );
    await polite.close();
    await leftAt(seen, polite.id);
    deepEqual(rows(seen), [
      ["com.example.will", "goodbye", 1],
      ["session.on_leave", polite.id, polite.details.authid, "anonymous"],
    ]);
    deepEqual(seen[0]!.kwargs, { who: "polite" });

    const lost = await joinDroppable(t, via);
    await lost.session.meta.sessions.addTestament("com.example.will", {
      args: ["lost"],
      kwargs: { who: "lost" },
    });
    lost.drop();
    await leftAt(seen, lost.session.id);
    deepEqual(rows(seen.slice(2)), [
      ["com.example.will", "lost"],
      ["session.on_leave", lost.session.id, lost.session.details.authid, "anonymous"],
    ]);
    deepEqual(seen[2]!.kwargs, { who: "lost" });
    await watcher.close();
  },
);

feature("testament_meta_api: flush_testaments, and detached before destroyed", async (via) => {
  await using t = await routerWith();
  const watcher = await join(t, via);
  const seen = await watch(watcher, ["com.example.will", "wamp.session.on_leave"]);

  const s = await join(t, via);
  const meta = s.meta.sessions;
  await meta.addTestament("com.example.will", { args: ["destroyed 1"] });
  await meta.addTestament("com.example.will", { args: ["detached 1"] }, { scope: "detached" });
  await meta.addTestament("com.example.will", { args: ["destroyed 2"] }, { scope: "destroyed" });
  await meta.addTestament("com.example.will", { args: ["detached 2"] }, { scope: "detached" });
  await s.close();
  await leftAt(seen, s.id);
  deepEqual(rows(seen).map((r) => r[1]), [
    "detached 1",
    "detached 2",
    "destroyed 1",
    "destroyed 2",
    s.id,
  ]);

  const f = await join(t, via);
  await f.meta.sessions.addTestament("com.example.will", { args: ["flushed destroyed"] });
  await f.meta.sessions.addTestament("com.example.will", { args: ["kept detached"] }, {
    scope: "detached",
  });
  isEmpty(await f.call("wamp.session.flush_testaments"));
  await f.meta.sessions.addTestament("com.example.will", { args: ["kept destroyed"] });
  await f.close();
  await leftAt(seen, f.id);
  deepEqual(rows(seen.slice(5)).map((r) => r[1]), ["kept detached", "kept destroyed", f.id]);

  const g = await join(t, via);
  await g.meta.sessions.addTestament("com.example.will", { args: ["flushed detached"] }, {
    scope: "detached",
  });
  await g.meta.sessions.addTestament("com.example.will", { args: ["kept"] });
  isEmpty(await g.call("wamp.session.flush_testaments", { kwargs: { scope: "detached" } }));
  await g.meta.sessions.flushTestaments({ scope: "detached" });
  await g.close();
  await leftAt(seen, g.id);
  deepEqual(rows(seen.slice(8)).map((r) => r[1]), ["kept", g.id]);
  await watcher.close();
});

feature("testament_meta_api: publish_options are honoured", async (via) => {
  await using t = await routerWith();
  const [w1, w2, leaver] = await sessions(t, via, 3);
  const topics = ["com.example.will", "wamp.session.on_leave"];
  const [seen1, seen2] = [await watch(w1!, topics), await watch(w2!, topics)];
  const add = (arg: string, publish_options: Dict) =>
    leaver!.meta.sessions.addTestament("com.example.will", { args: [arg] }, { publish_options });
  await add("exclude w1", { exclude: [w1!.id] });
  await add("eligible w1", { eligible: [w1!.id] });
  await add("exclude_authid w2", { exclude_authid: [w2!.details.authid as string] });
  await add("eligible_authrole nobody", { eligible_authrole: ["nobody"] });
  await add("disclosed", { disclose_me: true });
  await add("acknowledged", { acknowledge: true });
  await leaver!.close();
  await leftAt(seen1, leaver!.id);
  await leftAt(seen2, leaver!.id);
  const wills = (seen: Seen[]) => seen.filter((e) => e.sub === "com.example.will");
  deepEqual(wills(seen1).map((e) => e.args[0]), [
    "eligible w1",
    "exclude_authid w2",
    "disclosed",
    "acknowledged",
  ]);
  deepEqual(wills(seen2).map((e) => e.args[0]), ["exclude w1", "disclosed", "acknowledged"]);
  const disclosed = wills(seen1).find((e) => e.args[0] === "disclosed")!;
  equal(disclosed.details.publisher, leaver!.id);
  for (const e of wills(seen1).filter((e) => e.args[0] !== "disclosed")) {
    equal(e.details.publisher, undefined, `${e.args[0]} discloses no publisher`);
  }
  await Promise.all([w1!.close(), w2!.close()]);
});

feature("testament_meta_api: bad arguments are refused and not kept", async (via) => {
  await using t = await routerWith();
  const [watcher, s] = await sessions(t, via, 2);
  const seen = await watch(watcher!, ["com.example.will", "wamp.session.on_leave"]);
  const add = (args: unknown[], kwargs: Dict = {}) =>
    s!.call("wamp.session.add_testament", { args, kwargs });
  const invalid = isUri("wamp.error.invalid_argument");
  await rejects(add(["com.example.will", "not a list", {}]), invalid);
  await rejects(add(["com.example.will", [], ["not a dict"]]), invalid);
  await rejects(add(["com.example.will", [], {}], { scope: "forever" }), invalid);
  await rejects(add(["com.example.will", [], {}], { publish_options: "x" }), invalid);
  await rejects(add(["com. bad", [], {}]), isUri("wamp.error.invalid_uri"));
  await rejects(
    s!.meta.sessions.addTestament("com. bad"),
    isUri("wamp.error.invalid_uri"),
  );
  await rejects(
    s!.call("wamp.session.flush_testaments", { kwargs: { scope: "forever" } }),
    invalid,
  );
  ok(s!.isOpen);
  await s!.close();
  await leftAt(seen, s!.id);
  deepEqual(rows(seen).map((r) => r[0]), ["session.on_leave"]);
  await watcher!.close();
});

// ---- registration and subscription meta ---------------------------------------

feature(
  "registration_meta_api: on_create, on_register, on_unregister, on_delete in order",
  async (via) => {
    await using t = await routerWith();
    const [watcher, a, b] = await sessions(t, via, 3);
    const seen: unknown[][] = [];
    const meta = watcher!.meta.registrations;
    const created: Dict[] = [];
    await meta.onCreate((session, details, event) => {
      created.push(details as unknown as Dict);
      seen.push(["create", session, details.id, event.args.length]);
    });
    const record = (name: string) => (session: number, registration: number, event: Event) => {
      seen.push([name, session, registration, event.args.length]);
    };
    await meta.onRegister(record("register"));
    await meta.onUnregister(record("unregister"));
    await meta.onDelete(record("delete"));
    await watcher!.meta.sessions.onLeave((session) => {
      seen.push(["leave", session]);
    });

    const regA = await a!.register("com.example.shared", () => {}, { invoke: "roundrobin" });
    const regB = await b!.register("com.example.shared", () => {}, { invoke: "roundrobin" });
    equal(regA.id, regB.id);
    await regA.unregister();
    const prefix = await a!.register("com.example.", () => {}, { match: "prefix" });
    await b!.close();
    await until(() => seen.some((r) => r[0] === "leave"), 5000, "on_leave of b");
    const id = regA.id;
    deepEqual(seen, [
      ["create", a!.id, id, 2],
      ["register", a!.id, id, 2],
      ["register", b!.id, id, 2],
      ["unregister", a!.id, id, 2],
      ["create", a!.id, prefix.id, 2],
      ["register", a!.id, prefix.id, 2],
      ["unregister", b!.id, id, 2],
      ["delete", b!.id, id, 2],
      ["leave", b!.id],
    ]);
    deepEqual(Object.keys(created[0]!).sort(), ["created", "id", "invoke", "match", "uri"]);
    match(created[0]!.created as string, ISO_8601);
    deepEqual({ ...created[0]!, created: "" }, {
      id,
      created: "",
      uri: "com.example.shared",
      match: "exact",
      invoke: "roundrobin",
    });
    deepEqual({ ...created[1]!, created: "" }, {
      id: prefix.id,
      created: "",
      uri: "com.example.",
      match: "prefix",
      invoke: "single",
    });
    await Promise.all([watcher!.close(), a!.close()]);
  },
);

feature(
  "registration_meta_api: list, lookup, match, get, list_callees, count_callees",
  async (via) => {
    await using t = await routerWith();
    const [asker, c, d] = await sessions(t, via, 3);
    const meta = asker!.meta.registrations;
    const exact = await c!.register("com.example.a", () => {});
    const prefix = await c!.register("com.example.", () => {}, { match: "prefix" });
    const wildcard = await c!.register("org..x", () => {}, { match: "wildcard" });
    const shared = await c!.register("com.example.shared", () => {}, { invoke: "random" });
    await d!.register("com.example.shared", () => {}, { invoke: "random" });

    const listed = await asker!.call("wamp.registration.list");
    equal(listed.args.length, 1);
    const lists = listed.args[0] as Dict;
    deepEqual(Object.keys(lists).sort(), ["exact", "prefix", "wildcard"]);
    const sorted = (ids: number[]) => ids.slice().sort();
    deepEqual(sorted((await meta.list()).exact), sorted([exact.id, shared.id]));
    deepEqual(lists.prefix, [prefix.id]);
    deepEqual(lists.wildcard, [wildcard.id]);

    deepEqual((await asker!.call("wamp.registration.lookup", { args: ["com.example.a"] })).args, [
      exact.id,
    ]);
    equal(await meta.lookup("com.example.", { match: "prefix" }), prefix.id);
    equal(await meta.lookup("org..x", { match: "wildcard" }), wildcard.id);
    equal(await meta.lookup("com.example."), null);
    equal(await meta.lookup("com.example.a", { match: "prefix" }), null);
    deepEqual((await asker!.call("wamp.registration.lookup", { args: ["com.none"] })).args, [null]);

    deepEqual((await asker!.call("wamp.registration.match", { args: ["com.example.a"] })).args, [
      exact.id,
    ]);
    equal(await meta.match("com.example.b.c"), prefix.id);
    equal(await meta.match("org.foo.x"), wildcard.id);
    deepEqual((await asker!.call("wamp.registration.match", { args: ["net.none"] })).args, [null]);
    equal(await meta.match("net.none"), null);

    const got = await asker!.call("wamp.registration.get", { args: [wildcard.id] });
    equal(got.args.length, 1);
    const details = got.args[0] as Dict;
    deepEqual(Object.keys(details).sort(), ["created", "id", "invoke", "match", "uri"]);
    match(details.created as string, ISO_8601);
    deepEqual({ ...details, created: "" }, {
      id: wildcard.id,
      created: "",
      uri: "org..x",
      match: "wildcard",
      invoke: "single",
    });
    const sharedDetails = await meta.get(shared.id);
    deepEqual([sharedDetails.uri, sharedDetails.match, sharedDetails.invoke], [
      "com.example.shared",
      "exact",
      "random",
    ]);

    deepEqual(
      (await asker!.call("wamp.registration.list_callees", { args: [exact.id] })).args,
      [[c!.id]],
    );
    deepEqual(sorted(await meta.listCallees(shared.id)), sorted([c!.id, d!.id]));
    deepEqual(
      (await asker!.call("wamp.registration.count_callees", { args: [shared.id] })).args,
      [2],
    );
    equal(await meta.countCallees(exact.id), 1);

    const unknown = isUri("wamp.error.no_such_registration");
    await rejects(meta.get(UNKNOWN_ID), unknown);
    await rejects(meta.listCallees(UNKNOWN_ID), unknown);
    await rejects(meta.countCallees(UNKNOWN_ID), unknown);

    await d!.close();
    deepEqual(await meta.listCallees(shared.id), [c!.id]);
    await exact.unregister();
    equal(await meta.lookup("com.example.a"), null);
    await rejects(meta.get(exact.id), unknown);
    await Promise.all([asker!.close(), c!.close()]);
  },
);

feature(
  "subscription_meta_api: on_create, on_subscribe, on_unsubscribe, on_delete in order",
  async (via) => {
    await using t = await routerWith();
    const [watcher, a, b] = await sessions(t, via, 3);
    const seen: unknown[][] = [];
    const created: Dict[] = [];
    const meta = watcher!.meta.subscriptions;
    // The watcher's own subscriptions make events too: keep only a's and b's.
    const mine = (session: number) => session === a!.id || session === b!.id;
    await meta.onCreate((session, details, event) => {
      if (!mine(session)) return;
      created.push(details as unknown as Dict);
      seen.push(["create", session, details.id, event.args.length]);
    });
    const record = (name: string) => (session: number, subscription: number, event: Event) => {
      if (mine(session)) seen.push([name, session, subscription, event.args.length]);
    };
    await meta.onSubscribe(record("subscribe"));
    await meta.onUnsubscribe(record("unsubscribe"));
    await meta.onDelete(record("delete"));
    await watcher!.meta.sessions.onLeave((session) => {
      seen.push(["leave", session]);
    });

    const subA = await a!.subscribe("com.example.news", () => {});
    const subB = await b!.subscribe("com.example.news", () => {});
    equal(subA.id, subB.id);
    await subA.unsubscribe();
    const wild = await a!.subscribe("com..news", () => {}, { match: "wildcard" });
    await b!.close();
    await until(() => seen.some((r) => r[0] === "leave"), 5000, "on_leave of b");
    const id = subA.id;
    deepEqual(seen, [
      ["create", a!.id, id, 2],
      ["subscribe", a!.id, id, 2],
      ["subscribe", b!.id, id, 2],
      ["unsubscribe", a!.id, id, 2],
      ["create", a!.id, wild.id, 2],
      ["subscribe", a!.id, wild.id, 2],
      ["unsubscribe", b!.id, id, 2],
      ["delete", b!.id, id, 2],
      ["leave", b!.id],
    ]);
    deepEqual(Object.keys(created[0]!).sort(), ["created", "id", "match", "uri"]);
    match(created[0]!.created as string, ISO_8601);
    deepEqual({ ...created[0]!, created: "" }, {
      id,
      created: "",
      uri: "com.example.news",
      match: "exact",
    });
    deepEqual({ ...created[1]!, created: "" }, {
      id: wild.id,
      created: "",
      uri: "com..news",
      match: "wildcard",
    });
    await Promise.all([watcher!.close(), a!.close()]);
  },
);

feature(
  "subscription_meta_api: no meta events about subscriptions to wamp.* topics (as Crossbar and nexus)",
  async (via) => {
    await using t = await routerWith();
    const [watcher, a] = await sessions(t, via, 2);
    // The watcher's own meta subscriptions, on_create first: none may be reported.
    const seen = await watch(watcher!, [
      "wamp.subscription.on_create",
      "wamp.subscription.on_subscribe",
      "wamp.subscription.on_unsubscribe",
      "wamp.subscription.on_delete",
    ]);
    const metaSubs = [
      await a!.subscribe("wamp.session.on_join", () => {}),
      await a!.subscribe("wamp.subscription.on_create", () => {}),
      await a!.subscribe("wamp.registration.", () => {}, { match: "prefix" }),
      await a!.subscribe("wamp..on_leave", () => {}, { match: "wildcard" }),
    ];
    for (const sub of metaSubs) await sub.unsubscribe();
    const plain = await a!.subscribe("com.example.plain", () => {});
    await plain.unsubscribe();
    await seenUntil(seen, (e) => e.sub === "subscription.on_delete", "on_delete of the plain one");
    deepEqual(rows(seen), [
      ["subscription.on_create", a!.id, seen[0]!.args[1]],
      ["subscription.on_subscribe", a!.id, plain.id],
      ["subscription.on_unsubscribe", a!.id, plain.id],
      ["subscription.on_delete", a!.id, plain.id],
    ]);
    equal((seen[0]!.args[1] as Dict).uri, "com.example.plain");
    // A session leaving with wamp.* subscriptions makes no on_unsubscribe/on_delete either.
    const leaver = await join(t, via);
    await leaver.subscribe("wamp.session.on_leave", () => {});
    const sentinel = await a!.subscribe("com.example.sentinel", () => {});
    await leaver.close();
    await sentinel.unsubscribe();
    await until(() => seen.length === 8, 5000, "the sentinel's four events");
    deepEqual(rows(seen.slice(4)).map((r) => [r[0], r[1]]), [
      ["subscription.on_create", a!.id],
      ["subscription.on_subscribe", a!.id],
      ["subscription.on_unsubscribe", a!.id],
      ["subscription.on_delete", a!.id],
    ]);
    await Promise.all([watcher!.close(), a!.close()]);
  },
);

feature(
  "registration_meta_api: wamp.* procedures cannot be registered, so make no meta events",
  async (via) => {
    await using t = await routerWith();
    const [watcher, a] = await sessions(t, via, 2);
    const seen = await watch(watcher!, [
      "wamp.registration.on_create",
      "wamp.registration.on_register",
    ]);
    await rejects(a!.register("wamp.example.proc", () => {}), isUri("wamp.error.invalid_uri"));
    await rejects(
      a!.register("wamp.", () => {}, { match: "prefix" }),
      isUri("wamp.error.invalid_uri"),
    );
    const reg = await a!.register("com.example.proc", () => {});
    await seenUntil(seen, (e) => e.sub === "registration.on_register", "on_register");
    deepEqual(rows(seen).map((r) => r[0]), [
      "registration.on_create",
      "registration.on_register",
    ]);
    equal(seen[1]!.args[1], reg.id);
    await Promise.all([watcher!.close(), a!.close()]);
  },
);

feature(
  "subscription_meta_api: list, lookup, match, get, list_subscribers, count_subscribers",
  async (via) => {
    await using t = await routerWith();
    const [asker, a, b] = await sessions(t, via, 3);
    const meta = asker!.meta.subscriptions;
    const exact = await a!.subscribe("com.example.a", () => {});
    await b!.subscribe("com.example.a", () => {});
    const prefix = await a!.subscribe("com.example.", () => {}, { match: "prefix" });
    const wildcard = await a!.subscribe("com..a", () => {}, { match: "wildcard" });
    const sorted = (ids: number[]) => ids.slice().sort();

    const listed = await asker!.call("wamp.subscription.list");
    equal(listed.args.length, 1);
    deepEqual(listed.args[0], { exact: [exact.id], prefix: [prefix.id], wildcard: [wildcard.id] });
    deepEqual(await meta.list(), {
      exact: [exact.id],
      prefix: [prefix.id],
      wildcard: [wildcard.id],
    });

    deepEqual((await asker!.call("wamp.subscription.lookup", { args: ["com.example.a"] })).args, [
      exact.id,
    ]);
    equal(await meta.lookup("com.example.", { match: "prefix" }), prefix.id);
    equal(await meta.lookup("com..a", { match: "wildcard" }), wildcard.id);
    equal(await meta.lookup("com.example."), null);
    deepEqual((await asker!.call("wamp.subscription.lookup", { args: ["com.none"] })).args, [null]);

    const matched = await asker!.call("wamp.subscription.match", { args: ["com.example.a"] });
    equal(matched.args.length, 1);
    deepEqual(sorted(matched.args[0] as number[]), sorted([exact.id, prefix.id, wildcard.id]));
    deepEqual(await meta.match("com.example.b"), [prefix.id]);
    deepEqual(await meta.match("com.other.a"), [wildcard.id]);
    deepEqual((await asker!.call("wamp.subscription.match", { args: ["net.none"] })).args, [null]);
    deepEqual(await meta.match("net.none"), []);

    const got = await asker!.call("wamp.subscription.get", { args: [prefix.id] });
    equal(got.args.length, 1);
    const details = got.args[0] as Dict;
    deepEqual(Object.keys(details).sort(), ["created", "id", "match", "uri"]);
    match(details.created as string, ISO_8601);
    deepEqual({ ...details, created: "" }, {
      id: prefix.id,
      created: "",
      uri: "com.example.",
      match: "prefix",
    });
    equal((await meta.get(exact.id)).uri, "com.example.a");

    const subscribers = await asker!.call("wamp.subscription.list_subscribers", {
      args: [exact.id],
    });
    equal(subscribers.args.length, 1);
    deepEqual(sorted(subscribers.args[0] as number[]), sorted([a!.id, b!.id]));
    deepEqual(await meta.listSubscribers(prefix.id), [a!.id]);
    deepEqual(
      (await asker!.call("wamp.subscription.count_subscribers", { args: [exact.id] })).args,
      [2],
    );
    equal(await meta.countSubscribers(wildcard.id), 1);

    const unknown = isUri("wamp.error.no_such_subscription");
    await rejects(meta.get(UNKNOWN_ID), unknown);
    await rejects(meta.listSubscribers(UNKNOWN_ID), unknown);
    await rejects(meta.countSubscribers(UNKNOWN_ID), unknown);

    await b!.close();
    deepEqual(await meta.listSubscribers(exact.id), [a!.id]);
    await wildcard.unsubscribe();
    equal(await meta.lookup("com..a", { match: "wildcard" }), null);
    await rejects(meta.get(wildcard.id), unknown);
    await Promise.all([asker!.close(), a!.close()]);
  },
);

// ---- a leaving session -----------------------------------------------------------

feature("a leaving session's meta events and testaments come in order", async (via) => {
  await using t = await routerWith();
  const watcher = await join(t, via);
  const seen = await watch(watcher, [
    "wamp.subscription.on_unsubscribe",
    "wamp.subscription.on_delete",
    "wamp.registration.on_unregister",
    "wamp.registration.on_delete",
    "com.example.will",
    "wamp.session.on_leave",
  ]);
  for (const how of ["GOODBYE", "lost transport"]) {
    const leaver = await joinDroppable(t, via);
    const s = leaver.session;
    const sub = await s.subscribe("com.example.held", () => {});
    const reg = await s.register("com.example.held", () => {});
    await s.meta.sessions.addTestament("com.example.will", { args: ["destroyed 1"] });
    await s.meta.sessions.addTestament("com.example.will", { args: ["detached"] }, {
      scope: "detached",
    });
    await s.meta.sessions.addTestament("com.example.will", { args: ["destroyed 2"] });
    const mark = seen.length;
    if (how === "GOODBYE") await s.close();
    else leaver.drop();
    await leftAt(seen, s.id);
    deepEqual(rows(seen.slice(mark)), [
      ["subscription.on_unsubscribe", s.id, sub.id],
      ["subscription.on_delete", s.id, sub.id],
      ["registration.on_unregister", s.id, reg.id],
      ["registration.on_delete", s.id, reg.id],
      ["com.example.will", "detached"],
      ["com.example.will", "destroyed 1"],
      ["com.example.will", "destroyed 2"],
      ["session.on_leave", s.id, s.details.authid, "anonymous"],
    ], how);
    await within(s.closed);
  }
  await watcher.close();
});

feature("meta events reach pattern subscriptions with details.topic", async (via) => {
  await using t = await routerWith();
  const watcher = await join(t, via);
  const sessionEvents = await watch(watcher, ["wamp.session."], { match: "prefix" });
  const createEvents = await watch(watcher, ["wamp..on_create"], { match: "wildcard" });
  const s = await join(t, via);
  const sub = await s.subscribe("com.example.t", () => {});
  const reg = await s.register("com.example.p", () => {});
  await s.close();
  await leftAt(sessionEvents, s.id);
  deepEqual(
    sessionEvents.map((e) => [e.details.topic, e.topic]),
    [
      ["wamp.session.on_join", "wamp.session.on_join"],
      ["wamp.session.on_leave", "wamp.session.on_leave"],
    ],
  );
  equal((sessionEvents[0]!.args[0] as Dict).session, s.id);
  // The watcher's own wildcard subscription announces itself too: skip it.
  const ofS = () => createEvents.filter((e) => e.args[0] === s.id);
  await until(() => ofS().length >= 2, 5000, "both on_create events");
  deepEqual(
    ofS().map((e) => [e.details.topic, e.args[0], (e.args[1] as Dict).id]),
    [
      ["wamp.subscription.on_create", s.id, sub.id],
      ["wamp.registration.on_create", s.id, reg.id],
    ],
  );
  await watcher.close();
});

// ---- a TCP connection dropped without a close frame -------------------------------

Deno.test("[json] testament and on_leave when the TCP connection drops without a close frame", async () => {
  const decoder = new TextDecoder();
  await using t = await routerWith();
  const watcher = await join(t, "json");
  const seen = await watch(watcher, ["com.example.will", "wamp.session.on_leave"]);
  await using raw = await rawWebSocket(t.url, ["wamp.2.json"]);
  const read = async () => JSON.parse(decoder.decode((await within(raw.read())).payload));
  await raw.send('[1, "realm1", {"roles": {"caller": {}, "publisher": {}}}]');
  const welcome = await read();
  equal(welcome[0], 2);
  const id = welcome[1] as number;
  await raw.send('[48, 1, {}, "wamp.session.add_testament", ["com.example.will", ["raw"], {}]]');
  const result = await read();
  deepEqual([result[0], result[1]], [50, 1]);
  raw.close();
  await leftAt(seen, id);
  deepEqual(rows(seen).map((r) => r.slice(0, 2)), [
    ["com.example.will", "raw"],
    ["session.on_leave", id],
  ]);
  await watcher.close();
});
