/**
 * Meta events go out at most `META_EVENTS_PER_FLUSH` EVENTs at a time: a
 * session that leaves with hundreds of registrations, watched by many
 * sessions, no longer has all of their `on_unregister`/`on_delete` fanned
 * out in the one turn that removes it. The rest follow in later turns, all
 * of them, in order.
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import { Router } from "../../router/router.ts";
import type { Connection as Session } from "../../router/connection.ts";
import { EVENTS_PER_TURN } from "../../router/core/meta/events.ts";
import { MessageType, MetaTopic, sequentialIdGenerator } from "../../wamp/mod.ts";
import { FakePeer } from "../_helpers/fake_peer.ts";
import { until } from "../_helpers/router.ts";

const ROLES = { subscriber: {}, callee: {}, caller: {}, publisher: {} };

function join(router: Router): { peer: FakePeer; session: Session } {
  const peer = new FakePeer();
  const session = router.attach(peer) as Session;
  session.receive({ type: MessageType.HELLO, realm: "realm1", details: { roles: ROLES } });
  return { peer, session };
}

Deno.test("a leaving session's meta events go out in batches, all of them, in order", async () => {
  const router = new Router({
    realms: [{ name: "realm1" }],
    logger: () => {},
    idGenerator: sequentialIdGenerator(),
  });
  const topics = [MetaTopic.REGISTRATION_ON_UNREGISTER, MetaTopic.REGISTRATION_ON_DELETE];
  const watchers = Array.from({ length: 20 }, () => join(router));
  for (const { session } of watchers) {
    topics.forEach((topic, i) =>
      session.receive({ type: MessageType.SUBSCRIBE, request: i + 1, options: {}, topic })
    );
  }
  const registrations = 300;
  const leaver = join(router);
  for (let i = 1; i <= registrations; i++) {
    leaver.session.receive({
      type: MessageType.REGISTER,
      request: i,
      options: {},
      procedure: `com.example.p${i}`,
    });
  }
  const events = (peer: FakePeer) => peer.sent.filter((m) => m.type === MessageType.EVENT);
  const before = watchers.map(({ peer }) => events(peer).length);
  leaver.session.receive({ type: MessageType.GOODBYE, details: {}, reason: "wamp.close.normal" });
  const atOnce = watchers.reduce((n, { peer }, i) => n + events(peer).length - before[i]!, 0);
  const all = watchers.length * registrations * 2;
  ok(atOnce <= EVENTS_PER_TURN + watchers.length, `${atOnce} EVENTs in the leaving turn`);
  await until(
    () => watchers.every(({ peer }, i) => events(peer).length - before[i]! === registrations * 2),
    5000,
    `all ${all} EVENTs`,
  );
  for (const { peer } of watchers) {
    const got = events(peer).slice(-registrations * 2).map((e) => e.args?.[1]);
    // Each registration's on_unregister, then its on_delete, registration after registration.
    const ids = got.filter((_, i) => i % 2 === 0);
    deepEqual(got.filter((_, i) => i % 2 === 1), ids);
    equal(new Set(ids).size, registrations);
  }
  await router.close();
});

Deno.test("testaments still queued when the router closes all go out before its GOODBYEs", async () => {
  const router = new Router({
    realms: [{ name: "realm1" }],
    logger: () => {},
    idGenerator: sequentialIdGenerator(),
  });
  const watchers = Array.from({ length: 10 }, () => join(router));
  for (const { session } of watchers) {
    session.receive({ type: MessageType.SUBSCRIBE, request: 1, options: {}, topic: "com.will" });
  }
  const leavers = Array.from({ length: 4 }, () => join(router));
  for (const { session } of leavers) {
    for (let i = 1; i <= 256; i++) {
      session.receive({
        type: MessageType.CALL,
        request: i,
        options: {},
        procedure: "wamp.session.add_testament",
        args: ["com.will", [i], {}],
      });
    }
    session.receive({ type: MessageType.GOODBYE, details: {}, reason: "wamp.close.normal" });
  }
  const closing = router.close();
  for (const { peer, session } of watchers) {
    const goodbye = peer.sent.findIndex((m) => m.type === MessageType.GOODBYE);
    ok(goodbye > 0, "GOODBYE sent");
    const events = peer.sent.slice(0, goodbye).filter((m) => m.type === MessageType.EVENT);
    equal(events.length, 4 * 256, "every testament before GOODBYE");
    session.receive({
      type: MessageType.GOODBYE,
      details: {},
      reason: "wamp.close.goodbye_and_out",
    });
  }
  await closing;
});
