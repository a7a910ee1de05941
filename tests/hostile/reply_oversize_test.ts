/**
 * A RawSocket client announces the largest message it takes (512 bytes at
 * least). The router's own replies (ABORT, GOODBYE, CHALLENGE, WELCOME)
 * are sent past the slow-consumer policy; one over that limit used to
 * throw out of the router and end the process. Now an ABORT or GOODBYE
 * goes without its details, and what still does not fit (a CHALLENGE, a
 * WELCOME) ends that one connection, and its session leaves.
 */

import { deepEqual, equal } from "node:assert/strict";
import { connect } from "../../mod.ts";
import { rawFrames } from "../_helpers/raw_rawsocket.ts";
import { startRouter, within } from "../_helpers/router.ts";

const utf8 = new TextEncoder();
const LONG = `com.${"r".repeat(476)}`;
const hello = (realm: string, details = {}) =>
  utf8.encode(JSON.stringify([1, realm, { roles: { publisher: {} }, ...details }]));

Deno.test("a reply over a RawSocket client's announced 512 bytes: ABORT without details, or the connection ends; the router goes on", async () => {
  await using t = await startRouter({
    realms: [{ name: "realm1" }, { name: LONG, maxSessions: 2 }, {
      name: "cra",
      auth: { wampcra: { users: { joe: { secret: "s3cret", role: "user" } } } },
    }],
  });
  const url = t.listener.urls.rawsocket!;
  // ABORT no_such_realm names the realm in its details: 514 bytes with the details.
  const lost = await rawFrames(url, 1, 0);
  await lost.send(hello(`com.${"x".repeat(440)}`));
  const abort = JSON.parse(new TextDecoder().decode((await within(lost.next()))!));
  deepEqual(abort, [3, {}, "wamp.error.no_such_realm"]);
  equal(await within(lost.next()), null, "then the connection closes");
  // A CHALLENGE naming a 600-character authid cannot be cut: the connection ends.
  const long = await rawFrames(url, 1, 0);
  await long.send(hello("cra", { authmethods: ["wampcra"], authid: "j".repeat(600) }));
  equal(await within(long.next()), null);
  // A WELCOME naming a 480-character realm cannot be cut: the connection ends, the session leaves.
  for (let i = 0; i < 3; i++) {
    const welcome = await rawFrames(url, 1, 0);
    await welcome.send(hello(LONG));
    equal(await within(welcome.next()), null);
    welcome.close();
  }
  const there = await within(connect(url, { realm: LONG }));
  equal((await there.call("wamp.session.count")).args[0], 1, "the cut ones left");
  await there.close();
  // The router is still there.
  const session = await within(connect(url, { realm: "realm1" }));
  equal((await session.call("wamp.session.count")).args[0], 1);
  await session.close();
  lost.close();
  long.close();
});
