/**
 * The realm's resource limits (`limits`) inside the router, without
 * sockets: pending calls per session, subscriptions and registrations per
 * session and per realm, retained event bytes, testament bytes, and the
 * CALL timeout clamp. Over sockets: tests/hostile/limits_test.ts.
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import { Broker } from "../../router/core/broker/broker.ts";
import { RETAINED_EVENT_OVERHEAD } from "../../router/core/broker/retained.ts";
import { Dealer, MAX_CALL_TIMEOUT } from "../../router/core/dealer/dealer.ts";
import { DEFAULT_LIMITS, keptPayloadSize } from "../../router/core/limits.ts";
import { Router } from "../../router/router.ts";
import type { Connection as Session } from "../../router/connection.ts";
import type { SessionInfo } from "../../router/core/types.ts";
import {
  type CallMessage,
  type Dict,
  ErrorUri,
  MessageType,
  MetaProcedure,
  type PublishMessage,
  sequentialIdGenerator,
  type WampMessage,
} from "../../wamp/mod.ts";
import { type Driven, driven, FakeTimers } from "../_helpers/driven.ts";
import { FakePeer } from "../_helpers/fake_peer.ts";
import { sessionInfo } from "../_helpers/session_info.ts";

const caller = sessionInfo(1, ["caller", "callee"]);
const callee = sessionInfo(2, ["caller", "callee"]);
const other = sessionInfo(3, ["caller", "callee"]);
const streamer: SessionInfo = {
  ...sessionInfo(4, ["callee"]),
  roles: {
    caller: { features: { progressive_call_invocations: true } },
    callee: { features: { call_canceling: true, progressive_call_invocations: true } },
  },
};

function newDealer(
  options: Partial<ConstructorParameters<typeof Dealer>[0]> = {},
  timers = new FakeTimers(),
): Driven<Dealer> {
  return driven(
    new Dealer({ registrationIds: sequentialIdGenerator(), now: Date.now, ...options }),
    timers.run,
  );
}

function newBroker(options: Partial<ConstructorParameters<typeof Broker>[0]> = {}): Broker {
  return new Broker({
    subscriptionIds: sequentialIdGenerator(),
    publicationIds: sequentialIdGenerator(),
    now: Date.now,
    ...options,
  });
}

function call(request: number, procedure: string, options: Dict = {}): CallMessage {
  return { type: MessageType.CALL, request, options, procedure, args: [request] };
}

function register(
  dealer: Driven<Dealer>,
  session: SessionInfo,
  request: number,
  procedure: string,
) {
  return dealer.register(session, {
    type: MessageType.REGISTER,
    request,
    options: {},
    procedure,
  })[0]!.msg;
}

/** REGISTER of a pattern, and the dealer's first answer. */
function registerPattern(
  dealer: Driven<Dealer>,
  session: SessionInfo,
  request: number,
  procedure: string,
  match: "prefix" | "wildcard",
) {
  return dealer.register(session, {
    type: MessageType.REGISTER,
    request,
    options: { match },
    procedure,
  })[0]!.msg;
}

function subscribe(broker: Broker, session: SessionInfo, request: number, topic: string) {
  return broker.subscribe(session, {
    type: MessageType.SUBSCRIBE,
    request,
    options: topic.includes("..") || topic.startsWith(".") || topic.endsWith(".")
      ? { match: "wildcard" }
      : {},
    topic,
  })[0]!.msg;
}

/** The URI of a refusal, or the message type when it is not an ERROR. */
function outcome(msg: WampMessage | undefined): string | number | undefined {
  return msg?.type === MessageType.ERROR ? msg.error : msg?.type;
}

/** The first argument of an ERROR. */
function why(msg: WampMessage | undefined): unknown {
  return msg?.type === MessageType.ERROR ? msg.args?.[0] : undefined;
}

