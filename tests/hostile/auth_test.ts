/**
 * Hostile tests, authorization and authentication (issue 15, items 8, 9,
 * 11, 12, and trusted procedures): a role with exact permissions tries
 * patterns, reads other topics' history by subscription ID, registers the
 * authenticator procedure; over real sockets, with a healthy session
 * alongside that must lose nothing.
 */

import { deepEqual, equal, match, notEqual, ok, rejects, throws } from "node:assert/strict";
import {
  ApplicationError,
  connect,
  connectLocal,
  Router,
  type RouterOptions,
  type Session,
} from "../../mod.ts";
import {
  type Dict,
  ErrorUri,
  MessageType,
  type SerializerName,
  type WampMessage,
} from "../../wamp/mod.ts";
import { serializers } from "../../wamp/serializers/mod.ts";
import type net from "node:net";
import { BACKEND, rawWamp, trustedRealm } from "../_helpers/auth.ts";
import type { ConfigError } from "../../config/mod.ts";
import { jsonFrame, rawTcp } from "../_helpers/raw_rawsocket.ts";
import { rawWebSocket } from "../_helpers/raw_websocket.ts";
import { startRouter, type TestRouter, until, within } from "../_helpers/router.ts";

const SERIALIZERS: readonly SerializerName[] = ["json", "msgpack", "cbor"];
const TICKETS = { mallory: "mallory-ticket-4Rt", backend: "backend-ticket-8Qw" };

/** realm1: mallory (role guest) has exact permissions only; backend may do anything. */
function realm(extra: Partial<RouterOptions> = {}): RouterOptions {
  return {
    realms: [{
      name: "realm1",
      auth: {
        ticket: {
          principals: {
            mallory: { ticket: TICKETS.mallory, role: "guest" },
            backend: { ticket: TICKETS.backend, role: "backend" },
          },
        },
      },
      eventHistory: [
        { topic: "com.example.secret", limit: 10 },
        { topic: "com.example.topic", limit: 10 },
        { topic: "com.example.topic", match: "prefix", limit: 10 },
      ],
      roles: [{
        name: "guest",
        permissions: [
          { uri: "com.example.topic", allow: { subscribe: true } },
          { uri: "com.example.frontend.proc", allow: { register: true } },
          { uri: "wamp.subscription.get_events", allow: { call: true } },
        ],
      }, {
        name: "backend",
        permissions: ["com.", "wamp."].map((uri) => ({
          uri,
          match: "prefix" as const,
          allow: { call: true, register: true, publish: true, subscribe: true },
        })),
      }],
    }],
    ...extra,
  };
}

function joinAs(
  t: TestRouter,
  authid: keyof typeof TICKETS,
  serializer: SerializerName,
): Promise<Session> {
  return within(
    connect(t.url, {
      realm: "realm1",
      serializers: [serializer],
      authid,
      ticket: TICKETS[authid],
      timeout: 5000,
    }),
    5000,
    `joining as ${authid}`,
  );
}

function notAuthorized(e: unknown): boolean {
  return e instanceof ApplicationError && e.uri === ErrorUri.NOT_AUTHORIZED;
}

