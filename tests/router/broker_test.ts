import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { Broker } from "../../router/core/broker/broker.ts";
import { MAX_ATTRIBUTE_LISTS, MAX_LIST_ENTRIES } from "../../router/core/broker/publish_filter.ts";
import { CallError } from "../../router/core/errors.ts";
import { MAX_LIST_CHARS } from "../../router/core/procedures.ts";
import { getEventsProcedure } from "../../router/core/broker/event_history.ts";
import { settled } from "../_helpers/driven.ts";
import { listedTopics, topicReflection } from "../../router/core/broker/topic_reflection.ts";
import { SortedUris } from "../../router/core/sorted_uris.ts";
import type { Outbound, SessionInfo } from "../../router/core/types.ts";
import {
  type Dict,
  ErrorUri,
  type EventMessage,
  MessageType,
  type Payload,
  type PublishMessage,
  sequentialIdGenerator,
  type SubscribeMessage,
  type UnsubscribeMessage,
} from "../../wamp/mod.ts";
import { sessionInfo } from "../_helpers/session_info.ts";

function session(id: number): SessionInfo {
  return sessionInfo(id, ["publisher", "subscriber"]);
}

const alice = session(1);
const bob = session(2);
const carol = session(3);

function newBroker(strictUris = false, topics?: SortedUris): Broker {
  return new Broker({
    strictUris,
    subscriptionIds: sequentialIdGenerator(),
    publicationIds: sequentialIdGenerator(),
    now: Date.now,
    ...(topics === undefined ? {} : { observer: listedTopics(topics) }),
  });
}

function subscribe(
  request: number,
  topic: string,
  options: Dict = {},
): SubscribeMessage {
  return { type: MessageType.SUBSCRIBE, request, options, topic };
}

function unsubscribe(
  request: number,
  subscription: number,
): UnsubscribeMessage {
  return { type: MessageType.UNSUBSCRIBE, request, subscription };
}

function publish(
  request: number,
  topic: string,
  options: Dict = {},
  payload: Pick<PublishMessage, "args" | "kwargs"> = {},
): PublishMessage {
  return { type: MessageType.PUBLISH, request, options, topic, ...payload };
}

/** The subscription ID from a lone SUBSCRIBED reply. */
function subscriptionOf(out: Outbound[]): number {
  equal(out.length, 1);
  const msg = out[0]!.msg;
  equal(msg.type, MessageType.SUBSCRIBED);
  return (msg as { subscription: number }).subscription;
}

function eventOf(out: Outbound): EventMessage {
  equal(out.msg.type, MessageType.EVENT);
  return out.msg as EventMessage;
}

Deno.test("Broker.subscribe() returns SUBSCRIBED with the request ID", () => {
  const broker = newBroker();
  deepEqual(broker.subscribe(alice, subscribe(7, "com.example.topic")), [
    {
      to: 1,
      msg: { type: MessageType.SUBSCRIBED, request: 7, subscription: 1 },
    },
  ]);
  const sub = broker.subscription(1);
  ok(sub !== undefined);
  equal(sub.topic, "com.example.topic");
  equal(sub.match, "exact");
  deepEqual([...sub.subscribers], [1]);
});

Deno.test("Broker.subscribe() returns the same subscription ID for the same topic", () => {
  const broker = newBroker();
  const first = subscriptionOf(
    broker.subscribe(alice, subscribe(1, "com.example.topic")),
  );
  const again = subscriptionOf(
    broker.subscribe(alice, subscribe(2, "com.example.topic")),
  );
  const other = subscriptionOf(
    broker.subscribe(bob, subscribe(1, "com.example.topic")),
  );
  equal(again, first);
  equal(other, first);
  deepEqual([...broker.subscription(first)!.subscribers], [1, 2]);
  const different = subscriptionOf(
    broker.subscribe(bob, subscribe(2, "com.example.other")),
  );
  ok(different !== first);
});

Deno.test("Broker.subscribe() refuses invalid URIs and unknown match policies", () => {
  const broker = newBroker();
  const [bad] = broker.subscribe(alice, subscribe(3, "com..topic"));
  deepEqual(bad, {
    to: 1,
    msg: {
      type: MessageType.ERROR,
      requestType: MessageType.SUBSCRIBE,
      request: 3,
      details: {},
      error: ErrorUri.INVALID_URI,
    },
  });
  const [glob] = broker.subscribe(
    alice,
    subscribe(4, "com.example", { match: "glob" }),
  );
  equal(glob!.msg.type, MessageType.ERROR);
  equal((glob!.msg as { error: string }).error, ErrorUri.OPTION_NOT_ALLOWED);
  // Empty components are fine in patterns.
  subscriptionOf(broker.subscribe(alice, subscribe(6, "com..x", { match: "wildcard" })));
});

Deno.test("Broker.subscribe() refuses Com.X when URIs are strict", () => {
  const strict = newBroker(true);
  const [out] = strict.subscribe(alice, subscribe(1, "Com.X"));
  equal(out!.msg.type, MessageType.ERROR);
  equal((out!.msg as { error: string }).error, ErrorUri.INVALID_URI);
  // The loose rule accepts it.
  subscriptionOf(newBroker(false).subscribe(alice, subscribe(1, "Com.X")));
});

