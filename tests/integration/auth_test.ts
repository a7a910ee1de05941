/**
 * Authentication end to end (spec "Authentication Methods"): our client
 * against our router, once per way of connecting (ws+json, ws+msgpack,
 * ws+cbor, local), for ticket, WAMP-CRA (plain and salted), WAMP-Cryptosign
 * and WAMP-SCRAM (PBKDF2 and Argon2id), with static principals read from
 * JSON text, dynamic authenticators written in TypeScript and procedures
 * registered in another realm. Then the handshake's edges over a raw
 * WebSocket (timeout, a second AUTHENTICATE, a CALL while challenged, what
 * ABORT reveals), and the client's own checks against a scripted router
 * (the WAMP-SCRAM verifier, channel binding, methods it did not offer).
 *
 * Every test checks that the router's log holds none of the credentials.
 */

import type { SerializerName } from "../../wamp/mod.ts";
import { deepEqual, equal, match, ok, rejects } from "node:assert/strict";
import {
  ApplicationError,
  connect,
  connectLocal,
  ErrorUri,
  type JoinOptions,
  type RealmOptions,
  type RouterOptions,
  Session,
  SessionClosedError,
} from "../../mod.ts";
import { CredentialsError } from "../../client/mod.ts";
import { resolveRealmOptions } from "../../router/core/realm_options.ts";
import type { DynamicAuthRequest } from "../../router/mod.ts";
import {
  type Dict,
  MessageType,
  scramDeriveCredentials,
  type WampMessage,
} from "../../wamp/mod.ts";
import { authMessage, serverSignature } from "../../wamp/auth/scram.ts";
import {
  assertNoSecrets,
  BACKEND,
  CREDENTIALS as C,
  DORA_PUBKEY,
  DORA_SEED,
  KDF,
  rawWamp,
  scriptedRouter,
  STATIC_REALM_JSON,
  STRANGER_SEED,
  trustedRealm,
} from "../_helpers/auth.ts";
import { startRouter, type TestRouter, until, type Via, VIAS, within } from "../_helpers/router.ts";

type Credentials = Omit<JoinOptions, "realm">;

/** Registers one test per way of connecting, on a fresh router; checks its log. */
function authTest(
  name: string,
  router: () => RouterOptions,
  fn: (t: TestRouter, via: Via) => Promise<void>,
): void {
  for (const via of VIAS) {
    Deno.test(`[${via}] auth: ${name}`, async () => {
      const t = await startRouter(router());
      try {
        await fn(t, via);
      } finally {
        await t[Symbol.asyncDispose]();
      }
      assertNoSecrets(t.logs);
    });
  }
}

/** The router with realm1 configured from {@linkcode STATIC_REALM_JSON}. */
function staticRouter(): RouterOptions {
  return { realms: [JSON.parse(STATIC_REALM_JSON)] };
}

/** A router whose realm1 has these auth options, plus more realms. */
function routerWith(auth: RealmOptions["auth"], ...realms: RealmOptions[]): () => RouterOptions {
  return () => ({ realms: [{ name: "realm1", ...(auth ? { auth } : {}) }, ...realms] });
}

/** Joins a realm (realm1 by default) of a test router with credentials. */
function joinAs(
  t: TestRouter,
  via: Via,
  credentials: Credentials,
  realm = "realm1",
): Promise<Session> {
  const joined = via === "local"
    ? connectLocal(t.router, realm, { timeout: 5000, ...credentials })
    : connect(t.url, {
      realm,
      serializers: [via as SerializerName],
      timeout: 5000,
      ...credentials,
    });
  return within(joined, 5000, `joining ${realm}`);
}

/** Checks that a join is refused with `reason`, revealing nothing else. */
async function refused(
  joining: Promise<Session>,
  reason: string = ErrorUri.AUTHENTICATION_FAILED,
): Promise<SessionClosedError> {
  let caught: SessionClosedError | undefined;
  await rejects(joining, (e: unknown) => {
    ok(e instanceof SessionClosedError, `expected SessionClosedError, got ${e}`);
    caught = e;
    return true;
  });
  equal(caught!.reason, reason);
  if (reason === ErrorUri.AUTHENTICATION_FAILED) {
    equal(caught!.message, `Session closed: ${reason}: authentication failed`);
  }
  return caught!;
}