for (const serializer of SERIALIZERS) {
  Deno.test(`[${serializer}] item 8: exact permissions do not allow pattern subscriptions or registrations`, async () => {
    await using t = await startRouter(realm());
    const mallory = await joinAs(t, "mallory", serializer);
    const backend = await joinAs(t, "backend", serializer);
    const leaked: string[] = [];
    const got: string[] = [];
    // The exact requests the role has stay allowed.
    await mallory.subscribe("com.example.topic", (event) => {
      got.push(event.topic);
    });
    await mallory.register("com.example.frontend.proc", () => ({ args: ["frontend"] }));
    // Every pattern reaching further is refused.
    for (const [topic, match] of [["com.example.topic", "prefix"], ["com.example.", "wildcard"]]) {
      await rejects(
        mallory.subscribe(topic!, (event) => void leaked.push(event.topic), {
          match: match as "prefix",
        }),
        notAuthorized,
        `subscribe ${match} ${topic}`,
      );
    }
    await rejects(
      mallory.register("com.example.frontend.proc", () => ({ args: ["captured"] }), {
        match: "prefix",
      }),
      notAuthorized,
    );
    // The healthy backend: its procedure answers its own calls, nothing leaks.
    await backend.register("com.example.frontend.proc_admin", () => ({ args: ["admin"] }));
    for (const topic of ["com.example.topic_private", "com.example.topic.admin.secret"]) {
      await backend.publish(topic, { args: [1] }, { acknowledge: true });
    }
    await backend.publish("com.example.topic", { args: [1] }, { acknowledge: true });
    deepEqual((await backend.call("com.example.frontend.proc_admin")).args, ["admin"]);
    deepEqual((await backend.call("com.example.frontend.proc")).args, ["frontend"]);
    await until(() => got.length === 1, 2000, "the allowed event");
    deepEqual(got, ["com.example.topic"]);
    deepEqual(leaked, []);
    await Promise.all([mallory.close(), backend.close()]);
  });
}

Deno.test("item 9: get_events needs subscribe permission on the subscription's topic; lists apply", async () => {
  await using t = await startRouter(realm());
  const mallory = await joinAs(t, "mallory", "json");
  const backend = await joinAs(t, "backend", "json");
  await backend.publish("com.example.secret", { args: ["top secret"] }, { acknowledge: true });
  await backend.publish("com.example.topic", { args: ["public"] }, { acknowledge: true });
  await backend.publish("com.example.topic", { args: ["not for mallory"] }, {
    acknowledge: true,
    exclude_authid: ["mallory"],
  });
  await backend.publish("com.example.topic", { args: ["backends only"] }, {
    acknowledge: true,
    eligible_authrole: ["backend"],
  });
  // The backend finds the history subscriptions' IDs; mallory could guess them.
  const secret = await backend.subscribe("com.example.secret", () => {});
  const topic = await backend.subscribe("com.example.topic", () => {});
  const read = (who: Session, id: number) =>
    who.call("wamp.subscription.get_events", { args: [id] }).then((r) =>
      r.args.map((e) => (e as { args: unknown[] }).args[0])
    );
  await rejects(read(mallory, secret.id), notAuthorized);
  // The prefix history subscription on the very topic mallory may read exactly.
  const tree = await backend.subscribe("com.example.topic", () => {}, { match: "prefix" });
  await rejects(read(mallory, tree.id), notAuthorized, "the match policy counts");
  equal((await read(backend, tree.id)).length, 3);
  deepEqual(await read(mallory, topic.id), ["public"]);
  deepEqual(await read(backend, topic.id), ["public", "not for mallory", "backends only"]);
  deepEqual(await read(backend, secret.id), ["top secret"]);
  await Promise.all([mallory.close(), backend.close()]);
});

Deno.test("item 9: subscription and registration IDs are not sequential", async () => {
  await using t = await startRouter();
  const session = await within(connect(t.url, { realm: "realm1", timeout: 5000 }));
  const ids: number[] = [];
  for (let i = 0; i < 4; i++) {
    ids.push((await session.subscribe(`com.example.t${i}`, () => {})).id);
    ids.push((await session.register(`com.example.p${i}`, () => ({}))).id);
  }
  equal(new Set(ids).size, ids.length);
  const steps = ids.slice(1).map((id, i) => Math.abs(id - ids[i]!));
  ok(steps.every((step) => step > 1000), `IDs follow each other: ${ids}`);
  await session.close();
});