Deno.test("Broker.unsubscribe() returns UNSUBSCRIBED", () => {
  const broker = newBroker();
  const id = subscriptionOf(
    broker.subscribe(alice, subscribe(1, "com.example.topic")),
  );
  deepEqual(broker.unsubscribe(alice, unsubscribe(2, id)), [
    { to: 1, msg: { type: MessageType.UNSUBSCRIBED, request: 2 } },
  ]);
  equal(broker.subscription(id), undefined);
  // Gone now: a second UNSUBSCRIBE fails.
  const [again] = broker.unsubscribe(alice, unsubscribe(3, id));
  equal((again!.msg as { error: string }).error, ErrorUri.NO_SUCH_SUBSCRIPTION);
});

Deno.test("Broker.unsubscribe() keeps the subscription while others hold it", () => {
  const broker = newBroker();
  const id = subscriptionOf(
    broker.subscribe(alice, subscribe(1, "com.example.topic")),
  );
  broker.subscribe(bob, subscribe(1, "com.example.topic"));
  broker.unsubscribe(alice, unsubscribe(2, id));
  deepEqual([...broker.subscription(id)!.subscribers], [2]);
  const out = broker.publish(carol, publish(1, "com.example.topic"));
  deepEqual(out.map((o) => o.to), [[2]]);
});

Deno.test("Broker.unsubscribe() refuses an unknown ID or someone else's subscription", () => {
  const broker = newBroker();
  const id = subscriptionOf(
    broker.subscribe(alice, subscribe(1, "com.example.topic")),
  );
  const noSuch = {
    type: MessageType.ERROR,
    requestType: MessageType.UNSUBSCRIBE,
    request: 5,
    details: {},
    error: ErrorUri.NO_SUCH_SUBSCRIPTION,
  };
  deepEqual(broker.unsubscribe(alice, unsubscribe(5, 999)), [{
    to: 1,
    msg: noSuch,
  }]);
  deepEqual(broker.unsubscribe(bob, unsubscribe(5, id)), [{
    to: 2,
    msg: noSuch,
  }]);
  // Alice still holds it.
  deepEqual([...broker.subscription(id)!.subscribers], [1]);
});

Deno.test("Broker.publish() sends one EVENT object addressed to every subscriber", () => {
  const broker = newBroker();
  const id = subscriptionOf(
    broker.subscribe(alice, subscribe(1, "com.example.topic")),
  );
  broker.subscribe(bob, subscribe(1, "com.example.topic"));
  broker.subscribe(bob, subscribe(2, "com.example.topic")); // repeated: still once
  const out = broker.publish(carol, publish(1, "com.example.topic"));
  equal(out.length, 1);
  deepEqual(out[0]!.to, [1, 2]);
  deepEqual(eventOf(out[0]!), {
    type: MessageType.EVENT,
    subscription: id,
    publication: 1,
    details: {},
  });
});

Deno.test("Broker.publish() reaches nobody on a topic without subscribers", () => {
  const broker = newBroker();
  broker.subscribe(alice, subscribe(1, "com.example.other"));
  deepEqual(broker.publish(carol, publish(1, "com.example.topic")), []);
});

Deno.test("Broker.publish() skips the publisher unless exclude_me is false", () => {
  const broker = newBroker();
  broker.subscribe(alice, subscribe(1, "com.example.topic"));
  broker.subscribe(bob, subscribe(1, "com.example.topic"));
  deepEqual(
    broker.publish(alice, publish(2, "com.example.topic")).map((o) => o.to),
    [[2]],
  );
  deepEqual(
    broker.publish(alice, publish(3, "com.example.topic", { exclude_me: true }))
      .map((o) => o.to),
    [[2]],
  );
  deepEqual(
    broker.publish(
      alice,
      publish(4, "com.example.topic", { exclude_me: false }),
    )
      .map((o) => o.to),
    [[1, 2]],
  );
});

Deno.test("Broker.publish() sends no EVENT when the publisher is the only subscriber", () => {
  const broker = newBroker();
  broker.subscribe(alice, subscribe(1, "com.example.topic"));
  deepEqual(broker.publish(alice, publish(2, "com.example.topic")), []);
});

Deno.test("Broker.publish() acknowledges with the EVENT's publication ID", () => {
  const broker = newBroker();
  broker.subscribe(alice, subscribe(1, "com.example.topic"));
  const out = broker.publish(
    bob,
    publish(9, "com.example.topic", { acknowledge: true }),
  );
  equal(out.length, 2);
  const event = eventOf(out[0]!);
  deepEqual(out[1], {
    to: 2,
    msg: {
      type: MessageType.PUBLISHED,
      request: 9,
      publication: event.publication,
    },
  });
  // Each publication gets a new ID.
  const next = broker.publish(
    bob,
    publish(10, "com.example.topic", { acknowledge: true }),
  );
  ok(eventOf(next[0]!).publication !== event.publication);
});

Deno.test("Broker.publish() acknowledges a publication nobody receives", () => {
  const broker = newBroker();
  deepEqual(
    broker.publish(bob, publish(3, "com.example.topic", { acknowledge: true })),
    [
      {
        to: 2,
        msg: { type: MessageType.PUBLISHED, request: 3, publication: 1 },
      },
    ],
  );
});

Deno.test("Broker.publish() reports errors only when acknowledge is set", () => {
  const broker = newBroker();
  broker.subscribe(alice, subscribe(1, "wamp.session.on_join"));
  for (const topic of ["com..topic", "wamp.session.on_join", "wamp"]) {
    deepEqual(broker.publish(bob, publish(1, topic)), [], topic);
    deepEqual(broker.publish(bob, publish(2, topic, { acknowledge: true })), [{
      to: 2,
      msg: {
        type: MessageType.ERROR,
        requestType: MessageType.PUBLISH,
        request: 2,
        details: {},
        error: ErrorUri.INVALID_URI,
      },
    }], topic);
  }
});

