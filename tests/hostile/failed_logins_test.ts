/**
 * Failed logins throttled per source address (`RouterOptions.failedLogins`;
 * docs/security.md said one client tried about 360 tickets a second): over
 * real WebSockets, a source that failed `perSource` times in `window` is
 * refused at once, with a message saying why, without a CHALLENGE and
 * without asking a dynamic authenticator; another address (127.0.0.2) still
 * logs in, anonymous logins still join, and the source logs in again once
 * the window passed. Off (the default), nothing changes. The refusals are
 * logged within the log's per-source limit and counted in the metrics.
 */

import { deepEqual, equal, match, ok, rejects } from "node:assert/strict";
import {
  connect,
  type LogFields,
  type RealmOptions,
  type RouterOptions,
  SessionClosedError,
} from "../../mod.ts";
import { ErrorUri, MessageType } from "../../wamp/mod.ts";
import { metricsOf } from "../../router/metrics.ts";
import { REFUSED_MESSAGE } from "../../router/core/auth/authentication_failures.ts";
import { EVENT_LOG_LIMIT } from "../../router/session_log.ts";
import { rawWamp } from "../_helpers/auth.ts";
import { startRouter, type TestRouter, until, within } from "../_helpers/router.ts";

const TICKET = "alice-ticket-K3v9";
const WINDOW = 1000;

/** realm1: alice by ticket; `dyn`: tickets judged by `decide`; `open`: anonymous. */
function options(
  failedLogins: RouterOptions["failedLogins"],
  decide: (ticket: unknown) => string = () => "user",
): RouterOptions {
  const realms: RealmOptions[] = [
    { name: "realm1", auth: { ticket: { principals: { alice: { ticket: TICKET, role: "u" } } } } },
    { name: "dyn", auth: { ticket: { authenticator: (request) => decide(request.ticket) } } },
    { name: "open" },
  ];
  return { realms, ...(failedLogins === undefined ? {} : { failedLogins }), sessionLogRate: 0 };
}

/** How a raw ticket login ended. */
interface Login {
  /** Whether the router sent a CHALLENGE. */
  challenged: boolean;
  /** WELCOME or ABORT. */
  type: number;
  /** The ABORT's reason and message. */
  reason?: string;
  message?: string | undefined;
}

/** Logs in as alice by ticket over a raw WebSocket, from `localAddress` when given. */
async function login(
  t: TestRouter,
  ticket: string,
  { realm = "realm1", from }: { realm?: string; from?: string } = {},
): Promise<Login> {
  await using raw = await rawWamp(t.url, from);
  const hello = { roles: { caller: {} }, authmethods: ["ticket"], authid: "alice" };
  await raw.send([MessageType.HELLO, realm, hello]);
  let msg = await raw.next("CHALLENGE or ABORT");
  const challenged = msg?.[0] === MessageType.CHALLENGE;
  if (challenged) {
    await raw.send([MessageType.AUTHENTICATE, ticket, {}]);
    msg = await raw.next("WELCOME or ABORT");
  }
  ok(msg !== undefined, "the router closed without a reply");
  if (msg[0] !== MessageType.ABORT) return { challenged, type: msg[0] as number };
  const details = msg[1] as { message?: string };
  return {
    challenged,
    type: MessageType.ABORT,
    reason: msg[2] as string,
    message: details.message,
  };
}

const FAILED = {
  challenged: true,
  type: MessageType.ABORT,
  reason: ErrorUri.AUTHENTICATION_FAILED,
  message: "authentication failed",
};
const REFUSED = {
  challenged: false,
  type: MessageType.ABORT,
  reason: ErrorUri.AUTHENTICATION_FAILED,
  message: REFUSED_MESSAGE,
};
const WELCOMED = { challenged: true, type: MessageType.WELCOME };

/** Waits until `ms` have passed since `since` (`performance.now()`). */
function sleepUntil(since: number, ms: number): Promise<void> {
  const left = since + ms - performance.now();
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, left)));
}

Deno.test("failedLogins: 3 wrong tickets, then the right one is refused at once; 127.0.0.2 and anonymous still join; after the window it works", async () => {
  await using t = await startRouter(options({ perSource: 3, window: WINDOW }));
  deepEqual(await login(t, "wrong-0"), FAILED);
  const first = performance.now(); // the first failure was counted before this
  for (let i = 1; i < 3; i++) deepEqual(await login(t, `wrong-${i}`), FAILED);
  deepEqual(await login(t, TICKET), REFUSED);
  // Refused again half a window later: refusals neither open the door nor count (counted, the
  // last 3 would be these, and the source still at the limit once the first failure is old).
  await sleepUntil(first, WINDOW / 2);
  for (let i = 0; i < 3; i++) deepEqual(await login(t, TICKET), REFUSED, "still refused");
  // Another source address logs in; anonymous logins from the refused one still join.
  deepEqual(await login(t, TICKET, { from: "127.0.0.2" }), WELCOMED);
  await using raw = await rawWamp(t.url);
  await raw.send([MessageType.HELLO, "open", { roles: { caller: {} } }]);
  equal((await raw.next("WELCOME"))?.[0], MessageType.WELCOME);
  // Once the first failure is WINDOW old, the source may try again.
  await sleepUntil(first, WINDOW + 20);
  deepEqual(await login(t, TICKET), WELCOMED);
  equal(metricsOf(t.router).loginsRefused, 4);
});

