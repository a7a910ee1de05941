import { deepEqual, equal, match, ok } from "node:assert/strict";
import { type Acceptance, acceptHello, type HelloRealm } from "../../router/core/acceptor.ts";
import type { Identity } from "../../router/core/auth/authenticator.ts";
import { realmAuthenticators } from "../../router/core/auth/methods.ts";
import { type RealmOptions, resolveRealmOptions } from "../../router/core/realm_options.ts";
import {
  type AbortMessage,
  type Dict,
  ErrorUri,
  type HelloMessage,
  MessageType,
} from "../../wamp/mod.ts";

/** A realm's name and authenticators, as the acceptor sees them. */
function realmOf(options: RealmOptions): HelloRealm {
  const resolved = resolveRealmOptions(options);
  return {
    name: resolved.name,
    authenticators: realmAuthenticators(resolved, () => Promise.reject(new Error("no calls"))),
  };
}

const REALM = realmOf({ name: "realm1" });

function hello(details: Dict, realm = "realm1"): HelloMessage {
  return { type: MessageType.HELLO, realm, details };
}

function abortOf(accepted: Acceptance): AbortMessage {
  ok("abort" in accepted, `expected ABORT, got ${JSON.stringify(accepted)}`);
  return accepted.abort;
}

/** The identity the chosen method welcomes at once (anonymous). */
function identityOf(accepted: Acceptance): Identity {
  ok("authenticator" in accepted, `expected a method, got ${JSON.stringify(accepted)}`);
  const outcome = accepted.authenticator.hello({
    realm: "realm1",
    authid: undefined,
    authextra: {},
    session: 1,
    transport: { type: "fake" },
  });
  ok(!(outcome instanceof Promise) && "welcome" in outcome, "welcomed at once");
  return outcome.welcome;
}

Deno.test("acceptHello() welcomes an anonymous session with the client's roles", () => {
  const roles = {
    caller: { features: { call_canceling: true } },
    subscriber: {},
  };
  const accepted = acceptHello(hello({ roles, agent: "test" }), REALM);
  ok("roles" in accepted);
  equal(accepted.roles, roles);
  const identity = identityOf(accepted);
  match(identity.authid, /^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/);
  deepEqual({ ...identity, authid: "" }, {
    authid: "",
    authrole: "anonymous",
    authmethod: "anonymous",
    authprovider: "static",
  });
});

Deno.test("acceptHello() draws a new anonymous authid each time", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 50; i++) {
    seen.add(
      identityOf(acceptHello(hello({ roles: { caller: {} } }), REALM)).authid,
    );
  }
  equal(seen.size, 50);
});

Deno.test("acceptHello() uses the realm's anonymousRole", () => {
  const realm = realmOf({ name: "realm1", anonymousRole: "guest" });
  equal(
    identityOf(acceptHello(hello({ roles: { callee: {} } }), realm)).authrole,
    "guest",
  );
});

Deno.test("acceptHello() aborts with no_such_realm when the realm does not exist", () => {
  deepEqual(
    abortOf(acceptHello(hello({ roles: { caller: {} } }, "realm2"), undefined)),
    {
      type: MessageType.ABORT,
      details: { message: 'Realm "realm2" does not exist' },
      reason: ErrorUri.NO_SUCH_REALM,
    },
  );
});

Deno.test("acceptHello() aborts with invalid_uri for a malformed realm", () => {
  const abort = abortOf(
    acceptHello(hello({ roles: { caller: {} } }, "realm..1"), undefined),
  );
  equal(abort.reason, ErrorUri.INVALID_URI);
});

Deno.test("acceptHello() aborts missing, empty or malformed roles as a protocol violation", () => {
  const bad: Dict[] = [
    {},
    { roles: {} },
    { roles: null },
    { roles: [] },
    { roles: "caller" },
    { roles: { broker: {}, dealer: {} } },
    { roles: { caller: true } },
    { roles: { caller: {}, callee: null } },
  ];
  for (const details of bad) {
    const abort = abortOf(acceptHello(hello(details), REALM));
    equal(abort.reason, ErrorUri.PROTOCOL_VIOLATION, JSON.stringify(details));
    equal(typeof abort.details.message, "string");
  }
  // Roles are checked before the realm.
  equal(
    abortOf(acceptHello(hello({}), undefined)).reason,
    ErrorUri.PROTOCOL_VIOLATION,
  );
});

Deno.test("acceptHello() accepts unknown roles next to a client role", () => {
  identityOf(
    acceptHello(hello({ roles: { subscriber: {}, x_custom: {} } }), REALM),
  );
});

Deno.test("acceptHello() aborts with no_auth_method when anonymous is disabled", () => {
  const realm = realmOf({ name: "realm1", anonymous: false });
  for (const authmethods of [undefined, [], ["anonymous"]]) {
    const details: Dict = { roles: { caller: {} } };
    if (authmethods !== undefined) details.authmethods = authmethods;
    const abort = abortOf(acceptHello(hello(details), realm));
    equal(abort.reason, ErrorUri.NO_AUTH_METHOD);
    match(abort.details.message as string, /realm1/);
  }
});

Deno.test("acceptHello() needs anonymous among the offered authmethods", () => {
  const roles = { caller: {} };
  equal(
    abortOf(
      acceptHello(hello({ roles, authmethods: ["ticket", "wampcra"] }), REALM),
    ).reason,
    ErrorUri.NO_AUTH_METHOD,
  );
  for (const authmethods of [[], ["anonymous"], ["ticket", "anonymous"]]) {
    equal(
      identityOf(acceptHello(hello({ roles, authmethods }), REALM)).authmethod,
      "anonymous",
    );
  }
});