Deno.test("Broker.publish() refuses Com.X when URIs are strict", () => {
  const broker = newBroker(true);
  deepEqual(broker.publish(bob, publish(1, "Com.X")), []);
  const [out] = broker.publish(bob, publish(2, "Com.X", { acknowledge: true }));
  equal((out!.msg as { error: string }).error, ErrorUri.INVALID_URI);
});

Deno.test("Broker.publish() passes args and kwargs through", () => {
  const broker = newBroker();
  broker.subscribe(alice, subscribe(1, "com.example.topic"));
  const args = [1, "two", { three: 3 }];
  const kwargs = { a: [1], b: null };
  const [out] = broker.publish(
    bob,
    publish(1, "com.example.topic", {}, { args, kwargs }),
  );
  const event = eventOf(out!);
  deepEqual(event.args, args);
  deepEqual(event.kwargs, kwargs);
  // Without a payload the EVENT carries none.
  const [bare] = broker.publish(bob, publish(2, "com.example.topic"));
  equal("args" in bare!.msg, false);
  equal("kwargs" in bare!.msg, false);
});

Deno.test("Broker.removeSession() drops the session's subscriptions", () => {
  const broker = newBroker();
  const id = subscriptionOf(
    broker.subscribe(alice, subscribe(1, "com.example.topic")),
  );
  broker.subscribe(alice, subscribe(2, "com.example.other"));
  broker.removeSession(1);
  equal(broker.subscription(id), undefined);
  deepEqual(broker.publish(bob, publish(1, "com.example.topic")), []);
  deepEqual(broker.publish(bob, publish(2, "com.example.other")), []);
  // Its old subscription IDs are unknown now, and removing twice is harmless.
  const [out] = broker.unsubscribe(alice, unsubscribe(3, id));
  equal((out!.msg as { error: string }).error, ErrorUri.NO_SUCH_SUBSCRIPTION);
  broker.removeSession(1);
  broker.removeSession(42);
});

Deno.test("Broker.removeSession() leaves other subscribers in place", () => {
  const broker = newBroker();
  const id = subscriptionOf(
    broker.subscribe(alice, subscribe(1, "com.example.topic")),
  );
  broker.subscribe(bob, subscribe(1, "com.example.topic"));
  broker.removeSession(1);
  const out = broker.publish(carol, publish(1, "com.example.topic"));
  deepEqual(out.map((o) => o.to), [[2]]);
  equal(eventOf(out[0]!).subscription, id);
});

// ---- Advanced Profile: one block per feature key -------------------------

/** A session with an authid, authrole, HELLO details and announced features. */
function member(
  id: number,
  extra: Partial<SessionInfo> & { features?: Record<string, string[]> } = {},
): SessionInfo {
  const { features = {}, ...rest } = extra;
  const roles: Dict = { publisher: { features: {} }, subscriber: { features: {} } };
  for (const [role, names] of Object.entries(features)) {
    roles[role] = { features: Object.fromEntries(names.map((n) => [n, true])) };
  }
  return { ...sessionInfo(id, []), roles, ...rest };
}

/** Who got which EVENT: recipients per subscription ID. */
function deliveries(out: Outbound[]): Record<number, readonly number[]> {
  const got: Record<number, readonly number[]> = {};
  for (const o of out) {
    if (o.msg.type !== MessageType.EVENT) continue;
    got[(o.msg as EventMessage).subscription] = typeof o.to === "number" ? [o.to] : o.to;
  }
  return got;
}

function errorOf(out: Outbound[]): string | undefined {
  const msg = out.find((o) => o.msg.type === MessageType.ERROR)?.msg;
  return (msg as { error?: string } | undefined)?.error;
}

