/**
 * Failed logins (`RouterOptions.failedLogins`) against a dynamic
 * authenticator that answers later, over real WebSockets: one address
 * never has more than `perSource` guesses being checked at once, however
 * many connections it opens (each used to pass the check, none having
 * failed yet: 50 connections had 50 tickets checked per window with
 * `perSource` 3). A login's step holds its place until the authenticator
 * answers, also when the client hung up or `authTimeout` passed first, and
 * a denial counts when it comes. A login denied because the router could
 * not ask its authenticator procedure does not count.
 */

import { deepEqual, equal } from "node:assert/strict";
import { ApplicationError, connectLocal } from "../../mod.ts";
import { ErrorUri, MessageType } from "../../wamp/mod.ts";
import {
  CHECKING_MESSAGE,
  REFUSED_MESSAGE,
} from "../../router/core/auth/authentication_failures.ts";
import { BACKEND, rawWamp, trustedRealm } from "../_helpers/auth.ts";
import { startRouter, type TestRouter, until } from "../_helpers/router.ts";

const HELLO = { roles: { caller: {} }, authmethods: ["ticket"], authid: "alice" };

/** An ABORT's message (what else came, as text). */
function refusal(end: unknown[] | undefined): string {
  return end?.[0] === MessageType.ABORT ? (end[1] as { message: string }).message : `${end}`;
}

/** The refusal of a HELLO to `realm1` once no login from the address is being checked. */
async function settledRefusal(url: string): Promise<string> {
  let message = CHECKING_MESSAGE;
  for (const deadline = Date.now() + 5000; message === CHECKING_MESSAGE && Date.now() < deadline;) {
    await using probe = await rawWamp(url);
    await probe.send([MessageType.HELLO, "realm1", HELLO]);
    message = refusal(await probe.next("ABORT"));
  }
  return message;
}

/** Routers whose realm1 asks `com.example.authenticate`, registered in `auth`. */
const ASKING = [trustedRealm(), {
  name: "realm1",
  auth: { ticket: { authenticator: "com.example.authenticate", authenticatorRealm: "auth" } },
}];

/**
 * The backend's authenticator: it denies every ticket once the test calls `answer`; `asked`
 * and `interrupted` count its INVOCATIONs and INTERRUPTs.
 */
async function slowBackend(t: TestRouter) {
  const backend = await connectLocal(t.router, "auth", BACKEND);
  const answer = Promise.withResolvers<void>();
  const counts = { asked: 0, interrupted: 0 };
  await backend.register("com.example.authenticate", async (_args, _kwargs, _details, inv) => {
    counts.asked++;
    inv.signal.addEventListener("abort", () => counts.interrupted++);
    await answer.promise;
    throw new ApplicationError("com.example.wrong_ticket");
  });
  return { backend, counts, answer: () => answer.resolve() };
}

Deno.test("failedLogins: 10 connections from one address answer their CHALLENGE at once; 3 tickets are checked, 7 refused at once, then the 3 failures refuse the address", async () => {
  const asked: unknown[] = [];
  const answer = Promise.withResolvers<void>();
  await using t = await startRouter({
    failedLogins: { perSource: 3, window: 60_000 },
    sessionLogRate: 0,
    realms: [{
      name: "dyn",
      auth: {
        ticket: {
          authenticator: async (request) => {
            asked.push(request.ticket);
            await answer.promise; // the authenticator answers when the test says
            throw new Error("wrong ticket");
          },
        },
      },
    }],
  });
  const raws = await Promise.all(Array.from({ length: 10 }, () => rawWamp(t.url)));
  try {
    await Promise.all(raws.map((raw) => raw.send([MessageType.HELLO, "dyn", HELLO])));
    for (const raw of raws) equal((await raw.next("CHALLENGE"))?.[0], MessageType.CHALLENGE);
    await Promise.all(raws.map((raw, i) => raw.send([MessageType.AUTHENTICATE, `guess-${i}`, {}])));
    const ends: unknown[][] = [];
    const ending = Promise.all(raws.map(async (raw) => ends.push((await raw.next("ABORT"))!)));
    await until(() => ends.length >= 7, 10_000, "7 refusals");
    equal(asked.length, 3, "3 tickets are being checked");
    for (const end of ends) {
      deepEqual(end, [
        MessageType.ABORT,
        { message: CHECKING_MESSAGE },
        ErrorUri.AUTHENTICATION_FAILED,
      ]);
    }
    answer.resolve();
    await ending;
    const failed = ends.filter((end) =>
      (end[1] as { message: string }).message === "authentication failed"
    );
    equal(failed.length, 3);
    equal(asked.length, 3);
  } finally {
    await Promise.all(raws.map((raw) => raw[Symbol.asyncDispose]()));
  }
  await using late = await rawWamp(t.url);
  await late.send([MessageType.HELLO, "dyn", HELLO]);
  deepEqual(await late.next("ABORT"), [
    MessageType.ABORT,
    { message: REFUSED_MESSAGE },
    ErrorUri.AUTHENTICATION_FAILED,
  ]);
});

