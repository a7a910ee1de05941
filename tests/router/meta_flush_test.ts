/**
 * Meta events go out at most `EVENTS_PER_TURN` EVENTs at a time: a
 * session that leaves with hundreds of registrations, watched by many
 * sessions, no longer has all of their `on_unregister`/`on_delete` fanned
 * out in the one turn that removes it. The rest follow in later turns, all
 * of them, in order. Meanwhile a session's own meta events go out in its
 * own turn, and no other session's turn carries any of the leaver's, nor
 * waits for them.
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import { Router } from "../../router/router.ts";
import { EVENTS_PER_TURN } from "../../router/core/meta/events.ts";
import { MessageType, MetaTopic, sequentialIdGenerator } from "../../wamp/mod.ts";
import { type FakePeer, joinFake } from "../_helpers/fake_peer.ts";
import { until } from "../_helpers/router.ts";

const join = joinFake;

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

Deno.test("a session's own meta events go out in its turn, a bystander's carries none of a leaver's, testaments wait for none", async () => {
  const router = new Router({
    realms: [{ name: "realm1" }],
    logger: () => {},
    idGenerator: sequentialIdGenerator(),
  });
  const watchers = Array.from({ length: 20 }, () => join(router));
  for (const { session } of watchers) {
    const topic = "wamp.registration.";
    session.receive({
      type: MessageType.SUBSCRIBE,
      request: 1,
      options: { match: "prefix" },
      topic,
    });
  }
  const will = join(router); // follows the victim's testament
  will.session.receive({ type: MessageType.SUBSCRIBE, request: 1, options: {}, topic: "com.will" });
  const events = (peer: FakePeer) => peer.sent.filter((m) => m.type === MessageType.EVENT);
  const seen = watchers.map(() => 0);
  /** The meta EVENTs the watchers got since the last call. */
  const delivered = () =>
    watchers.flatMap(({ peer }, i) => {
      const got = events(peer);
      const fresh = got.slice(seen[i]);
      seen[i] = got.length;
      return fresh;
    });
  const leaver = join(router);
  for (let i = 1; i <= 300; i++) {
    leaver.session.receive({
      type: MessageType.REGISTER,
      request: i,
      options: {},
      procedure: `com.example.p${i}`,
    });
    // on_create and on_register, to each watcher, in the REGISTER's own turn.
    equal(delivered().length, 2 * watchers.length, `REGISTER ${i}'s meta events`);
  }
  leaver.session.receive({ type: MessageType.GOODBYE, details: {}, reason: "wamp.close.normal" });
  const atOnce = delivered().length;
  ok(atOnce <= EVENTS_PER_TURN + watchers.length, `${atOnce} EVENTs in the leaving turn`);
  const owed = 300 * 2 * watchers.length - atOnce;
  ok(owed > 0, "some of the leaver's meta events wait");

  const bystander = join(router);
  bystander.session.receive({
    type: MessageType.CALL,
    request: 1,
    options: {},
    procedure: "wamp.session.count",
  });
  equal(bystander.peer.sent.at(-1)?.type, MessageType.RESULT);
  equal(delivered().length, 0, "the bystander's turn carries none of the leaver's");

  const churner = join(router);
  churner.session.receive({
    type: MessageType.REGISTER,
    request: 1,
    options: {},
    procedure: "com.example.new",
  });
  const own = delivered();
  equal(own.length, 2 * watchers.length, "its own two, nothing of the leaver's");
  ok(own.every((e) => e.type === MessageType.EVENT && e.args?.[0] === churner.session.id));

  const victim = join(router);
  victim.session.receive({
    type: MessageType.CALL,
    request: 1,
    options: {},
    procedure: "wamp.session.add_testament",
    args: ["com.will", ["bye"], {}],
  });
  victim.session.receive({ type: MessageType.GOODBYE, details: {}, reason: "wamp.close.normal" });
  deepEqual(events(will.peer).map((e) => e.type === MessageType.EVENT && e.args), [["bye"]]);
  equal(delivered().length, 0, "the victim's leave carries none of the leaver's");

  const total = watchers.length * (300 * 4 + 2);
  const all = () => seen.reduce((sum, n) => sum + n, 0);
  await until(() => (delivered(), all() === total), 5000, `all ${total} EVENTs`);
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
