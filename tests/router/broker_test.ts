import { deepEqual, equal, ok } from "node:assert/strict";
import { Broker } from "../../router/broker.ts";
import type { Outbound, SessionInfo } from "../../router/types.ts";
import {
  type Dict,
  ErrorUri,
  type EventMessage,
  MessageType,
  type PublishMessage,
  sequentialIdGenerator,
  type SubscribeMessage,
  type UnsubscribeMessage,
} from "../../wamp/mod.ts";
import { sessionInfo } from "../_helpers/session_info.ts";

function session(id: number): SessionInfo {
  return sessionInfo(id, ["publisher", "subscriber"]);
}

const alice = session(1);
const bob = session(2);
const carol = session(3);

function newBroker(strictUris = false): Broker {
  return new Broker({
    strictUris,
    subscriptionIds: sequentialIdGenerator(),
    publicationIds: sequentialIdGenerator(),
  });
}

function subscribe(
  request: number,
  topic: string,
  options: Dict = {},
): SubscribeMessage {
  return { type: MessageType.SUBSCRIBE, request, options, topic };
}

function unsubscribe(
  request: number,
  subscription: number,
): UnsubscribeMessage {
  return { type: MessageType.UNSUBSCRIBE, request, subscription };
}

function publish(
  request: number,
  topic: string,
  options: Dict = {},
  payload: Pick<PublishMessage, "args" | "kwargs"> = {},
): PublishMessage {
  return { type: MessageType.PUBLISH, request, options, topic, ...payload };
}

/** The subscription ID from a lone SUBSCRIBED reply. */
function subscriptionOf(out: Outbound[]): number {
  equal(out.length, 1);
  const msg = out[0]!.msg;
  equal(msg.type, MessageType.SUBSCRIBED);
  return (msg as { subscription: number }).subscription;
}

function eventOf(out: Outbound): EventMessage {
  equal(out.msg.type, MessageType.EVENT);
  return out.msg as EventMessage;
}

Deno.test("Broker.subscribe() returns SUBSCRIBED with the request ID", () => {
  const broker = newBroker();
  deepEqual(broker.subscribe(alice, subscribe(7, "com.example.topic")), [
    {
      to: 1,
      msg: { type: MessageType.SUBSCRIBED, request: 7, subscription: 1 },
    },
  ]);
  const sub = broker.subscription(1);
  ok(sub !== undefined);
  equal(sub.topic, "com.example.topic");
  equal(sub.match, "exact");
  deepEqual([...sub.subscribers], [1]);
});

Deno.test("Broker.subscribe() returns the same subscription ID for the same topic", () => {
  const broker = newBroker();
  const first = subscriptionOf(
    broker.subscribe(alice, subscribe(1, "com.example.topic")),
  );
  const again = subscriptionOf(
    broker.subscribe(alice, subscribe(2, "com.example.topic")),
  );
  const other = subscriptionOf(
    broker.subscribe(bob, subscribe(1, "com.example.topic")),
  );
  equal(again, first);
  equal(other, first);
  deepEqual([...broker.subscription(first)!.subscribers], [1, 2]);
  const different = subscriptionOf(
    broker.subscribe(bob, subscribe(2, "com.example.other")),
  );
  ok(different !== first);
});

Deno.test("Broker.subscribe() refuses invalid URIs and unsupported match policies", () => {
  const broker = newBroker();
  const [bad] = broker.subscribe(alice, subscribe(3, "com..topic"));
  deepEqual(bad, {
    to: 1,
    msg: {
      type: MessageType.ERROR,
      requestType: MessageType.SUBSCRIBE,
      request: 3,
      details: {},
      error: ErrorUri.INVALID_URI,
    },
  });
  const [prefix] = broker.subscribe(
    alice,
    subscribe(4, "com.example", { match: "prefix" }),
  );
  equal(prefix!.msg.type, MessageType.ERROR);
  equal((prefix!.msg as { error: string }).error, ErrorUri.OPTION_NOT_ALLOWED);
});

Deno.test("Broker.subscribe() refuses Com.X when URIs are strict", () => {
  const strict = newBroker(true);
  const [out] = strict.subscribe(alice, subscribe(1, "Com.X"));
  equal(out!.msg.type, MessageType.ERROR);
  equal((out!.msg as { error: string }).error, ErrorUri.INVALID_URI);
  // The loose rule accepts it.
  subscriptionOf(newBroker(false).subscribe(alice, subscribe(1, "Com.X")));
});

