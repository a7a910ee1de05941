/**
 * Failed logins (`RouterOptions.failedLogins`, `perSource` 1): a login the
 * router denies because of its own error calling the authenticator
 * procedure is not counted, each error produced by a real router: an
 * INVOCATION over the callee's limit (`wamp.error.payload_size_exceeded`),
 * an answer in payload passthru the router cannot read
 * (`wamp.error.feature_not_supported`). Had it counted, the next login from
 * the address would be refused.
 */

import { equal } from "node:assert/strict";
import { connect } from "../../mod.ts";
import { MessageType } from "../../wamp/mod.ts";
import { BACKEND, rawWamp, trustedRealm } from "../_helpers/auth.ts";
import { startRouter, type TestRouter } from "../_helpers/router.ts";

/** realm1 asks `com.example.authenticate`, registered in `auth`. */
const ASKING = [trustedRealm(), {
  name: "realm1",
  auth: { ticket: { authenticator: "com.example.authenticate", authenticatorRealm: "auth" } },
}];

/**
 * Logs in to realm1 by ticket over a raw WebSocket: WELCOME, the ABORT's
 * message, or "refused at HELLO: " and it. `answer` runs once the ticket
 * is out (the backend's part).
 */
async function login(
  t: TestRouter,
  ticket: string,
  authextra: Record<string, unknown> = {},
  answer = () => Promise.resolve(),
): Promise<string> {
  await using raw = await rawWamp(t.url);
  const hello = { roles: { caller: {} }, authmethods: ["ticket"], authid: "alice", authextra };
  await raw.send([MessageType.HELLO, "realm1", hello]);
  const first = await raw.next("CHALLENGE or ABORT");
  if (first?.[0] !== MessageType.CHALLENGE) return `refused at HELLO: ${JSON.stringify(first)}`;
  await raw.send([MessageType.AUTHENTICATE, ticket, {}]);
  await answer();
  const end = await raw.next("WELCOME or ABORT");
  if (end?.[0] === MessageType.WELCOME) return "WELCOME";
  return (end?.[1] as { message?: string } | undefined)?.message ?? JSON.stringify(end);
}

Deno.test("failedLogins: an INVOCATION over the authenticator's callee's limit (payload_size_exceeded) is not counted", async () => {
  await using t = await startRouter({
    failedLogins: { perSource: 1, window: 60_000 },
    sessionLogRate: 0,
    realms: ASKING,
    listener: { websocket: { maxMessageSize: 4096 } },
  });
  // Over WebSocket, the router sends the backend 4,096 bytes at most.
  const backend = await connect(t.url, { realm: "auth", ...BACKEND });
  let asked = 0;
  await backend.register("com.example.authenticate", () => {
    asked++;
    return { args: ["user"] };
  });
  // HELLO and AUTHENTICATE each fit; the INVOCATION carries both.
  const long = "x".repeat(2500);
  equal(await login(t, long, { note: long }), "authentication failed");
  equal(asked, 0, "the backend never saw it");
  equal(await login(t, "right"), "WELCOME");
  equal(asked, 1);
  await backend.close();
});

Deno.test("failedLogins: an authenticator's answer in payload passthru, which the router cannot read (feature_not_supported), is not counted", async () => {
  await using t = await startRouter({
    failedLogins: { perSource: 1, window: 60_000 },
    sessionLogRate: 0,
    realms: ASKING,
  });
  await using backend = await rawWamp(t.url);
  const roles = { callee: { features: { payload_passthru_mode: true } } };
  await backend.send([
    MessageType.HELLO,
    "auth",
    { roles, authmethods: ["ticket"], authid: BACKEND.authid },
  ]);
  equal((await backend.next("CHALLENGE"))?.[0], MessageType.CHALLENGE);
  await backend.send([MessageType.AUTHENTICATE, BACKEND.ticket, {}]);
  equal((await backend.next("WELCOME"))?.[0], MessageType.WELCOME);
  await backend.send([MessageType.REGISTER, 1, {}, "com.example.authenticate"]);
  equal((await backend.next("REGISTERED"))?.[0], MessageType.REGISTERED);
  const answer = (options: Record<string, unknown>) => async () => {
    const invocation = await backend.next("INVOCATION");
    equal(invocation?.[0], MessageType.INVOCATION);
    await backend.send([MessageType.YIELD, invocation![1], options, ["user"]]);
  };
  equal(await login(t, "right", {}, answer({ ppt_scheme: "x_custom" })), "authentication failed");
  equal(await login(t, "right", {}, answer({})), "WELCOME");
});
