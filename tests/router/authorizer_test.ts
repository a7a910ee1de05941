/**
 * Authorization: the permission table (most specific URI wins, deny by
 * default), roles in config, dynamic authorizers with their cache, and
 * request order while a dynamic decision is pending.
 */

import { deepEqual, equal, throws } from "node:assert/strict";
import {
  Authorizer,
  type AuthorizerCall,
  type Decision,
  type PendingDecision,
  type RoleOptions,
} from "../../router/core/authorizer.ts";
import { NOTHING } from "../../router/core/output.ts";
import { resolveRealmOptions } from "../../router/core/realm_options.ts";
import { Router } from "../../router/router.ts";
import type { Connection as Session } from "../../router/connection.ts";
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

const noCall: AuthorizerCall = (_realm, _procedure, _args, _kwargs, done) =>
  done({ ok: false, error: new Error("no calls") });

/** A dynamic decision, made by running the task its start() returns. */
async function decided(pending: PendingDecision): Promise<Decision> {
  let decision: Decision | undefined;
  const out = pending.start((d) => {
    decision = d;
    return NOTHING;
  });
  for (const effect of out.effects) {
    if (effect.kind !== "task") continue;
    try {
      effect.resume({ ok: true, value: await effect.run() });
    } catch (error) {
      effect.resume({ ok: false, error });
    }
  }
  return decision!;
}

/** Lets pending promise callbacks run. */
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