Deno.test("Broker.unsubscribe() returns UNSUBSCRIBED", () => {
  const broker = newBroker();
  const id = subscriptionOf(
    broker.subscribe(alice, subscribe(1, "com.example.topic")),
  );
  deepEqual(broker.unsubscribe(alice, unsubscribe(2, id)), [
    { to: 1, msg: { type: MessageType.UNSUBSCRIBED, request: 2 } },
  ]);
  equal(broker.subscription(id), undefined);
  // Gone now: a second UNSUBSCRIBE fails.
  const [again] = broker.unsubscribe(alice, unsubscribe(3, id));
  equal((again!.msg as { error: string }).error, ErrorUri.NO_SUCH_SUBSCRIPTION);
});

Deno.test("Broker.unsubscribe() keeps the subscription while others hold it", () => {
  const broker = newBroker();
  const id = subscriptionOf(
    broker.subscribe(alice, subscribe(1, "com.example.topic")),
  );
  broker.subscribe(bob, subscribe(1, "com.example.topic"));
  broker.unsubscribe(alice, unsubscribe(2, id));
  deepEqual([...broker.subscription(id)!.subscribers], [2]);
  const out = broker.publish(carol, publish(1, "com.example.topic"));
  deepEqual(out.map((o) => o.to), [[2]]);
});

Deno.test("Broker.unsubscribe() refuses an unknown ID or someone else's subscription", () => {
  const broker = newBroker();
  const id = subscriptionOf(
    broker.subscribe(alice, subscribe(1, "com.example.topic")),
  );
  const noSuch = {
    type: MessageType.ERROR,
    requestType: MessageType.UNSUBSCRIBE,
    request: 5,
    details: {},
    error: ErrorUri.NO_SUCH_SUBSCRIPTION,
  };
  deepEqual(broker.unsubscribe(alice, unsubscribe(5, 999)), [{
    to: 1,
    msg: noSuch,
  }]);
  deepEqual(broker.unsubscribe(bob, unsubscribe(5, id)), [{
    to: 2,
    msg: noSuch,
  }]);
  // Alice still holds it.
  deepEqual([...broker.subscription(id)!.subscribers], [1]);
});

Deno.test("Broker.publish() sends one EVENT object addressed to every subscriber", () => {
  const broker = newBroker();
  const id = subscriptionOf(
    broker.subscribe(alice, subscribe(1, "com.example.topic")),
  );
  broker.subscribe(bob, subscribe(1, "com.example.topic"));
  broker.subscribe(bob, subscribe(2, "com.example.topic")); // repeated: still once
  const out = broker.publish(carol, publish(1, "com.example.topic"));
  equal(out.length, 1);
  deepEqual(out[0]!.to, [1, 2]);
  deepEqual(eventOf(out[0]!), {
    type: MessageType.EVENT,
    subscription: id,
    publication: 1,
    details: {},
  });
});

Deno.test("Broker.publish() reaches nobody on a topic without subscribers", () => {
  const broker = newBroker();
  broker.subscribe(alice, subscribe(1, "com.example.other"));
  deepEqual(broker.publish(carol, publish(1, "com.example.topic")), []);
});

Deno.test("Broker.publish() skips the publisher unless exclude_me is false", () => {
  const broker = newBroker();
  broker.subscribe(alice, subscribe(1, "com.example.topic"));
  broker.subscribe(bob, subscribe(1, "com.example.topic"));
  deepEqual(
    broker.publish(alice, publish(2, "com.example.topic")).map((o) => o.to),
    [[2]],
  );
  deepEqual(
    broker.publish(alice, publish(3, "com.example.topic", { exclude_me: true }))
      .map((o) => o.to),
    [[2]],
  );
  deepEqual(
    broker.publish(
      alice,
      publish(4, "com.example.topic", { exclude_me: false }),
    )
      .map((o) => o.to),
    [[1, 2]],
  );
});

Deno.test("Broker.publish() sends no EVENT when the publisher is the only subscriber", () => {
  const broker = newBroker();
  broker.subscribe(alice, subscribe(1, "com.example.topic"));
  deepEqual(broker.publish(alice, publish(2, "com.example.topic")), []);
});

