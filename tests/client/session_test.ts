/**
 * The client session without a router or a socket: a scripted link plays
 * the router, so each test shows what the session sends and decides.
 */

import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { oversizeAnswer } from "../../client/invocation.ts";
import { ApplicationError, SessionClosedError } from "../../client/errors.ts";
import type { JoinOptions } from "../../client/join.ts";
import { MetaApi, type MetaPeer } from "../../client/meta/mod.ts";
import { Session } from "../../client/session.ts";
import type { Subscription } from "../../client/subscription.ts";
import {
  type Dict,
  ErrorUri,
  type Link,
  MessageTooLargeError,
  MessageType,
  type PeerHandler,
  type TransportInfo,
  type WampMessage,
} from "../../wamp/mod.ts";

/** A link whose far end is the test: it records what is sent and can refuse it. */
class ScriptedLink implements Link {
  readonly info: TransportInfo = { type: "scripted" };
  readonly sent: WampMessage[] = [];
  closed = false;
  /** What {@linkcode ScriptedLink.backlog} reports: bytes the router has not read. */
  bytes = 0;
  /** The size to refuse a message with (as over the router's limit), if any. */
  refuse: (msg: WampMessage) => number | undefined = () => undefined;
  #handler: PeerHandler | undefined;

  bind(handler: PeerHandler): void {
    this.#handler = handler;
  }

  send(msg: WampMessage): void {
    const size = this.refuse(msg);
    if (size !== undefined) throw new MessageTooLargeError(size, 1024);
    this.sent.push(msg);
  }

  backlog(): number {
    return this.bytes;
  }

  queued(): number {
    return 0;
  }

  close(): void {
    this.closed = true;
  }

  /** The router sends `msg`. */
  deliver(msg: WampMessage): void {
    this.#handler!.receive(msg);
  }

  /** The last message sent. */
  last(): WampMessage {
    return this.sent.at(-1)!;
  }
}

const ROUTER_ROLES: Dict = { broker: { features: {} }, dealer: { features: {} } };

/** Joins over a scripted link: the router welcomes at once. */
async function joined(
  options: Partial<JoinOptions> = {},
): Promise<{ link: ScriptedLink; session: Session }> {
  const link = new ScriptedLink();
  const joining = Session.join(link, { realm: "realm1", ...options });
  equal(link.last().type, MessageType.HELLO);
  link.deliver({ type: MessageType.WELCOME, session: 7, details: { roles: ROUTER_ROLES } });
  return { link, session: await joining };
}

Deno.test("Session.join() opens with HELLO: realm, roles, agent, authmethods", async () => {
  const { link, session } = await joined();
  const hello = link.sent[0]!;
  if (hello.type !== MessageType.HELLO) throw new Error("not a HELLO");
  equal(hello.realm, "realm1");
  deepEqual(Object.keys(hello.details.roles as Dict).sort(), [
    "callee",
    "caller",
    "publisher",
    "subscriber",
  ]);
  ok(/^Cloverleaf-\d/.test(hello.details.agent as string));
  deepEqual(hello.details.authmethods, ["anonymous"]);
  equal(session.id, 7);
  equal(session.realm, "realm1");
});

Deno.test("Session answers a YIELD the link refuses as too large with ERROR payload_size_exceeded", async () => {
  const { link, session } = await joined();
  link.refuse = (msg) => msg.type === MessageType.YIELD ? 4096 : undefined;
  const registering = session.register("com.example.big", () => ({ args: ["x".repeat(4096)] }));
  link.deliver({ type: MessageType.REGISTERED, request: 1, registration: 5 });
  await registering;
  link.deliver({
    type: MessageType.INVOCATION,
    request: 9,
    registration: 5,
    details: {},
    args: [],
  });
  await new Promise((resolve) => setTimeout(resolve, 0));
  const error = link.last();
  if (error.type !== MessageType.ERROR) throw new Error("not an ERROR");
  deepEqual(
    [error.requestType, error.request, error.error, error.args],
    [
      MessageType.INVOCATION,
      9,
      ErrorUri.PAYLOAD_SIZE_EXCEEDED,
      ["YIELD of 4096 bytes is over the router's limit"],
    ],
  );
  ok(session.isOpen);
  ok(!link.closed);
});

Deno.test("Session ends with payload_size_exceeded when the link refuses a CALL as too large", async () => {
  const { link, session } = await joined();
  link.refuse = (msg) => msg.type === MessageType.CALL ? 2048 : undefined;
  await rejects(
    session.call("com.example.echo", { args: ["x".repeat(2048)] }),
    (e) =>
      e instanceof SessionClosedError && e.reason === ErrorUri.PAYLOAD_SIZE_EXCEEDED &&
      /CALL of 2048 bytes is over the router's limit/.test(e.message),
  );
  equal((await session.closed).reason, ErrorUri.PAYLOAD_SIZE_EXCEEDED);
  ok(link.closed);
  // Nothing went out for the refused CALL, and no ABORT was invented.
  deepEqual(link.sent.map((m) => m.type), [MessageType.HELLO]);
});

Deno.test("Session aborts with protocol_violation on a message no role expects", async () => {
  const { link, session } = await joined();
  link.deliver({ type: MessageType.HELLO, realm: "realm1", details: {} });
  const abort = link.last();
  if (abort.type !== MessageType.ABORT) throw new Error("not an ABORT");
  equal(abort.reason, ErrorUri.PROTOCOL_VIOLATION);
  equal((await session.closed).reason, ErrorUri.PROTOCOL_VIOLATION);
});