Deno.test("only the trusted role may register an authenticator or authorizer procedure", async () => {
  await using t = await startRouter({
    realms: [
      {
        name: "realm1",
        anonymous: true,
        auth: { ticket: { authenticator: "com.example.authenticate" } },
      },
      trustedRealm("backend"),
      {
        name: "front",
        auth: { ticket: { authenticator: "com.example.auth2", authenticatorRealm: "backend" } },
      },
    ],
  });
  // realm1 has no roles and offers anonymous access as well as ticket.
  const attacker = await within(connect(t.url, { realm: "realm1", timeout: 5000 }));
  await rejects(attacker.register("com.example.authenticate", () => ({})), notAuthorized);
  await rejects(
    attacker.register("com.example.", () => ({}), { match: "prefix" }),
    notAuthorized,
    "a prefix capturing it",
  );
  await rejects(
    attacker.register("com..authenticate", () => ({}), { match: "wildcard" }),
    notAuthorized,
    "a wildcard capturing it",
  );
  await attacker.register("com.example.other", () => ({ args: [1] }));
  // A realm that names its authenticator in another realm guards it there.
  const trusted = await within(connect(t.url, { realm: "backend", ...BACKEND }));
  await trusted.register("com.example.auth2", () => ({ args: ["user"] }));
  const joined = await within(
    connect(t.url, { realm: "front", authid: "x", ticket: "y", timeout: 5000 }),
  );
  equal(joined.details.authrole, "user");
  await Promise.all([attacker.close(), trusted.close(), joined.close()]);
});

Deno.test("only the trusted role may call an authenticator or authorizer procedure", async () => {
  const principals = { backend: { ticket: "b", role: "trusted" } };
  await using t = await startRouter({
    realms: [
      {
        name: "app",
        anonymous: true,
        anonymousRole: "guest",
        auth: { ticket: { principals } },
        roles: [
          {
            name: "guest",
            permissions: [{ uri: "com.example.", match: "prefix", allow: { call: true } }],
          },
          {
            name: "trusted",
            permissions: [{ uri: "com.", match: "prefix", allow: { call: true, register: true } }],
          },
        ],
      },
      { name: "open", anonymous: true, auth: { ticket: { principals } } }, // no roles
      {
        name: "front",
        auth: { ticket: { authenticator: "com.example.authenticate", authenticatorRealm: "app" } },
        roles: [{ name: "user", authorizer: "com.example.authorize", authorizerRealm: "open" }],
      },
    ],
  });
  const secrets = () => ({ args: [{ secret: "dave's secret", role: "admin" }] });
  const backends = await Promise.all(
    ["app", "open"].map((realm) => within(connect(t.url, { realm, ...BACKEND }))),
  );
  await backends[0]!.register("com.example.authenticate", secrets);
  await backends[0]!.register("com.example.other", () => ({ args: [1] }));
  await backends[1]!.register("com.example.authorize", () => ({ args: [true] }));
  const guest = await within(connect(t.url, { realm: "app", timeout: 5000 }));
  await rejects(
    guest.call("com.example.authenticate", { args: ["front", "dave", {}] }),
    notAuthorized,
  );
  equal((await guest.call("com.example.other")).args[0], 1, "other procedures of the prefix");
  // In a realm without roles as well, and for an authorizer.
  const anonymous = await within(connect(t.url, { realm: "open", timeout: 5000 }));
  await rejects(anonymous.call("com.example.authorize", { args: ["x", "call"] }), notAuthorized);
  // The trusted role may (the router's own calls never ask).
  deepEqual((await backends[0]!.call("com.example.authenticate")).args, secrets().args);
  const user = await within(
    connect(t.url, { realm: "front", authid: "dave", ticket: "x", timeout: 5000 }),
  );
  equal(user.details.authrole, "admin");
  await Promise.all([...backends, guest, anonymous, user].map((s) => s.close()));
});

Deno.test("a realm may not give its anonymous sessions the trusted role", () => {
  for (
    const [options, path] of [
      [{ realms: [{ name: "auth", anonymousRole: "trusted" }] }, "realms[0].anonymousRole"],
      [{
        realms: [{ name: "a" }, {
          name: "b",
          anonymous: true,
          anonymousRole: "backend",
          auth: { ticket: { principals: {} } },
        }],
        trustedRole: "backend",
      }, "realms[1].anonymousRole"],
    ] as [RouterOptions, string][]
  ) {
    throws(() => new Router({ ...options, logger: () => {} }), (error: ConfigError) => {
      equal(error.path, path);
      match(error.message, /anonymous sessions may not get the trusted role/);
      return true;
    });
  }
  const router = new Router({ realms: [], logger: () => {} });
  throws(() => router.addRealm({ name: "late", anonymousRole: "trusted" }), /trusted role/);
  // Credentials may give it, and anonymous sessions any other role.
  new Router({ realms: [trustedRealm(), { name: "x", anonymousRole: "guest" }], logger: () => {} });
});

