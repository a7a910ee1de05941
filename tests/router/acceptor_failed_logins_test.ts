/**
 * The acceptor with the failed-logins tracker (`RouterOptions.failedLogins`),
 * driven without sockets or a clock: each step of a login holds a place of
 * its source while it runs, so a dynamic authenticator never has more than
 * `perSource` guesses from one source to check at once, whatever the
 * number of connections; a place is freed when the step is over (the login
 * challenged or welcomed, the connection gone) and taken by a failure when
 * the login fails, unless nothing judged the credential (the router could
 * not ask its authenticator, or timed out waiting for it). A step holding a
 * place carries the limit past which the shell stops waiting for it.
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import { Acceptor } from "../../router/core/acceptor.ts";
import { acceptHello } from "../../router/core/accept_hello.ts";
import {
  AuthenticationFailures,
  REFUSED_MESSAGE,
} from "../../router/core/auth/authentication_failures.ts";
import { CallError } from "../../router/core/errors.ts";
import { ROUTER_CALL_TIMEOUT } from "../../router/core/internal_session.ts";
import type { Output, RunTask } from "../../router/core/output.ts";
import type { RealmOptions } from "../../router/core/realm_options.ts";
import { type AbortMessage, ErrorUri, MessageType } from "../../wamp/mod.ts";
import { acceptorRealm } from "../_helpers/acceptor_realm.ts";

const PEER = "tcp4:192.0.2.1:40000";
const OTHER = "tcp4:192.0.2.2:40000";

/** `dyn`: tickets judged by a dynamic authenticator; `asked` counts its questions. */
function routerFor(perSource: number, anonymous = false) {
  const asked: unknown[] = [];
  const options: RealmOptions = {
    name: "dyn",
    anonymous,
    auth: {
      ticket: {
        authenticator: (request) => {
          asked.push(request.ticket);
          return "user";
        },
      },
    },
  };
  const realm = acceptorRealm(options);
  const clock = { now: 0 };
  const failures = new AuthenticationFailures({ perSource, window: 1000 }, {
    now: () => clock.now,
  });
  let id = 100;
  const events: unknown[] = [];
  const host = {
    realm: (name: string) => name === realm.name ? realm : undefined,
    sessionId: () => id++,
    agent: "Cloverleaf-test",
    authTimeout: 5000,
    roles: { broker: {}, dealer: {} },
    log: (_level: string, _message: string, fields?: { event?: unknown }) => {
      events.push(fields?.event);
    },
    failedLogins: failures,
  };
  const acceptor = (peer: string | undefined = PEER) =>
    new Acceptor(host, { type: "websocket", ...(peer === undefined ? {} : { peer }) });
  return { asked, failures, clock, acceptor, host, events };
}

function taskOf(out: Output): RunTask | undefined {
  return out.effects.find((e): e is RunTask => e.kind === "task");
}

/** Runs a synchronous step, as the shell does (none: the output is a refusal). */
function runNow(out: Output): Output {
  const task = taskOf(out);
  return task === undefined ? out : task.resume({ ok: true, value: task.run() });
}

function abortOf(out: Output): AbortMessage | undefined {
  const msg = out.messages[0]?.msg;
  return msg?.type === MessageType.ABORT ? msg : undefined;
}

/**
 * A login up to its dynamic authenticator's question: HELLO, CHALLENGE,
 * AUTHENTICATE; the output then holds the question as a task not run yet
 * (the authenticator answers later), or an ABORT.
 */
function asking(acceptor: Acceptor, ticket: string): Output {
  const hello = { roles: { caller: {} }, authmethods: ["ticket"], authid: "alice" };
  const challenged = runNow(
    acceptor.hello({ type: MessageType.HELLO, realm: "dyn", details: hello }),
  );
  if (abortOf(challenged) !== undefined) return challenged;
  equal(challenged.messages[0]?.msg.type, MessageType.CHALLENGE);
  return runNow(
    acceptor.authenticate({ type: MessageType.AUTHENTICATE, signature: ticket, extra: {} }),
  );
}

const WRONG = { ok: false, error: new Error("wrong ticket") } as const;