/** Checks WELCOME.Details and closes the session. */
async function welcomed(session: Session, identity: Dict): Promise<void> {
  ok(session.isOpen);
  ok(Number.isSafeInteger(session.id) && session.id > 0);
  equal(session.details.realm, session.realm);
  for (const [key, value] of Object.entries(identity)) {
    equal(session.details[key], value, `WELCOME.Details.${key}`);
  }
  await session.close();
}

// ---- static principals from JSON text ----------------------------------------

Deno.test("auth: the JSON realm config resolves, with anonymous off", () => {
  const resolved = resolveRealmOptions(JSON.parse(STATIC_REALM_JSON));
  equal(resolved.anonymous, false);
  deepEqual(Object.keys(resolved.auth).sort(), ["cryptosign", "scram", "ticket", "wampcra"]);
  // The SCRAM passwords are replaced by stored keys at startup.
  const erin = resolved.auth.scram!.users!.erin!;
  ok("storedKey" in erin);
  equal(erin.storedKey, scramDeriveCredentials(C.erinPassword, KDF.erin).storedKey);
  ok(!("password" in erin));
});

authTest("ticket: WELCOME carries the principal", staticRouter, async (t, via) => {
  await welcomed(await joinAs(t, via, { authid: "alice", ticket: C.aliceTicket }), {
    authid: "alice",
    authrole: "user",
    authmethod: "ticket",
    authprovider: "static",
  });
});

authTest("ticket: wrong ticket, unknown or no authid fail alike", staticRouter, async (t, via) => {
  await refused(joinAs(t, via, { authid: "alice", ticket: C.wrong }));
  await refused(joinAs(t, via, { authid: "mallory", ticket: C.aliceTicket }));
  await refused(joinAs(t, via, { ticket: C.aliceTicket }));
});

authTest("wampcra: unsalted secret", staticRouter, async (t, via) => {
  await welcomed(await joinAs(t, via, { authid: "bob", secret: C.bobSecret }), {
    authid: "bob",
    authrole: "crauser",
    authmethod: "wampcra",
    authprovider: "static",
  });
  await refused(joinAs(t, via, { authid: "bob", secret: C.wrong }));
  await refused(joinAs(t, via, { authid: "mallory", secret: C.bobSecret }));
  await refused(joinAs(t, via, { secret: C.bobSecret }));
});

authTest("wampcra: salted, the key derived from the password", staticRouter, async (t, via) => {
  await welcomed(await joinAs(t, via, { authid: "carl", secret: C.carlPassword }), {
    authid: "carl",
    authrole: "salted",
    authmethod: "wampcra",
  });
  await refused(joinAs(t, via, { authid: "carl", secret: C.wrong }));
});

authTest("cryptosign: the key names the principal", staticRouter, async (t, via) => {
  const identity = { authid: "dora", authrole: "device", authmethod: "cryptosign" };
  await welcomed(await joinAs(t, via, { cryptosign: { seed: DORA_SEED } }), identity);
  await welcomed(await joinAs(t, via, { authid: "dora", cryptosign: { seed: DORA_SEED } }), {
    ...identity,
    authprovider: "static",
  });
  await refused(joinAs(t, via, { cryptosign: { seed: STRANGER_SEED } }));
  await refused(joinAs(t, via, { authid: "alice", cryptosign: { seed: DORA_SEED } }));
});

authTest("wamp-scram: pbkdf2", staticRouter, async (t, via) => {
  const session = await joinAs(t, via, { authid: "erin", password: C.erinPassword });
  equal(typeof (session.details.authextra as Dict).verifier, "string");
  await welcomed(session, {
    authid: "erin",
    authrole: "scrammer",
    authmethod: "wamp-scram",
    authprovider: "static",
  });
  await refused(joinAs(t, via, { authid: "erin", password: C.wrong }));
  await refused(joinAs(t, via, { authid: "mallory", password: C.erinPassword }));
  await refused(joinAs(t, via, { password: C.erinPassword }));
});

