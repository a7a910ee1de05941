/**
 * The Advanced Profile's PubSub features end to end: our client against our
 * router over a real WebSocket on port 0, once per serializer. One test per
 * feature key. Absence of an event is checked by publishing a sentinel
 * afterwards: events from one publisher arrive in order.
 */

import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { ApplicationError, type Event, type Session, type Subscription } from "../../mod.ts";
import { ROUTER_FEATURES } from "../../wamp/mod.ts";
import type { RealmOptions } from "../../router/mod.ts";
import { rawWebSocket } from "../_helpers/raw_websocket.ts";
import { join, startRouter, type TestRouter, until, type Via, within } from "../_helpers/router.ts";
import { realmOf } from "../../router/router.ts";

const SOCKET_VIAS: readonly Via[] = ["json", "msgpack", "cbor"];

/** Starts a router whose realm1 has these options. */
function routerWith(realm: Omit<RealmOptions, "name"> = {}): Promise<TestRouter> {
  return startRouter({ realms: [{ name: "realm1", ...realm }] });
}

/** Subscribes and collects events into an array. */
async function collect(
  s: Session,
  topic: string,
  options: Record<string, unknown> = {},
): Promise<[Event[], Subscription]> {
  const got: Event[] = [];
  const sub = await s.subscribe(topic, (e) => {
    got.push(e);
  }, options);
  return [got, sub];
}

/** Publishes a sentinel everyone receives and waits until every inbox has it. */
async function flush(pub: Session, topic: string, inboxes: Event[][]): Promise<void> {
  await pub.publish(topic, { args: ["sentinel"] }, { acknowledge: true });
  await until(
    () => inboxes.every((got) => got.some((e) => e.args[0] === "sentinel")),
    5000,
    "the sentinel",
  );
}

const argsOf = (got: Event[]) => got.map((e) => e.args[0]).filter((a) => a !== "sentinel");

