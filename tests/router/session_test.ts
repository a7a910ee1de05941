import { deepEqual, equal, match, ok, strictEqual, throws } from "node:assert/strict";
import type { RealmOptions } from "../../router/core/realm_options.ts";
import { Router } from "../../router/router.ts";
import type { Connection as Session } from "../../router/connection.ts";
import type { LogLevel } from "../../router/core/types.ts";
import {
  type CallMessage,
  CloseUri,
  type Dict,
  type ErrorMessage,
  ErrorUri,
  type EventMessage,
  type HelloMessage,
  type InvocationMessage,
  MessageType,
  type OutboundOptions,
  ProtocolViolationError,
  type PublishMessage,
  rolesDict,
  ROUTER_FEATURES,
  sequentialIdGenerator,
  type SubscribedMessage,
  type WampMessage,
  type WelcomeMessage,
} from "../../wamp/mod.ts";
import { FakePeer } from "../_helpers/fake_peer.ts";
import { realmOf } from "../../router/router.ts";

const ALL_ROLES = { publisher: {}, subscriber: {}, caller: {}, callee: {} };

interface TestRouter {
  router: Router;
  logs: [LogLevel, string][];
}

/** A router with realm1, a recording logger and sequential global IDs. */
function testRouter(realm: Partial<RealmOptions> = {}): TestRouter {
  const logs: [LogLevel, string][] = [];
  const router = new Router({
    realms: [{ name: "realm1", ...realm }],
    agent: "Cloverleaf-test",
    logger: (level, message) => logs.push([level, message]),
    idGenerator: sequentialIdGenerator(),
  });
  return { router, logs };
}

interface Connection {
  peer: FakePeer;
  session: Session;
}

function connect(router: Router, options?: OutboundOptions): Connection {
  const peer = new FakePeer();
  return { peer, session: router.attach(peer, options) as Session };
}

function hello(
  realm = "realm1",
  details: Dict = { roles: ALL_ROLES },
): HelloMessage {
  return { type: MessageType.HELLO, realm, details };
}

/** Connects and joins realm1; the WELCOME is consumed. */
function join(
  router: Router,
  roles: Dict = ALL_ROLES,
  options?: OutboundOptions,
): Connection {
  const conn = connect(router, options);
  conn.session.receive(hello("realm1", { roles }));
  const [welcome] = conn.peer.take();
  equal(welcome?.type, MessageType.WELCOME, "joined");
  return conn;
}

function subscribe(request: number, topic: string): WampMessage {
  return { type: MessageType.SUBSCRIBE, request, options: {}, topic };
}

function publish(
  request: number,
  topic: string,
  extra: Partial<PublishMessage> = {},
): WampMessage {
  return { type: MessageType.PUBLISH, request, options: {}, topic, ...extra };
}

function register(request: number, procedure: string): WampMessage {
  return { type: MessageType.REGISTER, request, options: {}, procedure };
}

function call(
  request: number,
  procedure: string,
  extra: Partial<CallMessage> = {},
): WampMessage {
  return { type: MessageType.CALL, request, options: {}, procedure, ...extra };
}

function yieldOf(request: number, args?: unknown[]): WampMessage {
  return args === undefined
    ? { type: MessageType.YIELD, request, options: {} }
    : { type: MessageType.YIELD, request, options: {}, args };
}

const GOODBYE: WampMessage = {
  type: MessageType.GOODBYE,
  details: {},
  reason: CloseUri.NORMAL,
};

/** Asserts the peer got exactly one ABORT with `reason`, then was closed. */
function assertAborted(conn: Connection, reason: string): void {
  const sent = conn.peer.take();
  equal(sent.length, 1, `one message, got ${JSON.stringify(sent)}`);
  const abort = sent[0]!;
  equal(abort.type, MessageType.ABORT);
  if (abort.type !== MessageType.ABORT) return;
  equal(abort.reason, reason);
  equal(typeof abort.details.message, "string");
  equal(conn.peer.closeCount, 1);
  equal(conn.session.joined, false);
}

// ---- opening ----

Deno.test("Session.receive() answers HELLO with WELCOME", () => {
  const { router } = testRouter();
  const { peer, session } = connect(router);
  session.receive(hello());
  const [welcome, ...rest] = peer.take();
  deepEqual(rest, []);
  equal(welcome?.type, MessageType.WELCOME);
  const { session: id, details } = welcome as WelcomeMessage;
  equal(id, 1);
  const announced = rolesDict(ROUTER_FEATURES);
  const roles = details.roles as Record<string, Dict>;
  deepEqual(Object.keys(roles).sort(), ["broker", "dealer"]);
  deepEqual(roles.broker!.features, announced.broker!.features);
  deepEqual(roles.dealer!.features, announced.dealer!.features);
  equal(roles.dealer!.reflection, true);
  equal(details.agent, "Cloverleaf-test");
  equal(details.realm, "realm1");
  match(details.authid as string, /^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/);
  equal(details.authrole, "anonymous");
  equal(details.authmethod, "anonymous");
  equal(details.authprovider, "static");
  equal(session.joined, true);
  equal(session.id, 1);
  equal(session.info.realm, "realm1");
  deepEqual(session.info.roles, ALL_ROLES);
  equal(realmOf(router, "realm1")!.size, 1);
  equal(peer.closeCount, 0);
});