Deno.test("Acceptor with failedLogins: 10 guesses from one address at once, perSource 3: 3 are checked, 7 refused; the 3 failures then refuse the address", () => {
  // Without places, all 10 were checked (each began before any had failed), and again
  // each time the window slid open: the limit was the number of connections.
  const { asked, acceptor } = routerFor(3);
  const outs = Array.from({ length: 10 }, (_, i) => asking(acceptor(), `guess-${i}`));
  const questions = outs.map(taskOf).filter((task) => task !== undefined);
  equal(questions.length, 3);
  const refused = outs.map(abortOf).filter((abort) => abort !== undefined);
  equal(refused.length, 7);
  for (const abort of refused) equal(abort.reason, ErrorUri.AUTHENTICATION_FAILED);
  for (const question of questions) question.run();
  equal(asked.length, 3);
  for (const question of questions) {
    deepEqual(abortOf(question.resume(WRONG))?.details, { message: "authentication failed" });
  }
  // The 3 failures fill the places: refused at HELLO, even with the right ticket.
  deepEqual(abortOf(asking(acceptor(), "right"))?.details, { message: REFUSED_MESSAGE });
  equal(taskOf(asking(acceptor(OTHER), "right")) !== undefined, true, "another address");
});

Deno.test("Acceptor with failedLogins: a place is freed when the login is welcomed or challenged, not when its connection closes: the step holds it until its answer, which counts when it denies", () => {
  // A client hanging up freed the place at once while the authenticator went on: 6 clients
  // hanging up 5 ms after AUTHENTICATE had 649 tickets checked in 2 s (76 at once), none counted.
  const { acceptor, failures } = routerFor(2);
  const first = acceptor(), second = acceptor();
  const one = taskOf(asking(first, "a")), two = taskOf(asking(second, "b"));
  ok(one !== undefined && two !== undefined);
  equal(failures.refuses("ticket", PEER), true, "2 being checked");
  equal(abortOf(asking(acceptor(), "c"))?.reason, ErrorUri.AUTHENTICATION_FAILED);
  equal(one.resume({ ok: true, value: one.run() }).messages[0]?.msg.type, MessageType.WELCOME);
  equal(failures.refuses("ticket", PEER), false, "the welcomed login's place is free");
  const three = taskOf(asking(acceptor(), "d"));
  ok(three !== undefined);
  second.stop(); // its connection closed while its ticket was being checked
  equal(failures.refuses("ticket", PEER), true, "its place is held while it is being checked");
  equal(failures.checks, 2);
  deepEqual(two.resume(WRONG), { messages: [], effects: [] }, "its late answer sends nothing");
  equal(failures.checks, 1);
  equal(failures.size, 1, "its late denial counts");
  equal(abortOf(three.resume(WRONG))?.reason, ErrorUri.AUTHENTICATION_FAILED);
  deepEqual(abortOf(asking(acceptor(), "e"))?.details, { message: REFUSED_MESSAGE });
  // A late answer that is no denial frees the place without counting.
  const other = routerFor(1), gone = other.acceptor();
  const late = taskOf(asking(gone, "f"));
  ok(late !== undefined);
  gone.stop();
  equal(other.failures.refuses("ticket", PEER), true);
  late.resume({ ok: true, value: late.run() });
  equal(other.failures.refuses("ticket", PEER), false);
  equal(other.failures.size, 0);
});

Deno.test("Acceptor with failedLogins: only a denial that judged the credential counts, not the router's own call errors", () => {
  // Each counted before: an authenticator procedure not registered (its backend restarting), or
  // 1000 router calls in flight, locked out clients with the right ticket for the window.
  const { acceptor, failures } = routerFor(1);
  // Each arises from a real router call (some in tests/hostile/failed_logins_unanswered_test.ts).
  const unanswered = [
    ErrorUri.NO_SUCH_PROCEDURE, // not registered (its backend restarting)
    ErrorUri.NO_AVAILABLE_CALLEE, // its callee not reading
    ErrorUri.LIMIT_EXCEEDED, // the realm's 1000 router calls in flight
    ErrorUri.CANCELED, // the handshake ended, holding no place; the cluster's table failed
    ErrorUri.TIMEOUT, // the router call's own 10 s
    ErrorUri.NO_SUCH_REALM, // its authenticator realm
    ErrorUri.CLUSTER_UNAVAILABLE, // the call or its answer could not cross NATS
    ErrorUri.FEATURE_NOT_SUPPORTED, // an answer in payload passthru
    ErrorUri.PAYLOAD_SIZE_EXCEEDED, // an INVOCATION over its callee's limit
  ];
  for (const uri of unanswered) {
    const question = taskOf(asking(acceptor(), "right"));
    ok(question !== undefined, uri);
    const denied = question.resume({ ok: false, error: new CallError(uri) });
    equal(abortOf(denied)?.reason, ErrorUri.AUTHENTICATION_FAILED, uri);
  }
  equal(failures.size, 0);
  equal(failures.refuses("ticket", PEER), false);
  // The authenticator's own ERROR judged the ticket: it counts.
  const question = taskOf(asking(acceptor(), "wrong"));
  ok(question !== undefined);
  question.resume({ ok: false, error: new CallError("com.example.wrong_ticket") });
  equal(failures.refuses("ticket", PEER), true);
});