function decide(roles: RoleOptions[], authrole: string, action: string, uri: string): boolean {
  const authorizer = new Authorizer(roles, noCall);
  const info = { ...sessionInfo(1, ["caller"]), authrole };
  const decision = authorizer.authorize(info, () => ({}), action as "call", uri, {});
  if (!("allow" in decision)) throw new Error("static rules decide at once");
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

function decidePattern(
  permissions: RoleOptions["permissions"],
  action: "subscribe" | "register",
  uri: string,
  match: "prefix" | "wildcard" | "exact",
): boolean {
  const authorizer = new Authorizer([{ name: "r", permissions: permissions ?? [] }], noCall);
  const info = { ...sessionInfo(1, ["subscriber"]), authrole: "r" };
  const decision = authorizer.authorize(info, () => ({}), action, uri, { match });
  if (!("allow" in decision)) throw new Error("static rules decide at once");
  return decision.allow;
}

Deno.test("Authorizer: a pattern request needs permission for everything it can match", () => {
  const sub = { subscribe: true };
  const reg = { register: true };
  const exactTopic = [{ uri: "com.example.topic", allow: sub }];
  const tree = [{ uri: "com.example.", match: "prefix" as const, allow: sub }];
  const treeWithHole = [
    ...tree,
    { uri: "com.example.topic.admin.secret", allow: { subscribe: false } },
  ];
  const treeWithDeniedBranch = [
    ...tree,
    { uri: "com.example.topic.admin", match: "prefix" as const, allow: { publish: true } },
  ];
  const wild = [{ uri: "com.example..status", match: "wildcard" as const, allow: sub }];
  const wildWithHole = [...wild, { uri: "com.example.db.status", allow: {} }];
  const wildAndDenyingWild = [
    ...wild,
    { uri: "com..db.status", match: "wildcard" as const, allow: {} },
  ];
  const wildAndPrefix = [
    ...wild,
    { uri: "com.example.d", match: "prefix" as const, allow: sub },
  ];
  const wildAndDenyingPrefix = [
    ...wild,
    { uri: "com.example.d", match: "prefix" as const, allow: {} },
  ];
  const everything = [{ uri: "", match: "prefix" as const, allow: sub }];
  type Case = [
    string,
    RoleOptions["permissions"],
    string,
    "prefix" | "wildcard" | "exact",
    boolean,
  ];
  const cases: Case[] = [
    // The issue's case: exact permission, prefix request.
    ["exact perm, exact request", exactTopic, "com.example.topic", "exact", true],
    [
      "exact perm, prefix request (topic_private)",
      exactTopic,
      "com.example.topic",
      "prefix",
      false,
    ],
    [
      "exact perm, wildcard request of the same URI",
      exactTopic,
      "com.example.topic",
      "wildcard",
      true,
    ],
    ["exact perm, wildcard request", exactTopic, "com.example.", "wildcard", false],
    ["exact perm, wildcard request over it", exactTopic, "com..topic", "wildcard", false],
    // Prefix permissions govern prefix requests inside them.
    ["prefix perm, same prefix", tree, "com.example.", "prefix", true],
    ["prefix perm, longer prefix", tree, "com.example.topic", "prefix", true],
    ["prefix perm, shorter prefix", tree, "com.", "prefix", false],
    ["prefix perm, the empty prefix", tree, "", "prefix", false],
    ["prefix perm, a sibling prefix", tree, "com.other", "prefix", false],
    ["empty prefix perm, anything", everything, "org.", "prefix", true],
    ["empty prefix perm, wildcard", everything, "..x", "wildcard", true],
    // A more specific deny inside the request's set denies it.
    ["exact deny inside prefix", treeWithHole, "com.example.topic", "prefix", false],
    ["exact deny inside prefix, other branch", treeWithHole, "com.example.news", "prefix", true],
    [
      "exact deny, prefix request of it",
      treeWithHole,
      "com.example.topic.admin.secret",
      "prefix",
      false,
    ],
    ["exact deny inside wildcard", treeWithHole, "com.example.topic.admin.", "wildcard", false],
    ["exact deny not under wildcard", treeWithHole, "com.example.topic..x", "wildcard", true],
    ["prefix deny inside prefix", treeWithDeniedBranch, "com.example.", "prefix", false],
    [
      "prefix deny inside prefix, string prefix",
      treeWithDeniedBranch,
      "com.example.top",
      "prefix",
      false,
    ],
    ["prefix deny beside prefix", treeWithDeniedBranch, "com.example.news", "prefix", true],
    ["prefix deny governs", treeWithDeniedBranch, "com.example.topic.admin.x", "prefix", false],
    ["prefix deny inside wildcard", treeWithDeniedBranch, "com.example..admin", "wildcard", false],
    [
      "prefix deny partly inside wildcard",
      treeWithDeniedBranch,
      "com.example.topic.",
      "wildcard",
      false,
    ],
    ["prefix deny not under wildcard", treeWithDeniedBranch, "com.example.news.", "wildcard", true],
    // Wildcard permissions cover wildcard requests with the same shape.
    ["wildcard perm, same pattern", wild, "com.example..status", "wildcard", true],
    ["wildcard perm, narrower request", wild, "com.example.db.status", "wildcard", true],
    ["wildcard perm, wider request", wild, "com...status", "wildcard", false],
    ["wildcard perm, longer request", wild, "com.example..status.", "wildcard", false],
    ["wildcard perm, prefix request", wild, "com.example.", "prefix", false],
    ["wildcard perm, exact deny under it", wildWithHole, "com.example..status", "wildcard", false],
    [
      "wildcard perm, denying wildcard overlaps",
      wildAndDenyingWild,
      "com.example..status",
      "wildcard",
      false,
    ],
    [
      "wildcard perm with an allowing prefix",
      wildAndPrefix,
      "com.example..status",
      "wildcard",
      true,
    ],
    [
      "wildcard perm with a denying prefix",
      wildAndDenyingPrefix,
      "com.example..status",
      "wildcard",
      false,
    ],
    ["no permissions", [], "com.", "prefix", false],
  ];
  for (const [name, permissions, uri, match, allowed] of cases) {
    equal(decidePattern(permissions, "subscribe", uri, match), allowed, `subscribe: ${name}`);
    // The same table holds for registrations.
    const asRegister = permissions?.map((p) => ({
      ...p,
      allow: { register: p.allow?.subscribe === true },
    }));
    equal(decidePattern(asRegister, "register", uri, match), allowed, `register: ${name}`);
    equal(decidePattern(permissions, "register", uri, match), false, `no register: ${name}`);
  }
  // The issue's registration case.
  const frontend = [{ uri: "com.example.frontend.proc", allow: reg }];
  equal(decidePattern(frontend, "register", "com.example.frontend.proc", "exact"), true);
  equal(decidePattern(frontend, "register", "com.example.frontend.proc", "prefix"), false);
});

Deno.test("Authorizer: a dynamic authorizer gets match; its cache is per match", async () => {
  const seen: Dict[] = [];
  const authorizer = new Authorizer([{
    name: "r",
    authorizer: (_session, _uri, _action, options) => {
      seen.push(options);
      return { allow: options.match === undefined, cache: true };
    },
  }], noCall);
  const info = { ...sessionInfo(1, ["subscriber"]), authrole: "r" };
  const ask = async (options: Dict) => {
    const decision = authorizer.authorize(
      info,
      () => ({}),
      "subscribe",
      "com.example.topic",
      options,
    );
    return "allow" in decision ? decision : await decided(decision);
  };
  equal((await ask({})).allow, true);
  equal((await ask({})).allow, true, "cached");
  equal((await ask({ match: "prefix" })).allow, false, "not the exact request's cached answer");
  deepEqual(seen, [{}, { match: "prefix" }]);
});

Deno.test("Authorizer: a session's cached dynamic decisions are bounded, the oldest forgotten first", async () => {
  let asked = 0;
  const authorizer = new Authorizer([{
    name: "r",
    authorizer: () => {
      asked++;
      return { allow: true, cache: true };
    },
  }], noCall);
  const info = { ...sessionInfo(1, ["publisher"]), authrole: "r" };
  const ask = async (uri: string) => {
    const decision = authorizer.authorize(info, () => ({}), "publish", uri, {});
    return "allow" in decision ? decision : await decided(decision);
  };
  for (let i = 0; i <= 1024; i++) await ask(`com.example.t${i}`);
  equal(asked, 1025);
  await ask("com.example.t1024");
  equal(asked, 1025, "a recent decision is still cached");
  await ask("com.example.t0");
  equal(asked, 1026, "the oldest was forgotten");
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
    this.session = router.attach(this.peer) as Session;
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

Deno.test("a dynamic authorizer: held requests still count against the byte limit behind the next decision", async () => {
  const gates: ((d: Decision) => void)[] = [];
  const router = new Router({
    realms: [{
      name: "realm1",
      roles: [{
        name: "anonymous",
        authorizer: () => new Promise<Decision>((resolve) => gates.push(resolve)),
      }],
    }],
    logger: () => {},
    idGenerator: sequentialIdGenerator(),
  });
  const a = new Client(router);
  const big = "x".repeat(6 * 1024 * 1024);
  a.call("com.example.first"); // waits for the authorizer
  a.call("com.example.second"); // held; asks the authorizer once released
  a.call("com.example.big", [big]);
  a.call("com.example.big", [big]); // 12 MiB held, under the limit
  equal(a.peer.isClosed, false);
  gates.shift()!({ allow: false });
  await tick();
  equal(gates.length, 1, "the second CALL is being decided, the big ones still held");
  a.call("com.example.big", [big]); // 18 MiB held
  deepEqual(a.peer.take().map((m) => m.type), [MessageType.ERROR, MessageType.ABORT]);
  equal(a.peer.isClosed, true);
  gates.shift()!({ allow: false });
});

Deno.test("a dynamic authorizer: what follows a held GOODBYE is bounded in bytes too", () => {
  const gates: ((d: Decision) => void)[] = [];
  const router = new Router({
    realms: [{
      name: "realm1",
      roles: [{
        name: "anonymous",
        authorizer: () => new Promise<Decision>((resolve) => gates.push(resolve)),
      }],
    }],
    logger: () => {},
    idGenerator: sequentialIdGenerator(),
  });
  const a = new Client(router);
  a.call("com.example.first"); // waits for the authorizer
  a.session.receive({ type: MessageType.GOODBYE, details: {}, reason: "wamp.close.normal" });
  const big = "x".repeat(6 * 1024 * 1024);
  for (let i = 0; i < 2; i++) a.call("com.example.big", [big]);
  equal(a.peer.isClosed, false);
  a.call("com.example.big", [big]); // 18 MiB kept back
  deepEqual(a.peer.take().map((m) => m.type), [MessageType.ABORT]);
  equal(a.peer.isClosed, true);
  gates.shift()!({ allow: false });
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
          }, { uri: MetaProcedure.SESSION_ADD_TESTAMENT, allow: { call: true } }],
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
    // A testament is published as the session would have: disclosed as well.
    caller.call(MetaProcedure.SESSION_ADD_TESTAMENT, ["com.example.news", [], {}]);
    deepEqual(caller.replies(), [String(MessageType.RESULT)]);
    caller.session.closed();
    const [will] = callee.peer.take();
    equal(
      will?.type === MessageType.EVENT && will.details.publisher,
      shown,
      `${policy}: testament`,
    );
  }
});