Deno.test("Dealer.call() refuses a call over callsPerSession at once; the callee never sees it", () => {
  const dealer = newDealer();
  register(dealer, callee, 1, "com.example.echo");
  const limit = DEFAULT_LIMITS.callsPerSession;
  for (let i = 1; i <= limit; i++) {
    const [out] = dealer.call(caller, call(i, "com.example.echo"));
    equal(out?.msg.type, MessageType.INVOCATION);
  }
  const refused = dealer.call(caller, call(limit + 1, "com.example.echo"));
  equal(refused.length, 1);
  equal(refused[0]!.to, caller.id);
  equal(outcome(refused[0]!.msg), ErrorUri.LIMIT_EXCEEDED);
  equal(why(refused[0]!.msg), 'Cannot call: limit "callsPerSession" (1000) exceeded');
  // Another caller is not limited by this one's calls.
  equal(dealer.call(other, call(1, "com.example.echo"))[0]?.msg.type, MessageType.INVOCATION);
  // One answer frees one slot.
  dealer.yield(callee, { type: MessageType.YIELD, request: 1, options: {} });
  equal(
    dealer.call(caller, call(limit + 2, "com.example.echo"))[0]?.msg.type,
    MessageType.INVOCATION,
  );
  equal(
    outcome(dealer.call(caller, call(limit + 3, "com.example.echo"))[0]?.msg),
    ErrorUri.LIMIT_EXCEEDED,
  );
});

Deno.test("Dealer.call() counts a progressive call once, whatever its chunks", () => {
  const dealer = newDealer({ limits: { callsPerSession: 2 } });
  register(dealer, streamer, 1, "com.example.stream");
  equal(
    dealer.call(streamer, call(1, "com.example.stream", { progress: true }))[0]?.msg.type,
    MessageType.INVOCATION,
  );
  equal(dealer.call(streamer, call(2, "com.example.stream"))[0]?.msg.type, MessageType.INVOCATION);
  // At the limit, chunks of the progressive call still go through...
  for (let i = 0; i < 5; i++) {
    const [out] = dealer.call(streamer, call(1, "com.example.stream", { progress: true }), false);
    equal(out?.msg.type, MessageType.INVOCATION);
  }
  equal(
    dealer.call(streamer, call(1, "com.example.stream"), false)[0]?.msg.type,
    MessageType.INVOCATION,
  );
  // ...and a new call does not.
  equal(
    outcome(dealer.call(streamer, call(3, "com.example.stream"))[0]?.msg),
    ErrorUri.LIMIT_EXCEEDED,
  );
});

Deno.test("Dealer.call(): a new call or a further chunk to a busy callee is refused from the caller", () => {
  let busy = false;
  const dealer = newDealer({ busy: () => busy });
  register(dealer, streamer, 1, "com.example.stream");
  const first = dealer.call(streamer, call(1, "com.example.stream", { progress: true }));
  equal(first[0]?.msg.type, MessageType.INVOCATION);
  busy = true;
  const refused = dealer.call(streamer, call(2, "com.example.stream"));
  deepEqual(refused.map((o) => [o.to, outcome(o.msg)]), [
    [streamer.id, ErrorUri.NO_AVAILABLE_CALLEE],
  ]);
  // A chunk cannot be dropped: the call ends, and the callee is told (the shell sends an
  // INTERRUPT past the limit).
  const chunk = dealer.call(streamer, call(1, "com.example.stream", { progress: true }), false);
  deepEqual(chunk.map((o) => [o.to, outcome(o.msg)]), [
    [streamer.id, MessageType.INTERRUPT],
    [streamer.id, ErrorUri.NO_AVAILABLE_CALLEE],
  ]);
  busy = false;
  equal(dealer.call(streamer, call(3, "com.example.stream"))[0]?.msg.type, MessageType.INVOCATION);
});