authTest("wamp-scram: argon2id13, and stored keys", staticRouter, async (t, via) => {
  await welcomed(await joinAs(t, via, { authid: "fred", password: C.fredPassword }), {
    authid: "fred",
    authrole: "argon",
    authmethod: "wamp-scram",
  });
  await refused(joinAs(t, via, { authid: "fred", password: C.wrong }));
  await welcomed(await joinAs(t, via, { authid: "gina", password: C.ginaPassword }), {
    authid: "gina",
    authrole: "stored",
  });
});

authTest("anonymous is refused when auth is configured", staticRouter, async (t, via) => {
  await refused(joinAs(t, via, {}), ErrorUri.NO_AUTH_METHOD);
  await refused(joinAs(t, via, { authmethods: ["anonymous", "cookie"] }), ErrorUri.NO_AUTH_METHOD);
});

authTest("credentials offer their methods in order", staticRouter, async (t, via) => {
  // Offered: wampcra, then ticket; the router takes the first it has.
  await welcomed(
    await joinAs(t, via, { authid: "bob", ticket: C.wrong, secret: C.bobSecret }),
    { authmethod: "wampcra" },
  );
  // The router picks wampcra, which has no credentials here: the client aborts.
  const error = await refused(
    joinAs(t, via, { authid: "bob", authmethods: ["wampcra", "ticket"], ticket: C.wrong }),
    ErrorUri.CANNOT_AUTHENTICATE,
  );
  match(error.message, /"wampcra": no credentials given/);
});

authTest(
  "onChallenge answers a method without built-in credentials",
  staticRouter,
  async (t, via) => {
    const seen: [string, Dict][] = [];
    await welcomed(
      await joinAs(t, via, {
        authid: "alice",
        authmethods: ["ticket"],
        onChallenge: async (method, extra) => {
          seen.push([method, extra]);
          await Promise.resolve();
          return { signature: C.aliceTicket, extra: {} };
        },
      }),
      { authid: "alice", authmethod: "ticket" },
    );
    deepEqual(seen, [["ticket", {}]]);
    const error = await refused(
      joinAs(t, via, {
        authid: "alice",
        authmethods: ["ticket"],
        onChallenge: () => {
          throw new Error("no ticket at hand");
        },
      }),
      ErrorUri.CANNOT_AUTHENTICATE,
    );
    match(error.message, /no ticket at hand/);
  },
);

// ---- dynamic authenticators: TypeScript callbacks ----------------------------

const dynamicRequests: DynamicAuthRequest[] = [];

function dynamicCallbacks(): RouterOptions {
  dynamicRequests.length = 0;
  const erin = { ...KDF.erin, ...scramDeriveCredentials(C.erinPassword, KDF.erin) };
  return routerWith({
    ticket: {
      authenticator: (request) => {
        dynamicRequests.push(request);
        if (request.ticket !== C.aliceTicket) throw new Error("unknown ticket");
        return request.authid === "alice" ? "ticketrole" : { role: "renamed", authid: "alias" };
      },
    },
    wampcra: {
      authenticator: ({ authid }) => {
        if (authid === "broken") return { secret: C.bobSecret }; // no role
        return { role: "crarole", secret: C.bobSecret };
      },
    },
    cryptosign: {
      authenticator: ({ authextra }) => {
        if (authextra.pubkey !== DORA_PUBKEY) throw new Error("unknown key");
        return { role: "device", authid: "dora" };
      },
    },
    scram: {
      authenticator: async ({ authid }) => {
        await Promise.resolve();
        if (authid !== "erin") throw new Error("unknown user");
        return { role: "scrammer", ...erin };
      },
    },
  })();
}

