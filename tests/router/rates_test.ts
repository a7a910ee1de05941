/**
 * The dashboard's rates by topic and procedure count a joined session's
 * requests by the URIs its realm takes: nothing a connection sends before
 * it joined, no URI the broker or dealer refuses as invalid (a peer's
 * megabyte strings were kept and went into every snapshot), and no key
 * longer than a URI may be.
 */

import { deepEqual, equal } from "node:assert/strict";
import { Router } from "../../router/router.ts";
import { metricsOf } from "../../router/metrics.ts";
import { Rates, RateTable } from "../../router/counters.ts";
import { type Dict, MAX_URI_LENGTH, MessageType, type WampMessage } from "../../wamp/mod.ts";
import { FakePeer } from "../_helpers/fake_peer.ts";

const ROLES = { publisher: {}, caller: {} };
const HUGE = `0${"x".repeat(1 << 20)}`;

/** A connection fed messages directly, as its transport would. */
function connection(router: Router) {
  const peer = new FakePeer();
  const handler = router.attach(peer);
  let request = 0;
  const send = (msg: WampMessage) => handler.receive(msg);
  return {
    peer,
    hello(realm: string) {
      send({ type: MessageType.HELLO, realm, details: { roles: ROLES } as Dict });
      equal(peer.sent.at(-1)?.type, MessageType.WELCOME);
    },
    publish(topic: string) {
      send({ type: MessageType.PUBLISH, request: ++request, options: {}, topic });
    },
    call(procedure: string) {
      send({ type: MessageType.CALL, request: ++request, options: {}, procedure });
    },
  };
}

Deno.test("rates count only a joined session's requests, by URIs its realm takes", async () => {
  const router = new Router({
    realms: [{ name: "realm1" }, { name: "strict", strictUris: true }],
    logger: () => {},
  });
  const metrics = metricsOf(router);
  metrics.timing = true;
  const rates = metrics.rates = new Rates();
  try {
    // Before HELLO: a protocol violation, ABORT; the router never took the URI.
    const early = connection(router);
    early.publish(HUGE);
    equal(early.peer.sent.at(-1)?.type, MessageType.ABORT);
    const early2 = connection(router);
    early2.call("com.example.before_hello");
    equal(early2.peer.sent.at(-1)?.type, MessageType.ABORT);

    const loose = connection(router);
    loose.hello("realm1");
    loose.publish("com.example.ok");
    loose.publish("com.example.ok");
    loose.publish(HUGE); // too long
    loose.publish(`com.${"x".repeat(MAX_URI_LENGTH)}`); // one character too long
    loose.publish("com.has space");
    loose.publish("wamp.session.on_join"); // the router's own
    loose.call("com.example.proc"); // no such procedure: a request on a valid URI all the same
    loose.call("wamp.session.count");
    loose.call(HUGE);
    loose.call("com..empty");

    const strict = connection(router);
    strict.hello("strict");
    strict.publish("Com.Example.Upper"); // loose, not strict
    strict.publish("com.example.lower");
    strict.call("Com.Example.Upper");

    deepEqual(rates.topics.roll(10), [["com.example.ok", 2], ["com.example.lower", 1]]);
    deepEqual(rates.procedures.roll(10), [["com.example.proc", 1], ["wamp.session.count", 1]]);
  } finally {
    await router.close();
  }
});

Deno.test("RateTable keeps no key longer than a URI may be: it is counted with the overflow", () => {
  const table = new RateTable();
  table.hit("x".repeat(MAX_URI_LENGTH + 1));
  table.hit("x".repeat(MAX_URI_LENGTH));
  equal(table.overflow, 1);
  deepEqual(table.roll(10), [["x".repeat(MAX_URI_LENGTH), 1]]);
});