Deno.test("subscriber_blackwhite_listing", async (t) => {
  const admin = member(11, { authid: "ann", authrole: "admin", hello: { agent: "a", site: "x" } });
  const user1 = member(12, { authid: "bob", authrole: "user", hello: { site: "x" } });
  const user2 = member(13, { authid: "cid", authrole: "user", hello: { site: 7 } });
  const pub = member(14, { authid: "pat", authrole: "service" });
  function setup(): [Broker, number] {
    const broker = newBroker();
    const id = subscriptionOf(broker.subscribe(admin, subscribe(1, "com.example.t")));
    broker.subscribe(user1, subscribe(1, "com.example.t"));
    broker.subscribe(user2, subscribe(1, "com.example.t"));
    return [broker, id];
  }
  const cases: [string, Dict, number[]][] = [
    ["exclude by session ID", { exclude: [12] }, [11, 13]],
    ["eligible by session ID", { eligible: [12, 13, 99] }, [12, 13]],
    ["exclude_authid", { exclude_authid: ["ann", "zed"] }, [12, 13]],
    ["eligible_authid", { eligible_authid: ["bob"] }, [12]],
    ["exclude_authrole", { exclude_authrole: ["user"] }, [11]],
    ["eligible_authrole", { eligible_authrole: ["user"] }, [12, 13]],
    [
      "lists combine with AND",
      { eligible_authrole: ["user", "admin"], exclude: [11], exclude_authid: ["cid"] },
      [12],
    ],
    ["an empty eligible list reaches nobody", { eligible: [] }, []],
    ["an empty exclude list excludes nobody", { exclude_authid: [] }, [11, 12, 13]],
    ["eligible_<key> matches HELLO.Details strings", { eligible_site: ["x"] }, [11, 12]],
    ["exclude_<key> skips sessions without the attribute", { exclude_site: ["x"] }, [13]],
    ["eligible_<key> on a missing attribute excludes", { eligible_agent: ["a"] }, [11]],
    ["authmethod comes from the session", { eligible_authmethod: ["anonymous"] }, [11, 12, 13]],
  ];
  for (const [name, options, expected] of cases) {
    await t.step(name, () => {
      const [broker, id] = setup();
      const got = deliveries(broker.publish(pub, publish(1, "com.example.t", options)));
      deepEqual(got[id] ?? [], expected);
    });
  }
  await t.step(
    `at most ${MAX_ATTRIBUTE_LISTS} attribute lists; empty exclude lists do not count`,
    () => {
      const [broker, id] = setup();
      const lists = (n: number, value: string[]) =>
        Object.fromEntries(Array.from({ length: n }, (_, i) => [`exclude_k${i}`, value]));
      const many = broker.publish(
        pub,
        publish(1, "com.example.t", {
          acknowledge: true,
          ...lists(MAX_ATTRIBUTE_LISTS + 1, ["v"]),
        }),
      );
      equal(errorOf(many), ErrorUri.INVALID_ARGUMENT);
      const empty = broker.publish(pub, publish(2, "com.example.t", lists(56, [])));
      deepEqual(deliveries(empty)[id], [11, 12, 13]);
    },
  );
  await t.step(`at most ${MAX_LIST_ENTRIES} entries in all the lists together`, () => {
    const [broker, id] = setup();
    const ids = (n: number) => Array.from({ length: n }, (_, i) => 1000 + i);
    const names = (n: number) => Array.from({ length: n }, (_, i) => `u${i}`);
    const half = MAX_LIST_ENTRIES / 2;
    const over = [
      { exclude: ids(MAX_LIST_ENTRIES + 1) },
      { exclude: ids(half), eligible_authid: names(half + 1) },
      { exclude_authid: names(half), exclude_x: names(half), eligible: [1] },
    ];
    for (const [i, lists] of over.entries()) {
      const out = broker.publish(
        pub,
        publish(i + 1, "com.example.t", { acknowledge: true, ...lists }),
      );
      equal(errorOf(out), ErrorUri.INVALID_ARGUMENT, JSON.stringify(Object.keys(lists)));
    }
    const full = { exclude: ids(half), exclude_authid: names(half), x_list: names(10) };
    deepEqual(deliveries(broker.publish(pub, publish(9, "com.example.t", full)))[id], [11, 12, 13]);
  });
  await t.step("HELLO's claimed authid does not count, the authenticated one does", () => {
    const broker = newBroker();
    const liar = member(15, { authid: "real", hello: { authid: "ann" } });
    const id = subscriptionOf(broker.subscribe(liar, subscribe(1, "com.example.t")));
    deepEqual(
      deliveries(broker.publish(pub, publish(1, "com.example.t", { eligible_authid: ["ann"] }))),
      {},
    );
    deepEqual(
      deliveries(broker.publish(pub, publish(2, "com.example.t", { eligible_authid: ["real"] }))),
      { [id]: [15] },
    );
  });
  await t.step("the publisher stays excluded unless exclude_me is false", () => {
    const [broker, id] = setup();
    deepEqual(
      deliveries(broker.publish(admin, publish(1, "com.example.t", { eligible_authid: ["ann"] }))),
      {},
    );
    deepEqual(
      deliveries(
        broker.publish(
          admin,
          publish(2, "com.example.t", { eligible_authid: ["ann"], exclude_me: false }),
        ),
      ),
      { [id]: [11] },
    );
  });
  await t.step("malformed lists are refused with invalid_argument", () => {
    const [broker] = setup();
    for (const options of [{ eligible_site: "x" }, { exclude_site: [1] }, { exclude: ["12"] }]) {
      deepEqual(broker.publish(pub, publish(1, "com.example.t", options)), []);
      equal(
        errorOf(
          broker.publish(pub, publish(2, "com.example.t", { ...options, acknowledge: true })),
        ),
        ErrorUri.INVALID_ARGUMENT,
      );
    }
  });
});

Deno.test("publisher_exclusion", () => {
  const broker = newBroker();
  const id = subscriptionOf(broker.subscribe(alice, subscribe(1, "com.example.t")));
  broker.subscribe(bob, subscribe(1, "com.example.t"));
  deepEqual(deliveries(broker.publish(alice, publish(1, "com.example.t"))), { [id]: [2] });
  deepEqual(
    deliveries(broker.publish(alice, publish(2, "com.example.t", { exclude_me: false }))),
    { [id]: [1, 2] },
  );
});

