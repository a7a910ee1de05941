/**
 * Authorization: the permission table (most specific URI wins, deny by
 * default), roles in config, dynamic authorizers with their cache, and
 * request order while a dynamic decision is pending.
 */

import { deepEqual, equal, throws } from "node:assert/strict";
import { Authorizer, type Decision, type RoleOptions } from "../../router/authorizer.ts";
import { resolveRealmOptions } from "../../router/config.ts";
import { Router } from "../../router/router.ts";
import type { Session } from "../../router/session.ts";
import {
  type Dict,
  ErrorUri,
  MessageType,
  MetaProcedure,
  sequentialIdGenerator,
  type WampMessage,
} from "../../wamp/mod.ts";
import { FakePeer } from "../_helpers/fake_peer.ts";
import { sessionInfo } from "../_helpers/session_info.ts";

const noCall = () => Promise.reject(new Error("no calls"));

/** Lets pending promise callbacks run. */
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

function decide(roles: RoleOptions[], authrole: string, action: string, uri: string): boolean {
  const authorizer = new Authorizer(roles, noCall);
  const info = { ...sessionInfo(1, ["caller"]), authrole };
  const decision = authorizer.authorize(info, () => ({}), action as "call", uri, {});
  if (decision instanceof Promise) throw new Error("static rules decide at once");
  return decision.allow;
}

Deno.test("Authorizer: the most specific permission decides; anything else is denied", () => {
  const roles: RoleOptions[] = [{
    name: "frontend",
    permissions: [
      { uri: "com.example.", match: "prefix", allow: { call: true, subscribe: true } },
      { uri: "com.example.admin.", match: "prefix", allow: { call: false } },
      { uri: "com.example.admin.status", allow: { call: true } },
      { uri: "com..public", match: "wildcard", allow: { publish: true } },
      { uri: "com.example.x.public", allow: { publish: false } },
    ],
  }];
  const cases: [string, string, string, boolean][] = [
    ["frontend", "call", "com.example.add", true],
    ["frontend", "subscribe", "com.example.news", true],
    ["frontend", "register", "com.example.add", false], // not in allow
    ["frontend", "call", "com.example.admin.kill", false], // longer prefix wins
    ["frontend", "call", "com.example.admin.status", true], // exact wins
    ["frontend", "publish", "com.other.public", true], // wildcard
    ["frontend", "publish", "com.example.x.public", false], // exact beats wildcard
    ["frontend", "publish", "com.example.y.public", false], // prefix beats wildcard
    ["frontend", "call", "org.example.add", false], // no permission at all
    ["backend", "call", "com.example.add", false], // unknown role
  ];
  for (const [role, action, uri, allowed] of cases) {
    equal(decide(roles, role, action, uri), allowed, `${role} ${action} ${uri}`);
  }
  equal(decide([], "anyone", "register", "com.example.add"), true, "no roles: open realm");
});

Deno.test("roles from config: validated, with paths in errors", () => {
  const options = resolveRealmOptions({
    name: "realm1",
    roles: [{
      name: "frontend",
      permissions: [{
        uri: "com.example.",
        match: "prefix",
        allow: { call: true },
        disclose: { caller: true },
      }],
    }, { name: "approver", authorizer: "com.example.authorize" }],
  });
  deepEqual(options.roles[0]?.permissions?.[0]?.allow, {
    call: true,
    register: false,
    publish: false,
    subscribe: false,
  });
  equal(options.roles[1]?.authorizer, "com.example.authorize");
  throws(
    () =>
      resolveRealmOptions({
        name: "realm1",
        roles: [{ name: "x", permissions: [{ uri: "a", allow: { cal: true } }] }],
      }),
    /realm\.roles\[0\]\.permissions\[0\]\.allow\.cal": unknown key/,
  );
  throws(
    () => resolveRealmOptions({ name: "realm1", roles: [{ name: "x", authorizer: 5 }] }),
    /realm\.roles\[0\]\.authorizer/,
  );
});

class Client {
  readonly peer = new FakePeer();
  readonly session: Session;
  #request = 0;

  constructor(router: Router) {
    this.session = router.attach(this.peer);
    this.session.receive({
      type: MessageType.HELLO,
      realm: "realm1",
      details: { roles: { publisher: {}, subscriber: {}, caller: {}, callee: {} } },
    });
    equal(this.peer.take()[0]?.type, MessageType.WELCOME);
  }