Deno.test("a procedure trusted by a realm added later is taken from callees without the trusted role", async () => {
  await using t = await startRouter({
    realms: [{
      name: "backend",
      anonymous: true,
      anonymousRole: "guest",
      auth: {
        ticket: { principals: { svc: { ticket: "svc-secret", role: "trusted" } } },
      },
    }],
  });
  const attacker = await within(connect(t.url, { realm: "backend", timeout: 5000 }));
  const revoked: string[] = [];
  const onRevoked = (reason: string) => void revoked.push(reason);
  const exact = await attacker.register("com.example.auth3", () => ({ args: ["admin"] }), {
    onRevoked,
  });
  const prefix = await attacker.register("com.example.", () => ({ args: ["admin"] }), {
    match: "prefix",
    onRevoked,
  });
  await attacker.register("com.example.other", () => ({ args: [1] }));
  t.router.addRealm({
    name: "front",
    auth: { ticket: { authenticator: "com.example.auth3", authenticatorRealm: "backend" } },
  });
  await until(() => revoked.length === 2);
  deepEqual(revoked, [ErrorUri.NOT_AUTHORIZED, ErrorUri.NOT_AUTHORIZED]);
  equal(exact.revoked, ErrorUri.NOT_AUTHORIZED);
  equal(prefix.revoked, ErrorUri.NOT_AUTHORIZED);
  equal((await attacker.call("com.example.other")).args[0], 1, "what captures nothing stays");
  // No login through the attacker's procedure; the trusted one takes it over.
  await rejects(
    within(connect(t.url, { realm: "front", authid: "x", ticket: "y", timeout: 5000 })),
  );
  const svc = await within(
    connect(t.url, { realm: "backend", authid: "svc", ticket: "svc-secret", timeout: 5000 }),
  );
  await svc.register("com.example.auth3", () => ({ args: ["user"] }));
  const joined = await within(
    connect(t.url, { realm: "front", authid: "x", ticket: "y", timeout: 5000 }),
  );
  equal(joined.details.authrole, "user");
  ok(t.logs.some((line) => /loses registration .*com\.example\.auth3 is now trusted/.test(line)));
  await Promise.all([attacker.close(), svc.close(), joined.close()]);
});

Deno.test("a REGISTER a dynamic authorizer still decides is refused once a realm added meanwhile trusts it", async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => release = resolve);
  await using t = await startRouter({
    realms: [{
      name: "backend",
      anonymous: true,
      anonymousRole: "guest",
      roles: [{
        name: "guest",
        authorizer: async (_session, _uri, action) => {
          if (action === "register") await gate; // a slow authorizer
          return true;
        },
      }],
    }],
  });
  const attacker = await within(connect(t.url, { realm: "backend", timeout: 5000 }));
  const pending = attacker.register("com.example.auth4", () => ({ args: ["admin"] }));
  await new Promise((resolve) => setTimeout(resolve, 50)); // the REGISTER waits for its decision
  t.router.addRealm({
    name: "front",
    auth: { ticket: { authenticator: "com.example.auth4", authenticatorRealm: "backend" } },
  });
  release();
  await rejects(pending, notAuthorized);
  await attacker.close();
});

/** The tracking cookie a handshake response sets. */
function setCookie(head: string): string | undefined {
  return head.match(/^set-cookie: cbtid=([A-Za-z0-9_-]+);/im)?.[1];
}