Deno.test("publisher_identification", async (t) => {
  const pub = member(21, { authid: "pat", authrole: "service" });
  const disclosed = { publisher: 21, publisher_authid: "pat", publisher_authrole: "service" };
  function run(disclosePublisher: "request" | "always" | "never", options: Dict): Outbound[] {
    const broker = new Broker({
      subscriptionIds: sequentialIdGenerator(),
      publicationIds: sequentialIdGenerator(),
      now: Date.now,
      disclosePublisher,
    });
    broker.subscribe(alice, subscribe(1, "com.example.t"));
    return broker.publish(pub, publish(1, "com.example.t", options));
  }
  await t.step("request: disclose_me adds publisher, publisher_authid, publisher_authrole", () => {
    deepEqual(eventOf(run("request", { disclose_me: true })[0]!).details, disclosed);
    deepEqual(eventOf(run("request", {})[0]!).details, {});
    deepEqual(eventOf(run("request", { disclose_me: false })[0]!).details, {});
  });
  await t.step("always: every publisher is disclosed", () => {
    deepEqual(eventOf(run("always", {})[0]!).details, disclosed);
    deepEqual(eventOf(run("always", { disclose_me: false })[0]!).details, disclosed);
  });
  await t.step("never: disclose_me is refused, with ERROR only when acknowledged", () => {
    deepEqual(run("never", { disclose_me: true }), []);
    deepEqual(run("never", { disclose_me: true, acknowledge: true }), [{
      to: 21,
      msg: {
        type: MessageType.ERROR,
        requestType: MessageType.PUBLISH,
        request: 1,
        details: {},
        error: ErrorUri.OPTION_DISALLOWED_DISCLOSE_ME,
        args: ["this realm never discloses publishers"],
      },
    }]);
    deepEqual(eventOf(run("never", {})[0]!).details, {});
  });
});

Deno.test("publication_trustlevels", () => {
  const broker = newBroker();
  broker.subscribe(alice, subscribe(1, "com.example.t"));
  const trusted = member(31, { trustlevel: 2 });
  const zero = member(32, { trustlevel: 0 });
  deepEqual(eventOf(broker.publish(trusted, publish(1, "com.example.t"))[0]!).details, {
    trustlevel: 2,
  });
  deepEqual(eventOf(broker.publish(zero, publish(1, "com.example.t"))[0]!).details, {
    trustlevel: 0,
  });
  deepEqual(eventOf(broker.publish(bob, publish(1, "com.example.t"))[0]!).details, {});
});

Deno.test("pattern_based_subscription", async (t) => {
  await t.step("a publication reaches every matching subscription, one EVENT each", () => {
    const broker = newBroker();
    const exact = subscriptionOf(broker.subscribe(alice, subscribe(1, "com.myapp.a.b")));
    const prefix = subscriptionOf(
      broker.subscribe(alice, subscribe(2, "com.myapp", { match: "prefix" })),
    );
    const wild = subscriptionOf(
      broker.subscribe(bob, subscribe(1, "com.myapp..b", { match: "wildcard" })),
    );
    const wild2 = subscriptionOf(
      broker.subscribe(alice, subscribe(3, "..a.", { match: "wildcard" })),
    );
    broker.subscribe(bob, subscribe(2, "com.other", { match: "prefix" }));
    broker.subscribe(bob, subscribe(3, "com.myapp..c", { match: "wildcard" }));
    const out = broker.publish(carol, publish(1, "com.myapp.a.b", {}, { args: [1] }));
    deepEqual(deliveries(out), {
      [exact]: [1],
      [prefix]: [1],
      [wild]: [2],
      [wild2]: [1],
    });
    const events = out.map(eventOf);
    ok(events.every((e) => e.publication === events[0]!.publication));
    ok(events.every((e) => e.args![0] === 1));
    // Pattern subscriptions tell the concrete topic; exact ones need not.
    for (const e of events) {
      deepEqual(e.details, e.subscription === exact ? {} : { topic: "com.myapp.a.b" });
    }
  });
  await t.step("prefix matches string prefixes and the same pattern is one subscription", () => {
    const broker = newBroker();
    const id = subscriptionOf(
      broker.subscribe(alice, subscribe(1, "com.myapp.a", { match: "prefix" })),
    );
    equal(
      subscriptionOf(broker.subscribe(bob, subscribe(1, "com.myapp.a", { match: "prefix" }))),
      id,
    );
    // Same URI, other policy: another subscription.
    ok(subscriptionOf(broker.subscribe(bob, subscribe(2, "com.myapp.a"))) !== id);
    deepEqual(deliveries(broker.publish(carol, publish(1, "com.myapp.a-b"))), { [id]: [1, 2] });
    deepEqual(deliveries(broker.publish(carol, publish(2, "com.myapp"))), {});
    equal(broker.lookup("com.myapp.a", "prefix")?.id, id);
  });
  await t.step("wildcard needs the same number of components", () => {
    const broker = newBroker();
    const id = subscriptionOf(
      broker.subscribe(alice, subscribe(1, "com..t", { match: "wildcard" })),
    );
    deepEqual(deliveries(broker.publish(carol, publish(1, "com.x.t"))), { [id]: [1] });
    deepEqual(deliveries(broker.publish(carol, publish(2, "com.x.y.t"))), {});
    deepEqual(deliveries(broker.publish(carol, publish(3, "com.t"))), {});
  });
  await t.step("unsubscribing the last subscriber removes the pattern", () => {
    const broker = newBroker();
    const id = subscriptionOf(
      broker.subscribe(alice, subscribe(1, "com.myapp", { match: "prefix" })),
    );
    broker.unsubscribe(alice, unsubscribe(2, id));
    equal(broker.subscriptionCount, 0);
    equal(broker.lookup("com.myapp", "prefix"), undefined);
    deepEqual(broker.publish(carol, publish(1, "com.myapp.x")), []);
  });
});

Deno.test("sharded_subscription: rkey and nkey are accepted and ignored", () => {
  const broker = newBroker();
  const id = subscriptionOf(
    broker.subscribe(alice, subscribe(1, "com.myapp..temp", { match: "wildcard", nkey: "n1" })),
  );
  const out = broker.publish(
    carol,
    publish(1, "com.myapp.s1.temp", { rkey: "s1", acknowledge: true }),
  );
  deepEqual(deliveries(out), { [id]: [1] });
  deepEqual(eventOf(out[0]!).details, { topic: "com.myapp.s1.temp" });
});

