/**
 * Failed logins (`RouterOptions.failedLogins`) against a dynamic
 * authenticator that answers later, over real WebSockets: one address
 * never has more than `perSource` guesses being checked at once, however
 * many connections it opens (each used to pass the check, none having
 * failed yet: 50 connections had 50 tickets checked per window with
 * `perSource` 3). And a login denied because the router could not ask its
 * authenticator procedure does not count.
 */

import { deepEqual, equal } from "node:assert/strict";
import { ApplicationError, connectLocal } from "../../mod.ts";
import { ErrorUri, MessageType } from "../../wamp/mod.ts";
import {
  CHECKING_MESSAGE,
  REFUSED_MESSAGE,
} from "../../router/core/auth/authentication_failures.ts";
import { BACKEND, rawWamp, trustedRealm } from "../_helpers/auth.ts";
import { startRouter, until } from "../_helpers/router.ts";

const HELLO = { roles: { caller: {} }, authmethods: ["ticket"], authid: "alice" };

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
    realms: [trustedRealm(), {
      name: "realm1",
      auth: { ticket: { authenticator: "com.example.authenticate", authenticatorRealm: "auth" } },
    }],
  });
  const login = async (ticket: string) => {
    await using raw = await rawWamp(t.url);
    await raw.send([MessageType.HELLO, "realm1", HELLO]);
    equal((await raw.next("CHALLENGE"))?.[0], MessageType.CHALLENGE);
    await raw.send([MessageType.AUTHENTICATE, ticket, {}]);
    const end = await raw.next("WELCOME or ABORT");
    return end?.[0] === MessageType.WELCOME ? "WELCOME" : (end?.[1] as { message: string }).message;
  };
  for (let i = 0; i < 5; i++) equal(await login("right"), "authentication failed", "backend down");
  const backend = await connectLocal(t.router, "auth", BACKEND);
  await backend.register("com.example.authenticate", (args) => {
    if ((args[2] as { ticket: string }).ticket !== "right") {
      throw new ApplicationError("com.example.wrong_ticket");
    }
    return { args: ["user"] };
  });
  equal(await login("right"), "WELCOME");
  for (let i = 0; i < 3; i++) equal(await login(`wrong-${i}`), "authentication failed");
  await using refused = await rawWamp(t.url);
  await refused.send([MessageType.HELLO, "realm1", HELLO]);
  deepEqual((await refused.next("ABORT"))?.[1], { message: REFUSED_MESSAGE });
  await backend.close();
});

Deno.test("failedLogins: clients hanging up while their ticket is checked keep its place until the authenticator answers, and its late denials count", async () => {
  // A hang-up freed the place at once (the router call cancelled killnowait, the callee went
  // on): 6 clients hanging up 5 ms after AUTHENTICATE had 649 tickets checked in 2 s (76 at once
  // in a backend taking 200 ms), and nothing was counted.
  await using t = await startRouter({
    failedLogins: { perSource: 3, window: 60_000 },
    sessionLogRate: 0,
    realms: [trustedRealm(), {
      name: "realm1",
      auth: { ticket: { authenticator: "com.example.authenticate", authenticatorRealm: "auth" } },
    }],
  });
  const backend = await connectLocal(t.router, "auth", BACKEND);
  const answer = Promise.withResolvers<void>();
  let asked = 0, interrupted = 0;
  await backend.register("com.example.authenticate", async (_args, _kwargs, _details, inv) => {
    asked++;
    inv.signal.addEventListener("abort", () => interrupted++);
    await answer.promise; // the backend answers when the test says
    throw new ApplicationError("com.example.wrong_ticket");
  });
  const refusal = (end: unknown[] | undefined) =>
    end?.[0] === MessageType.ABORT ? (end[1] as { message: string }).message : `${end}`;
  const refused: string[] = [];
  for (let i = 0; i < 10; i++) {
    const raw = await rawWamp(t.url);
    await raw.send([MessageType.HELLO, "realm1", HELLO]);
    const first = await raw.next("CHALLENGE or ABORT");
    if (first?.[0] === MessageType.CHALLENGE) {
      const before = asked;
      await raw.send([MessageType.AUTHENTICATE, `guess-${i}`, {}]);
      await until(() => asked > before, 5000, "the backend asked");
    } else refused.push(refusal(first));
    await raw[Symbol.asyncDispose](); // hangs up (while its ticket is being checked)
    await until(() => t.router.connectionCount === 1, 5000, "the router saw it go");
  }
  equal(asked, 3, "3 places: the others were refused");
  deepEqual(refused, Array(7).fill(CHECKING_MESSAGE));
  equal(interrupted, 0, "the checks went on");
  answer.resolve();
  let message = CHECKING_MESSAGE; // until the 3 late denials are in: then they are counted
  for (const deadline = Date.now() + 5000; message === CHECKING_MESSAGE && Date.now() < deadline;) {
    await using probe = await rawWamp(t.url);
    await probe.send([MessageType.HELLO, "realm1", HELLO]);
    message = refusal(await probe.next("ABORT"));
  }
  equal(message, REFUSED_MESSAGE);
  equal(asked, 3);
  await backend.close();
});
