/**
 * The meta events that wait for later turns are bounded: sessions that
 * subscribe to many topics and leave, again and again, watched, fill the
 * bound, then new subscriptions and registrations are refused with
 * `limit_exceeded` (each would add to them when its session leaves) until
 * they went out. Watchers lose none of them, and may still subscribe to
 * `wamp.*` topics.
 */

import { equal, ok } from "node:assert/strict";
import { Router } from "../../router/router.ts";
import type { Connection as Session } from "../../router/connection.ts";
import { ErrorUri, MessageType, MetaTopic, type WampMessage } from "../../wamp/mod.ts";
import { type FakePeer, joinFake } from "../_helpers/fake_peer.ts";
import { until } from "../_helpers/router.ts";

const join = joinFake;

/** Sends a request and returns the router's reply to it. */
function ask(client: { peer: FakePeer; session: Session }, msg: WampMessage): WampMessage {
  client.peer.take();
  client.session.receive(msg);
  return client.peer.take().find((m) => m.type !== MessageType.EVENT)!;
}

Deno.test("past the bound of waiting meta events, SUBSCRIBE and REGISTER are refused until they went out; watchers lose none", async () => {
  const router = new Router({ realms: [{ name: "realm1" }], logger: () => {} });
  const watcher = join(router);
  [MetaTopic.SUBSCRIPTION_ON_UNSUBSCRIBE, MetaTopic.SUBSCRIPTION_ON_DELETE].forEach((topic, i) =>
    watcher.session.receive({ type: MessageType.SUBSCRIBE, request: i + 1, options: {}, topic })
  );
  const probe = join(router);
  let request = 0;
  const register = () =>
    ask(probe, {
      type: MessageType.REGISTER,
      request: ++request,
      options: {},
      procedure: `com.example.probe${request}`,
    });
  let leavers = 0;
  let refused: WampMessage | undefined;
  while (refused === undefined && leavers < 80) {
    const leaver = join(router);
    for (let i = 1; i <= 1000; i++) {
      const topic = `com.example.t${i}`;
      leaver.session.receive({ type: MessageType.SUBSCRIBE, request: i, options: {}, topic });
    }
    leaver.session.receive({ type: MessageType.GOODBYE, details: {}, reason: "wamp.close.normal" });
    leavers++;
    const reply = register();
    if (reply.type === MessageType.ERROR) refused = reply;
  }
  ok(refused?.type === MessageType.ERROR, `no REGISTER refused after ${leavers} leavers`);
  equal(refused.error, ErrorUri.LIMIT_EXCEEDED);
  ok(String(refused.args?.[0]).includes("meta events"), String(refused.args?.[0]));
  ok(leavers >= 20, `refused after ${leavers} leavers only`);
  const subscribe = (topic: string) =>
    ask(probe, { type: MessageType.SUBSCRIBE, request: ++request, options: {}, topic });
  const denied = subscribe("com.example.new");
  equal(denied.type === MessageType.ERROR && denied.error, ErrorUri.LIMIT_EXCEEDED);
  equal(subscribe(MetaTopic.SESSION_ON_JOIN).type, MessageType.SUBSCRIBED, "wamp.* fires none");

  // Later turns publish what waits: once under the bound, both are accepted again.
  await until(() => register().type === MessageType.REGISTERED, 10_000, "REGISTER accepted");
  equal(subscribe("com.example.new").type, MessageType.SUBSCRIBED);
  const events = () => watcher.peer.sent.filter((m) => m.type === MessageType.EVENT).length;
  await until(() => events() === leavers * 2000, 10_000, `all ${leavers * 2000} EVENTs`);
  await router.close();
});