for (const invoke of ["roundrobin", "random", "first", "last"] as const) {
  Deno.test(`Dealer.call(): a shared (${invoke}) registration passes over a busy callee`, () => {
    const busy = new Set<number>();
    const dealer = newDealer({ busy: (id) => busy.has(id), random: () => 0 });
    for (const session of [callee, other]) {
      const [out] = dealer.register(session, {
        type: MessageType.REGISTER,
        request: 1,
        options: { invoke },
        procedure: "com.example.shared",
      });
      equal(out?.msg.type, MessageType.REGISTERED);
    }
    for (let i = 1; i <= 4; i++) {
      busy.clear();
      const [free] = dealer.call(caller, call(i * 10, "com.example.shared"));
      // Busy: the one the policy picks next (round-robin: the other one).
      const next = invoke === "roundrobin"
        ? (free!.to === callee.id ? other.id : callee.id)
        : free!.to as number;
      busy.add(next);
      const [out] = dealer.call(caller, call(i * 10 + 1, "com.example.shared"));
      equal(out?.msg.type, MessageType.INVOCATION);
      equal(busy.has(out!.to as number), false, "sent to the callee that reads");
    }
    busy.add(callee.id).add(other.id);
    const [refused] = dealer.call(caller, call(100, "com.example.shared"));
    equal(outcome(refused?.msg), ErrorUri.NO_AVAILABLE_CALLEE);
  });
}

Deno.test("Dealer.call() arms at most MAX_CALL_TIMEOUT, so a huge timeout never fires early", () => {
  const timers = new FakeTimers();
  const armed = timers.armed;
  const dealer = newDealer({}, timers);
  dealer.register(callee, {
    type: MessageType.REGISTER,
    request: 1,
    options: { forward_timeout: true },
    procedure: "com.example.slow",
  });
  const [out] = dealer.call(caller, call(1, "com.example.slow", { timeout: 2 ** 31 }));
  dealer.call(caller, call(2, "com.example.slow", { timeout: 2 ** 40 }));
  dealer.call(caller, call(3, "com.example.slow", { timeout: 1000 }));
  deepEqual(armed, [MAX_CALL_TIMEOUT, MAX_CALL_TIMEOUT, 1000]);
  equal(MAX_CALL_TIMEOUT, 2 ** 31 - 1);
  equal(out?.msg.type === MessageType.INVOCATION && out.msg.details.timeout, MAX_CALL_TIMEOUT);
});

Deno.test("Dealer.register() refuses over registrationsPerSession and registrations", () => {
  const dealer = newDealer();
  const limit = DEFAULT_LIMITS.registrationsPerSession;
  for (let i = 1; i <= limit; i++) {
    equal(register(dealer, callee, i, `com.example.p${i}`).type, MessageType.REGISTERED);
  }
  const refused = register(dealer, callee, limit + 1, "com.example.more");
  equal(outcome(refused), ErrorUri.LIMIT_EXCEEDED);
  equal(why(refused), 'Cannot register: limit "registrationsPerSession" (1000) exceeded');
  equal(dealer.match("com.example.more"), undefined);
  // Unregistering frees a slot.
  dealer.unregister(callee, { type: MessageType.UNREGISTER, request: limit + 2, registration: 1 });
  equal(register(dealer, callee, limit + 3, "com.example.more").type, MessageType.REGISTERED);

  const small = newDealer({ limits: { registrations: 2 } });
  equal(register(small, callee, 1, "com.example.a").type, MessageType.REGISTERED);
  equal(register(small, other, 1, "com.example.b").type, MessageType.REGISTERED);
  const full = register(small, caller, 1, "com.example.c");
  equal(outcome(full), ErrorUri.LIMIT_EXCEEDED);
  equal(why(full), 'Cannot register: limit "registrations" (2) exceeded');
});

Deno.test("Dealer.register() keeps only the REGISTER options it reads later", () => {
  const dealer = newDealer();
  dealer.register(callee, {
    type: MessageType.REGISTER,
    request: 1,
    options: { disclose_caller: true, junk: "x".repeat(1 << 20), forward_timeout: false },
    procedure: "com.example.p",
  });
  deepEqual(dealer.registration(1)?.options.get(callee.id), { disclose_caller: true });
  const [out] = dealer.call(caller, call(1, "com.example.p"));
  equal(out?.msg.type === MessageType.INVOCATION && out.msg.details.caller, caller.id);
});

