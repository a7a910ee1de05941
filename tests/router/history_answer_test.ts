/**
 * What event history holds and what one `wamp.subscription.get_events`
 * answer may hold: each kept event counts `HISTORY_EVENT_OVERHEAD` against
 * `historyBytes`, and an answer past `ANSWER_LIMITS` (size, and the
 * decoders' dict keys, values and byte strings) is refused with
 * `cloverleaf.error.limit_exceeded`; an event no answer can hold (too deep
 * for a message, or past a bound on its own) is left out. Over a socket,
 * the largest answer allowed decodes in our client.
 */

import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { Broker } from "../../router/core/broker/broker.ts";
import { HISTORY_EVENT_OVERHEAD } from "../../router/core/broker/event_history.ts";
import { ANSWER_LIMITS } from "../../router/core/broker/history_answer.ts";
import { CallError } from "../../router/core/errors.ts";
import {
  type Dict,
  ErrorUri,
  MAX_NESTING_DEPTH,
  MessageType,
  sequentialIdGenerator,
  type SerializerName,
} from "../../wamp/mod.ts";
import { connect } from "../../mod.ts";
import { sessionInfo } from "../_helpers/session_info.ts";
import { startRouter } from "../_helpers/router.ts";

const TOPIC = "com.example.log";
const publisher = sessionInfo(1, ["publisher"]);
const reader = sessionInfo(2, ["subscriber"]);

/** A broker keeping the history of TOPIC (its subscription is ID 1), with `historyBytes`. */
function historyBroker(historyBytes: number): Broker {
  return new Broker({
    subscriptionIds: sequentialIdGenerator(),
    publicationIds: sequentialIdGenerator(),
    now: Date.now,
    eventHistory: [{ topic: TOPIC, limit: 1_000_000 }],
    limits: { historyBytes },
  });
}

function publish(broker: Broker, payload: { args?: unknown[]; kwargs?: Dict } = {}): void {
  broker.publish(publisher, {
    type: MessageType.PUBLISH,
    request: 1,
    options: {},
    topic: TOPIC,
    ...payload,
  });
}

/** get_events on TOPIC's subscription: the events, or the refusal's message. */
function query(broker: Broker, kwargs: Dict = {}): number | string {
  try {
    return broker.history.query(broker.subscription(1)!, reader, kwargs).length;
  } catch (e) {
    if (!(e instanceof CallError)) throw e;
    equal(e.uri, ErrorUri.LIMIT_EXCEEDED);
    return e.message;
  }
}

const refused = (bound: string, fit: number) =>
  `Cannot answer get_events: the events take more than ${bound}; the first ${fit} fit (ask with "limit")`;

Deno.test("each kept event counts HISTORY_EVENT_OVERHEAD against historyBytes", () => {
  const broker = historyBroker(100_000);
  for (let i = 0; i < 10_000; i++) publish(broker);
  // Empty publications counted ~10 bytes each: all 10,000 were kept (~222 bytes of heap each).
  const kept = query(broker) as number;
  ok(kept <= 100_000 / HISTORY_EVENT_OVERHEAD, `${kept} kept`);
  ok(kept >= 100_000 / (HISTORY_EVENT_OVERHEAD + 64), `${kept} kept`);
  ok(broker.history.bytes(1) <= 100_000);
});

Deno.test("get_events refuses an answer past the decoders' dict keys, saying how many fit", () => {
  const broker = historyBroker(1024 * 1024);
  const kwargs = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, 0]));
  for (let i = 0; i < 20; i++) publish(broker, { kwargs });
  // Each event: 5,000 keys of kwargs, 5 of its own, 1 of details (the topic).
  equal(query(broker), refused(`${ANSWER_LIMITS.keys} dict keys`, 13));
  // ERROR.Kwargs say it too, to ask again with.
  throws(
    () => broker.history.query(broker.subscription(1)!, reader, {}),
    (e) => e instanceof CallError && e.kwargs?.limit === 13,
  );
  equal(query(broker, { limit: 13 }), 13);
  equal(query(broker, { limit: 13, reverse: true }), 13);
});

Deno.test("get_events refuses an answer past the decoders' values, byte strings or 4 MiB", () => {
  const values = historyBroker(64 * 1024 * 1024);
  for (let i = 0; i < 20; i++) publish(values, { args: new Array(60_000).fill("") });
  equal(query(values), refused(`${ANSWER_LIMITS.values} values`, 16));
  const bytes = historyBroker(64 * 1024 * 1024);
  for (let i = 0; i < 20; i++) publish(bytes, { args: ["x".repeat(1_000_000)] });
  equal(query(bytes), refused(`${ANSWER_LIMITS.bytes} bytes (estimated)`, 4));
  const binaries = historyBroker(64 * 1024 * 1024);
  const blobs = Array.from({ length: 10_000 }, () => new Uint8Array(1));
  for (let i = 0; i < 20; i++) publish(binaries, { args: blobs });
  equal(query(binaries), refused(`${ANSWER_LIMITS.binaries} byte strings`, 6));
  equal(query(binaries, { limit: 6 }), 6);
});