function historyBroker(clock: { now: number }): Broker {
  return new Broker({
    subscriptionIds: sequentialIdGenerator(),
    publicationIds: sequentialIdGenerator(),
    eventHistory: [
      { topic: "com.log", match: "prefix", limit: 3 },
      { topic: "com.log.auth", limit: 10 },
    ],
    now: () => clock.now,
  });
}

Deno.test("event_history", async (t) => {
  const clock = { now: Date.parse("2026-01-01T00:00:00.000Z") };
  const ids = (events: unknown[]) => events.map((e) => (e as { publication: number }).publication);
  await t.step("rules create persistent subscriptions up front", () => {
    const broker = historyBroker(clock);
    equal(broker.subscriptionCount, 2);
    const log = broker.lookup("com.log", "prefix")!;
    ok(log.persistent);
    ok(broker.history.has(log.id));
    // Subscribing joins the pre-created subscription; leaving keeps it.
    equal(
      subscriptionOf(broker.subscribe(alice, subscribe(1, "com.log", { match: "prefix" }))),
      log.id,
    );
    broker.removeSession(alice.id);
    equal(broker.subscription(log.id), log);
    // Other subscriptions keep no history.
    const plain = subscriptionOf(broker.subscribe(alice, subscribe(2, "com.other")));
    equal(broker.history.has(plain), false);
  });
  await t.step("history is per subscription, in order, capped at the limit", () => {
    const broker = historyBroker(clock);
    const log = broker.lookup("com.log", "prefix")!;
    const auth = broker.lookup("com.log.auth")!;
    const topics = ["com.log.auth", "com.log.basket", "com.log.basket", "com.log.auth", "com.x"];
    const pubs = topics.map((topic, i) => {
      clock.now += 1000;
      const out = broker.publish(bob, publish(i + 1, topic, { acknowledge: true }, { args: [i] }));
      return (out.at(-1)!.msg as { publication: number }).publication;
    });
    deepEqual(ids(broker.history.query(log, carol, {})), pubs.slice(1, 4));
    deepEqual(ids(broker.history.query(auth, carol, {})), [pubs[0], pubs[3]]);
    const [first] = broker.history.query(auth, carol, {});
    deepEqual(first, {
      timestamp: "2026-01-01T00:00:01.000Z",
      subscription: auth.id,
      publication: pubs[0],
      details: {},
      args: [0],
    });
    // Pattern subscriptions record the topic in the details.
    deepEqual(broker.history.query(log, carol, { limit: 1 })[0]!.details, {
      topic: "com.log.basket",
    });
  });
  await t.step("the spec's query filters combine with AND", () => {
    const broker = historyBroker(clock);
    const auth = broker.lookup("com.log.auth")!;
    const start = clock.now;
    const pubs: number[] = [];
    for (let i = 0; i < 6; i++) {
      clock.now = start + i * 1000;
      const out = broker.publish(bob, publish(i + 1, "com.log.auth", { acknowledge: true }));
      pubs.push((out.at(-1)!.msg as { publication: number }).publication);
    }
    const at = (i: number) => new Date(start + i * 1000).toISOString();
    const q = (kwargs: Dict) => ids(broker.history.query(auth, carol, kwargs));
    deepEqual(q({ reverse: true }), [...pubs].reverse());
    deepEqual(q({ limit: 2 }), pubs.slice(0, 2));
    deepEqual(q({ reverse: true, limit: 2 }), [pubs[5], pubs[4]]);
    deepEqual(q({ from_time: at(2) }), pubs.slice(2));
    deepEqual(q({ after_time: at(2) }), pubs.slice(3));
    deepEqual(q({ before_time: at(2) }), pubs.slice(0, 2));
    deepEqual(q({ until_time: at(2) }), pubs.slice(0, 3));
    deepEqual(q({ from_publication: pubs[1] }), pubs.slice(1));
    deepEqual(q({ after_publication: pubs[1] }), pubs.slice(2));
    deepEqual(q({ before_publication: pubs[4] }), pubs.slice(0, 4));
    deepEqual(q({ until_publication: pubs[4] }), pubs.slice(0, 5));
    deepEqual(
      q({ after_publication: pubs[0], until_time: at(4), reverse: true, limit: 2 }),
      [pubs[4], pubs[3]],
    );
    // Unknown publication IDs: older than the window for from/after,
    // nothing for before/until.
    deepEqual(q({ after_publication: 999_999 }), pubs);
    deepEqual(q({ before_publication: 999_999 }), []);
    deepEqual(q({ topic: "com.log.auth" }), pubs);
    deepEqual(q({ topic: "com.log.other" }), []);
  });
  await t.step("malformed queries are invalid_argument", () => {
    const broker = historyBroker(clock);
    const auth = broker.lookup("com.log.auth")!;
    for (
      const kwargs of [
        { limit: 0 },
        { limit: "2" },
        { reverse: 1 },
        { from_time: "yesterday" },
        { until_time: 5 },
        { topic: "com..x" },
        { after_publication: -1 },
      ]
    ) {
      throws(() => broker.history.query(auth, carol, kwargs), {
        name: "CallError",
        uri: ErrorUri.INVALID_ARGUMENT,
      }, JSON.stringify(kwargs));
    }
  });
  await t.step(
    "authid/authrole lists apply to the requester; session-ID lists are not stored",
    () => {
      const broker = historyBroker(clock);
      const auth = broker.lookup("com.log.auth")!;
      const admin = member(41, { authid: "ann", authrole: "admin" });
      const user = member(42, { authid: "bob", authrole: "user", hello: { site: "x" } });
      const p = (options: Dict) =>
        (broker.publish(carol, publish(1, "com.log.auth", { ...options, acknowledge: true })).at(
          -1,
        )!
          .msg as { publication: number }).publication;
      const open = p({});
      const forAdmins = p({ eligible_authrole: ["admin"] });
      const notBob = p({ exclude_authid: ["bob"] });
      p({ exclude: [41] });
      p({ eligible: [42] });
      p({ eligible_site: ["x"] });
      deepEqual(ids(broker.history.query(auth, admin, {})), [open, forAdmins, notBob]);
      deepEqual(ids(broker.history.query(auth, user, {})), [open]);
    },
  );
  await t.step("wamp.subscription.get_events serves it", () => {
    const broker = historyBroker(clock);
    const auth = broker.lookup("com.log.auth")!;
    const procedure = getEventsProcedure(broker.history, (id) => broker.subscription(id));
    const get = (...a: Parameters<typeof procedure>) => settled(procedure(...a));
    broker.publish(bob, publish(1, "com.log.auth", {}, { kwargs: { k: 1 } }));
    const result = get(carol, [auth.id], { limit: 5 }) as Payload;
    equal(result.args!.length, 1);
    deepEqual((result.args![0] as Dict).kwargs, { k: 1 });
    throws(() => get(carol, [], {}), { uri: ErrorUri.INVALID_ARGUMENT });
    throws(() => get(carol, [12345], {}), { uri: ErrorUri.NO_SUCH_SUBSCRIPTION });
    const plain = subscriptionOf(broker.subscribe(alice, subscribe(1, "com.plain")));
    throws(() => get(carol, [plain], {}), { uri: ErrorUri.INVALID_ARGUMENT });
  });
});