  send(make: (request: number) => WampMessage): void {
    this.session.receive(make(++this.#request));
  }

  call(procedure: string, args: unknown[] = []): void {
    this.send((request) => ({ type: MessageType.CALL, request, options: {}, procedure, args }));
  }

  /** ERROR URIs and RESULT/REGISTERED/... type names, in order. */
  replies(): string[] {
    return this.peer.take().map((m: WampMessage) =>
      m.type === MessageType.ERROR ? m.error : String(m.type)
    );
  }
}

Deno.test("denied requests get not_authorized; meta procedures obey the same rules", () => {
  const router = new Router({
    realms: [{
      name: "realm1",
      anonymousRole: "guest",
      roles: [{
        name: "guest",
        permissions: [
          { uri: "com.example.", match: "prefix", allow: { register: true, subscribe: true } },
          { uri: MetaProcedure.SESSION_COUNT, allow: { call: true } },
        ],
      }],
    }],
    logger: () => {},
    idGenerator: sequentialIdGenerator(),
  });
  const a = new Client(router);
  a.send((request) => ({
    type: MessageType.REGISTER,
    request,
    options: {},
    procedure: "com.example.add",
  }));
  a.send((request) => ({
    type: MessageType.REGISTER,
    request,
    options: {},
    procedure: "org.example.add",
  }));
  a.call("com.example.add");
  a.call(MetaProcedure.SESSION_COUNT);
  a.call(MetaProcedure.SESSION_LIST);
  a.send((request) => ({
    type: MessageType.PUBLISH,
    request,
    options: {},
    topic: "com.example.x",
  }));
  a.send((request) => ({
    type: MessageType.PUBLISH,
    request,
    options: { acknowledge: true },
    topic: "com.example.x",
  }));
  deepEqual(a.replies(), [
    String(MessageType.REGISTERED),
    ErrorUri.NOT_AUTHORIZED,
    ErrorUri.NOT_AUTHORIZED,
    String(MessageType.RESULT),
    ErrorUri.NOT_AUTHORIZED,
    ErrorUri.NOT_AUTHORIZED, // only the acknowledged PUBLISH is answered
  ]);
});

Deno.test("a dynamic authorizer: requests keep their order while it decides; cache honoured", async () => {
  const asked: string[] = [];
  const gates: ((d: Decision) => void)[] = [];
  const router = new Router({
    realms: [{
      name: "realm1",
      roles: [{
        name: "anonymous",
        authorizer: (session: Dict, uri: string, action: string) => {
          asked.push(`${session.authrole} ${action} ${uri}`);
          return new Promise<Decision>((resolve) => gates.push(resolve));
        },
      }],
    }],
    logger: () => {},
    idGenerator: sequentialIdGenerator(),
  });
  const a = new Client(router);
  a.call(MetaProcedure.SESSION_COUNT); // waits for the authorizer
  a.call("com.example.nothing"); // held behind it, not yet asked
  deepEqual(asked, [`anonymous call ${MetaProcedure.SESSION_COUNT}`]);
  deepEqual(a.replies(), []);
  gates.shift()!({ allow: true, cache: true });
  await tick();
  deepEqual(asked.length, 2, "the held CALL is now being decided");
  gates.shift()!({ allow: false });
  await tick();
  deepEqual(a.replies(), [String(MessageType.RESULT), ErrorUri.NOT_AUTHORIZED]);
  a.call(MetaProcedure.SESSION_COUNT); // cached: decided at once
  deepEqual(a.replies(), [String(MessageType.RESULT)]);
  equal(asked.length, 2);
});

Deno.test("adding a testament needs permission to publish on its topic", async () => {
  for (const dynamic of [false, true]) {
    const permissions = [
      { uri: MetaProcedure.SESSION_ADD_TESTAMENT, allow: { call: true } },
      { uri: "com.example.will", allow: { publish: true } },
    ];
    const router = new Router({
      realms: [{
        name: "realm1",
        roles: [
          dynamic
            ? {
              name: "anonymous",
              authorizer: (_s: Dict, uri: string, action: string) =>
                Promise.resolve(
                  permissions.some((p) => p.uri === uri && action in p.allow),
                ),
            }
            : { name: "anonymous", permissions },
        ],
      }],
      logger: () => {},
      idGenerator: sequentialIdGenerator(),
    });
    const a = new Client(router);
    a.call(MetaProcedure.SESSION_ADD_TESTAMENT, ["com.example.will", [], {}]);
    a.call(MetaProcedure.SESSION_ADD_TESTAMENT, ["com.example.other", [], {}]);
    await tick();
    deepEqual(
      a.replies(),
      [String(MessageType.RESULT), ErrorUri.NOT_AUTHORIZED],
      `dynamic: ${dynamic}`,
    );
  }
});

Deno.test("a permission's disclose reveals the caller and publisher; a realm that never discloses wins", () => {
  for (const policy of ["request", "never"] as const) {
    const router = new Router({
      realms: [{
        name: "realm1",
        discloseCaller: policy,
        disclosePublisher: policy,
        roles: [{
          name: "anonymous",
          permissions: [{
            uri: "com.example.",
            match: "prefix",
            allow: { call: true, register: true, publish: true, subscribe: true },
            disclose: { caller: true, publisher: true },
          }],
        }],
      }],
      logger: () => {},
      idGenerator: sequentialIdGenerator(),
    });
    const callee = new Client(router);
    const caller = new Client(router);
    callee.send((request) => ({
      type: MessageType.REGISTER,
      request,
      options: {},
      procedure: "com.example.add",
    }));
    callee.send((request) => ({
      type: MessageType.SUBSCRIBE,
      request,
      options: {},
      topic: "com.example.news",
    }));
    callee.peer.take();
    caller.call("com.example.add");
    caller.send((request) => ({
      type: MessageType.PUBLISH,
      request,
      options: {},
      topic: "com.example.news",
    }));
    const [invocation, event] = callee.peer.take();
    const shown = policy === "request" ? caller.session.id : undefined;
    equal(invocation?.type === MessageType.INVOCATION && invocation.details.caller, shown);
    equal(event?.type === MessageType.EVENT && event.details.publisher, shown);
    deepEqual(caller.replies(), [], `${policy}: nothing refused`);
  }
});