Deno.test("Broker.subscribe() refuses over subscriptionsPerSession: 2047 overlapping patterns give 1000 EVENTs", () => {
  const broker = newBroker();
  const parts = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"];
  let accepted = 0;
  let refused = 0;
  for (let mask = 1; mask < 2 ** parts.length; mask++) {
    // Every pattern with at least one wildcard component matches a.b.….k.
    const topic = parts.map((p, i) => (mask & (1 << i)) === 0 ? p : "").join(".");
    const reply = subscribe(broker, caller, mask, topic);
    if (reply.type === MessageType.SUBSCRIBED) accepted++;
    else if (outcome(reply) === ErrorUri.LIMIT_EXCEEDED) refused++;
  }
  equal(accepted, DEFAULT_LIMITS.subscriptionsPerSession);
  equal(refused, 2 ** parts.length - 1 - accepted);
  const events = broker.publish(other, {
    type: MessageType.PUBLISH,
    request: 1,
    options: {},
    topic: parts.join("."),
  });
  equal(events.length, DEFAULT_LIMITS.subscriptionsPerSession);
  // Joining a subscription the session already holds is no new one.
  const again = subscribe(broker, caller, 9999, ".b.c.d.e.f.g.h.i.j.k");
  equal(again.type, MessageType.SUBSCRIBED);
  // Another session still subscribes.
  equal(subscribe(broker, other, 1, "com.example.t").type, MessageType.SUBSCRIBED);
});

Deno.test("Broker.subscribe() refuses a new subscription over the realm's subscriptions", () => {
  const broker = newBroker({ limits: { subscriptions: 2 } });
  equal(subscribe(broker, caller, 1, "com.example.a").type, MessageType.SUBSCRIBED);
  equal(subscribe(broker, callee, 1, "com.example.b").type, MessageType.SUBSCRIBED);
  const full = subscribe(broker, other, 1, "com.example.c");
  equal(outcome(full), ErrorUri.LIMIT_EXCEEDED);
  equal(why(full), 'Cannot subscribe: limit "subscriptions" (2) exceeded');
  // Joining an existing subscription creates nothing: allowed.
  equal(subscribe(broker, other, 2, "com.example.a").type, MessageType.SUBSCRIBED);
  equal(broker.subscriptionCount, 2);
});

Deno.test("Broker.subscribe() refuses a new pattern subscription over patternSubscriptions", () => {
  const broker = newBroker({ limits: { patternSubscriptions: 2 } });
  equal(subscribe(broker, caller, 1, "com..a").type, MessageType.SUBSCRIBED);
  equal(subscribe(broker, callee, 1, "com..b").type, MessageType.SUBSCRIBED);
  const full = subscribe(broker, other, 1, "com..c");
  equal(outcome(full), ErrorUri.LIMIT_EXCEEDED);
  equal(why(full), 'Cannot subscribe: limit "patternSubscriptions" (2) exceeded');
  equal(
    outcome(
      broker.subscribe(other, {
        type: MessageType.SUBSCRIBE,
        request: 2,
        options: { match: "prefix" },
        topic: "com.example",
      })[0]?.msg,
    ),
    ErrorUri.LIMIT_EXCEEDED,
  );
  // Exact subscriptions and joining an existing pattern are still fine.
  equal(subscribe(broker, other, 3, "com.example.exact").type, MessageType.SUBSCRIBED);
  equal(subscribe(broker, other, 4, "com..a").type, MessageType.SUBSCRIBED);
  // Leaving frees the pattern.
  broker.removeSession(caller.id);
  broker.removeSession(other.id);
  equal(subscribe(broker, other, 5, "com..c").type, MessageType.SUBSCRIBED);
});

Deno.test("Dealer.register() refuses a new pattern registration over patternRegistrations", () => {
  const dealer = newDealer({ limits: { patternRegistrations: 2 } });
  const pattern = (
    session: SessionInfo,
    request: number,
    procedure: string,
    match: "prefix" | "wildcard",
  ) => registerPattern(dealer, session, request, procedure, match);
  equal(pattern(caller, 1, "com..a", "wildcard").type, MessageType.REGISTERED);
  equal(pattern(callee, 1, "com.b", "prefix").type, MessageType.REGISTERED);
  const full = pattern(other, 1, "com..c", "wildcard");
  equal(outcome(full), ErrorUri.LIMIT_EXCEEDED);
  equal(why(full), 'Cannot register: limit "patternRegistrations" (2) exceeded');
  // Exact registrations are still fine; leaving frees a pattern.
  equal(register(dealer, other, 2, "com.example.exact").type, MessageType.REGISTERED);
  dealer.removeSession(caller.id);
  equal(pattern(other, 3, "com..c", "wildcard").type, MessageType.REGISTERED);
});