Deno.test("failedLogins: our client reads why it was refused", async () => {
  await using t = await startRouter(options({ perSource: 1, window: 60_000 }));
  deepEqual(await login(t, "wrong"), FAILED);
  const joining = connect(t.url, { realm: "realm1", authid: "alice", ticket: TICKET });
  await rejects(within(joining, 5000, "the refusal"), (e: unknown) => {
    ok(e instanceof SessionClosedError, `${e}`);
    equal(e.reason, ErrorUri.AUTHENTICATION_FAILED);
    match(e.message, /Too many failed logins from this address: try again later/);
    return true;
  });
});

Deno.test("failedLogins: off by default, wrong tickets change nothing", async () => {
  await using t = await startRouter(options(undefined));
  for (let i = 0; i < 6; i++) deepEqual(await login(t, `wrong-${i}`), FAILED);
  deepEqual(await login(t, TICKET), WELCOMED);
  equal(metricsOf(t.router).loginsRefused, 0);
});

Deno.test("failedLogins: a dynamic authenticator is not asked while the source is refused, not even for a CHALLENGE sent before", async () => {
  const asked: unknown[] = [];
  const decide = (ticket: unknown) => {
    asked.push(ticket);
    if (ticket !== TICKET) throw new Error("wrong ticket");
    return "user";
  };
  await using t = await startRouter(options({ perSource: 3, window: 60_000 }, decide));
  // A handshake challenged before the limit is reached answers after it.
  await using early = await rawWamp(t.url);
  const hello = { roles: { caller: {} }, authmethods: ["ticket"], authid: "alice" };
  await early.send([MessageType.HELLO, "dyn", hello]);
  equal((await early.next("CHALLENGE"))?.[0], MessageType.CHALLENGE);
  for (let i = 0; i < 3; i++) deepEqual(await login(t, `wrong-${i}`, { realm: "dyn" }), FAILED);
  deepEqual(asked, ["wrong-0", "wrong-1", "wrong-2"]);
  await early.send([MessageType.AUTHENTICATE, TICKET, {}]);
  deepEqual((await early.next("ABORT"))?.slice(1), [
    { message: REFUSED_MESSAGE },
    ErrorUri.AUTHENTICATION_FAILED,
  ]);
  deepEqual(await login(t, TICKET, { realm: "dyn" }), REFUSED);
  equal(asked.length, 3, "the authenticator was not asked again");
  deepEqual(await login(t, TICKET, { realm: "dyn", from: "127.0.0.2" }), WELCOMED);
  deepEqual(asked, ["wrong-0", "wrong-1", "wrong-2", TICKET]);
});

Deno.test("failedLogins: an authentication that timed out counts", async () => {
  await using t = await startRouter({
    ...options({ perSource: 1, window: 60_000 }),
    authTimeout: 50,
  });
  await using silent = await rawWamp(t.url);
  const hello = { roles: { caller: {} }, authmethods: ["ticket"], authid: "alice" };
  await silent.send([MessageType.HELLO, "realm1", hello]);
  equal((await silent.next("CHALLENGE"))?.[0], MessageType.CHALLENGE);
  deepEqual((await silent.next("ABORT after authTimeout"))?.[2], ErrorUri.AUTHENTICATION_FAILED);
  deepEqual(await login(t, TICKET), REFUSED);
});

Deno.test("failedLogins: refusals are logged within the log's per-source limit, the rest counted", async () => {
  const lines: { message: string; fields: LogFields }[] = [];
  const t = await startRouter({
    ...options({ perSource: 1, window: 60_000 }),
    logger: (_level, message, fields = {}) => void lines.push({ message, fields }),
  });
  const refusals = () => lines.filter((l) => l.fields.event === "login_refused");
  try {
    deepEqual(await login(t, "wrong"), FAILED);
    for (let i = 0; i < 25; i++) deepEqual(await login(t, TICKET), REFUSED);
    await until(() => refusals().length >= EVENT_LOG_LIMIT, 5000, "the lines");
    equal(refusals().length, EVENT_LOG_LIMIT);
    match(
      refusals()[0]!.message,
      /^Session \d+: ticket login refused: too many failed logins from tcp4:127\.0\.0\.1 \(1 in 60000 ms\)$/,
    );
    equal(refusals()[0]!.fields.authid, "alice");
    equal(metricsOf(t.router).loginsRefused, 25);
  } finally {
    await t.router.close(); // ends the log's windows: the count is written
    await t.listener.close();
  }
  const summary = lines.find((l) =>
    l.fields.event === "login_refused" && l.fields.suppressed !== undefined
  );
  equal(summary?.fields.suppressed, 25 - EVENT_LOG_LIMIT);
});

Deno.test("failedLogins: at the limit, a client offering ticket then anonymous is welcomed anonymously where the realm allows it; ticket alone is refused", async () => {
  await using t = await startRouter({
    failedLogins: { perSource: 1, window: 60_000 },
    sessionLogRate: 0,
    realms: [{
      name: "realm1",
      anonymous: true,
      auth: { ticket: { principals: { alice: { ticket: TICKET, role: "u" } } } },
    }],
  });
  deepEqual(await login(t, "wrong"), FAILED);
  await using raw = await rawWamp(t.url);
  const hello = { roles: { caller: {} }, authmethods: ["ticket", "anonymous"], authid: "alice" };
  await raw.send([MessageType.HELLO, "realm1", hello]);
  const welcome = await raw.next("WELCOME");
  equal(welcome?.[0], MessageType.WELCOME, "it was refused: ticket came first");
  equal((welcome[2] as { authmethod: string }).authmethod, "anonymous");
  deepEqual(await login(t, TICKET), REFUSED);
});