Deno.test("Session.receive() gives each session a new ID and authid", () => {
  const { router } = testRouter();
  const a = connect(router);
  const b = connect(router);
  a.session.receive(hello());
  b.session.receive(hello());
  const wa = a.peer.take()[0] as WelcomeMessage;
  const wb = b.peer.take()[0] as WelcomeMessage;
  deepEqual([wa.session, wb.session], [1, 2]);
  ok(wa.details.authid !== wb.details.authid);
});

Deno.test("Session.receive() welcomes with the realm's anonymousRole", () => {
  const { router } = testRouter({ anonymousRole: "guest" });
  const { peer, session } = connect(router);
  session.receive(
    hello("realm1", { roles: { caller: {} }, authmethods: ["anonymous"] }),
  );
  equal((peer.take()[0] as WelcomeMessage).details.authrole, "guest");
});

Deno.test("Router sends a Cloverleaf-<version> agent by default", () => {
  const router = new Router({ realms: [{ name: "realm1" }], logger: () => {} });
  const peer = new FakePeer();
  router.attach(peer).receive(hello());
  match(
    (peer.take()[0] as WelcomeMessage).details.agent as string,
    /^Cloverleaf-\d+\.\d+\.\d+/,
  );
});

Deno.test("Session.receive() aborts HELLO for an unknown realm with no_such_realm", () => {
  const { router } = testRouter();
  const conn = connect(router);
  conn.session.receive(hello("realm2"));
  assertAborted(conn, ErrorUri.NO_SUCH_REALM);
  equal(router.connectionCount, 0);
  // Nothing more happens on the closed connection.
  conn.session.receive(hello());
  deepEqual(conn.peer.take(), []);
  equal(conn.peer.closeCount, 1);
});

Deno.test("Session.receive() aborts HELLO without usable roles as a protocol violation", () => {
  const { router } = testRouter();
  for (
    const details of [
      {},
      { roles: {} },
      { roles: { broker: {} } },
      { roles: [] },
      { roles: { caller: true } },
    ] as Dict[]
  ) {
    const conn = connect(router);
    conn.session.receive(hello("realm1", details));
    assertAborted(conn, ErrorUri.PROTOCOL_VIOLATION);
  }
  equal(realmOf(router, "realm1")!.size, 0);
});

Deno.test("Session.receive() aborts with no_auth_method when anonymous is disabled", () => {
  const { router } = testRouter({ anonymous: false });
  const conn = connect(router);
  conn.session.receive(hello());
  assertAborted(conn, ErrorUri.NO_AUTH_METHOD);
});

Deno.test("Session.receive() aborts with no_auth_method when anonymous is not offered", () => {
  const { router } = testRouter();
  const conn = connect(router);
  conn.session.receive(
    hello("realm1", { roles: ALL_ROLES, authmethods: ["ticket"] }),
  );
  assertAborted(conn, ErrorUri.NO_AUTH_METHOD);
});

Deno.test("Session.receive() aborts any message before HELLO as a protocol violation", () => {
  const { router } = testRouter();
  const early: WampMessage[] = [
    subscribe(1, "com.example.topic"),
    GOODBYE,
    publish(1, "com.example.topic"),
    call(1, "com.example.add"),
    yieldOf(1),
    {
      type: MessageType.ERROR,
      requestType: MessageType.INVOCATION,
      request: 1,
      details: {},
      error: "com.example.error",
    },
    { type: MessageType.WELCOME, session: 1, details: {} },
  ];
  for (const msg of early) {
    const conn = connect(router);
    conn.session.receive(msg);
    assertAborted(conn, ErrorUri.PROTOCOL_VIOLATION);
  }
  equal(router.connectionCount, 0);
});

Deno.test("Session.receive() closes quietly on ABORT before HELLO", () => {
  const { router } = testRouter();
  const { peer, session } = connect(router);
  session.receive({
    type: MessageType.ABORT,
    details: {},
    reason: CloseUri.NORMAL,
  });
  deepEqual(peer.take(), []);
  equal(peer.closeCount, 1);
  equal(router.connectionCount, 0);
});

// ---- protocol violations on an open session ----

Deno.test("Session.receive() treats a second HELLO as a protocol violation", () => {
  const { router } = testRouter();
  const conn = join(router);
  conn.session.receive(hello());
  assertAborted(conn, ErrorUri.PROTOCOL_VIOLATION);
  equal(realmOf(router, "realm1")!.size, 0);
  equal(router.connectionCount, 0);
});