Deno.test("a wildcard pattern has at most 64 components, to subscribe and to register", () => {
  const broker = newBroker();
  const dealer = newDealer();
  const of = (n: number) => Array.from({ length: n }, (_, i) => (i === 1 ? "" : "c")).join(".");
  equal(subscribe(broker, caller, 1, of(64)).type, MessageType.SUBSCRIBED);
  equal(outcome(subscribe(broker, caller, 2, of(65))), ErrorUri.INVALID_URI);
  const wildcard = (request: number, procedure: string) =>
    registerPattern(dealer, callee, request, procedure, "wildcard");
  equal(wildcard(1, of(64)).type, MessageType.REGISTERED);
  equal(outcome(wildcard(2, of(2048))), ErrorUri.INVALID_URI);
  // Prefix patterns and exact URIs have no such limit (they are looked up, not walked).
  const long = Array.from({ length: 2048 }, () => "c").join(".");
  equal(register(dealer, callee, 3, long).type, MessageType.REGISTERED);
});

Deno.test("wildcard patterns are bounded by their components in all (wildcardComponents)", () => {
  const broker = newBroker({ limits: { wildcardComponents: 10 } });
  const dealer = newDealer({ limits: { wildcardComponents: 10 } });
  const wildcard = (request: number, procedure: string) =>
    registerPattern(dealer, callee, request, procedure, "wildcard");
  // 4 + 4 nodes; a third pattern of 4 would pass 10, one sharing 3 of them adds 1 but is counted
  // as 4 (the check does not look for what it shares, unless the pattern itself exists).
  equal(subscribe(broker, caller, 1, "a..c.d").type, MessageType.SUBSCRIBED);
  equal(subscribe(broker, caller, 2, "x..z.w").type, MessageType.SUBSCRIBED);
  const full = subscribe(broker, caller, 3, "m..o.p");
  equal(outcome(full), ErrorUri.LIMIT_EXCEEDED);
  equal(why(full), 'Cannot subscribe: limit "wildcardComponents" (10) exceeded');
  equal(subscribe(broker, other, 4, "a..c.d").type, MessageType.SUBSCRIBED, "joining is free");
  equal(wildcard(1, "a..c.d").type, MessageType.REGISTERED);
  equal(wildcard(2, "x..z.w").type, MessageType.REGISTERED);
  equal(why(wildcard(3, "m..o.p")), 'Cannot register: limit "wildcardComponents" (10) exceeded');
  // Leaving frees the nodes.
  broker.removeSession(caller.id);
  broker.removeSession(other.id);
  equal(subscribe(broker, caller, 5, "m..o.p").type, MessageType.SUBSCRIBED);
});

function retainPublish(
  request: number,
  topic: string,
  bytes: number,
  ack = true,
): PublishMessage {
  return {
    type: MessageType.PUBLISH,
    request,
    options: ack ? { retain: true, acknowledge: true } : { retain: true },
    topic,
    args: ["x".repeat(bytes)],
  };
}

Deno.test("Broker.publish() refuses a retained event over retainedEventBytes as a whole", () => {
  const broker = newBroker();
  subscribe(broker, other, 1, "com.example.big");
  const out = broker.publish(caller, retainPublish(1, "com.example.big", 100_000));
  deepEqual(out.map((o) => outcome(o.msg)), [ErrorUri.LIMIT_EXCEEDED]);
  equal(
    why(out[0]!.msg),
    'Cannot retain an event on "com.example.big": limit "retainedEventBytes" (65536) exceeded',
  );
  deepEqual(broker.publish(caller, retainPublish(2, "com.example.big", 100_000, false)), []);
  equal(broker.retained.size, 0);
  equal(broker.retained.bytes, 0);
  // Under the limit: delivered and retained.
  const ok1 = broker.publish(caller, retainPublish(3, "com.example.big", 1000));
  deepEqual(ok1.map((o) => o.msg.type), [MessageType.EVENT, MessageType.PUBLISHED]);
  equal(broker.retained.size, 1);
});