Deno.test("get_events leaves out an event that would nest deeper than a message may", () => {
  const broker = historyBroker(1024 * 1024);
  // In a PUBLISH, args is level 2: the deepest list this may hold is at level 64.
  const nested = (levels: number) => {
    let value: unknown = [];
    for (let i = 1; i < levels; i++) value = [value];
    return value;
  };
  publish(broker, { args: [1] });
  publish(broker, { args: [nested(MAX_NESTING_DEPTH - 2)] }); // level 64 in the PUBLISH
  publish(broker, { args: [nested(MAX_NESTING_DEPTH - 4)] }); // 64 in the answer too
  publish(broker, { args: [2] });
  const events = broker.history.query(broker.subscription(1)!, reader, {});
  deepEqual(events.map((e) => e.publication), [1, 3, 4].map((n) => events[0]!.publication + n - 1));
});

Deno.test("get_events leaves out an event that passes a bound on its own, and reads on past it", () => {
  // A PUBLISH may carry 65,535 dict keys, an answer 65,471; 4 MiB (estimated); 65,471 byte strings.
  const alone: Dict[] = [
    { kwargs: Object.fromEntries(Array.from({ length: 65_490 }, (_, i) => [`k${i}`, 0])) },
    { args: ["x".repeat(ANSWER_LIMITS.bytes)] },
    { args: Array.from({ length: ANSWER_LIMITS.binaries + 1 }, () => new Uint8Array(0)) },
  ];
  for (const big of alone) {
    const broker = historyBroker(64 * 1024 * 1024);
    publish(broker, { args: ["e0"] });
    publish(broker, { args: ["e1"] });
    publish(broker, big);
    publish(broker, { args: ["e3"] });
    publish(broker, big); // first in the answer after e3
    publish(broker, { args: ["e5"] });
    const read = (kwargs: Dict) =>
      broker.history.query(broker.subscription(1)!, reader, kwargs).map((e) =>
        (e.args as unknown[])[0]
      );
    // It was refused: "the first 2 fit", and "the first 0 fit" after e1 (nothing past it readable).
    deepEqual(read({}), ["e0", "e1", "e3", "e5"]);
    const e1 = broker.history.query(broker.subscription(1)!, reader, {})[1]!.publication;
    deepEqual(read({ after_publication: e1 }), ["e3", "e5"]);
    deepEqual(read({ after_publication: e1, limit: 1 }), ["e3"]);
    deepEqual(read({ reverse: true, limit: 2 }), ["e5", "e3"]);
  }
  // One that fits alone (6 keys of its own) is still refused after others (20 of 6), saying how many fit.
  const broker = historyBroker(64 * 1024 * 1024);
  for (let i = 0; i < 20; i++) publish(broker, { args: [i] });
  publish(broker, {
    kwargs: Object.fromEntries(Array.from({ length: 65_400 }, (_, i) => [`k${i}`, 0])),
  });
  equal(query(broker), refused(`${ANSWER_LIMITS.keys} dict keys`, 20));
  equal(query(broker, { limit: 20 }), 20);
  equal(query(broker, { reverse: true, limit: 1 }), 1);
});

for (const serializer of ["json", "msgpack", "cbor"] as SerializerName[]) {
  Deno.test(`the largest get_events answer allowed decodes in our client (${serializer})`, async () => {
    await using t = await startRouter({
      realms: [{ name: "realm1", eventHistory: [{ topic: TOPIC, limit: 1000 }] }],
    });
    const url = t.listener.urls.rawsocket!;
    const pub = await connect(url, { realm: "realm1" });
    const kwargs = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, 0]));
    for (let i = 0; i < 20; i++) await pub.publish(TOPIC, { kwargs }, { acknowledge: true });
    const caller = await connect(url, { realm: "realm1", serializers: [serializer] });
    const id = (await caller.call("wamp.subscription.lookup", { args: [TOPIC] })).args[0];
    const whole = await caller.call("wamp.subscription.get_events", { args: [id] }).catch((e) => e);
    equal(whole.uri, ErrorUri.LIMIT_EXCEEDED);
    equal(whole.kwargs.limit, 13);
    const fit = await caller.call("wamp.subscription.get_events", {
      args: [id],
      kwargs: { limit: 13 },
    });
    equal(fit.args.length, 13);
    equal(caller.isOpen, true);
    await caller.close();
    await pub.close();
  });
}