Deno.test("Session.receive() refuses messages for roles the session did not announce", () => {
  const { router } = testRouter();
  const cases: [Dict, WampMessage][] = [
    [{ subscriber: {} }, publish(1, "com.example.topic")],
    [{ publisher: {} }, subscribe(1, "com.example.topic")],
    [{ callee: {} }, call(1, "com.example.add")],
    [{ caller: {} }, register(1, "com.example.add")],
    [{ caller: {} }, yieldOf(1)],
  ];
  for (const [roles, msg] of cases) {
    const conn = join(router, roles);
    conn.session.receive(msg);
    assertAborted(conn, ErrorUri.PROTOCOL_VIOLATION);
  }
});

Deno.test("Session.receive() treats ERROR for anything but INVOCATION as a violation", () => {
  const { router } = testRouter();
  for (
    const requestType of [
      MessageType.CALL,
      MessageType.SUBSCRIBE,
      MessageType.PUBLISH,
    ]
  ) {
    const conn = join(router);
    conn.session.receive({
      type: MessageType.ERROR,
      requestType,
      request: 1,
      details: {},
      error: "com.example.error",
    });
    assertAborted(conn, ErrorUri.PROTOCOL_VIOLATION);
  }
});

Deno.test("Session.receive() treats router-only messages as violations", () => {
  const { router } = testRouter();
  const conn = join(router);
  conn.session.receive({
    type: MessageType.EVENT,
    subscription: 1,
    publication: 1,
    details: {},
  });
  assertAborted(conn, ErrorUri.PROTOCOL_VIOLATION);
});

Deno.test("Session.receive() requires request IDs 1, 2, 3, … across request types", () => {
  const { router } = testRouter();
  const conn = join(router);
  conn.session.receive(subscribe(1, "com.example.topic"));
  conn.session.receive(register(2, "com.example.add"));
  conn.session.receive(publish(3, "com.example.topic"));
  deepEqual(conn.peer.take().map((m) => m.type), [
    MessageType.SUBSCRIBED,
    MessageType.REGISTERED,
  ]);
  conn.session.receive(call(5, "com.example.add"));
  assertAborted(conn, ErrorUri.PROTOCOL_VIOLATION);

  const first = join(router);
  first.session.receive(subscribe(2, "com.example.topic"));
  assertAborted(first, ErrorUri.PROTOCOL_VIOLATION);

  const repeated = join(router);
  repeated.session.receive(subscribe(1, "com.example.topic"));
  repeated.peer.take();
  repeated.session.receive(subscribe(1, "com.example.topic"));
  assertAborted(repeated, ErrorUri.PROTOCOL_VIOLATION);
});

Deno.test("Session.receive() accepts any request ID when strictRequestIds is false", () => {
  const { router } = testRouter({ strictRequestIds: false });
  const { peer, session } = join(router);
  session.receive(subscribe(7, "com.example.topic"));
  session.receive(subscribe(3, "com.example.other"));
  session.receive(subscribe(3, "com.example.third"));
  deepEqual(
    peer.take().map((m) => [m.type, (m as SubscribedMessage).request]),
    [
      [MessageType.SUBSCRIBED, 7],
      [MessageType.SUBSCRIBED, 3],
      [MessageType.SUBSCRIBED, 3],
    ],
  );
  equal(peer.closeCount, 0);
});

Deno.test("Session.receive() aborts a YIELD for an invocation never issued", () => {
  const { router } = testRouter();
  const conn = join(router);
  conn.session.receive(register(1, "com.example.add"));
  conn.peer.take();
  conn.session.receive(yieldOf(1));
  assertAborted(conn, ErrorUri.PROTOCOL_VIOLATION);
});

Deno.test("Session.fail() sends ABORT protocol_violation with the error message", () => {
  const { router } = testRouter();
  const conn = join(router);
  conn.session.receive(subscribe(1, "com.example.topic"));
  conn.peer.take();
  conn.session.fail(
    new ProtocolViolationError("Cannot parse SUBSCRIBE: bad frame"),
  );
  const [abort] = conn.peer.sent;
  deepEqual(abort, {
    type: MessageType.ABORT,
    details: { message: "Cannot parse SUBSCRIBE: bad frame" },
    reason: ErrorUri.PROTOCOL_VIOLATION,
  });
  assertAborted(conn, ErrorUri.PROTOCOL_VIOLATION);
  // Its subscription went with it.
  const other = join(router);
  other.session.receive(
    publish(1, "com.example.topic", { options: { acknowledge: true } }),
  );
  deepEqual(other.peer.take().map((m) => m.type), [MessageType.PUBLISHED]);
  // Failing again after close does nothing.
  conn.session.fail(new ProtocolViolationError("again"));
  deepEqual(conn.peer.take(), []);
  equal(conn.peer.closeCount, 1);
});

Deno.test("Session.fail() aborts a connection that has not joined", () => {
  const { router } = testRouter();
  const conn = connect(router);
  conn.session.fail(new ProtocolViolationError("Not a WAMP message"));
  assertAborted(conn, ErrorUri.PROTOCOL_VIOLATION);
});

// ---- closing ----