/** Logs in with a ticket over a raw WebSocket presenting `cookie`; returns the cookie set. */
async function ticketLogin(
  url: string,
  authid: string,
  ticket: string,
  cookie?: string,
): Promise<string> {
  const headers: Record<string, string> = cookie === undefined ? {} : { cookie: `cbtid=${cookie}` };
  await using ws = await rawWebSocket(url, ["wamp.2.json"], headers);
  const read = async () => JSON.parse(new TextDecoder().decode((await ws.read()).payload));
  await ws.send(
    JSON.stringify([1, "realm1", { roles: { caller: {} }, authmethods: ["ticket"], authid }]),
  );
  deepEqual(await within(read()), [4, "ticket", {}]);
  await ws.send(JSON.stringify([5, ticket, {}]));
  const welcome = await within(read());
  equal(welcome[0], 2);
  return setCookie(ws.head)!;
}

Deno.test("item 11: a cookie planted before login is never bound to the victim's identity", async () => {
  await using t = await startRouter({
    realms: [{
      name: "realm1",
      auth: {
        ticket: {
          principals: {
            mallory: { ticket: TICKETS.mallory, role: "guest" },
            joe: { ticket: "joe-ticket-1Xs", role: "user" },
          },
        },
        cookie: { maxAge: 60 },
      },
    }],
    listener: { websocket: { cookie: {} } },
  });
  // Mallory logs in and plants her cookie in joe's browser; joe logs in.
  const planted = await ticketLogin(t.url, "mallory", TICKETS.mallory);
  const joes = await ticketLogin(t.url, "joe", "joe-ticket-1Xs", planted);
  notEqual(joes, planted, "joe's connection got a fresh cookie");
  const byCookie = async (cookie: string) => {
    const session = await within(connect(t.url, {
      realm: "realm1",
      authmethods: ["cookie"],
      headers: { cookie: `cbtid=${cookie}` },
      timeout: 5000,
    }));
    const authid = session.details.authid;
    await session.close();
    return authid;
  };
  // Joe's upgrade presented it: mallory's identity moved to joe's fresh value, which joe's
  // login then bound to joe; the planted value, within the renewal's grace (RENEW_GRACE_MS),
  // stands for what it stood for, mallory, and never for joe (after the grace, for no one).
  equal(await byCookie(planted), "mallory", "the planted cookie never stands for joe");
  equal(await byCookie(joes), "joe");
});

Deno.test("item 12c: a CHALLENGE left unanswered ends in ABORT, also when helloTimeout runs out first", async () => {
  // authTimeout keeps its 10 s default; the listener's helloTimeout is shorter.
  await using t = await startRouter({ ...realm(), listener: { attach: { helloTimeout: 200 } } });
  const abort = [3, { message: "authentication failed" }, ErrorUri.AUTHENTICATION_FAILED];
  const hello = [1, "realm1", {
    roles: { caller: {} },
    authmethods: ["ticket"],
    authid: "mallory",
  }];
  // WebSocket.
  await using ws = await rawWamp(t.url);
  await ws.send(hello);
  deepEqual(await ws.next("CHALLENGE"), [4, "ticket", {}]);
  deepEqual(await ws.next("ABORT"), abort);
  equal(await ws.next("the close"), undefined);
  // RawSocket.
  const socket = await rawTcp(t.listener.urls.rawsocket!);
  try {
    const received = rawSocketMessages(socket);
    socket.write(Uint8Array.of(0x7f, 0xf1, 0, 0));
    socket.write(jsonFrame(hello));
    await until(() => received.messages.length >= 2 && received.closed, 3000, "ABORT and close");
    deepEqual(received.messages, [[4, "ticket", {}], abort]);
  } finally {
    socket.destroy();
  }
  ok(t.logs.some((line) => /authentication failed: timed out \(helloTimeout\)/.test(line)));
});