Deno.test("Broker.publish() acknowledges with the EVENT's publication ID", () => {
  const broker = newBroker();
  broker.subscribe(alice, subscribe(1, "com.example.topic"));
  const out = broker.publish(
    bob,
    publish(9, "com.example.topic", { acknowledge: true }),
  );
  equal(out.length, 2);
  const event = eventOf(out[0]!);
  deepEqual(out[1], {
    to: 2,
    msg: {
      type: MessageType.PUBLISHED,
      request: 9,
      publication: event.publication,
    },
  });
  // Each publication gets a new ID.
  const next = broker.publish(
    bob,
    publish(10, "com.example.topic", { acknowledge: true }),
  );
  ok(eventOf(next[0]!).publication !== event.publication);
});

Deno.test("Broker.publish() acknowledges a publication nobody receives", () => {
  const broker = newBroker();
  deepEqual(
    broker.publish(bob, publish(3, "com.example.topic", { acknowledge: true })),
    [
      {
        to: 2,
        msg: { type: MessageType.PUBLISHED, request: 3, publication: 1 },
      },
    ],
  );
});

Deno.test("Broker.publish() reports errors only when acknowledge is set", () => {
  const broker = newBroker();
  broker.subscribe(alice, subscribe(1, "wamp.session.on_join"));
  for (const topic of ["com..topic", "wamp.session.on_join", "wamp"]) {
    deepEqual(broker.publish(bob, publish(1, topic)), [], topic);
    deepEqual(broker.publish(bob, publish(2, topic, { acknowledge: true })), [{
      to: 2,
      msg: {
        type: MessageType.ERROR,
        requestType: MessageType.PUBLISH,
        request: 2,
        details: {},
        error: ErrorUri.INVALID_URI,
      },
    }], topic);
  }
});

Deno.test("Broker.publish() refuses Com.X when URIs are strict", () => {
  const broker = newBroker(true);
  deepEqual(broker.publish(bob, publish(1, "Com.X")), []);
  const [out] = broker.publish(bob, publish(2, "Com.X", { acknowledge: true }));
  equal((out!.msg as { error: string }).error, ErrorUri.INVALID_URI);
});

Deno.test("Broker.publish() refuses black/white listing options it does not support", () => {
  const broker = newBroker();
  broker.subscribe(alice, subscribe(1, "com.example.topic"));
  deepEqual(
    broker.publish(bob, publish(1, "com.example.topic", { exclude: [1] })),
    [],
  );
  const [out] = broker.publish(
    bob,
    publish(2, "com.example.topic", { eligible: [1], acknowledge: true }),
  );
  equal((out!.msg as { error: string }).error, ErrorUri.OPTION_NOT_ALLOWED);
});

Deno.test("Broker.publish() passes args and kwargs through", () => {
  const broker = newBroker();
  broker.subscribe(alice, subscribe(1, "com.example.topic"));
  const args = [1, "two", { three: 3 }];
  const kwargs = { a: [1], b: null };
  const [out] = broker.publish(
    bob,
    publish(1, "com.example.topic", {}, { args, kwargs }),
  );
  const event = eventOf(out!);
  deepEqual(event.args, args);
  deepEqual(event.kwargs, kwargs);
  // Without a payload the EVENT carries none.
  const [bare] = broker.publish(bob, publish(2, "com.example.topic"));
  equal("args" in bare!.msg, false);
  equal("kwargs" in bare!.msg, false);
});

Deno.test("Broker.removeSession() drops the session's subscriptions", () => {
  const broker = newBroker();
  const id = subscriptionOf(
    broker.subscribe(alice, subscribe(1, "com.example.topic")),
  );
  broker.subscribe(alice, subscribe(2, "com.example.other"));
  broker.removeSession(1);
  equal(broker.subscription(id), undefined);
  deepEqual(broker.publish(bob, publish(1, "com.example.topic")), []);
  deepEqual(broker.publish(bob, publish(2, "com.example.other")), []);
  // Its old subscription IDs are unknown now, and removing twice is harmless.
  const [out] = broker.unsubscribe(alice, unsubscribe(3, id));
  equal((out!.msg as { error: string }).error, ErrorUri.NO_SUCH_SUBSCRIPTION);
  broker.removeSession(1);
  broker.removeSession(42);
});

Deno.test("Broker.removeSession() leaves other subscribers in place", () => {
  const broker = newBroker();
  const id = subscriptionOf(
    broker.subscribe(alice, subscribe(1, "com.example.topic")),
  );
  broker.subscribe(bob, subscribe(1, "com.example.topic"));
  broker.removeSession(1);
  const out = broker.publish(carol, publish(1, "com.example.topic"));
  deepEqual(out.map((o) => o.to), [[2]]);
  equal(eventOf(out[0]!).subscription, id);
});