Deno.test("Session.receive() answers GOODBYE with goodbye_and_out and allows a new HELLO", () => {
  const { router } = testRouter();
  const { peer, session } = join(router);
  session.receive(subscribe(1, "com.example.topic"));
  peer.take();
  session.receive(GOODBYE);
  deepEqual(peer.take(), [{
    type: MessageType.GOODBYE,
    details: {},
    reason: CloseUri.GOODBYE_AND_OUT,
  }]);
  equal(peer.closeCount, 0);
  equal(session.joined, false);
  equal(realmOf(router, "realm1")!.size, 0);
  equal(router.connectionCount, 1);

  session.receive(hello());
  const [welcome] = peer.take();
  equal(welcome?.type, MessageType.WELCOME);
  equal((welcome as WelcomeMessage).session, 2);
  equal(session.id, 2);
  // Request IDs start again at 1 for the new session.
  session.receive(subscribe(1, "com.example.topic"));
  deepEqual(peer.take().map((m) => m.type), [MessageType.SUBSCRIBED]);
});

Deno.test("Session.receive() closes on ABORT from a joined client", () => {
  const { router } = testRouter();
  const { peer, session } = join(router);
  session.receive({
    type: MessageType.ABORT,
    details: {},
    reason: CloseUri.NORMAL,
  });
  deepEqual(peer.take(), []);
  equal(peer.closeCount, 1);
  equal(realmOf(router, "realm1")!.size, 0);
});

Deno.test("Session.closed() removes the session from its realm and the router", () => {
  const { router } = testRouter();
  const { peer, session } = join(router);
  session.receive(register(1, "com.example.add"));
  peer.take();
  session.closed();
  equal(realmOf(router, "realm1")!.size, 0);
  equal(router.connectionCount, 0);
  equal(realmOf(router, "realm1")!.dealer.registration(1), undefined);
  // The transport is already gone: nothing is sent or closed.
  deepEqual(peer.take(), []);
  equal(peer.closeCount, 0);
  session.closed();
});

Deno.test("Session.shutdown() sends GOODBYE and closes when the client answers", () => {
  const { router } = testRouter();
  const { peer, session } = join(router);
  session.shutdown(CloseUri.CLOSE_REALM, "maintenance");
  deepEqual(peer.take(), [{
    type: MessageType.GOODBYE,
    details: { message: "maintenance" },
    reason: CloseUri.CLOSE_REALM,
  }]);
  equal(realmOf(router, "realm1")!.size, 0);
  equal(peer.closeCount, 0);
  // Anything but the reply is ignored now.
  session.receive(subscribe(1, "com.example.topic"));
  deepEqual(peer.take(), []);
  equal(peer.closeCount, 0);
  session.receive({
    type: MessageType.GOODBYE,
    details: {},
    reason: CloseUri.GOODBYE_AND_OUT,
  });
  deepEqual(peer.take(), []);
  equal(peer.closeCount, 1);
  equal(router.connectionCount, 0);
});

Deno.test("Router.close() sends GOODBYE system_shutdown to joined sessions and closes them", async () => {
  const { router } = testRouter();
  const a = join(router);
  const b = join(router);
  const idle = connect(router);
  await router.close(CloseUri.SYSTEM_SHUTDOWN, 0);
  for (const conn of [a, b]) {
    deepEqual(conn.peer.take(), [{
      type: MessageType.GOODBYE,
      details: {},
      reason: CloseUri.SYSTEM_SHUTDOWN,
    }]);
    equal(conn.peer.closeCount, 1);
  }
  deepEqual(idle.peer.take(), []);
  equal(idle.peer.closeCount, 1);
  equal(router.connectionCount, 0);
  equal(realmOf(router, "realm1")!.size, 0);
  // A closing router takes no new connections.
  const late = new FakePeer();
  throws(() => router.attach(late), /router is closing/);
  equal(late.closeCount, 1);
});

Deno.test("Router.close() uses system_shutdown by default", async () => {
  const { router } = testRouter();
  const conn = join(router);
  // No grace period: nothing waits on a real timer.
  await router.close(undefined, 0);
  deepEqual(conn.peer.take(), [{
    type: MessageType.GOODBYE,
    details: {},
    reason: CloseUri.SYSTEM_SHUTDOWN,
  }]);
  equal(conn.peer.closeCount, 1);
});

// ---- slow consumers ----

/** A subscriber with a backlog limit of 10 and a publisher, both joined. */
function slowSubscriber(slowConsumer: "drop" | "close") {
  const { router, logs } = testRouter();
  const sub = join(router, { subscriber: {} }, {
    maxBacklog: 10,
    slowConsumer,
  });
  sub.session.receive(subscribe(1, "com.example.topic"));
  sub.peer.take();
  const pub = join(router, { publisher: {} });
  let request = 0;
  const publishOne = () => pub.session.receive(publish(++request, "com.example.topic"));
  return { router, logs, sub, pub, publishOne };
}