/** Collects the messages of a RawSocket connection (after its handshake reply), JSON by default. */
function rawSocketMessages(
  socket: net.Socket,
  decode: (frame: Uint8Array) => unknown = (f) => JSON.parse(new TextDecoder().decode(f)),
): { messages: unknown[]; closed: boolean; bytes: number[] } {
  const out = { messages: [] as unknown[], closed: false, bytes: [] as number[] };
  let buffer = new Uint8Array(0);
  let greeted = false;
  socket.on("data", (chunk: Uint8Array) => {
    const next = new Uint8Array(buffer.length + chunk.length);
    next.set(buffer);
    next.set(chunk, buffer.length);
    buffer = next;
    if (!greeted && buffer.length >= 4) {
      greeted = true;
      buffer = buffer.subarray(4);
    }
    while (greeted && buffer.length >= 4) {
      const view = new DataView(buffer.buffer, buffer.byteOffset, 4);
      const length = view.getUint32(0) & 0xffffff;
      if (buffer.length < 4 + length) break;
      out.bytes.push(length);
      out.messages.push(decode(buffer.subarray(4, 4 + length)));
      buffer = buffer.subarray(4 + length);
    }
  });
  socket.on("close", () => out.closed = true);
  return out;
}

for (const serializer of SERIALIZERS) {
  Deno.test(`[${serializer}] item 12d: a RawSocket client announcing 512 bytes gets a WELCOME that fits`, async () => {
    await using t = await startRouter();
    const codec = serializers[serializer];
    const socket = await rawTcp(t.listener.urls.rawsocket!);
    try {
      const received = rawSocketMessages(
        socket,
        (frame) => codec.decode(codec.binary ? frame : new TextDecoder().decode(frame)),
      );
      const send = (msg: WampMessage) => {
        const encoded = codec.encode(msg);
        const body = typeof encoded === "string" ? new TextEncoder().encode(encoded) : encoded;
        const frame = new Uint8Array(4 + body.length);
        new DataView(frame.buffer).setUint32(0, body.length);
        frame.set(body, 4);
        socket.write(frame);
      };
      // Length exponent 0: 2^9 = 512 bytes, the smallest a client can announce.
      socket.write(Uint8Array.of(0x7f, codec.rawSocketId, 0, 0));
      send({
        type: MessageType.HELLO,
        realm: "realm1",
        details: { roles: { subscriber: { features: { pattern_based_subscription: true } } } },
      });
      await until(() => received.messages.length >= 1 || received.closed, 3000, "WELCOME");
      const welcome = received.messages[0] as WampMessage | undefined;
      equal(welcome?.type, MessageType.WELCOME, `got ${JSON.stringify(received)}`);
      ok(received.bytes[0]! <= 512, `WELCOME of ${received.bytes[0]} bytes`);
      const details = (welcome as { details: Dict }).details;
      deepEqual(details.roles, {
        broker: { features: { pattern_based_subscription: true } },
        dealer: {},
      });
      equal(details.authrole, "anonymous");
      // The session works.
      send({ type: MessageType.SUBSCRIBE, request: 1, options: {}, topic: "com.example.t" });
      await until(() => received.messages.length >= 2 || received.closed, 3000, "SUBSCRIBED");
      equal((received.messages[1] as WampMessage).type, MessageType.SUBSCRIBED);
    } finally {
      socket.destroy();
    }
  });
}