for (const via of SOCKET_VIAS) {
  const test = (name: string, fn: () => Promise<void>) => Deno.test(`[${via}] ${name}`, fn);

  test("the router announces the broker features and topic reflection", async () => {
    await using t = await routerWith();
    const s = await join(t, via);
    const broker = (s.details.roles as Record<string, Record<string, unknown>>).broker!;
    deepEqual(Object.keys(broker.features as object).sort(), [...ROUTER_FEATURES.broker].sort());
    equal(broker.reflection, true);
    await s.close();
  });

  test("subscriber_blackwhite_listing", async () => {
    await using t = await routerWith();
    const [a, b, c, pub] = await Promise.all([0, 1, 2, 3].map(() => join(t, via)));
    const topic = "com.example.bw";
    const inboxes = await Promise.all([a, b, c].map(async (s) => (await collect(s!, topic))[0]));
    const p = (arg: string, options: Record<string, unknown>) =>
      pub!.publish(topic, { args: [arg] }, { acknowledge: true, ...options });
    await p("exclude b", { exclude: [b!.id] });
    await p("eligible a c", { eligible: [a!.id, c!.id] });
    await p("exclude_authid c", { exclude_authid: [c!.details.authid] });
    await p("eligible_authid b", { eligible_authid: [b!.details.authid] });
    await p("eligible_authrole anonymous", { eligible_authrole: ["anonymous"] });
    await p("exclude_authrole anonymous", { exclude_authrole: ["anonymous"] });
    await p("eligible a, exclude a", { eligible: [a!.id], exclude: [a!.id] });
    await p("eligible_agent nobody", { eligible_agent: ["SomeOtherAgent"] });
    await flush(pub!, topic, inboxes);
    deepEqual(inboxes.map(argsOf), [
      ["exclude b", "eligible a c", "exclude_authid c", "eligible_authrole anonymous"],
      ["exclude_authid c", "eligible_authid b", "eligible_authrole anonymous"],
      ["exclude b", "eligible a c", "eligible_authrole anonymous"],
    ]);
    // A malformed list is refused, not a protocol violation.
    await rejects(p("bad", { eligible_site: "x" }), (e) => {
      ok(e instanceof ApplicationError);
      equal(e.uri, "wamp.error.invalid_argument");
      return true;
    });
    ok(pub!.isOpen);
    await Promise.all([a, b, c, pub].map((s) => s!.close()));
  });

  test("publisher_exclusion", async () => {
    await using t = await routerWith();
    const s = await join(t, via);
    const [got] = await collect(s, "com.example.self");
    await s.publish("com.example.self", { args: ["excluded"] }, { acknowledge: true });
    await s.publish("com.example.self", { args: ["included"] }, { exclude_me: false });
    await until(() => got.length === 1);
    deepEqual(argsOf(got), ["included"]);
    await s.close();
  });

  test("publisher_identification", async () => {
    {
      await using t = await routerWith();
      const [sub, pub] = [await join(t, via), await join(t, via)];
      const [got] = await collect(sub, "com.example.id");
      await pub.publish("com.example.id", { args: ["anonymous"] });
      await pub.publish("com.example.id", { args: ["disclosed"] }, { disclose_me: true });
      await until(() => got.length === 2);
      equal(got[0]!.details.publisher, undefined);
      deepEqual(got[1]!.details, {
        publisher: pub.id,
        publisher_authid: pub.details.authid,
        publisher_authrole: "anonymous",
      });
      await Promise.all([sub.close(), pub.close()]);
    }
    {
      await using t = await routerWith({ disclosePublisher: "always" });
      const [sub, pub] = [await join(t, via), await join(t, via)];
      const [got] = await collect(sub, "com.example.id");
      await pub.publish("com.example.id", { args: [1] });
      await until(() => got.length === 1);
      equal(got[0]!.details.publisher, pub.id);
      await Promise.all([sub.close(), pub.close()]);
    }
    {
      await using t = await routerWith({ disclosePublisher: "never" });
      const [sub, pub] = [await join(t, via), await join(t, via)];
      const [got] = await collect(sub, "com.example.id");
      await rejects(
        pub.publish("com.example.id", { args: ["refused"] }, {
          disclose_me: true,
          acknowledge: true,
        }),
        (e) =>
          e instanceof ApplicationError && e.uri === "wamp.error.option_disallowed.disclose_me",
      );
      await flush(pub, "com.example.id", [got]);
      deepEqual(argsOf(got), []);
      equal(got[0]!.details.publisher, undefined);
      await Promise.all([sub.close(), pub.close()]);
    }
  });

  test("publication_trustlevels", async () => {
    await using t = await routerWith({
      trustLevels: [{ transport: "local", trustlevel: 5 }, {
        transport: "websocket",
        trustlevel: 2,
      }],
    });
    const [sub, pub] = [await join(t, via), await join(t, via)];
    const local = await join(t, "local");
    const [got] = await collect(sub, "com.example.trust");
    await pub.publish("com.example.trust", { args: ["ws"] });
    await local.publish("com.example.trust", { args: ["local"] });
    await until(() => got.length === 2);
    const levels = Object.fromEntries(got.map((e) => [e.args[0], e.details.trustlevel]));
    deepEqual(levels, { ws: 2, local: 5 });
    await Promise.all([sub.close(), pub.close(), local.close()]);
  });

  test("pattern_based_subscription", async () => {
    await using t = await routerWith();
    const [sub, pub] = [await join(t, via), await join(t, via)];
    const [exact, exactSub] = await collect(sub, "com.myapp.a.b");
    const [prefix, prefixSub] = await collect(sub, "com.myapp", { match: "prefix" });
    const [wild, wildSub] = await collect(sub, "com.myapp..b", { match: "wildcard" });
    ok(new Set([exactSub.id, prefixSub.id, wildSub.id]).size === 3);
    const publication = await pub.publish("com.myapp.a.b", { args: ["hit"] }, {
      acknowledge: true,
    });
    await pub.publish("com.myapp.x.c", { args: ["prefix only"] });
    await pub.publish("com.other", { args: ["nobody"] });
    await flush(pub, "com.myapp.z.b", [prefix, wild]);
    deepEqual(argsOf(exact), ["hit"]);
    deepEqual(argsOf(prefix), ["hit", "prefix only"]);
    deepEqual(argsOf(wild), ["hit"]);
    // Each subscription got its own EVENT with the same publication, and
    // pattern subscriptions the concrete topic.
    for (const got of [exact, prefix, wild]) equal(got[0]!.publication, publication);
    equal(exact[0]!.details.topic, undefined);
    equal(prefix[1]!.details.topic, "com.myapp.x.c");
    equal(prefix[1]!.topic, "com.myapp.x.c");
    equal(wild[0]!.topic, "com.myapp.a.b");
    await Promise.all([sub.close(), pub.close()]);
  });

  test("sharded_subscription: rkey and nkey are accepted and ignored", async () => {
    await using t = await routerWith();
    const [sub, pub] = [await join(t, via), await join(t, via)];
    const [got] = await collect(sub, "com.myapp..temp", { match: "wildcard", nkey: "node1" });
    await pub.publish("com.myapp.s1.temp", { args: [21.5] }, { rkey: "s1", acknowledge: true });
    await until(() => got.length === 1);
    deepEqual(got[0]!.args, [21.5]);
    await Promise.all([sub.close(), pub.close()]);
  });

  test("event_history", async () => {
    await using t = await routerWith({
      eventHistory: [{ topic: "com.example.log", match: "prefix", limit: 3 }],
    });
    const [reader, pub] = [await join(t, via), await join(t, via)];
    // Published before anyone subscribes: kept all the same.
    for (let i = 1; i <= 4; i++) {
      await pub.publish(`com.example.log.${i % 2 ? "odd" : "even"}`, { args: [i] }, {
        acknowledge: true,
      });
    }
    await pub.publish("com.example.log.secret", { args: ["admins"] }, {
      acknowledge: true,
      eligible_authrole: ["admin"],
    });
    await pub.publish("com.example.log.direct", { args: ["one session"] }, {
      acknowledge: true,
      eligible: [reader.id],
    });
    // The subscription ID: subscribe once (the pre-created subscription).
    const sub = await reader.subscribe("com.example.log", undefined, { match: "prefix" });
    const id = sub.id;
    await sub.unsubscribe();
    const get = (kwargs: Record<string, unknown> = {}) =>
      reader.call("wamp.subscription.get_events", { args: [id], kwargs });
    // Limit 3 kept publications 3, 4 and the admin one; the requester is
    // not an admin, and the session-ID one was never stored.
    const all = await get();
    deepEqual(all.args.map((e) => (e as { args: unknown[] }).args[0]), [3, 4]);
    const newest = (await get({ reverse: true, limit: 1 })).args[0] as Record<string, unknown>;
    deepEqual(newest.args, [4]);
    equal(newest.subscription, id);
    deepEqual(newest.details, { topic: "com.example.log.even" });
    ok(typeof newest.timestamp === "string" && !Number.isNaN(Date.parse(newest.timestamp)));
    deepEqual(
      (await get({ topic: "com.example.log.odd" })).args.map((e) =>
        (e as { args: unknown[] }).args[0]
      ),
      [3],
    );
    await rejects(
      get({ limit: "ten" }),
      (e) => e instanceof ApplicationError && e.uri === "wamp.error.invalid_argument",
    );
    await rejects(
      reader.call("wamp.subscription.get_events", { args: [424242] }),
      (e) => e instanceof ApplicationError && e.uri === "wamp.error.no_such_subscription",
    );
    await Promise.all([reader.close(), pub.close()]);
  });

  test("event_retention", async () => {
    await using t = await routerWith();
    const [sub, pub] = [await join(t, via), await join(t, via)];
    await pub.publish("com.example.state", { args: ["old"] }, { retain: true, acknowledge: true });
    await pub.publish("com.example.state", { args: ["current"] }, {
      retain: true,
      acknowledge: true,
    });
    await pub.publish("com.example.state", { args: ["not kept"] }, { acknowledge: true });
    {
      await using it = await sub.subscribe("com.example.state", undefined, {
        get_retained: true,
      });
      const first = await within(it[Symbol.asyncIterator]().next(), 5000, "the retained event");
      deepEqual(first.value!.args, ["current"]);
      equal(first.value!.details.retained, true);
    }
    // Without get_retained, nothing is replayed.
    const [got] = await collect(sub, "com.example.state");
    await flush(pub, "com.example.state", [got]);
    deepEqual(argsOf(got), []);
    // Black/white lists apply to the retained event.
    await pub.publish("com.example.private", { args: ["not for you"] }, {
      retain: true,
      acknowledge: true,
      exclude: [sub.id],
    });
    const [priv] = await collect(sub, "com.example.private", { get_retained: true });
    await flush(pub, "com.example.private", [priv]);
    deepEqual(argsOf(priv), []);
    await Promise.all([sub.close(), pub.close()]);
  });

  test("subscription_revocation", async () => {
    await using t = await routerWith();
    const [s, pub] = [await join(t, via), await join(t, via)];
    const sub = await s.subscribe("com.example.revoked");
    const iterating = (async () => {
      const seen: unknown[] = [];
      for await (const e of sub) seen.push(e.args[0]);
      return seen;
    })();
    await pub.publish("com.example.revoked", { args: ["before"] }, { acknowledge: true });
    // EVENT "before" is on the wire ahead of the UNSUBSCRIBED.
    const realm = realmOf(t.router, "realm1")!;
    ok(t.router.revokeSubscription("realm1", sub.id, "no longer authorized"));
    await until(() => sub.done, 5000, "the revocation");
    equal(sub.revoked, "no longer authorized");
    deepEqual(await within(iterating), ["before"]);
    equal(realm.broker.subscription(sub.id), undefined);
    equal(t.router.revokeSubscription("realm1", sub.id), false);
    // The session is fine and can subscribe again.
    const [got] = await collect(s, "com.example.revoked");
    await flush(pub, "com.example.revoked", [got]);
    await Promise.all([s.close(), pub.close()]);
  });

  test("topic_reflection", async () => {
    await using t = await routerWith();
    const s = await join(t, via);
    await s.subscribe("com.example.reflect", () => {});
    const list = await s.call("wamp.reflection.topic.list");
    ok((list.args[0] as string[]).includes("com.example.reflect"));
    const described = await s.call("wamp.reflection.topic.describe", {
      args: ["com.example.reflect"],
    });
    equal(described.kwargs.topic, "com.example.reflect");
    equal((described.kwargs.subscriptions as { subscribers: number }[])[0]!.subscribers, 1);
    await s.close();
  });

  test("payload_passthru_mode", async () => {
    await using t = await routerWith();
    const [sub, pub] = [await join(t, via), await join(t, via)];
    const [got] = await collect(sub, "com.example.ppt");
    const blob = new Uint8Array([0, 1, 2, 250, 255]);
    const options = { ppt_scheme: "x_custom", ppt_serializer: "custom", ppt_keyid: "k1" };
    await pub.publish("com.example.ppt", { args: [blob] }, { ...options, acknowledge: true });
    await until(() => got.length === 1);
    deepEqual(got[0]!.details, options);
    deepEqual(new Uint8Array(got[0]!.args[0] as Uint8Array), blob);
    await rejects(
      pub.publish("com.example.ppt", { args: [blob] }, {
        ppt_scheme: "mqtt",
        ppt_cipher: "aes256gcm",
        acknowledge: true,
      }),
      (e) => e instanceof ApplicationError && e.uri === "wamp.error.invalid_argument",
    );
    await Promise.all([sub.close(), pub.close()]);
  });
}