Deno.test("Session.send() drops an EVENT for a slow consumer under policy drop", () => {
  const { logs, sub, publishOne } = slowSubscriber("drop");
  sub.peer.bytesQueued = 11;
  publishOne();
  publishOne();
  deepEqual(sub.peer.take(), []);
  equal(sub.session.droppedEvents, 2);
  equal(sub.peer.closeCount, 0);
  equal(sub.session.joined, true);
  equal(
    logs.filter(([level]) => level === "warn").length,
    1,
    "one warning per episode",
  );
  // Once it catches up (EVENTs may take half its limit), events flow again.
  sub.peer.bytesQueued = 5;
  publishOne();
  deepEqual(sub.peer.take().map((m) => m.type), [MessageType.EVENT]);
  equal(sub.session.droppedEvents, 2);
  ok(
    logs.some(([level, line]) => level === "info" && line.includes("caught up")),
  );
});

Deno.test("Session.send() closes a slow consumer owed a RESULT under policy drop", () => {
  const { router } = testRouter();
  const callee = join(router, { callee: {} });
  callee.session.receive(register(1, "com.example.add"));
  const caller = join(router, { caller: {} }, {
    maxBacklog: 10,
    slowConsumer: "drop",
  });
  caller.session.receive(call(1, "com.example.add"));
  const invocation = callee.peer.take().at(-1) as InvocationMessage;
  equal(invocation.type, MessageType.INVOCATION);
  caller.peer.bytesQueued = 11;
  callee.session.receive(yieldOf(invocation.request, [5]));
  deepEqual(caller.peer.take(), []);
  equal(caller.peer.closeCount, 1);
  equal(caller.session.joined, false);
  equal(realmOf(router, "realm1")!.size, 1);
  equal(router.connectionCount, 1);
  // The callee is unaffected.
  deepEqual(callee.peer.take(), []);
  equal(callee.peer.closeCount, 0);
});

Deno.test("Session.send() closes a slow consumer on an EVENT under policy close", () => {
  const { router, sub, publishOne } = slowSubscriber("close");
  sub.peer.bytesQueued = 11;
  publishOne();
  deepEqual(sub.peer.take(), []);
  equal(sub.session.droppedEvents, 0);
  equal(sub.peer.closeCount, 1);
  equal(realmOf(router, "realm1")!.size, 1);
  // Its subscription is gone.
  equal(realmOf(router, "realm1")!.broker.subscription(1), undefined);
});

Deno.test("Session.send() sends everything while the backlog is within half the limit", () => {
  for (const policy of ["drop", "close"] as const) {
    const { router } = testRouter();
    const conn = join(router, ALL_ROLES, {
      maxBacklog: 10,
      slowConsumer: policy,
    });
    conn.peer.bytesQueued = 5;
    conn.session.receive(subscribe(1, "com.example.topic"));
    conn.session.receive(register(2, "com.example.add"));
    conn.session.receive(
      publish(3, "com.example.topic", { options: { exclude_me: false } }),
    );
    conn.session.receive(call(4, "com.example.add"));
    const invocation = conn.peer.sent.at(-1) as InvocationMessage;
    conn.session.receive(yieldOf(invocation.request));
    deepEqual(conn.peer.take().map((m) => m.type), [
      MessageType.SUBSCRIBED,
      MessageType.REGISTERED,
      MessageType.EVENT,
      MessageType.INVOCATION,
      MessageType.RESULT,
    ], policy);
    equal(conn.session.droppedEvents, 0);
    equal(conn.peer.closeCount, 0);
  }
});

// ---- two sessions through one router ----

Deno.test("Router routes PUBLISH from one session as EVENT to the others", () => {
  const { router } = testRouter();
  const a = join(router); // session 1
  const b = join(router); // session 2
  const c = join(router); // session 3
  a.session.receive(subscribe(1, "com.example.topic"));
  b.session.receive(subscribe(1, "com.example.topic"));
  const subscribed = [
    a.peer.take()[0],
    b.peer.take()[0],
  ] as SubscribedMessage[];
  equal(subscribed[0]!.subscription, subscribed[1]!.subscription);

  c.session.receive(
    publish(1, "com.example.topic", {
      options: { acknowledge: true },
      args: [1, 2],
      kwargs: { k: "v" },
    }),
  );
  const [eventA] = a.peer.take() as EventMessage[];
  const [eventB] = b.peer.take() as EventMessage[];
  strictEqual(eventA, eventB, "one EVENT object for every subscriber");
  deepEqual(eventA, {
    type: MessageType.EVENT,
    subscription: subscribed[0]!.subscription,
    publication: 4, // IDs 1-3 went to the sessions
    details: {},
    args: [1, 2],
    kwargs: { k: "v" },
  });
  deepEqual(c.peer.take(), [{
    type: MessageType.PUBLISHED,
    request: 1,
    publication: 4,
  }]);

  // The publisher's own subscription is skipped by default.
  a.session.receive(publish(2, "com.example.topic"));
  deepEqual(a.peer.take(), []);
  deepEqual(b.peer.take().map((m) => m.type), [MessageType.EVENT]);
});

