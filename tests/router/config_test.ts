import { deepEqual, equal, rejects, throws } from "node:assert/strict";
import { connectLocal } from "../../client/connect.ts";
import { type RealmOptions, resolveRealmOptions } from "../../router/core/realm_options.ts";
import { Router } from "../../router/router.ts";
import { ConfigError, ConfigErrors } from "../../config/mod.ts";
import { realmOf } from "../../router/router.ts";

const quiet = () => {};

Deno.test("resolveRealmOptions() fills in every default", () => {
  deepEqual(resolveRealmOptions({ name: "realm1" }), {
    name: "realm1",
    anonymous: true,
    anonymousRole: "anonymous",
    strictUris: false,
    strictRequestIds: true,
    discloseCaller: "request",
    disclosePublisher: "request",
    trustLevels: [],
    eventHistory: [],
    meta: { kill: false, modifyDetails: false },
    auth: {},
    roles: [],
    maxSessions: 0,
    limits: {
      callsPerSession: 1000,
      subscriptionsPerSession: 1000,
      subscriptions: 100_000,
      patternSubscriptions: 10_000,
      wildcardComponents: 100_000,
      registrationsPerSession: 1000,
      registrations: 100_000,
      patternRegistrations: 10_000,
      retainedEventBytes: 65536,
      retainedBytes: 16 * 1024 * 1024,
      testamentBytesPerSession: 131072,
      testamentBytes: 16 * 1024 * 1024,
      historyBytes: 1024 * 1024,
      descriptionBytesPerSession: 1024 * 1024,
      descriptionBytes: 16 * 1024 * 1024,
    },
  });
});

Deno.test("resolveRealmOptions() keeps the values it is given", () => {
  const options = {
    name: "com.example.realm",
    anonymous: false,
    anonymousRole: "guest",
    strictUris: true,
    strictRequestIds: false,
    discloseCaller: "always",
    disclosePublisher: "never",
    trustLevels: [{ authrole: "backend", transport: "websocket", trustlevel: 2 }, {
      trustlevel: 0,
    }],
    eventHistory: [
      { topic: "com.example.log", match: "prefix", limit: 10 },
      { topic: "com.example..status", match: "wildcard", limit: 1 },
      { topic: "com.example.exact", match: "exact", limit: 500 },
    ],
    meta: { kill: true, modifyDetails: true },
    auth: {},
    roles: [],
    maxSessions: 25,
    limits: {
      callsPerSession: 1,
      subscriptionsPerSession: 2,
      subscriptions: 3,
      patternSubscriptions: 10,
      wildcardComponents: 12,
      registrationsPerSession: 4,
      registrations: 5,
      patternRegistrations: 11,
      retainedEventBytes: 6,
      retainedBytes: 7,
      testamentBytesPerSession: 8,
      testamentBytes: 9,
      historyBytes: 10,
      descriptionBytesPerSession: 13,
      descriptionBytes: 14,
    },
  };
  deepEqual(resolveRealmOptions(options), options);
});

Deno.test("resolveRealmOptions() names an unknown key by its full path", () => {
  throws(
    () => resolveRealmOptions({ name: "realm1", foo: 1 }, "realms[0]"),
    {
      name: "TypeError",
      message: 'Invalid config "realms[0].foo": unknown key',
    },
  );
  throws(
    () => resolveRealmOptions({ name: "realm1", strict: true }),
    {
      name: "TypeError",
      message: 'Invalid config "realm.strict": unknown key',
    },
  );
});

Deno.test("resolveRealmOptions() refuses values of the wrong type", () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [
      { name: "realm1", anonymous: "yes" },
      /"realms\[0\]\.anonymous": expected a boolean, got "yes"/,
    ],
    [
      { name: "realm1", strictUris: 1 },
      /"realms\[0\]\.strictUris": expected a boolean, got 1/,
    ],
    [
      { name: "realm1", strictRequestIds: null },
      /"realms\[0\]\.strictRequestIds": expected a boolean, got null/,
    ],
    [
      { name: "realm1", anonymousRole: "" },
      /"realms\[0\]\.anonymousRole": expected a non-empty string, got ""/,
    ],
    [
      { name: "realm1", discloseCaller: "yes" },
      /"realms\[0\]\.discloseCaller": expected one of "request", "always", "never", got "yes"/,
    ],
    [
      { name: "realm1", trustLevels: [{ trustlevel: -1 }] },
      /"realms\[0\]\.trustLevels\[0\]\.trustlevel": expected an integer from 0/,
    ],
    [
      { name: "realm1", trustLevels: [{ trustlevel: 1, role: "x" }] },
      /"realms\[0\]\.trustLevels\[0\]\.role": unknown key/,
    ],
    [{ name: 5 }, /"realms\[0\]\.name": expected a non-empty string, got 5/],
    [{}, /"realms\[0\]\.name": expected a non-empty string, got nothing/],
  ];
  for (const [input, message] of cases) {
    throws(() => resolveRealmOptions(input, "realms[0]"), {
      name: "TypeError",
      message,
    });
  }
});