Deno.test("Session still ends with its own reason when the link refuses its ABORT as too large", async () => {
  const { link, session } = await joined();
  link.refuse = (msg) => msg.type === MessageType.ABORT ? 600 : undefined;
  link.deliver({ type: MessageType.HELLO, realm: "realm1", details: {} });
  equal((await session.closed).reason, ErrorUri.PROTOCOL_VIOLATION);
  ok(link.closed);
});

Deno.test("Session settles each reply by its request ID, in whatever order they come", async () => {
  const { link, session } = await joined();
  const first = session.publish("com.example.a", {}, { acknowledge: true });
  const second = session.publish("com.example.b", {}, { acknowledge: true });
  const ids = link.sent.slice(1).map((m) => (m as { request: number }).request);
  deepEqual(ids, [1, 2]);
  link.deliver({ type: MessageType.PUBLISHED, request: 2, publication: 20 });
  link.deliver({ type: MessageType.PUBLISHED, request: 1, publication: 10 });
  deepEqual([await first, await second], [10, 20]);
});

Deno.test("Session aborts with protocol_violation on a reply of the wrong type for its request", async () => {
  for (
    const reply of [
      { type: MessageType.SUBSCRIBED, request: 1, subscription: 3 },
      {
        type: MessageType.ERROR,
        requestType: MessageType.SUBSCRIBE,
        request: 1,
        details: {},
        error: "com.example.error",
      },
    ] as const
  ) {
    const { link, session } = await joined();
    const publishing = session.publish("com.example.a", {}, { acknowledge: true });
    link.deliver(reply);
    await rejects(publishing, (e) => e instanceof SessionClosedError);
    equal((await session.closed).reason, ErrorUri.PROTOCOL_VIOLATION);
  }
});

Deno.test("Session ends a subscription the router revokes, with its reason", async () => {
  const { link, session } = await joined();
  const subscribing = session.subscribe("com.example.topic", () => {});
  link.deliver({ type: MessageType.SUBSCRIBED, request: 1, subscription: 3 });
  const sub = await subscribing;
  link.deliver({
    type: MessageType.UNSUBSCRIBED,
    request: 0,
    details: { subscription: 3, reason: "wamp.subscription.revoked" },
  });
  ok(sub.done);
  equal(sub.revoked, "wamp.subscription.revoked");
});

Deno.test("oversizeAnswer() replaces only a callee's answer: YIELD, or ERROR for an INVOCATION", () => {
  const yieldMsg: WampMessage = { type: MessageType.YIELD, request: 4, options: {} };
  equal(oversizeAnswer(yieldMsg, "why")?.request, 4);
  const invocationError: WampMessage = {
    type: MessageType.ERROR,
    requestType: MessageType.INVOCATION,
    request: 5,
    details: {},
    error: "com.example.error",
  };
  equal(oversizeAnswer(invocationError, "why")?.error, ErrorUri.PAYLOAD_SIZE_EXCEEDED);
  const call: WampMessage = { type: MessageType.CALL, request: 6, options: {}, procedure: "p" };
  equal(oversizeAnswer(call, "why"), undefined);
});

Deno.test("MetaApi works over any object with call() and subscribe()", async () => {
  const calls: unknown[] = [];
  const peer: MetaPeer = {
    call(procedure, payload) {
      calls.push([procedure, payload?.args]);
      return Promise.resolve({ args: [3], kwargs: {}, details: {} });
    },
    subscribe(): Promise<Subscription> {
      return Promise.reject(new Error("not used"));
    },
  };
  equal(await new MetaApi(peer).sessions.count(), 3);
  deepEqual(calls, [["wamp.session.count", []]]);
});

Deno.test("past maxSendBacklog the application's requests are refused, and nothing goes out for them", async () => {
  const { link, session } = await joined({ maxSendBacklog: 1000 });
  link.bytes = 1000;
  const refused = (e: unknown) =>
    e instanceof ApplicationError && e.uri === ErrorUri.LIMIT_EXCEEDED &&
    /1000 bytes wait to be sent: the router is not reading \(maxSendBacklog 1000\)/.test(
      String(e.args[0]),
    );
  await rejects(session.publish("com.example.t", { args: [1] }), refused);
  await rejects(session.publish("com.example.t", {}, { acknowledge: true }), refused);
  await rejects(session.call("com.example.echo"), refused);
  await rejects(session.subscribe("com.example.t", () => {}), refused);
  await rejects(session.register("com.example.echo", () => {}), refused);
  deepEqual(link.sent.map((m) => m.type), [MessageType.HELLO]);
  ok(session.isOpen, "the session goes on");
  link.bytes = 999;
  await session.publish("com.example.t", { args: [2] });
  equal(link.last().type, MessageType.PUBLISH);
});

Deno.test("past maxSendBacklog an answer to an INVOCATION ends the session: the router is not reading", async () => {
  const { link, session } = await joined({ maxSendBacklog: 1000 });
  const registering = session.register("com.example.echo", (args) => ({ args }));
  link.deliver({ type: MessageType.REGISTERED, request: 1, registration: 5 });
  await registering;
  const invoke = (request: number) =>
    link.deliver({ type: MessageType.INVOCATION, request, registration: 5, details: {}, args: [] });
  invoke(1);
  await new Promise((resolve) => setTimeout(resolve, 0));
  equal(link.last().type, MessageType.YIELD);
  link.bytes = 5000;
  invoke(2);
  const closed = await session.closed;
  equal(closed.reason, ErrorUri.LIMIT_EXCEEDED);
  equal(closed.by, "client");
  ok(link.closed);
  equal(link.sent.filter((m) => m.type === MessageType.YIELD).length, 1, "no YIELD for the second");
});
