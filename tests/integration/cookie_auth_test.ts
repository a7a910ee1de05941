/**
 * Cookie authentication over a real WebSocket listener: a connection that
 * logs in with a ticket gets a tracking cookie; a later connection that
 * presents it and offers `cookie` is welcomed with the same identity.
 * Unknown cookies are replaced, never adopted.
 */

import { deepEqual, equal, match, notEqual, ok, rejects } from "node:assert/strict";
import { connect, ErrorUri } from "../../mod.ts";
import { resolveRealmOptions } from "../../router/core/realm_options.ts";
import { resolveListenerOptions } from "../../transports/config.ts";
import { rawWebSocket } from "../_helpers/raw_websocket.ts";
import { startRouter } from "../_helpers/router.ts";

const REALM = {
  name: "realm1",
  auth: {
    ticket: { principals: { joe: { ticket: "s3cret-ticket", role: "user" } } },
    cookie: { maxAge: 60 },
  },
};

function setCookie(head: string): string | undefined {
  return head.match(/^set-cookie: cbtid=([A-Za-z0-9_-]+);/im)?.[1];
}

/** Logs in as joe with a ticket over a raw socket; returns the connection's cookie. */
async function loginWithTicket(url: string, headers: Record<string, string> = {}): Promise<string> {
  await using ws = await rawWebSocket(url, ["wamp.2.json"], headers);
  const cookie = setCookie(ws.head);
  ok(cookie !== undefined, `a tracking cookie is set: ${ws.head}`);
  const read = async () => JSON.parse(new TextDecoder().decode((await ws.read()).payload));
  await ws.send(JSON.stringify([1, "realm1", {
    roles: { caller: {} },
    authmethods: ["ticket"],
    authid: "joe",
  }]));
  deepEqual(await read(), [4, "ticket", {}]);
  await ws.send(JSON.stringify([5, "s3cret-ticket", {}]));
  const welcome = await read();
  equal(welcome[0], 2);
  equal(welcome[2].authmethod, "ticket");
  return cookie;
}

Deno.test("cookie: a later connection presenting the cookie joins as the same identity", async () => {
  await using t = await startRouter({ realms: [REALM], listener: { websocket: { cookie: {} } } });
  const cookie = await loginWithTicket(t.url);
  const session = await connect(t.url, {
    realm: "realm1",
    authmethods: ["cookie", "ticket"],
    headers: { cookie: `other=1; cbtid=${cookie}` },
  });
  deepEqual(
    [session.details.authid, session.details.authrole, session.details.authmethod],
    ["joe", "user", "cookie"],
  );
  equal(session.details.authprovider, "cookie");
  const [details] = (await session.call("wamp.session.get", { args: [session.id] })).args as [
    Record<string, Record<string, unknown>>,
  ];
  ok(!("cookie" in details.transport!), "the cookie is never shown in session details");
  ok(t.logs.every((line) => !line.includes(cookie)), "nor logged");
  await session.close();
});

Deno.test("cookie: an unknown cookie is replaced, and the client's next method is tried", async () => {
  await using t = await startRouter({ realms: [REALM], listener: { websocket: { cookie: {} } } });
  const madeUp = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
  await using ws = await rawWebSocket(t.url, ["wamp.2.json"], { cookie: `cbtid=${madeUp}` });
  notEqual(setCookie(ws.head), madeUp, "the router issues its own cookie");
  await rejects(
    connect(t.url, {
      realm: "realm1",
      authmethods: ["cookie"],
      headers: { cookie: `cbtid=${madeUp}` },
    }),
    (error: Error & { reason?: string }) => error.reason === ErrorUri.NO_AUTH_METHOD,
  );
  const session = await connect(t.url, {
    realm: "realm1",
    authmethods: ["cookie", "ticket"],
    authid: "joe",
    ticket: "s3cret-ticket",
    headers: { cookie: `cbtid=${madeUp}` },
  });
  equal(session.details.authmethod, "ticket");
  await session.close();
});

/** Sends HELLO offering only `cookie` on a raw connection; returns the answer's type (2 WELCOME, 3 ABORT). */
async function cookieHello(ws: Awaited<ReturnType<typeof rawWebSocket>>, realm = "realm1") {
  await ws.send(JSON.stringify([1, realm, { roles: { caller: {} }, authmethods: ["cookie"] }]));
  return JSON.parse(new TextDecoder().decode((await ws.read()).payload))[0];
}

Deno.test("cookie: a known cookie is renewed: its identity moves to the fresh value, and stands for its own realm only", async () => {
  await using t = await startRouter({
    realms: [REALM, { name: "realm2", auth: REALM.auth }],
    listener: { websocket: { cookie: { maxAge: 120 } } },
  });
  const cookie = await loginWithTicket(t.url);
  await using again = await rawWebSocket(t.url, ["wamp.2.json"], { cookie: `cbtid=${cookie}` });
  const renewed = setCookie(again.head);
  notEqual(renewed, cookie, "a remembered cookie is replaced by a fresh one");
  match(again.head, /Max-Age=120; Path=\/; HttpOnly; SameSite=Lax/);
  // The old value logs in for RENEW_GRACE_MS more (tabs opening together), then no more
  // (tests/router/cookie_store_test.ts): the router renews it once more meanwhile.
  await using tab = await rawWebSocket(t.url, ["wamp.2.json"], { cookie: `cbtid=${cookie}` });
  notEqual(setCookie(tab.head), renewed, "a value of its own");
  const session = await connect(t.url, {
    realm: "realm1",
    authmethods: ["cookie"],
    headers: { cookie: `cbtid=${renewed}` },
  });
  equal(session.details.authid, "joe", "the fresh cookie stands for the same identity");
  await session.close();
  await rejects(
    connect(t.url, {
      realm: "realm2",
      authmethods: ["cookie"],
      headers: { cookie: `cbtid=${await loginWithTicket(t.url)}` },
    }),
    (error: Error & { reason?: string }) => error.reason === ErrorUri.NO_AUTH_METHOD,
    "the cookie stands for joe in realm1 only",
  );
});

Deno.test("cookie: two connections presenting one value at once (two tabs) are both welcomed, each on a value of its own", async () => {
  await using t = await startRouter({ realms: [REALM], listener: { websocket: { cookie: {} } } });
  const cookie = await loginWithTicket(t.url);
  await using first = await rawWebSocket(t.url, ["wamp.2.json"], { cookie: `cbtid=${cookie}` });
  await using second = await rawWebSocket(t.url, ["wamp.2.json"], { cookie: `cbtid=${cookie}` });
  equal(await cookieHello(second), 2, "the second tab is welcomed: WELCOME");
  equal(await cookieHello(first), 2, "the first's is welcomed");
});

Deno.test("cookie: config keys", () => {
  deepEqual(resolveListenerOptions({ type: "websocket", cookie: {} }, "l").cookie, {
    name: "cbtid",
    maxAge: 86400,
  });
  deepEqual(resolveRealmOptions({ name: "r", auth: { cookie: {} } }).auth.cookie, {
    maxAge: 86400,
  });
});