Deno.test("Router routes CALL to the callee and YIELD back as RESULT", () => {
  const { router } = testRouter();
  const callee = join(router, { callee: {} });
  const caller = join(router, { caller: {} });
  callee.session.receive(register(1, "com.example.add"));
  deepEqual(callee.peer.take().map((m) => m.type), [MessageType.REGISTERED]);

  caller.session.receive(
    call(1, "com.example.add", { args: [2, 3], kwargs: { x: 1 } }),
  );
  const [invocation] = callee.peer.take() as InvocationMessage[];
  deepEqual(invocation, {
    type: MessageType.INVOCATION,
    request: 1,
    registration: 1,
    details: {},
    args: [2, 3],
    kwargs: { x: 1 },
  });
  callee.session.receive(yieldOf(invocation!.request, [5]));
  deepEqual(caller.peer.take(), [{
    type: MessageType.RESULT,
    request: 1,
    details: {},
    args: [5],
  }]);

  // A callee ERROR reaches the caller as ERROR for CALL.
  caller.session.receive(call(2, "com.example.add"));
  const [second] = callee.peer.take() as InvocationMessage[];
  callee.session.receive({
    type: MessageType.ERROR,
    requestType: MessageType.INVOCATION,
    request: second!.request,
    details: {},
    error: "com.example.error.overflow",
    args: ["too big"],
  });
  deepEqual(caller.peer.take(), [{
    type: MessageType.ERROR,
    requestType: MessageType.CALL,
    request: 2,
    details: {},
    error: "com.example.error.overflow",
    args: ["too big"],
  }]);

  // Unknown procedure.
  caller.session.receive(call(3, "com.example.missing"));
  equal(
    (caller.peer.take()[0] as ErrorMessage).error,
    ErrorUri.NO_SUCH_PROCEDURE,
  );
});

Deno.test("Router cancels pending calls when the callee disconnects", () => {
  const { router } = testRouter();
  const callee = join(router, { callee: {} });
  const a = join(router, { caller: {} });
  const b = join(router, { caller: {} });
  callee.session.receive(register(1, "com.example.slow"));
  a.session.receive(call(1, "com.example.slow"));
  b.session.receive(call(1, "com.example.slow"));
  a.session.receive(call(2, "com.example.slow"));
  equal(callee.peer.take().length, 4);

  callee.session.closed();
  for (const [conn, requests] of [[a, [1, 2]], [b, [1]]] as const) {
    const errors = conn.peer.take() as ErrorMessage[];
    deepEqual(
      errors.map((e) => [e.type, e.requestType, e.request, e.error]),
      requests.map((
        r,
      ) => [MessageType.ERROR, MessageType.CALL, r, ErrorUri.CANCELED]),
    );
    equal(conn.peer.closeCount, 0);
  }
  // The procedure went with it.
  a.session.receive(call(3, "com.example.slow"));
  equal((a.peer.take()[0] as ErrorMessage).error, ErrorUri.NO_SUCH_PROCEDURE);
});

Deno.test("Router discards a YIELD that arrives after the caller left", () => {
  const { router, logs } = testRouter();
  const callee = join(router, { callee: {} });
  const caller = join(router, { caller: {} });
  callee.session.receive(register(1, "com.example.slow"));
  caller.session.receive(call(1, "com.example.slow"));
  const invocation = callee.peer.take().at(-1) as InvocationMessage;
  caller.session.closed();
  callee.session.receive(yieldOf(invocation.request, [1]));
  deepEqual(callee.peer.take(), []);
  deepEqual(caller.peer.take(), []);
  equal(callee.session.joined, true);
  equal(callee.peer.closeCount, 0);
  deepEqual(logs.filter(([level]) => level === "error"), []);
});

Deno.test("Router cancels pending calls when the callee is aborted for a violation", () => {
  const { router } = testRouter();
  const callee = join(router, { callee: {} });
  const caller = join(router, { caller: {} });
  callee.session.receive(register(1, "com.example.slow"));
  caller.session.receive(call(1, "com.example.slow"));
  callee.peer.take();
  callee.session.receive(subscribe(2, "com.example.topic")); // no subscriber role
  assertAborted(callee, ErrorUri.PROTOCOL_VIOLATION);
  const [error] = caller.peer.take() as ErrorMessage[];
  equal(error?.error, ErrorUri.CANCELED);
  equal(error?.request, 1);
});

Deno.test("a CALL to a callee past its outbound limit is refused from the caller; the callee stays", () => {
  const { router } = testRouter();
  const callee = join(router, { callee: {} }, {
    maxBacklog: 10,
    slowConsumer: "drop",
  });
  const caller = join(router, { caller: {} });
  callee.session.receive(register(1, "com.example.add"));
  callee.peer.take();
  callee.peer.bytesQueued = 11;
  caller.session.receive(call(1, "com.example.add"));
  deepEqual(callee.peer.take(), []);
  equal(callee.peer.closeCount, 0);
  const [error] = caller.peer.take() as ErrorMessage[];
  deepEqual([error?.type, error?.requestType, error?.request, error?.error], [
    MessageType.ERROR,
    MessageType.CALL,
    1,
    ErrorUri.NO_AVAILABLE_CALLEE,
  ]);
  equal(caller.peer.closeCount, 0);
  // Once it has drained, calls reach it again.
  callee.peer.bytesQueued = 0;
  caller.session.receive(call(2, "com.example.add"));
  equal((callee.peer.take()[0] as { type: number }).type, MessageType.INVOCATION);
});