Deno.test("event_retention", async (t) => {
  const retainedOf = (out: Outbound[]) =>
    out.filter((o) => o.msg.type === MessageType.EVENT).map((o) => eventOf(o));
  await t.step("get_retained delivers the last retained event after SUBSCRIBED", () => {
    const broker = newBroker();
    broker.publish(bob, publish(1, "com.example.t", { retain: true }, { args: ["old"] }));
    broker.publish(bob, publish(2, "com.example.t", { retain: true }, { args: ["new"] }));
    broker.publish(bob, publish(3, "com.example.t", {}, { args: ["not retained"] }));
    const out = broker.subscribe(alice, subscribe(1, "com.example.t", { get_retained: true }));
    equal(out.length, 2);
    equal(out[0]!.msg.type, MessageType.SUBSCRIBED);
    const sub = (out[0]!.msg as { subscription: number }).subscription;
    deepEqual(out[1], {
      to: 1,
      msg: {
        type: MessageType.EVENT,
        subscription: sub,
        publication: 2,
        details: { retained: true },
        args: ["new"],
      },
    });
    // Without get_retained: nothing.
    equal(broker.subscribe(carol, subscribe(1, "com.example.t")).length, 1);
  });
  await t.step("pattern subscriptions get one retained event per matching topic", () => {
    const broker = newBroker();
    broker.publish(bob, publish(1, "com.example.a", { retain: true }));
    broker.publish(bob, publish(2, "com.example.b", { retain: true }));
    broker.publish(bob, publish(3, "com.other.c", { retain: true }));
    const events = retainedOf(
      broker.subscribe(alice, subscribe(1, "com.example", { match: "prefix", get_retained: true })),
    );
    deepEqual(events.map((e) => e.details), [
      { retained: true, topic: "com.example.a" },
      { retained: true, topic: "com.example.b" },
    ]);
  });
  await t.step("retained events respect black/white lists and exclude_me", () => {
    const broker = newBroker();
    const admin = member(51, { authrole: "admin" });
    const user = member(52, { authrole: "user" });
    broker.publish(bob, publish(1, "com.example.t", { retain: true }, { args: ["all"] }));
    broker.publish(
      bob,
      publish(2, "com.example.t", { retain: true, eligible_authrole: ["admin"] }, {
        args: ["admins"],
      }),
    );
    const get = (s: SessionInfo) =>
      retainedOf(broker.subscribe(s, subscribe(1, "com.example.t", { get_retained: true })))
        .map((e) => e.args![0]);
    deepEqual(get(admin), ["admins"]);
    deepEqual(get(user), ["all"]);
    // The publisher would not have received its own event.
    deepEqual(get(bob), []);
    broker.publish(
      bob,
      publish(3, "com.example.t", { retain: true, exclude_me: false }, {
        args: ["mine too"],
      }),
    );
    deepEqual(get(bob), ["mine too"]);
    deepEqual(get(admin), ["mine too"]);
    broker.publish(bob, publish(4, "com.example.x", { retain: true, exclude: [51] }));
    deepEqual(get(member(51)).length, 1);
    equal(
      retainedOf(broker.subscribe(admin, subscribe(2, "com.example.x", { get_retained: true })))
        .length,
      0,
    );
  });
});