authTest("dynamic callback: ticket, role string or dict", dynamicCallbacks, async (t, via) => {
  await welcomed(await joinAs(t, via, { authid: "alice", ticket: C.aliceTicket }), {
    authid: "alice",
    authrole: "ticketrole",
    authmethod: "ticket",
    authprovider: "dynamic",
  });
  const request = dynamicRequests[0]!;
  equal(request.realm, "realm1");
  equal(request.authid, "alice");
  equal(request.authmethod, "ticket");
  ok(Number.isSafeInteger(request.session));
  equal(request.transport.type, via === "local" ? "local" : "websocket");
  await welcomed(await joinAs(t, via, { authid: "someone", ticket: C.aliceTicket }), {
    authid: "alias",
    authrole: "renamed",
  });
  await refused(joinAs(t, via, { authid: "alice", ticket: C.wrong }));
});

authTest("dynamic callback: wampcra, cryptosign, wamp-scram", dynamicCallbacks, async (t, via) => {
  await welcomed(await joinAs(t, via, { authid: "bob", secret: C.bobSecret }), {
    authrole: "crarole",
    authprovider: "dynamic",
  });
  await refused(joinAs(t, via, { authid: "bob", secret: C.wrong }));
  await refused(joinAs(t, via, { authid: "broken", secret: C.bobSecret }));
  await welcomed(await joinAs(t, via, { cryptosign: { seed: DORA_SEED } }), {
    authid: "dora",
    authrole: "device",
    authprovider: "dynamic",
  });
  await refused(joinAs(t, via, { cryptosign: { seed: STRANGER_SEED } }));
  await welcomed(await joinAs(t, via, { authid: "erin", password: C.erinPassword }), {
    authrole: "scrammer",
    authprovider: "dynamic",
  });
  await refused(joinAs(t, via, { authid: "erin", password: C.wrong }));
  await refused(joinAs(t, via, { authid: "nobody", password: C.erinPassword }));
});

// ---- dynamic authenticators: procedures in another realm ---------------------

const AUTHENTICATE = "com.example.authenticate";

function procedureRouter(): RouterOptions {
  const dynamic = { authenticator: AUTHENTICATE, authenticatorRealm: "auth" };
  return routerWith({ ticket: dynamic, wampcra: dynamic }, trustedRealm())();
}

authTest("dynamic procedure in another realm", procedureRouter, async (t, via) => {
  const calls: unknown[][] = [];
  const backend = await connectLocal(t.router, "auth", BACKEND);
  await backend.register(AUTHENTICATE, (args) => {
    calls.push(args);
    const [realm, authid, details] = args as [string, string | null, Dict];
    if (realm !== "realm1") throw new ApplicationError("com.example.no_such_realm");
    if (details.authmethod === "wampcra") {
      return { args: [{ role: "crarole", secret: C.bobSecret, authid: `${authid}` }] };
    }
    if (details.ticket !== C.aliceTicket) throw new ApplicationError("com.example.denied");
    return { args: ["ticketrole"] };
  });
  await welcomed(await joinAs(t, via, { authid: "alice", ticket: C.aliceTicket }), {
    authid: "alice",
    authrole: "ticketrole",
    authmethod: "ticket",
    authprovider: "dynamic",
  });
  const [realm, authid, details] = calls[0] as [string, string, Dict];
  equal(realm, "realm1");
  equal(authid, "alice");
  equal(details.authmethod, "ticket");
  ok(Number.isSafeInteger(details.session));
  equal(typeof details.transport, "object");
  await refused(joinAs(t, via, { authid: "alice", ticket: C.wrong }));
  await welcomed(await joinAs(t, via, { authid: "bob", secret: C.bobSecret }), {
    authid: "bob",
    authrole: "crarole",
    authmethod: "wampcra",
  });
  await refused(joinAs(t, via, { authid: "bob", secret: C.wrong }));
  await backend.close();
  // No callee any more: the call fails, and so does the join.
  await refused(joinAs(t, via, { authid: "alice", ticket: C.aliceTicket }));
});

// ---- the handshake's edges -----------------------------------------------------