Deno.test("Broker.publish() keeps the realm's retained bytes under retainedBytes; replacing frees", () => {
  const broker = newBroker();
  const cap = DEFAULT_LIMITS.retainedBytes;
  let kept = 0;
  let refused = 0;
  // 400 topics x 60 KB: about 24 MB asked for, 16 MiB allowed.
  for (let i = 0; i < 400; i++) {
    const [reply] = broker.publish(caller, retainPublish(i + 1, `com.example.t${i}`, 60_000));
    if (reply?.msg.type === MessageType.PUBLISHED) kept++;
    else if (outcome(reply?.msg) === ErrorUri.LIMIT_EXCEEDED) refused++;
  }
  ok(broker.retained.bytes <= cap, `${broker.retained.bytes} > ${cap}`);
  ok(broker.retained.bytes > cap - 60_100);
  equal(kept, broker.retained.size);
  equal(kept + refused, 400);
  ok(refused > 100);
  // A topic that already has a retained event may replace it.
  const [replaced] = broker.publish(caller, retainPublish(500, "com.example.t0", 60_000));
  equal(replaced?.msg.type, MessageType.PUBLISHED);
  const [smaller] = broker.publish(caller, retainPublish(501, "com.example.t1", 10));
  equal(smaller?.msg.type, MessageType.PUBLISHED);
  ok(broker.retained.bytes < cap - 59_000);
  // Events without retain are not limited.
  const [plain] = broker.publish(caller, {
    type: MessageType.PUBLISH,
    request: 502,
    options: { acknowledge: true },
    topic: "com.example.t999",
    args: ["x".repeat(100_000)],
  });
  equal(plain?.msg.type, MessageType.PUBLISHED);
});

Deno.test("Broker.publish() counts evicted restricted retained events as freed", () => {
  const broker = newBroker({ limits: { retainedBytes: 8000 } });
  const restricted = (request: number): PublishMessage => ({
    type: MessageType.PUBLISH,
    request,
    options: { retain: true, acknowledge: true, eligible: [other.id] },
    topic: "com.example.r",
    args: ["x".repeat(100)],
  });
  equal(broker.publish(caller, restricted(1))[0]?.msg.type, MessageType.PUBLISHED);
  // The overhead, topic, args, details (none) and lists (eligible: [id]).
  const each = RETAINED_EVENT_OVERHEAD + 13 + (8 + 1 + 100) + (8 + 1 + 8 + 64);
  equal(broker.retained.bytes, each);
  for (let i = 1; i < 20; i++) {
    const [reply] = broker.publish(caller, restricted(i + 1));
    equal(reply?.msg.type, MessageType.PUBLISHED, `publication ${i}`);
  }
  // 8 restricted events stay.
  equal(broker.retained.bytes, 8 * each);
});

Deno.test("Broker.publish() counts a retained event's black/white lists and details", () => {
  const broker = newBroker();
  // Within the 4,096 entries a PUBLISH's lists may hold, 90 KB.
  const authids = Array.from({ length: 4000 }, (_, i) => `user-${i}-${"x".repeat(12)}`);
  const [listed] = broker.publish(caller, {
    type: MessageType.PUBLISH,
    request: 1,
    options: { retain: true, acknowledge: true, exclude_authid: authids },
    topic: "com.example.r",
  });
  equal(outcome(listed?.msg), ErrorUri.LIMIT_EXCEEDED, "90 KB of lists is over 64 KiB");
  const pptPublisher = {
    ...sessionInfo(7, []),
    roles: { publisher: { features: { payload_passthru_mode: true } } },
  };
  const [ppt] = broker.publish(pptPublisher, {
    type: MessageType.PUBLISH,
    request: 2,
    options: { retain: true, acknowledge: true, ppt_scheme: "x_a", ppt_keyid: "k".repeat(70_000) },
    topic: "com.example.r",
  });
  equal(outcome(ppt?.msg), ErrorUri.LIMIT_EXCEEDED, "70 KB of details is over 64 KiB");
  equal(broker.retained.bytes, 0);
});