Deno.test("subscription_revocation", () => {
  const broker = newBroker();
  const aware = member(61, { features: { subscriber: ["subscription_revocation"] } });
  const unaware = member(62);
  const id = subscriptionOf(broker.subscribe(aware, subscribe(1, "com.example.t")));
  broker.subscribe(unaware, subscribe(1, "com.example.t"));
  deepEqual(broker.revoke(id, "no longer authorized"), [{
    to: [61],
    msg: {
      type: MessageType.UNSUBSCRIBED,
      request: 0,
      details: { subscription: id, reason: "no longer authorized" },
    },
  }]);
  equal(broker.subscription(id), undefined);
  deepEqual(broker.publish(carol, publish(1, "com.example.t")), []);
  equal(broker.revoke(id), undefined);
  // Nobody to tell: removed silently; no reason: no reason key.
  const again = subscriptionOf(broker.subscribe(unaware, subscribe(2, "com.example.t")));
  deepEqual(broker.revoke(again), []);
  const third = subscriptionOf(broker.subscribe(aware, subscribe(2, "com.example.t")));
  deepEqual(broker.revoke(third)![0]!.msg, {
    type: MessageType.UNSUBSCRIBED,
    request: 0,
    details: { subscription: third },
  });
  // A revoked session can subscribe again.
  subscriptionOf(broker.subscribe(aware, subscribe(3, "com.example.t")));
});

Deno.test("topic_reflection: a topic list over MAX_LIST_CHARS is refused with limit_exceeded", () => {
  const topics = new SortedUris();
  const broker = newBroker(false, topics);
  const long = "x".repeat(4000);
  const count = Math.floor(MAX_LIST_CHARS / 4000) + 1;
  for (let i = 0; i < count; i++) {
    broker.subscribe(session(100 + Math.floor(i / 900)), subscribe(i + 1, `com.${long}.t${i}`));
  }
  const list = topicReflection(broker, topics)["wamp.reflection.topic.list"]!;
  throws(
    () => list(carol, [], {}),
    (e) => e instanceof CallError && e.uri === ErrorUri.LIMIT_EXCEEDED,
  );
});

Deno.test("topic_reflection", () => {
  const topics = new SortedUris();
  const broker = newBroker(false, topics);
  broker.subscribe(alice, subscribe(1, "com.example.t"));
  broker.subscribe(bob, subscribe(1, "com.example.t"));
  broker.subscribe(bob, subscribe(2, "com.example", { match: "prefix" }));
  broker.publish(carol, publish(1, "com.retained", { retain: true }));
  const procedures = topicReflection(broker, topics);
  const list = procedures["wamp.reflection.topic.list"]!;
  const describe = procedures["wamp.reflection.topic.describe"]!;
  deepEqual(list(carol, [], {}), { args: [["com.example", "com.example.t", "com.retained"]] });
  const { kwargs } = describe(carol, ["com.example.t"], {}) as Payload;
  deepEqual(kwargs, {
    topic: "com.example.t",
    subscriptions: [{
      id: 1,
      match: "exact",
      created: broker.subscription(1)!.created,
      subscribers: 2,
      history: false,
    }],
    retained: false,
  });
  deepEqual((describe(carol, ["com.retained"], {}) as Payload).kwargs, {
    topic: "com.retained",
    subscriptions: [],
    retained: true,
  });
  throws(() => describe(carol, ["com.unknown"], {}), { uri: ErrorUri.INVALID_ARGUMENT });
  throws(() => describe(carol, [], {}), { uri: ErrorUri.INVALID_ARGUMENT });
});

Deno.test("payload_passthru_mode", async (t) => {
  const ppt = member(71, { features: { publisher: ["payload_passthru_mode"] } });
  const blob = new Uint8Array([1, 2, 3]);
  await t.step("ppt_* options reach EVENT.Details untouched, the payload unread", () => {
    const broker = newBroker();
    broker.subscribe(alice, subscribe(1, "com.example.t"));
    const options = {
      ppt_scheme: "wamp",
      ppt_serializer: "cbor",
      ppt_cipher: "xsalsa20poly1305",
      ppt_keyid: "0xABC",
    };
    const [out] = broker.publish(ppt, publish(1, "com.example.t", options, { args: [blob] }));
    const event = eventOf(out!);
    deepEqual(event.details, options);
    equal(event.args![0], blob);
    const [mqtt] = broker.publish(ppt, publish(2, "com.example.t", { ppt_scheme: "mqtt" }));
    deepEqual(eventOf(mqtt!).details, { ppt_scheme: "mqtt" });
    const [custom] = broker.publish(
      ppt,
      publish(3, "com.example.t", { ppt_scheme: "x_mine", ppt_cipher: "rot13" }),
    );
    deepEqual(eventOf(custom!).details, { ppt_scheme: "x_mine", ppt_cipher: "rot13" });
  });
  await t.step("invalid ppt options are refused with invalid_argument", () => {
    const broker = newBroker();
    broker.subscribe(alice, subscribe(1, "com.example.t"));
    for (
      const options of [
        { ppt_scheme: "wamp" },
        { ppt_scheme: "mqtt", ppt_cipher: "aes256gcm" },
        { ppt_scheme: "mqtt", ppt_serializer: "xml" },
        { ppt_scheme: "other" },
        { ppt_serializer: "cbor" },
        { ppt_scheme: "", ppt_keyid: "k" },
      ]
    ) {
      deepEqual(broker.publish(ppt, publish(1, "com.example.t", options)), []);
      equal(
        errorOf(
          broker.publish(ppt, publish(2, "com.example.t", { ...options, acknowledge: true })),
        ),
        ErrorUri.INVALID_ARGUMENT,
        JSON.stringify(options),
      );
    }
  });
  await t.step("a publisher that did not announce it commits a protocol violation", () => {
    const broker = newBroker();
    throws(
      () => broker.publish(bob, publish(1, "com.example.t", { ppt_scheme: "mqtt" })),
      { name: "ProtocolViolationError" },
    );
  });
});