authTest(
  "a client that never answers is aborted after authTimeout",
  () => ({ ...staticRouter(), authTimeout: 200 }),
  async (t, via) => {
    let challenged = false;
    await refused(joinAs(t, via, {
      authid: "alice",
      authmethods: ["ticket"],
      onChallenge: () => {
        challenged = true;
        return new Promise<string>(() => {});
      },
    }));
    ok(challenged);
    ok(t.logs.some((line) => /ticket authentication failed: timed out/.test(line)));
  },
);

/** HELLO over the raw JSON peer. */
function hello(details: Dict): unknown[] {
  return [MessageType.HELLO, "realm1", { roles: { caller: {}, callee: {} }, ...details }];
}

const FAILED = [
  MessageType.ABORT,
  { message: "authentication failed" },
  ErrorUri.AUTHENTICATION_FAILED,
];

Deno.test("auth: a raw client that never answers gets ABORT after authTimeout", async () => {
  await using t = await startRouter({ ...staticRouter(), authTimeout: 200 });
  await using raw = await rawWamp(t.url);
  await raw.send(hello({ authmethods: ["ticket"], authid: "alice" }));
  deepEqual(await raw.next("CHALLENGE"), [MessageType.CHALLENGE, "ticket", {}]);
  deepEqual(await raw.next("ABORT"), FAILED);
  equal(await raw.next("the close"), undefined);
});

Deno.test("auth: a CALL while challenged is a protocol violation", async () => {
  await using t = await startRouter(staticRouter());
  await using raw = await rawWamp(t.url);
  await raw.send(hello({ authmethods: ["ticket"], authid: "alice" }));
  deepEqual(await raw.next("CHALLENGE"), [MessageType.CHALLENGE, "ticket", {}]);
  await raw.send([MessageType.CALL, 1, {}, "com.example.proc"]);
  const abort = await raw.next("ABORT");
  equal(abort?.[0], MessageType.ABORT);
  equal(abort?.[2], ErrorUri.PROTOCOL_VIOLATION);
  equal(await raw.next("the close"), undefined);
});

Deno.test("auth: a second AUTHENTICATE is a protocol violation", async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => release = resolve);
  await using t = await startRouter(
    routerWith({
      ticket: {
        authenticator: async () => {
          await gate;
          return "late";
        },
      },
    })(),
  );
  await using raw = await rawWamp(t.url);
  await raw.send(hello({ authmethods: ["ticket"], authid: "alice" }));
  deepEqual(await raw.next("CHALLENGE"), [MessageType.CHALLENGE, "ticket", {}]);
  await raw.send([MessageType.AUTHENTICATE, C.aliceTicket, {}]);
  await raw.send([MessageType.AUTHENTICATE, C.aliceTicket, {}]);
  const abort = await raw.next("ABORT");
  equal(abort?.[0], MessageType.ABORT);
  equal(abort?.[2], ErrorUri.PROTOCOL_VIOLATION);
  equal(await raw.next("the close"), undefined);
  release(); // the late answer must go nowhere
  await new Promise((resolve) => setTimeout(resolve, 10));
  assertNoSecrets(t.logs);
  ok(!t.logs.some((line) => /joined realm/.test(line)));
});

Deno.test("auth: ABORT reveals nothing about what was wrong", async () => {
  await using t = await startRouter(staticRouter());
  const attempts: [Dict, (challenge: unknown[]) => string][] = [
    [{ authmethods: ["ticket"], authid: "alice" }, () => C.wrong],
    [{ authmethods: ["ticket"], authid: "mallory" }, () => C.aliceTicket],
    [{ authmethods: ["wampcra"], authid: "bob" }, () => "c2lnbmF0dXJl"],
    [{ authmethods: ["wampcra"], authid: "mallory" }, () => "c2lnbmF0dXJl"],
  ];
  for (const [details, answer] of attempts) {
    await using raw = await rawWamp(t.url);
    await raw.send(hello(details));
    const challenge = await raw.next("CHALLENGE");
    equal(challenge?.[0], MessageType.CHALLENGE);
    await raw.send([MessageType.AUTHENTICATE, answer(challenge!), {}]);
    deepEqual(await raw.next("ABORT"), FAILED);
  }
  for (const details of [{ authmethods: ["ticket"] }, { authmethods: ["wamp-scram"] }]) {
    await using raw = await rawWamp(t.url);
    await raw.send(hello(details));
    deepEqual(await raw.next("ABORT"), FAILED);
  }
  assertNoSecrets(t.logs);
});

