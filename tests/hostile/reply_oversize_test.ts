/**
 * A RawSocket client announces the largest message it takes (512 bytes at
 * least). The router's own replies (ABORT, GOODBYE, CHALLENGE, WELCOME)
 * are sent past the slow-consumer policy; one over that limit used to
 * throw out of the router and end the process. Now an ABORT or GOODBYE
 * goes without its details, and what still does not fit (a CHALLENGE, a
 * WELCOME) ends that one connection at once: its session never joins, and
 * nothing read behind the HELLO runs.
 */

import { deepEqual, equal, match } from "node:assert/strict";
import { connect } from "../../mod.ts";
import { type RawFrames, rawFrames, rawJsonClient } from "../_helpers/raw_rawsocket.ts";
import type { LogFields } from "../../wamp/mod.ts";
import { startRouter, until, within } from "../_helpers/router.ts";

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
  // A WELCOME naming a 480-character realm cannot be cut: the connection ends, the session never joins.
  for (let i = 0; i < 3; i++) {
    const welcome = await rawFrames(url, 1, 0);
    await welcome.send(hello(LONG));
    equal(await within(welcome.next()), null);
    welcome.close();
  }
  const there = await within(connect(url, { realm: LONG }));
  equal((await there.call("wamp.session.count")).args[0], 1, "the cut ones never joined");
  await there.close();
  // The router is still there.
  const session = await within(connect(url, { realm: "realm1" }));
  equal((await session.call("wamp.session.count")).args[0], 1);
  await session.close();
  lost.close();
  long.close();
});

Deno.test("a CHALLENGE or WELCOME over the peer's 512 bytes ends the connection before the frames pipelined behind its HELLO run", async () => {
  await using t = await startRouter({
    realms: [{ name: LONG }, {
      name: "cra",
      auth: { wampcra: { users: { joe: { secret: "s3cret", role: "user" } } } },
    }],
  });
  const url = t.listener.urls.rawsocket!;
  const watcher = await within(connect(url, { realm: LONG }));
  const seen: string[] = [];
  for (const topic of ["com.t", "wamp.session.on_join", "wamp.registration.on_create"]) {
    await watcher.subscribe(topic, () => void seen.push(topic));
  }
  // HELLO, then REGISTER, PUBLISH and SUBSCRIBE in the same write: the WELCOME (650 bytes) is cut.
  const welcome = await rawJsonClient(url, 0x01);
  welcome.send(
    [1, LONG, { roles: { publisher: {}, callee: {}, subscriber: {} } }],
    [64, 1, {}, "com.p"],
    [16, 2, {}, "com.t", ["from a session that never joined"]],
    [32, 3, {}, "com.t"],
  );
  // A CHALLENGE naming a 600-character authid is cut; an AUTHENTICATE and a SUBSCRIBE follow it.
  const challenge = await rawJsonClient(url, 0x01);
  challenge.send(
    [1, "cra", { roles: { subscriber: {} }, authmethods: ["wampcra"], authid: "j".repeat(600) }],
    [5, "not a signature", {}],
    [32, 1, {}, "com.t"],
  );
  await until(() => welcome.closed && challenge.closed, 5000, "both connections closed");
  deepEqual(welcome.seen, []);
  deepEqual(challenge.seen, [], "no ABORT for the AUTHENTICATE behind the CHALLENGE");
  // What was sent before this RESULT has arrived: no EVENT, no join, no registration.
  equal((await watcher.call("wamp.session.count")).args[0], 1);
  deepEqual(seen, []);
  await watcher.register("com.p", () => ({ args: ["free"] }));
  equal((await watcher.call("com.p")).args[0], "free");
  const cut = t.logs.filter((line) => line.includes("not sent"));
  equal(cut.length, 2);
  match(cut[0]!, /^warn Connection from \S+: .*: WELCOME not sent, session \d+ never joined$/);
  match(cut[1]!, /^warn Connection from \S+: .*: CHALLENGE not sent, the session never joined$/);
  equal(t.logs.filter((line) => / joined realm "com\.r/.test(line)).length, 1, "the watcher only");
  await watcher.close();
  welcome.close();
  challenge.close();
});

Deno.test("a cut reply's log line names the connection and its address, not a session that left before", async () => {
  const lines: { message: string; fields: LogFields | undefined }[] = [];
  await using t = await startRouter({
    logger: (_level, message, fields) => void lines.push({ message, fields }),
  });
  const url = t.listener.urls.rawsocket!;
  const read = async (frames: RawFrames) =>
    JSON.parse(new TextDecoder().decode((await within(frames.next()))!));
  const conn = await rawFrames(url, 1, 0);
  await conn.send(hello("realm1"));
  equal((await read(conn))[0], 2, "WELCOME");
  await conn.send(utf8.encode(JSON.stringify([6, {}, "wamp.close.close_realm"])));
  equal((await read(conn))[0], 6, "GOODBYE");
  // The same connection's next HELLO: its ABORT no_such_realm (514 bytes) goes without details.
  await conn.send(hello(`com.${"x".repeat(440)}`));
  deepEqual(await read(conn), [3, {}, "wamp.error.no_such_realm"]);
  const cut = lines.filter((line) => line.fields?.event === "message_too_large");
  equal(cut.length, 1);
  match(cut[0]!.message, /^Connection from tcp4:127\.0\.0\.1:\d+: .*: reply cut short$/);
  // The session log limits such lines per source address: it needs the address.
  match(String(cut[0]!.fields?.peer), /^tcp4:127\.0\.0\.1:\d+$/);
  equal(cut[0]!.fields?.session, 0);
  conn.close();
});