Deno.test("Broker.publish(): retained events without payload are bounded in number by retainedBytes", () => {
  const broker = newBroker({ limits: { retainedBytes: 100 * RETAINED_EVENT_OVERHEAD } });
  let kept = 0;
  for (let i = 0; i < 1000; i++) {
    const [reply] = broker.publish(caller, {
      type: MessageType.PUBLISH,
      request: i + 1,
      options: { retain: true, acknowledge: true },
      topic: `t${i}`,
    });
    if (reply?.msg.type === MessageType.PUBLISHED) kept++;
  }
  ok(kept > 90 && kept < 100, `${kept} kept`);
});

Deno.test("keptPayloadSize() is bounded by its budget, not by the payload", () => {
  const wide = new Array(1_000_000).fill(0);
  ok(keptPayloadSize([wide], 65536) > 65536);
  let deep: unknown = [];
  for (let i = 0; i < 100_000; i++) deep = [deep];
  ok(keptPayloadSize([deep], 65536) > 65536);
  equal(keptPayloadSize([["ab"], { k: new Uint8Array(10) }], 1000), 8 + 1 + 2 + 8 + 2 + 10);
  equal(keptPayloadSize([undefined, undefined], 10), 0);
});

// ---- through a router: the realm's limits reach broker, dealer and testaments ----

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

  /** The next request ID. */
  next(): number {
    return ++this.#request;
  }

  /** Sends CALL and returns the first reply. */
  call(procedure: string, args: unknown[] = [], kwargs: Dict = {}): WampMessage | undefined {
    this.session.receive({
      type: MessageType.CALL,
      request: this.next(),
      options: {},
      procedure,
      args,
      kwargs,
    });
    return this.peer.take()[0];
  }

  testament(bytes: number, kwargs: Dict = {}): string | number | undefined {
    const args = ["com.example.will", ["x".repeat(bytes)], {}];
    return outcome(this.call(MetaProcedure.SESSION_ADD_TESTAMENT, args, kwargs));
  }
}

function router(limits?: Dict): Router {
  return new Router({
    realms: [{ name: "realm1", ...(limits === undefined ? {} : { limits }) }],
    logger: () => {},
  });
}

Deno.test("wamp.session.add_testament refuses over testamentBytesPerSession; flush frees", () => {
  const a = new Client(router());
  equal(a.testament(140_000), ErrorUri.LIMIT_EXCEEDED);
  // Each counts its payload and 128 bytes more (TESTAMENT_OVERHEAD).
  for (let i = 0; i < 12; i++) equal(a.testament(10_000), MessageType.RESULT, `testament ${i}`);
  const refused = a.call(MetaProcedure.SESSION_ADD_TESTAMENT, [
    "com.example.will",
    ["x".repeat(10_000)],
    {},
  ]);
  equal(outcome(refused), ErrorUri.LIMIT_EXCEEDED);
  equal(why(refused), 'Cannot add a testament: limit "testamentBytesPerSession" (131072) exceeded');
  equal(a.testament(5000, { scope: "detached" }), MessageType.RESULT);
  a.call(MetaProcedure.SESSION_FLUSH_TESTAMENTS);
  equal(a.testament(10_000), MessageType.RESULT);
});

Deno.test("wamp.session.add_testament refuses over the realm's testamentBytes; leaving frees", () => {
  const r = router({ testamentBytes: 50_000 });
  const a = new Client(r);
  const b = new Client(r);
  for (let i = 0; i < 3; i++) equal(a.testament(10_000), MessageType.RESULT);
  equal(b.testament(10_000), MessageType.RESULT);
  equal(b.testament(10_000), ErrorUri.LIMIT_EXCEEDED);
  a.session.closed();
  equal(b.testament(10_000), MessageType.RESULT);
});

