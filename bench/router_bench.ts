/**
 * The router core in memory: broker fan-out, event history at its limit and dealer call→yield.
 * Run: deno task bench
 */

import { Broker } from "../router/core/broker/broker.ts";
import { Dealer } from "../router/core/dealer/dealer.ts";
import { EventHistory } from "../router/core/broker/event_history.ts";
import type { SessionInfo } from "../router/mod.ts";
import { MessageType, sequentialIdGenerator } from "../wamp/mod.ts";

function session(id: number): SessionInfo {
  return {
    id,
    realm: "realm1",
    authid: `a${id}`,
    authrole: "anonymous",
    authmethod: "anonymous",
    authprovider: "static",
    roles: { publisher: {}, subscriber: {}, caller: {}, callee: {} },
    transport: "local",
  };
}

for (const subscribers of [1, 100, 1000]) {
  const broker = new Broker({
    subscriptionIds: sequentialIdGenerator(),
    publicationIds: sequentialIdGenerator(),
    now: Date.now,
  });
  for (let i = 1; i <= subscribers; i++) {
    broker.subscribe(session(i), {
      type: MessageType.SUBSCRIBE,
      request: 1,
      options: {},
      topic: "com.example.topic",
    });
  }
  const publisher = session(subscribers + 1);
  let request = 0;
  Deno.bench({
    name: `Broker.publish() to ${subscribers} subscribers`,
    group: "fan-out",
    baseline: subscribers === 1,
    fn() {
      broker.publish(publisher, {
        type: MessageType.PUBLISH,
        request: ++request,
        options: {},
        topic: "com.example.topic",
        args: ["hello"],
      });
    },
  });
}

// A history at its limit drops its oldest event on every PUBLISH.
for (const limit of [100, 100_000]) {
  const history = new EventHistory();
  history.enable(1, limit);
  let id = 0;
  const append = () => history.append(1, { id: ++id, topic: "t", timestamp: id, details: {} });
  for (let i = 0; i < limit; i++) append();
  Deno.bench({
    name: `EventHistory.append() at its limit of ${limit} events`,
    group: "history",
    baseline: limit === 100,
    fn: append,
  });
}

{
  const dealer = new Dealer({ registrationIds: sequentialIdGenerator(), now: Date.now });
  const callee = session(1);
  const caller = session(2);
  dealer.register(callee, {
    type: MessageType.REGISTER,
    request: 1,
    options: {},
    procedure: "com.example.add",
  });
  let request = 0;
  Deno.bench({
    name: "Dealer call → invocation → yield → result",
    fn() {
      const [invocation] = dealer.call(caller, {
        type: MessageType.CALL,
        request: ++request,
        options: {},
        procedure: "com.example.add",
        args: [1, 2],
      }).messages;
      dealer.yield(callee, {
        type: MessageType.YIELD,
        request: (invocation!.msg as { request: number }).request,
        options: {},
        args: [3],
      });
    },
  });
}

// Fan-out when the broker holds many pattern subscriptions that do not
// match: the MatchIndex keeps the cost close to the exact-only case.
for (const patterns of [0, 1000, 10000]) {
  const broker = new Broker({
    subscriptionIds: sequentialIdGenerator(),
    publicationIds: sequentialIdGenerator(),
    now: Date.now,
  });
  let request = 0;
  const subscribe = (id: number, topic: string, match: "exact" | "prefix" | "wildcard") =>
    broker.subscribe(session(id), {
      type: MessageType.SUBSCRIBE,
      request: ++request,
      options: match === "exact" ? {} : { match },
      topic,
    });
  for (let i = 1; i <= 100; i++) subscribe(i, "com.example.topic", "exact");
  for (let i = 0; i < patterns; i++) {
    if (i % 2 === 0) subscribe(1000 + i, `com.other${i}.`, "prefix");
    else subscribe(1000 + i, `com.example..x${i}`, "wildcard");
  }
  const publisher = session(1);
  Deno.bench({
    name: `Broker.publish() to 100 subscribers beside ${patterns} non-matching patterns`,
    group: "fan-out with patterns",
    baseline: patterns === 0,
    fn() {
      broker.publish(publisher, {
        type: MessageType.PUBLISH,
        request: ++request,
        options: {},
        topic: "com.example.topic",
        args: ["hello"],
      });
    },
  });
}