Deno.test("Session.info throws and Session.id is 0 before WELCOME", () => {
  const { router } = testRouter();
  const { session } = connect(router);
  throws(() => session.info, /has not joined/);
  equal(session.id, 0);
  equal(session.joined, false);
  equal(router.connectionCount, 1);
});

Deno.test("Router.close() returns the same promise when called twice", async () => {
  const { router } = testRouter();
  const first = router.close();
  strictEqual(router.close(), first);
  await first;
});

Deno.test("Session.receive() aborts a CALL reusing an in-flight request ID even when IDs are loose", () => {
  const { router } = testRouter({ strictRequestIds: false });
  const callee = join(router, { callee: {} });
  const caller = join(router, { caller: {} });
  callee.session.receive(register(1, "com.example.slow"));
  caller.session.receive(call(4, "com.example.slow"));
  caller.session.receive(call(4, "com.example.slow"));
  assertAborted(caller, ErrorUri.PROTOCOL_VIOLATION);
  // Only the first CALL reached the callee.
  deepEqual(callee.peer.take().map((m) => m.type), [
    MessageType.REGISTERED,
    MessageType.INVOCATION,
  ]);
});

Deno.test("Session.receive() turns an internal error into ABORT and logs it", () => {
  const logs: [LogLevel, string][] = [];
  let drawn = 0;
  const router = new Router({
    realms: [{ name: "realm1" }],
    logger: (level, message) => logs.push([level, message]),
    // Session ID 1, then the publication ID fails.
    idGenerator: () => {
      if (++drawn > 1) throw new Error("ID source exhausted");
      return drawn;
    },
  });
  const conn = join(router);
  conn.session.receive(publish(1, "com.example.topic"));
  const [abort] = conn.peer.sent;
  deepEqual(abort, {
    type: MessageType.ABORT,
    details: { message: "internal router error" },
    reason: ErrorUri.PROTOCOL_VIOLATION,
  });
  assertAborted(conn, ErrorUri.PROTOCOL_VIOLATION);
  ok(
    logs.some(([level, line]) => level === "error" && line.includes("ID source exhausted")),
  );
});

Deno.test("Session.send() closing one slow subscriber does not stop the fan-out", () => {
  const { router } = testRouter();
  const slow = join(router, { subscriber: {} }, {
    maxBacklog: 10,
    slowConsumer: "close",
  });
  const fast = join(router, { subscriber: {} });
  const pub = join(router, { publisher: {} });
  slow.session.receive(subscribe(1, "com.example.topic"));
  fast.session.receive(subscribe(1, "com.example.topic"));
  slow.peer.take();
  fast.peer.take();
  slow.peer.bytesQueued = 11;
  pub.session.receive(publish(1, "com.example.topic"));
  equal(slow.peer.closeCount, 1);
  deepEqual(fast.peer.take().map((m) => m.type), [MessageType.EVENT]);
  pub.session.receive(publish(2, "com.example.topic"));
  deepEqual(fast.peer.take().map((m) => m.type), [MessageType.EVENT]);
  deepEqual(slow.peer.take(), []);
});

const PROGRESSIVE = {
  features: { progressive_call_invocations: true, call_canceling: true },
};

Deno.test("Session.receive() lets a progressive CALL reuse its request ID, in strict mode", () => {
  const { router } = testRouter();
  const callee = join(router, { callee: PROGRESSIVE });
  const caller = join(router, { caller: PROGRESSIVE, subscriber: {} });
  callee.session.receive(register(1, "com.example.upload"));
  callee.peer.take();
  const chunk = (request: number, progress: boolean) =>
    call(request, "com.example.upload", {
      args: [request],
      options: progress ? { progress: true } : {},
    });
  caller.session.receive(chunk(1, true));
  caller.session.receive(subscribe(2, "com.example.topic")); // IDs go on meanwhile
  caller.session.receive(chunk(1, true));
  caller.session.receive(chunk(1, false));
  const invocations = callee.peer.take() as InvocationMessage[];
  deepEqual(invocations.map((m) => [m.request, m.details.progress]), [
    [1, true],
    [1, true],
    [1, undefined],
  ]);
  equal(caller.session.joined, true);
  caller.peer.take(); // SUBSCRIBED
  // The next new CALL must still be 3, the session's next ID.
  caller.session.receive(call(4, "com.example.upload"));
  assertAborted(caller, ErrorUri.PROTOCOL_VIOLATION);
});