Deno.test("Acceptor with failedLogins: at authTimeout while the authenticator is asked, the login ends but its step keeps its place until the answer, which counts when it denies", () => {
  // It was freed, nothing counted: an authenticator answering wrong guesses after authTimeout
  // (a tarpit) let one address have perSource guesses checked per authTimeout (45 in 15 s with
  // perSource 3 / 60 s), and a right one, answered at once, told it apart.
  const { acceptor, failures } = routerFor(1);
  const slow = acceptor();
  const question = taskOf(asking(slow, "wrong"));
  ok(question !== undefined);
  const expired = slow.expire("timed out");
  equal(abortOf(expired)?.reason, ErrorUri.AUTHENTICATION_FAILED);
  equal(expired.effects.length, 1, "the timer's cancel: the question is not cancelled");
  equal(failures.refuses("ticket", PEER), true, "its place is held");
  equal(failures.size, 0, "nothing counted yet");
  deepEqual(question.resume(WRONG), { messages: [], effects: [] });
  equal(failures.size, 1, "the late denial counts");
  deepEqual(abortOf(asking(acceptor(), "right"))?.details, { message: REFUSED_MESSAGE });
  // The router call's own timeout (the authenticator never answered) frees it, uncounted.
  const other = routerFor(1), waiting = other.acceptor();
  const unanswered = taskOf(asking(waiting, "right"));
  ok(unanswered !== undefined);
  waiting.expire("timed out");
  equal(other.failures.refuses("ticket", PEER), true);
  unanswered.resume({ ok: false, error: new CallError(ErrorUri.TIMEOUT) });
  equal(other.failures.refuses("ticket", PEER), false);
  equal(other.failures.size, 0);
});

Deno.test("Acceptor with failedLogins: a step holding a place is waited for no longer than a router call (10 s) or authTimeout when longer; resumed with the shell's timeout, its place is freed uncounted", () => {
  // A TypeScript authenticator that never settled held its place for good: with perSource 3,
  // three hung logins (for an authid the client chose) refused the address until a restart.
  const { acceptor, failures, host, events } = routerFor(1);
  const limitOf = (out: Output) => taskOf(out)?.limit;
  const hung = acceptor();
  const question = taskOf(asking(hung, "right"));
  equal(question?.limit, ROUTER_CALL_TIMEOUT, "authTimeout 5 s is shorter");
  hung.stop(); // the client hung up
  equal(failures.refuses("ticket", PEER), true, "its place is held");
  // What OutputRunner.settle resumes a task with past its limit (tests/router/output_runner_test.ts).
  const late = new CallError(ErrorUri.TIMEOUT, "not settled within 10000 ms");
  deepEqual(question!.resume({ ok: false, error: late }), { messages: [], effects: [] });
  equal(failures.refuses("ticket", PEER), false, "its place is free");
  equal(failures.size, 0, "nothing counted");
  deepEqual(events, ["authentication_step_timeout"], "logged: the authenticator hung");
  host.authTimeout = 30_000;
  equal(limitOf(asking(acceptor(), "right")), 30_000, "authTimeout when longer");
  equal(limitOf(asking(acceptor(undefined), "right")), undefined, "in-process: no place, no limit");
});

Deno.test("Acceptor with failedLogins: a CHALLENGE left unanswered until the timeout counts", () => {
  const { acceptor, failures } = routerFor(1);
  const silent = acceptor();
  const hello = { roles: { caller: {} }, authmethods: ["ticket"], authid: "alice" };
  const started = silent.hello({ type: MessageType.HELLO, realm: "dyn", details: hello });
  equal(runNow(started).messages[0]?.msg.type, MessageType.CHALLENGE);
  equal(abortOf(silent.expire("timed out"))?.reason, ErrorUri.AUTHENTICATION_FAILED);
  equal(failures.refuses("ticket", PEER), true);
});