Deno.test("bad PubSub input never crashes the router: violations abort, refusals are ERROR", async () => {
  const decoder = new TextDecoder();
  await using t = await routerWith();
  const healthy = await join(t, "json");
  const [got] = await collect(healthy, "com.example.alive");
  const hello = '[1, "realm1", {"roles": {"publisher": {}, "subscriber": {}}}]';
  const cases: [string, string][] = [
    // Payload passthru without announcing it.
    ['[16, 1, {"ppt_scheme": "mqtt"}, "com.example.t", ["x"]]', "ppt without announcing"],
    // Known options with the wrong type.
    ['[16, 1, {"exclude": "me"}, "com.example.t"]', "exclude not a list"],
    ['[16, 1, {"eligible_authid": [1]}, "com.example.t"]', "eligible_authid of numbers"],
    ['[16, 1, {"disclose_me": "yes"}, "com.example.t"]', "disclose_me not a boolean"],
    ['[32, 1, {"match": "glob"}, "com.example"]', "unknown match policy"],
    ['[32, 1, {"get_retained": 1}, "com.example"]', "get_retained not a boolean"],
  ];
  for (const [text, what] of cases) {
    await using raw = await rawWebSocket(t.url, ["wamp.2.json"]);
    await raw.send(hello);
    equal(JSON.parse(decoder.decode((await within(raw.read())).payload))[0], 2, what);
    await raw.send(text);
    const abort = JSON.parse(decoder.decode((await within(raw.read(), 5000, what)).payload));
    deepEqual([abort[0], abort[2]], [3, "wamp.error.protocol_violation"], what);
  }
  // Refusals of well-typed requests are ERRORs and the session stays.
  {
    await using raw = await rawWebSocket(t.url, ["wamp.2.json"]);
    await raw.send(hello);
    await within(raw.read());
    const refusals: [string, string][] = [
      ['[16, 1, {"acknowledge": true, "eligible_site": "x"}, "com.example.t"]', "invalid_argument"],
      [
        '[16, 2, {"acknowledge": true, "ppt_serializer": "cbor"}, "com.example.t"]',
        "invalid_argument",
      ],
      ['[32, 3, {"match": "prefix"}, "com. example"]', "invalid_uri"],
      ['[16, 4, {"acknowledge": true}, "wamp.session.on_join"]', "invalid_uri"],
    ];
    for (const [text, uri] of refusals) {
      await raw.send(text);
      const error = JSON.parse(decoder.decode((await within(raw.read())).payload));
      deepEqual([error[0], error[4]], [8, `wamp.error.${uri}`], text);
    }
  }
  const pub = await join(t, "cbor");
  await flush(pub, "com.example.alive", [got]);
  ok(healthy.isOpen);
  await Promise.all([healthy.close(), pub.close()]);
});

Deno.test("[local] event_retention: the retained event right behind SUBSCRIBED is not lost", async () => {
  await using t = await routerWith();
  const [sub, pub] = [await join(t, "local"), await join(t, "local")];
  await pub.publish("com.example.state", { args: ["current"] }, {
    retain: true,
    acknowledge: true,
  });
  const got: Event[] = [];
  await sub.subscribe("com.example.state", (e) => {
    got.push(e);
  }, { get_retained: true });
  await until(() => got.length === 1);
  deepEqual(got[0]!.args, ["current"]);
  equal(got[0]!.details.retained, true);
  await Promise.all([sub.close(), pub.close()]);
});