// ---- the client's own checks, against a scripted router ------------------------

/** Runs a join against a scripted router that plays `script` after HELLO. */
async function scripted(
  credentials: Credentials,
  script: (router: ReturnType<typeof scriptedRouter>, hello: WampMessage) => Promise<void>,
): Promise<Session> {
  const router = scriptedRouter();
  const joining = Session.join(router.client, { realm: "realm1", timeout: 5000, ...credentials });
  joining.catch(() => {}); // observed by the caller
  const hello = await router.next("HELLO");
  await script(router, hello);
  return await joining;
}

const WELCOME_DETAILS = { roles: { broker: {}, dealer: {} }, authmethod: "wamp-scram" };

/** Plays a WAMP-SCRAM router up to WELCOME, with `verifier` as given (or the right one). */
function scramRouter(verifier: (right: string) => string | undefined) {
  return async (router: ReturnType<typeof scriptedRouter>, hello: WampMessage) => {
    if (hello.type !== MessageType.HELLO) throw new Error("expected HELLO");
    const clientNonce = (hello.details.authextra as Dict).nonce as string;
    const nonce = clientNonce + "c2VydmVyLW5vbmNlLTE2Yg==";
    router.send({
      type: MessageType.CHALLENGE,
      authmethod: "wamp-scram",
      extra: { nonce, salt: KDF.erin.salt, kdf: "pbkdf2", iterations: 4096 },
    });
    const authenticate = await router.next("AUTHENTICATE");
    equal(authenticate.type, MessageType.AUTHENTICATE);
    const { serverKey } = scramDeriveCredentials(C.erinPassword, KDF.erin);
    const message = authMessage({
      authid: "erin",
      clientNonce,
      nonce,
      salt: KDF.erin.salt,
      iterations: 4096,
    });
    const value = verifier(serverSignature(serverKey, message));
    router.send({
      type: MessageType.WELCOME,
      session: 1,
      details: { ...WELCOME_DETAILS, authextra: value === undefined ? {} : { verifier: value } },
    });
  };
}

Deno.test("auth: HELLO offers the methods with credentials, in order", async () => {
  let sent: WampMessage | undefined;
  const joining = scripted({
    authid: "x",
    ticket: "t",
    secret: "s",
    password: "p",
    cryptosign: { seed: DORA_SEED },
    authextra: { x_custom: 1 },
  }, (router, hello) => {
    sent = hello;
    router.send({ type: MessageType.ABORT, details: {}, reason: ErrorUri.NO_AUTH_METHOD });
    return Promise.resolve();
  });
  await refused(joining, ErrorUri.NO_AUTH_METHOD);
  ok(sent?.type === MessageType.HELLO);
  deepEqual(sent.details.authmethods, ["cryptosign", "wamp-scram", "wampcra", "ticket"]);
  equal(sent.details.authid, "x");
  const authextra = sent.details.authextra as Dict;
  equal(authextra.pubkey, DORA_PUBKEY);
  equal(authextra.channel_binding, null);
  equal(typeof authextra.nonce, "string");
  equal(authextra.x_custom, 1);

  const anonymous = scripted({}, (router, hello) => {
    sent = hello;
    router.send({ type: MessageType.ABORT, details: {}, reason: "wamp.error.no_such_realm" });
    return Promise.resolve();
  });
  await refused(anonymous, "wamp.error.no_such_realm");
  ok(sent?.type === MessageType.HELLO);
  deepEqual(sent.details.authmethods, ["anonymous"]);
  equal(sent.details.authextra, undefined);
});