Deno.test("failedLogins: logins denied while the authenticator procedure is not registered do not count; its own denials do", async () => {
  // They counted: 3 retries with the right ticket while the backend restarted, and the
  // client was refused for the window once it was back.
  await using t = await startRouter({
    failedLogins: { perSource: 3, window: 60_000 },
    sessionLogRate: 0,
    realms: ASKING,
  });
  const { backend, counts, answer } = await slowBackend(t);
  const refused: string[] = [];
  for (let i = 0; i < 10; i++) {
    const raw = await rawWamp(t.url);
    await raw.send([MessageType.HELLO, "realm1", HELLO]);
    const first = await raw.next("CHALLENGE or ABORT");
    if (first?.[0] === MessageType.CHALLENGE) {
      const before = counts.asked;
      await raw.send([MessageType.AUTHENTICATE, `guess-${i}`, {}]);
      await until(() => counts.asked > before, 5000, "the backend asked");
    } else refused.push(refusal(first));
    await raw[Symbol.asyncDispose](); // hangs up (while its ticket is being checked)
    await until(() => t.router.connectionCount === 1, 5000, "the router saw it go");
  }
  equal(counts.asked, 3, "3 places: the others were refused");
  deepEqual(refused, Array(7).fill(CHECKING_MESSAGE));
  equal(counts.interrupted, 0, "the checks went on");
  answer();
  equal(await settledRefusal(t.url), REFUSED_MESSAGE, "the 3 late denials counted");
  equal(counts.asked, 3);
  await backend.close();
});

Deno.test("failedLogins: a denial that comes after authTimeout counts when it comes; the login's place is held until then", async () => {
  // At authTimeout the place was freed and nothing counted: a backend answering wrong tickets
  // after authTimeout (a tarpit) let one address have perSource guesses checked per authTimeout
  // (45 in 15 s with perSource 3 / 60 s), and tell the right one, answered at once, apart.
  await using t = await startRouter({
    failedLogins: { perSource: 1, window: 60_000 },
    authTimeout: 100,
    sessionLogRate: 0,
    realms: ASKING,
  });
  const { backend, counts, answer } = await slowBackend(t);
  await using raw = await rawWamp(t.url);
  await raw.send([MessageType.HELLO, "realm1", HELLO]);
  equal((await raw.next("CHALLENGE"))?.[0], MessageType.CHALLENGE);
  await raw.send([MessageType.AUTHENTICATE, "wrong", {}]);
  equal(refusal(await raw.next("ABORT at authTimeout")), "authentication failed");
  equal(counts.asked, 1);
  await using probe = await rawWamp(t.url);
  await probe.send([MessageType.HELLO, "realm1", HELLO]);
  equal(refusal(await probe.next("ABORT")), CHECKING_MESSAGE, "its place is held meanwhile");
  equal(counts.interrupted, 0, "its check goes on");
  answer();
  equal(await settledRefusal(t.url), REFUSED_MESSAGE, "the late denial counted");
  equal(counts.asked, 1);
  await backend.close();
});

Deno.test("failedLogins: a TypeScript authenticator that never settles holds its login's place until the router call's 10 s, not for good; nothing counted", async () => {
  // A hung authenticator (a query without a timeout, for an authid the client chooses) held the
  // place for good: the address was refused at 0, 12 and 25 s with perSource 3 and authTimeout
  // 0.5 s. The bound is not authTimeout: a denial that comes after it still counts (above).
  let hung = 0;
  await using t = await startRouter({
    failedLogins: { perSource: 1, window: 60_000 },
    authTimeout: 100,
    sessionLogRate: 0,
    realms: [{
      name: "realm1",
      auth: {
        ticket: {
          authenticator: (request) =>
            request.authid === "stuck" ? (hung++, new Promise(() => {})) : "user",
        },
      },
    }],
  });
  const login = async (authid: string) => {
    await using raw = await rawWamp(t.url);
    await raw.send([MessageType.HELLO, "realm1", { ...HELLO, authid }]);
    const first = await raw.next("CHALLENGE or ABORT");
    if (first?.[0] !== MessageType.CHALLENGE) return refusal(first);
    await raw.send([MessageType.AUTHENTICATE, "ticket", {}]);
    const end = await raw.next("WELCOME or ABORT");
    return end?.[0] === MessageType.WELCOME ? "WELCOME" : refusal(end);
  };
  equal(await login("stuck"), "authentication failed", "at authTimeout");
  equal(hung, 1);
  equal(await login("alice"), CHECKING_MESSAGE, "its place is held meanwhile");
  const given = (line: string) => line.includes("authentication step ended after the handshake");
  await until(() => t.logs.some(given), 15_000, "the step's limit");
  equal(await login("alice"), "WELCOME", "the place is free, nothing counted");
});