Deno.test("hostile dynamic authenticator and authorizer: throws, silence, garbage; bystanders unaffected", async () => {
  await using t = await startRouter({
    authTimeout: 300,
    realms: [
      {
        name: "realm1",
        anonymous: true,
        auth: {
          ticket: { authenticator: "com.example.authenticate", authenticatorRealm: "auth" },
        },
        roles: [
          { name: "user", authorizer: "com.example.authorize", authorizerRealm: "auth" },
          {
            name: "anonymous",
            permissions: [{
              uri: "com.example.",
              match: "prefix",
              allow: { subscribe: true, publish: true },
            }],
          },
        ],
      },
      trustedRealm(),
    ],
  });
  const backend = await within(connect(t.url, { realm: "auth", ...BACKEND }));
  const answers: Record<string, () => unknown> = {
    throws: () => {
      throw new ApplicationError("com.example.boom");
    },
    silent: () => new Promise(() => {}),
    number: () => ({ args: [42] }),
    nested: () => ({ args: [{ role: { admin: true } }] }),
    ok: () => ({ args: ["user"] }),
  };
  await backend.register("com.example.authenticate", (args) => {
    const ticket = (args[2] as Dict).ticket as string;
    return (answers[ticket] ?? answers.throws!)() as never;
  });
  await backend.register("com.example.authorize", (args) => {
    const uri = args[1] as string;
    if (uri.endsWith(".throws")) throw new ApplicationError("com.example.boom");
    if (uri.endsWith(".garbage")) return { args: [{ allow: "yes" }] };
    return { args: [uri.endsWith(".ok")] };
  });
  // A healthy anonymous session publishes and receives throughout.
  const bystander = await within(connect(t.url, { realm: "realm1", timeout: 5000 }));
  const seen: unknown[] = [];
  await bystander.subscribe("com.example.tick", (event) => void seen.push(event.args[0]));
  const tick = async (n: number) => {
    await bystander.publish("com.example.tick", { args: [n] }, {
      acknowledge: true,
      exclude_me: false,
    });
  };
  let n = 0;
  for (const ticket of ["throws", "silent", "number", "nested"]) {
    await rejects(
      within(connect(t.url, {
        realm: "realm1",
        authmethods: ["ticket"],
        authid: "x",
        ticket,
        timeout: 5000,
      })),
      (error: Error & { reason?: string }) => error.reason === ErrorUri.AUTHENTICATION_FAILED,
      `ticket answer "${ticket}"`,
    );
    await tick(++n);
  }
  const user = await within(
    connect(t.url, { realm: "realm1", authmethods: ["ticket"], authid: "x", ticket: "ok" }),
  );
  equal(user.details.authrole, "user");
  for (const topic of ["com.example.throws", "com.example.garbage", "com.example.no"]) {
    await rejects(user.subscribe(topic, () => {}), notAuthorized, topic);
    await tick(++n);
  }
  await user.subscribe("com.example.ok", () => {});
  await until(() => seen.length === n, 2000, "every tick");
  deepEqual(seen, Array.from({ length: n }, (_, i) => i + 1));
  await Promise.all([backend.close(), bystander.close(), user.close()]);
});

Deno.test("requests held behind a pending dynamic authorization are bounded in bytes", async () => {
  let release = (_: boolean) => {};
  const pending = new Promise<boolean>((resolve) => release = resolve);
  await using t = await startRouter({
    realms: [{
      name: "realm1",
      anonymousRole: "user",
      roles: [{ name: "user", authorizer: () => pending }],
    }],
  });
  const session = await connectLocal(t.router, "realm1");
  // The first request waits for the authorizer; the ones behind it are held.
  void session.subscribe("com.example.held").catch(() => {});
  const big = "x".repeat(6 * 1024 * 1024);
  for (let i = 0; i < 3; i++) void session.publish("com.example.held", { args: [big] });
  const closed = await within(session.closed, 3000, "abort");
  equal(closed.reason, "wamp.error.protocol_violation");
  ok(
    t.logs.some((l) => l.includes("too many requests awaiting authorization")),
    t.logs.join("\n"),
  );
  release(true);
});

Deno.test("logins waiting on a dynamic authenticator are bounded: past 1000 in flight they fail at once", async () => {
  await using t = await startRouter({
    realms: [
      trustedRealm(),
      {
        name: "realm1",
        auth: { ticket: { authenticator: "com.example.authenticate", authenticatorRealm: "auth" } },
      },
    ],
  });
  const backend = await connectLocal(t.router, "auth", BACKEND);
  let invoked = 0;
  const never = new Promise<never>(() => {});
  await backend.register("com.example.authenticate", () => {
    invoked++;
    return never; // a backend that is stuck
  });
  const joins = Array.from(
    { length: 1001 },
    (_, i) => connectLocal(t.router, "realm1", { authid: `u${i}`, ticket: "x" }),
  );
  // The 1001st is refused at once, without reaching the backend.
  const settled = await within(
    Promise.race(joins.map((join, i) => join.then(() => i, () => i))),
    3000,
    "a refused login",
  );
  equal(settled, 1000);
  await rejects(joins[1000]!, /authentication_failed/);
  equal(invoked, 1000);
  ok(t.logs.some((l) => l.includes("router calls")), t.logs.join("\n"));
  await backend.close(); // the others fail as the backend goes away
  await Promise.allSettled(joins);
});