Deno.test("auth: wamp-scram needs the router's verifier in WELCOME", async () => {
  const credentials = { authid: "erin", password: C.erinPassword };
  for (const verifier of [(right: string) => right, (right: string) => `v=${right}`]) {
    const router = scriptedRouter();
    const joining = Session.join(router.client, { realm: "realm1", ...credentials });
    await scramRouter(verifier)(router, await router.next("HELLO"));
    const session = await joining;
    ok(session.isOpen);
    const closing = session.close();
    equal((await router.next("GOODBYE")).type, MessageType.GOODBYE);
    router.send({ type: MessageType.GOODBYE, details: {}, reason: "wamp.close.goodbye_and_out" });
    await closing;
  }
  const wrong: [string, () => string | undefined][] = [
    ["missing", () => undefined],
    ["wrong", () => "d3JvbmcgdmVyaWZpZXIgMzJieXRlcyBsb25nLi4uLi4="],
  ];
  for (const [what, verifier] of wrong) {
    const router = scriptedRouter();
    const joining = Session.join(router.client, { realm: "realm1", ...credentials });
    joining.catch(() => {}); // checked below
    await scramRouter(verifier)(router, await router.next("HELLO"));
    await rejects(joining, (e: unknown) => {
      ok(e instanceof SessionClosedError);
      equal(e.reason, ErrorUri.AUTHENTICATION_FAILED);
      equal(
        e.message,
        `Session closed: ${ErrorUri.AUTHENTICATION_FAILED}: the router could not prove ` +
          `it knows the credentials: wamp-scram verifier ${what}`,
      );
      return true;
    });
    const abort = await router.next("ABORT");
    ok(abort.type === MessageType.ABORT);
    equal(abort.reason, ErrorUri.AUTHENTICATION_FAILED);
    await until(() => router.closed, 1000, "the link closed");
  }
});

Deno.test("auth: the client refuses challenges it cannot answer", async () => {
  const cases: [Credentials, WampMessage, RegExp][] = [
    [
      { cryptosign: { seed: DORA_SEED } },
      {
        type: MessageType.CHALLENGE,
        authmethod: "cryptosign",
        extra: { challenge: "00".repeat(32), channel_binding: "tls-unique" },
      },
      /channel binding "tls-unique" was not asked for/,
    ],
    [
      { authid: "alice", secret: "s" },
      { type: MessageType.CHALLENGE, authmethod: "ticket", extra: {} },
      /"ticket": the client did not offer it/,
    ],
    [
      { authid: "bob", secret: "s" },
      { type: MessageType.CHALLENGE, authmethod: "wampcra", extra: {} },
      /the challenge is not a string/,
    ],
    [
      { authid: "erin", password: "p" },
      {
        type: MessageType.CHALLENGE,
        authmethod: "wamp-scram",
        extra: {
          nonce: "bm90LW91ci1ub25jZS4uLi4=",
          salt: KDF.erin.salt,
          kdf: "pbkdf2",
          iterations: 1,
        },
      },
      /nonce/,
    ],
  ];
  for (const [credentials, challenge, why] of cases) {
    const router = scriptedRouter();
    const joining = Session.join(router.client, { realm: "realm1", ...credentials });
    joining.catch(() => {}); // checked below
    await router.next("HELLO");
    router.send(challenge);
    await rejects(joining, (e: SessionClosedError) => {
      equal(e.reason, ErrorUri.CANNOT_AUTHENTICATE);
      match(e.message, why);
      return true;
    });
    const abort = await router.next("ABORT");
    ok(abort.type === MessageType.ABORT);
    equal(abort.reason, ErrorUri.CANNOT_AUTHENTICATE);
    match(String(abort.details.message), why);
  }
});

Deno.test("auth: a malformed cryptosign seed fails before HELLO", async () => {
  const router = scriptedRouter();
  await rejects(
    Session.join(router.client, { realm: "realm1", cryptosign: { seed: "abcd" } }),
    CredentialsError,
  );
  await until(() => router.closed, 1000, "the link closed");
});