Deno.test("acceptHello(): a method that would be refused is passed over for the next the client offers; refused only when none is left", () => {
  const realm = acceptorRealm({
    name: "dyn",
    anonymous: true,
    auth: {
      ticket: { principals: { alice: { ticket: "t", role: "u" } } },
      wampcra: { users: { alice: { secret: "s", role: "u" } } },
    },
  });
  const chosen = (authmethods: string[], refused = (method: string) => method !== "anonymous") => {
    const hello = {
      type: MessageType.HELLO,
      realm: "dyn",
      details: { roles: { caller: {} }, authmethods },
    } as const;
    const accepted = acceptHello(hello, realm, { refused });
    return "abort" in accepted ? accepted.abort.reason : accepted.authenticator.method;
  };
  equal(chosen(["ticket", "anonymous"]), "anonymous");
  equal(chosen(["ticket", "wampcra", "anonymous"]), "anonymous");
  equal(
    chosen(["wampcra", "ticket"]),
    "wampcra",
    "the first offered, to be refused at its first step",
  );
  equal(
    chosen(["ticket", "anonymous"], () => false),
    "ticket",
    "nothing refused: the client's order",
  );
  equal(chosen(["cryptosign"]), ErrorUri.NO_AUTH_METHOD);
});

Deno.test("Acceptor with failedLogins: at the limit, a client that also offers anonymous is welcomed anonymously where the realm allows it", () => {
  // It was refused: the ticket it offered first was.
  const { acceptor } = routerFor(1, true);
  const hello = (authmethods: string[]) => ({
    type: MessageType.HELLO,
    realm: "dyn",
    details: { roles: { caller: {} }, authmethods, authid: "alice" },
  });
  const question = taskOf(asking(acceptor(), "wrong"));
  ok(question !== undefined);
  question.resume(WRONG);
  const welcomed = runNow(acceptor().hello(hello(["ticket", "anonymous"])));
  equal(welcomed.messages[0]?.msg.type, MessageType.WELCOME);
  const refused = runNow(acceptor().hello(hello(["ticket"])));
  deepEqual(abortOf(refused)?.details, { message: REFUSED_MESSAGE });
  const before = runNow(acceptor(OTHER).hello(hello(["ticket", "anonymous"])));
  equal(
    before.messages[0]?.msg.type,
    MessageType.CHALLENGE,
    "not at the limit: the client's order",
  );
});

Deno.test("Acceptor with failedLogins: tls logins asking a dynamic authenticator hold places: 10 from one address with perSource 3, 3 asked, 7 refused", () => {
  // They held none: 500 tls asks from one address were out at once (perSource 3), and one
  // address with a certificate the CA signed could fill the realm's 1000 router calls.
  let asked = 0;
  const realm = acceptorRealm({
    name: "certs",
    auth: { tls: { authenticator: () => (asked++, new Promise(() => {})) } },
  });
  const failures = new AuthenticationFailures({ perSource: 3, window: 1000 }, { now: () => 0 });
  let id = 100;
  const host = {
    realm: () => realm,
    sessionId: () => id++,
    agent: "Cloverleaf-test",
    authTimeout: 5000,
    roles: { broker: {}, dealer: {} },
    log: () => {},
    failedLogins: failures,
  };
  const cert = { subject: { CN: "c" }, issuer: { CN: "ca" }, fingerprint256: "AA" };
  const outs = Array.from({ length: 10 }, () => {
    const transport = { type: "websocket", peer: PEER, tls: { peerCertificate: cert } };
    const acceptor = new Acceptor(host, transport as never);
    const hello = { roles: { caller: {} }, authmethods: ["tls"] };
    return runNow(acceptor.hello({ type: MessageType.HELLO, realm: "certs", details: hello }));
  });
  const questions = outs.map(taskOf).filter((task) => task !== undefined);
  equal(questions.length, 3);
  for (const question of questions) question.run();
  equal(asked, 3);
  equal(failures.checks, 3);
  for (const out of outs.filter((out) => taskOf(out) === undefined)) {
    equal(abortOf(out)?.reason, ErrorUri.AUTHENTICATION_FAILED);
  }
});