Deno.test("testaments waiting after their sessions left count with their overhead: sessions that add and leave again and again fill testamentBytes, not memory", () => {
  const r = router({ testamentBytes: 64 * 1024 });
  let accepted = 0;
  for (let cycle = 0; cycle < 100; cycle++) {
    const a = new Client(r);
    for (let i = 0; i < 64; i++) if (a.testament(1) === MessageType.RESULT) accepted++;
    a.session.closed(); // the first goes out, the rest wait for later turns (none come here)
  }
  // Counted ~30 bytes each, 1,659 were accepted (their sessions kept whole while they waited).
  ok(accepted <= (64 * 1024) / 128, `${accepted} testaments accepted`);
  ok(accepted >= 300, `${accepted} testaments accepted`);
});

Deno.test("wamp.reflect.define refuses a description over 64 KiB", () => {
  const a = new Client(router());
  a.session.receive({
    type: MessageType.REGISTER,
    request: a.next(),
    options: {},
    procedure: "com.example.p",
  });
  equal(a.peer.take()[0]?.type, MessageType.REGISTERED);
  const define = (text: string) =>
    outcome(a.call("wamp.reflect.define", ["com.example.p", { text }]));
  equal(define("x".repeat(70_000)), ErrorUri.INVALID_ARGUMENT);
  equal(define("x".repeat(60_000)), MessageType.RESULT);
});

Deno.test("a realm's limits reach its dealer and broker", () => {
  const r = router({ callsPerSession: 1, subscriptionsPerSession: 1, registrationsPerSession: 1 });
  const a = new Client(r);
  const b = new Client(r);
  const send = (msg: WampMessage): string | number | undefined => {
    a.session.receive(msg);
    return outcome(a.peer.take()[0]);
  };
  equal(
    send({ type: MessageType.REGISTER, request: 1, options: {}, procedure: "com.example.p" }),
    MessageType.REGISTERED,
  );
  equal(
    send({ type: MessageType.REGISTER, request: 2, options: {}, procedure: "com.example.q" }),
    ErrorUri.LIMIT_EXCEEDED,
  );
  equal(
    send({ type: MessageType.SUBSCRIBE, request: 3, options: {}, topic: "com.example.t" }),
    MessageType.SUBSCRIBED,
  );
  equal(
    send({ type: MessageType.SUBSCRIBE, request: 4, options: {}, topic: "com.example.u" }),
    ErrorUri.LIMIT_EXCEEDED,
  );
  b.session.receive({
    type: MessageType.CALL,
    request: 1,
    options: {},
    procedure: "com.example.p",
  });
  equal(b.peer.take().length, 0);
  equal(a.peer.take()[0]?.type, MessageType.INVOCATION);
  b.session.receive({
    type: MessageType.CALL,
    request: 2,
    options: {},
    procedure: "com.example.p",
  });
  equal(outcome(b.peer.take()[0]), ErrorUri.LIMIT_EXCEEDED);
  equal(a.peer.take().length, 0);
});

Deno.test("Broker event history keeps at most historyBytes per subscription, oldest dropped first", () => {
  const broker = newBroker({
    eventHistory: [{ topic: "com.example.hist", limit: 1000 }],
    limits: { historyBytes: 100_000 },
  });
  const id = 1; // the rule's subscription, created first
  equal(broker.history.has(id), true);
  const publish = (request: number, size: number) =>
    broker.publish(caller, {
      type: MessageType.PUBLISH,
      request,
      options: {},
      topic: "com.example.hist",
      args: ["x".repeat(size)],
    });
  for (let i = 1; i <= 50; i++) publish(i, 10_000);
  ok(broker.history.bytes(id) <= 100_000, `${broker.history.bytes(id)} bytes kept`);
  const kept = broker.history.query(broker.subscription(id)!, caller, {});
  // 9 events of ~10 KB fit; the newest are the ones kept.
  deepEqual(kept.map((e) => e.publication), [42, 43, 44, 45, 46, 47, 48, 49, 50]);
  // An event over the cap on its own is delivered but never kept.
  publish(51, 200_000);
  equal(broker.history.query(broker.subscription(id)!, caller, {}).length, 9);
  ok(broker.history.bytes(id) <= 100_000);
});