Deno.test("resolveRealmOptions() fills in the limits not given and refuses bad ones by path", () => {
  const limits = resolveRealmOptions({ name: "realm1", limits: { callsPerSession: 10 } }).limits;
  equal(limits.callsPerSession, 10);
  equal(limits.subscriptionsPerSession, 1000);
  const cases: [unknown, RegExp][] = [
    [
      { subscriptionsPerSession: 0 },
      /"realms\[0\]\.limits\.subscriptionsPerSession": expected an integer from 1/,
    ],
    [{ retainedBytes: 1.5 }, /"realms\[0\]\.limits\.retainedBytes": expected an integer from 1/],
    [{ callsPerSession: "10" }, /"realms\[0\]\.limits\.callsPerSession": expected an integer/],
    [{ calls: 10 }, /"realms\[0\]\.limits\.calls": unknown key/],
    [5, /"realms\[0\]\.limits": expected an object, got 5/],
  ];
  for (const [input, message] of cases) {
    throws(() => resolveRealmOptions({ name: "realm1", limits: input }, "realms[0]"), {
      name: "TypeError",
      message,
    });
  }
});

Deno.test("resolveRealmOptions() fills in eventHistory defaults", () => {
  deepEqual(
    resolveRealmOptions({ name: "realm1", eventHistory: [{ topic: "com.example.t" }] })
      .eventHistory,
    [{ topic: "com.example.t", match: "exact", limit: 100 }],
  );
});

Deno.test("resolveRealmOptions() refuses invalid eventHistory rules by path", () => {
  const cases: [unknown, RegExp][] = [
    ["com.example.t", /"realms\[0\]\.eventHistory\[0\]": expected an object/],
    [{}, /"realms\[0\]\.eventHistory\[0\]\.topic": expected a non-empty string, got nothing/],
    [
      { topic: "com.example.t", limit: 0 },
      /"realms\[0\]\.eventHistory\[0\]\.limit": expected an integer from 1/,
    ],
    [
      { topic: "com.example.t", limit: 2.5 },
      /"realms\[0\]\.eventHistory\[0\]\.limit": expected an integer from 1/,
    ],
    [
      { topic: "com.example.t", match: "glob" },
      /"realms\[0\]\.eventHistory\[0\]\.match": expected one of "exact", "prefix", "wildcard", got "glob"/,
    ],
    [
      { topic: "com..t" },
      /"realms\[0\]\.eventHistory\[0\]\.topic": "com\.\.t" is not a valid exact topic/,
    ],
    [
      { topic: "com.example.t", size: 3 },
      /"realms\[0\]\.eventHistory\[0\]\.size": unknown key/,
    ],
  ];
  for (const [rule, message] of cases) {
    throws(() => resolveRealmOptions({ name: "realm1", eventHistory: [rule] }, "realms[0]"), {
      name: "TypeError",
      message,
    });
  }
  throws(() => resolveRealmOptions({ name: "realm1", eventHistory: {} }, "realms[0]"), {
    name: "TypeError",
    message: /"realms\[0\]\.eventHistory": expected an array/,
  });
  // Wildcard patterns may have empty components; strict URIs apply to patterns too.
  resolveRealmOptions({
    name: "realm1",
    eventHistory: [{ topic: "com..t", match: "wildcard" }],
  });
  throws(
    () =>
      resolveRealmOptions({
        name: "realm1",
        strictUris: true,
        eventHistory: [{ topic: "Com.T" }],
      }),
    { name: "TypeError", message: /"realm\.eventHistory\[0\]\.topic": "Com\.T" is not a valid/ },
  );
});

Deno.test("resolveRealmOptions() refuses a realm that is not an object", () => {
  for (const input of [null, undefined, "realm1", ["realm1"], 1]) {
    throws(() => resolveRealmOptions(input), {
      name: "TypeError",
      message: /^Invalid config "realm": expected an object/,
    });
  }
});

Deno.test("resolveRealmOptions() refuses an invalid realm URI", () => {
  for (const name of ["realm..1", "my realm", ".realm1", "realm1."]) {
    throws(() => resolveRealmOptions({ name }, "realms[2]"), {
      name: "TypeError",
      message: `Invalid config "realms[2].name": "${name}" is not a valid URI`,
    });
  }
});

Deno.test("Router names the failing realm by its index", () => {
  throws(
    () =>
      new Router({
        realms: [
          { name: "realm1" },
          { name: "realm2", foo: 1 } as RealmOptions,
        ],
        logger: quiet,
      }),
    {
      name: "TypeError",
      message: 'Invalid config "realms[1].foo": unknown key',
    },
  );
});

