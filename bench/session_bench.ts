/**
 * Session lifecycle and request checks in memory: what joining and leaving
 * costs with and without meta-event subscribers, and what static
 * authorization adds to a publish. Run: deno task bench
 */

import { Router, type RouterOptions } from "../mod.ts";
import { MessageType, type Peer, type WampMessage } from "../wamp/mod.ts";

const ROLES = { publisher: {}, subscriber: {}, caller: {}, callee: {} };

/** A peer that drops what it is sent. */
function peer(): Peer {
  return { info: { type: "bench" }, send() {}, backlog: () => 0, queued: () => 0, close() {} };
}

function joined(router: Router): ReturnType<Router["attach"]> {
  const session = router.attach(peer());
  session.receive({ type: MessageType.HELLO, realm: "realm1", details: { roles: ROLES } });
  return session;
}

function subscribe(session: ReturnType<Router["attach"]>, request: number, topic: string): void {
  session.receive({ type: MessageType.SUBSCRIBE, request, options: {}, topic });
}

const quiet: RouterOptions = { logger: () => {} };

for (const watched of [false, true]) {
  const router = new Router({ ...quiet, realms: [{ name: "realm1" }] });
  const watcher = joined(router);
  subscribe(watcher, 1, "com.example.unrelated");
  if (watched) {
    subscribe(watcher, 2, "wamp.session.on_join");
    subscribe(watcher, 3, "wamp.session.on_leave");
  }
  Deno.bench({
    name: `join + leave, ${watched ? "on_join/on_leave subscribed" : "no meta subscriber"}`,
    group: "lifecycle",
    baseline: !watched,
    fn() {
      joined(router).closed();
    },
  });
}

for (const authorized of [false, true]) {
  const router = new Router({
    ...quiet,
    realms: [{
      name: "realm1",
      ...(authorized
        ? {
          roles: [{
            name: "anonymous",
            permissions: [
              { uri: "com.example.", match: "prefix", allow: { publish: true } },
              { uri: "com.example.admin", allow: {} },
              { uri: "com..x", match: "wildcard", allow: { publish: false } },
            ],
          }],
        }
        : {}),
    }],
  });
  const publisher = joined(router);
  let request = 0;
  const msg = (): WampMessage => ({
    type: MessageType.PUBLISH,
    request: ++request,
    options: {},
    topic: "com.example.topic",
    args: ["hello"],
  });
  Deno.bench({
    name: `publish, ${authorized ? "static permissions" : "no roles"}`,
    group: "authorization",
    baseline: !authorized,
    fn() {
      publisher.receive(msg());
    },
  });
}
