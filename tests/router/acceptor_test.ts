import { deepEqual, equal, match, ok } from "node:assert/strict";
import { type Acceptance, acceptHello, type HelloRealm } from "../../router/core/accept_hello.ts";
import { Acceptor, type AcceptorRealm } from "../../router/core/acceptor.ts";
import {
  type ArmTimer,
  type CancelTimer,
  NOTHING,
  type Output,
  type RunTask,
} from "../../router/core/output.ts";
import type { Identity } from "../../router/core/auth/authenticator.ts";
import type { RealmOptions } from "../../router/core/realm_options.ts";
import {
  type AbortMessage,
  type AuthenticateMessage,
  type Dict,
  ErrorUri,
  type HelloMessage,
  MessageType,
  type WampMessage,
  type WelcomeMessage,
} from "../../wamp/mod.ts";
import { acceptorRealm } from "../_helpers/acceptor_realm.ts";

/** A realm's name and authenticators, as the acceptor sees them. */
function realmOf(options: RealmOptions): HelloRealm {
  return acceptorRealm(options);
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
  deepEqual(accepted.roles, roles);
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

// ---- the Acceptor state machine, driven without a clock or sockets ----

/** A router for one realm, with a recording logger and session IDs 100, 101, … */
function acceptorFor(
  options: RealmOptions,
): { acceptor: Acceptor; logs: string[]; realm: AcceptorRealm & { full: boolean } } {
  const realm = { ...acceptorRealm(options), full: false };
  const logs: string[] = [];
  let id = 100;
  const acceptor = new Acceptor({
    realm: (name) => name === realm.name ? realm : undefined,
    sessionId: () => id++,
    agent: "Cloverleaf-test",
    authTimeout: 5000,
    roles: { broker: {}, dealer: {} },
    log: (_level, message) => logs.push(message),
  }, { type: "fake" });
  return { acceptor, logs, realm };
}

/** The output's effects, by kind, as a test reads them. */
function effectsOf(out: Output): {
  arm: ArmTimer | undefined;
  cancel: CancelTimer | undefined;
  task: RunTask | undefined;
} {
  return {
    arm: out.effects.find((e): e is ArmTimer => e.kind === "arm"),
    cancel: out.effects.find((e): e is CancelTimer => e.kind === "cancel"),
    task: out.effects.find((e): e is RunTask => e.kind === "task"),
  };
}

/** What the shell does with a synchronous task: run it, resume with its value. */
function runNow(task: RunTask | undefined): Output {
  ok(task !== undefined, "a task to run");
  try {
    return task.resume({ ok: true, value: task.run() });
  } catch (error) {
    return task.resume({ ok: false, error });
  }
}

function only(out: Output): WampMessage {
  equal(out.messages.length, 1, JSON.stringify(out.messages));
  return out.messages[0]!.msg;
}

const TICKET_REALM: RealmOptions = {
  name: "realm1",
  anonymous: false,
  auth: { ticket: { principals: { joe: { ticket: "s3cret", role: "user" } } } },
};

function ticketHello(authid = "joe"): HelloMessage {
  return hello({ roles: { caller: {} }, authmethods: ["ticket"], authid });
}

function authenticate(signature: string): AuthenticateMessage {
  return { type: MessageType.AUTHENTICATE, signature, extra: {} };
}

Deno.test("Acceptor: anonymous HELLO arms authTimeout, runs the step and WELCOMEs, cancelling the timer", () => {
  const { acceptor } = acceptorFor({ name: "realm1" });
  const started = acceptor.hello(hello({ roles: { caller: {} } }));
  deepEqual(started.messages, []);
  const { arm, task } = effectsOf(started);
  equal(arm?.ms, 5000);
  const welcomed = runNow(task);
  const welcome = only(welcomed) as WelcomeMessage;
  equal(welcome.type, MessageType.WELCOME);
  equal(welcome.session, 100);
  equal(welcomed.messages[0]!.to, 100);
  equal(welcome.details.agent, "Cloverleaf-test");
  deepEqual(welcome.details.roles, { broker: {}, dealer: {} });
  equal(effectsOf(welcomed).cancel?.key, arm?.key);
  const result = acceptor.result;
  ok(result !== undefined && "welcome" in result);
  equal(result.welcome.id, 100);
  equal(result.welcome.authrole, "anonymous");
  deepEqual(result.welcome.roles, { caller: {} });
  // The timer firing late changes nothing.
  deepEqual(arm!.fire(), NOTHING);
});

Deno.test("Acceptor: the session keeps its HELLO's client roles with their claimed features and its short string attributes, nothing else", () => {
  const { acceptor } = acceptorFor({ name: "realm1" });
  const big = Array.from({ length: 100_000 }, (_, i) => i);
  const features: Dict = { call_canceling: true, progressive_call_results: false, junk: big };
  for (let i = 0; i < 200; i++) features[`f${i}`] = true;
  runNow(
    effectsOf(acceptor.hello(hello({
      roles: { caller: { features, extra: big }, broker: { features: { x: true } } },
      agent: "test",
      site: "eu-1",
      long: "x".repeat(2000),
      junk: big,
      nested: { site: "us" },
    }))).task,
  );
  const result = acceptor.result;
  ok(result !== undefined && "welcome" in result);
  deepEqual(result.welcome.hello, { agent: "test", site: "eu-1" });
  const kept = (result.welcome.roles.caller as { features: Dict }).features;
  deepEqual(Object.keys(result.welcome.roles), ["caller"]);
  equal(kept.call_canceling, true);
  equal(Object.keys(kept).length, 64, "at most 64 features per role");
  ok(Object.values(kept).every((value) => value === true));
});

Deno.test("Acceptor: a HELLO that cannot go on is ABORTed at once, with no effects and no session ID", () => {
  const { acceptor } = acceptorFor({ name: "realm1" });
  const out = acceptor.hello(hello({ roles: { caller: {} } }, "realm2"));
  deepEqual(out.effects, []);
  equal(out.messages[0]?.to, 0);
  equal((only(out) as AbortMessage).reason, ErrorUri.NO_SUCH_REALM);
  deepEqual(acceptor.result, { aborted: true });
});

Deno.test("Acceptor: ticket CHALLENGE, then AUTHENTICATE is judged as a task and WELCOMEs", () => {
  const { acceptor } = acceptorFor(TICKET_REALM);
  const started = acceptor.hello(ticketHello());
  const { arm, task } = effectsOf(started);
  ok(arm !== undefined);
  const challenged = runNow(task);
  deepEqual(only(challenged), { type: MessageType.CHALLENGE, authmethod: "ticket", extra: {} });
  deepEqual(challenged.effects, [], "the timer runs on from HELLO");
  equal(acceptor.challenged, true);
  const answered = acceptor.authenticate(authenticate("s3cret"));
  equal(acceptor.challenged, false);
  equal(effectsOf(answered).arm, undefined, "authTimeout is not re-armed");
  const welcomed = runNow(effectsOf(answered).task);
  equal(only(welcomed).type, MessageType.WELCOME);
  equal(effectsOf(welcomed).cancel?.key, arm.key);
  // A second AUTHENTICATE finds no CHALLENGE.
  deepEqual(acceptor.authenticate(authenticate("s3cret")), NOTHING);
});

Deno.test("Acceptor: a wrong ticket ABORTs authentication_failed and logs why", () => {
  const { acceptor, logs } = acceptorFor(TICKET_REALM);
  runNow(effectsOf(acceptor.hello(ticketHello())).task);
  const denied = runNow(effectsOf(acceptor.authenticate(authenticate("guess"))).task);
  const abort = only(denied) as AbortMessage;
  equal(abort.reason, ErrorUri.AUTHENTICATION_FAILED);
  deepEqual(abort.details, { message: "authentication failed" });
  ok(effectsOf(denied).cancel !== undefined);
  deepEqual(logs, ['Session 100: ticket authentication failed: wrong ticket for "joe"']);
  deepEqual(acceptor.result, { aborted: true });
});

Deno.test("Acceptor: firing the authTimeout while the client thinks ABORTs; its late answer is ignored", () => {
  const { acceptor, logs } = acceptorFor(TICKET_REALM);
  const started = acceptor.hello(ticketHello());
  runNow(effectsOf(started).task);
  const expired = effectsOf(started).arm!.fire();
  equal((only(expired) as AbortMessage).reason, ErrorUri.AUTHENTICATION_FAILED);
  match(logs[0]!, /ticket authentication failed: timed out$/);
  deepEqual(acceptor.authenticate(authenticate("s3cret")), NOTHING);
  deepEqual(acceptor.result, { aborted: true });
});

Deno.test("Acceptor: a dynamic authenticator is a task; its answer continues the same handshake", () => {
  const asked: Dict[] = [];
  const { acceptor } = acceptorFor({
    name: "realm1",
    anonymous: false,
    auth: {
      ticket: {
        authenticator: (request) => {
          asked.push({ ...request });
          return { role: "admin" };
        },
      },
    },
  });
  runNow(effectsOf(acceptor.hello(ticketHello())).task);
  // AUTHENTICATE: the method's answer asks the dynamic authenticator…
  const asking = runNow(effectsOf(acceptor.authenticate(authenticate("tkt"))).task);
  deepEqual(asking.messages, []);
  const { arm, task } = effectsOf(asking);
  equal(arm, undefined);
  equal(asked.length, 0, "not asked before the shell runs the task");
  // …and the shell resumes it with the answer, as a promise would.
  ok(task !== undefined);
  const answer = task.run();
  equal(asked.length, 1);
  equal(asked[0]!.ticket, "tkt");
  const welcomed = task.resume({ ok: true, value: answer });
  equal(only(welcomed).type, MessageType.WELCOME);
  const result = acceptor.result;
  ok(result !== undefined && "welcome" in result);
  equal(result.welcome.authrole, "admin");
  equal(result.welcome.authprovider, "dynamic");
});

Deno.test("Acceptor: a step that fails, or answers without a role, denies", () => {
  for (
    const settled of [
      { ok: false as const, error: new Error("backend down") },
      { ok: true as const, value: { authid: "joe" } },
    ]
  ) {
    const { acceptor, logs } = acceptorFor({
      name: "realm1",
      anonymous: false,
      auth: { ticket: { authenticator: () => ({ role: "never" }) } },
    });
    runNow(effectsOf(acceptor.hello(ticketHello())).task);
    const asking = runNow(effectsOf(acceptor.authenticate(authenticate("tkt"))).task);
    const denied = effectsOf(asking).task!.resume(settled);
    equal((only(denied) as AbortMessage).reason, ErrorUri.AUTHENTICATION_FAILED);
    match(logs[0]!, settled.ok ? /no string role/ : /backend down/);
  }
});

Deno.test("Acceptor: a realm that filled up during the handshake ABORTs realm_full", () => {
  const { acceptor, realm } = acceptorFor(TICKET_REALM);
  runNow(effectsOf(acceptor.hello(ticketHello())).task);
  realm.full = true;
  const out = runNow(effectsOf(acceptor.authenticate(authenticate("s3cret"))).task);
  const abort = only(out) as AbortMessage;
  equal(abort.reason, ErrorUri.REALM_FULL);
  deepEqual(abort.details, { message: 'Realm "realm1" is full' });
  deepEqual(acceptor.result, { aborted: true });
});

Deno.test("Acceptor: stop() cancels the timer, and a step settling afterwards is ignored", () => {
  const { acceptor } = acceptorFor(TICKET_REALM);
  const started = acceptor.hello(ticketHello());
  const { arm, task } = effectsOf(started);
  const stopped = acceptor.stop();
  deepEqual(stopped, { messages: [], effects: [{ kind: "cancel", key: arm!.key }] });
  deepEqual(task!.resume({ ok: true, value: task!.run() }), NOTHING);
  deepEqual(arm!.fire(), NOTHING);
  deepEqual(acceptor.stop(), NOTHING);
});