Deno.test("Router rejects duplicate realms", () => {
  throws(
    () =>
      new Router({
        realms: [{ name: "realm1" }, { name: "realm1" }],
        logger: quiet,
      }),
    {
      name: "TypeError",
      message: 'Cannot add realm "realm1": realm already exists',
    },
  );
  const router = new Router({ realms: [{ name: "realm1" }], logger: quiet });
  throws(() => router.addRealm({ name: "realm1", strictUris: true }), {
    name: "TypeError",
    message: 'Cannot add realm "realm1": realm already exists',
  });
  // The existing realm is untouched.
  equal(realmOf(router, "realm1")!.options.strictUris, false);
});

Deno.test("Router.addRealm() adds a realm with resolved options", () => {
  const router = new Router({ logger: quiet });
  deepEqual(router.realmNames, []);
  router.addRealm({ name: "realm2", strictUris: true });
  const realm = realmOf(router, "realm2")!;
  equal(realm.name, "realm2");
  equal(realm.options.strictUris, true);
  equal(realm.options.anonymous, true);
  router.addRealm({ name: "realm3" });
  deepEqual(router.realmNames, ["realm2", "realm3"]);
  equal(realmOf(router, "realm4"), undefined);
});

Deno.test("resolveRealmOptions() with a ConfigErrors context records an error in every nested part", () => {
  const errors = new ConfigErrors();
  const input = {
    name: "realm1",
    trustLevels: [{ trustlevel: "high" }, 3],
    eventHistory: [{ topic: "com.example.t", limit: 0 }],
    meta: { kill: "yes" },
    auth: {
      ticket: { principals: { alice: { ticket: "t", role: 7 } } },
      cookie: { maxAge: 0 },
    },
    roles: [{ name: "user", permissions: [{ uri: "com.example", allow: { call: 1 } }] }],
    maxSessions: -1,
    limits: { callsPerSession: 0 },
  };
  const resolved = resolveRealmOptions(input, "realms[0]", { errors });
  deepEqual(errors.messages, [
    'Invalid config "realms[0].trustLevels[0].trustlevel": expected an integer from 0 to 9007199254740991, got "high"',
    'Invalid config "realms[0].trustLevels[1]": expected an object, got 3',
    'Invalid config "realms[0].eventHistory[0].limit": expected an integer from 1 to 9007199254740991, got 0',
    'Invalid config "realms[0].meta.kill": expected a boolean, got "yes"',
    'Invalid config "realms[0].auth.ticket.principals.alice.role": expected a non-empty string, got 7',
    'Invalid config "realms[0].auth.cookie.maxAge": expected an integer from 1 to 9007199254740991, got 0',
    'Invalid config "realms[0].roles[0].permissions[0].allow.call": expected a boolean, got 1',
    'Invalid config "realms[0].maxSessions": expected an integer from 0 to 9007199254740991, got -1',
    'Invalid config "realms[0].limits.callsPerSession": expected an integer from 1 to 9007199254740991, got 0',
  ]);
  deepEqual(
    errors.errors.map((error) => error.path),
    errors.messages.map((message) => /^Invalid config "(.*?)"/.exec(message)?.[1]),
  );
  // Every value falls back to its default, so the result is complete.
  equal(resolved.meta.kill, false);
  equal(resolved.limits.callsPerSession, 1000);
  equal(resolved.auth.cookie?.maxAge, 86_400);
});

Deno.test("resolveRealmOptions() throws a ConfigError whose path names the key", () => {
  throws(
    () =>
      resolveRealmOptions({ name: "realm1", roles: [{ name: "r", authorizer: 5 }] }, "realms[1]"),
    (error: unknown) =>
      error instanceof ConfigError && error.path === "realms[1].roles[0].authorizer" &&
      error.message ===
        'Invalid config "realms[1].roles[0].authorizer": expected a procedure URI or a function',
  );
});

Deno.test('a prefix permission with uri "" grants every URI; a more specific one still decides; "" exact is refused', async () => {
  const all = { call: true, register: true, publish: true, subscribe: true };
  const router = new Router({
    logger: quiet,
    realms: [{
      name: "realm1",
      roles: [{
        name: "anonymous",
        permissions: [
          { uri: "", match: "prefix", allow: all },
          { uri: "com.secret.", match: "prefix", allow: { subscribe: true } },
        ],
      }],
    }],
  });
  const session = await connectLocal(router, "realm1");
  try {
    await session.register("org.any.thing", () => ({ args: ["ok"] }));
    deepEqual((await session.call("org.any.thing")).args, ["ok"]);
    await session.publish("x", {}, { acknowledge: true });
    await session.subscribe("com.", () => {}, { match: "prefix" }); // com.secret. allows subscribe
    // The more specific permission decides: com.secret. allows subscribing only.
    await rejects(session.call("com.secret.p"), /not_authorized/);
    await rejects(session.register("com.", () => ({}), { match: "prefix" }), /not_authorized/);
  } finally {
    await session.close();
    await router.close();
  }
  throws(
    () => resolveRealmOptions({ name: "r", roles: [{ name: "a", permissions: [{ uri: "" }] }] }),
    { message: /permissions\[0\]\.uri": expected a non-empty string, got ""/ },
  );
});