Deno.test("Session.receive() routes CANCEL from callers only", () => {
  const { router } = testRouter();
  const callee = join(router, { callee: { features: { call_canceling: true } } });
  const caller = join(router, { caller: {} });
  callee.session.receive(register(1, "com.example.slow"));
  callee.peer.take();
  caller.session.receive(call(1, "com.example.slow"));
  const [invocation] = callee.peer.take() as InvocationMessage[];
  caller.session.receive({ type: MessageType.CANCEL, request: 1, options: { mode: "kill" } });
  deepEqual(callee.peer.take(), [{
    type: MessageType.INTERRUPT,
    request: invocation!.request,
    options: { mode: "kill", reason: ErrorUri.CANCELED },
  }]);
  callee.session.receive({
    type: MessageType.ERROR,
    requestType: MessageType.INVOCATION,
    request: invocation!.request,
    details: {},
    error: ErrorUri.CANCELED,
  });
  equal((caller.peer.take()[0] as ErrorMessage).error, ErrorUri.CANCELED);
  // The callee never announced the caller role.
  callee.session.receive({ type: MessageType.CANCEL, request: 1, options: {} });
  assertAborted(callee, ErrorUri.PROTOCOL_VIOLATION);
});

Deno.test("Router times out a call through the realm and delivers the ERROR", async () => {
  const { router } = testRouter();
  const callee = join(router, { callee: {} });
  const caller = join(router, { caller: {} });
  callee.session.receive(register(1, "com.example.slow"));
  caller.session.receive(call(1, "com.example.slow", { options: { timeout: 5 } }));
  const deadline = Date.now() + 2000;
  let reply: WampMessage[] = [];
  while (reply.length === 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    reply = caller.peer.take();
  }
  equal((reply[0] as ErrorMessage).error, ErrorUri.TIMEOUT);
  await router.close(CloseUri.SYSTEM_SHUTDOWN, 0);
});

Deno.test("Router serves procedure reflection", () => {
  const { router } = testRouter();
  const callee = join(router, { callee: {}, caller: {} });
  const caller = join(router, { caller: {} });
  callee.session.receive(register(1, "com.example.b"));
  callee.session.receive({
    type: MessageType.REGISTER,
    request: 2,
    options: { match: "prefix" },
    procedure: "com.example.",
  });
  callee.session.receive(
    call(3, "wamp.reflect.define", { args: ["com.example.b", { doc: "Adds." }] }),
  );
  callee.peer.take();
  caller.session.receive(call(1, "wamp.reflection.procedure.list"));
  caller.session.receive(
    call(2, "wamp.reflection.procedure.describe", { args: ["com.example.b"] }),
  );
  caller.session.receive(
    call(3, "wamp.reflection.procedure.describe", { args: ["com.example.z"] }),
  );
  caller.session.receive(call(4, "wamp.reflection.procedure.describe", { args: ["org.x"] }));
  caller.session.receive(call(5, "wamp.reflect.define", { args: ["com.example.b", {}] }));
  const [list, described, prefix, missing, denied] = caller.peer.take() as WampMessage[];
  deepEqual((list as { args: unknown[] }).args, [["com.example.", "com.example.b"]]);
  const kwargs = (described as { kwargs: Dict }).kwargs;
  deepEqual([kwargs.procedure, kwargs.match, kwargs.invoke, kwargs.callees, kwargs.description], [
    "com.example.b",
    "exact",
    "single",
    1,
    { doc: "Adds." },
  ]);
  equal((prefix as { kwargs: Dict }).kwargs.procedure, "com.example.");
  equal((missing as ErrorMessage).error, ErrorUri.NO_SUCH_PROCEDURE);
  equal((denied as ErrorMessage).error, ErrorUri.NO_SUCH_REGISTRATION);
});

Deno.test("a realm with maxSessions refuses the session over the limit with realm_full", () => {
  const router = new Router({ realms: [{ name: "realm1", maxSessions: 1 }], logger: () => {} });
  const first = new FakePeer();
  router.attach(first).receive(hello("realm1"));
  equal(first.sent[0]?.type, MessageType.WELCOME);
  const second = new FakePeer();
  router.attach(second).receive(hello("realm1"));
  const abort = second.sent[0];
  ok(abort?.type === MessageType.ABORT);
  equal(abort.reason, "cloverleaf.error.realm_full");
  equal(second.closeCount, 1);
});

Deno.test("Session.send() under drop: past half the limit EVENTs are dropped, its own RESULTs still go", () => {
  const { router } = testRouter();
  const conn = join(router, ALL_ROLES, { maxBacklog: 10, slowConsumer: "drop" });
  conn.session.receive(subscribe(1, "com.example.topic"));
  conn.session.receive(register(2, "com.example.add"));
  conn.peer.take();
  conn.peer.bytesQueued = 10;
  conn.session.receive(publish(3, "com.example.topic", { options: { exclude_me: false } }));
  conn.session.receive(call(4, "com.example.add"));
  // Past half its limit the callee is busy: the CALL is refused, the EVENT dropped.
  deepEqual(conn.peer.take().map((m) => [m.type, (m as { error?: string }).error]), [
    [MessageType.ERROR, "wamp.error.no_available_callee"],
  ]);
  equal(conn.session.droppedEvents, 1);
  equal(conn.peer.closeCount, 0);
});
