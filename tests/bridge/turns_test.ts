/**
 * A bridge path's requests take turns with the WAMP connections: its
 * in-process session's router end is paced as a socket's inbox is
 * (`transports/stream/inbox.ts`). Requests whose messages each cost the
 * router 5 ms, 40 at once: the event loop gets a turn between them (a
 * socket is read, a timer fires) instead of waiting 200 ms for all of
 * them. The router's cost is a handler that takes 5 ms per message, so
 * what is measured is the pacing, not this machine's speed.
 */

import { equal, ok } from "node:assert/strict";
import { Router } from "../../mod.ts";
import { httpBridge } from "../../bridge/mount.ts";
import { resolveBridgeOptions } from "../../bridge/config.ts";
import type { PeerAcceptor, PeerHandler } from "../../wamp/mod.ts";

const REQUESTS = 40;
const COST_MS = 5;

/** An acceptor whose handlers take `COST_MS` for each message after the session's first. */
function costly(router: Router): PeerAcceptor {
  return {
    attach(peer, options): PeerHandler {
      const handler = router.attach(peer, options);
      let seen = 0;
      return {
        receive(msg) {
          if (seen++ > 0) {
            const until = Date.now() + COST_MS;
            while (Date.now() < until) { /* the router at work */ }
          }
          handler.receive(msg);
        },
        fail: (error) => handler.fail(error),
        closed: () => handler.closed(),
        get joined(): boolean {
          return handler.joined === true;
        },
      };
    },
  };
}

Deno.test("40 bridge requests that each cost the router 5 ms leave the event loop turns in between", async () => {
  const router = new Router({ realms: [{ name: "realm1" }], logger: () => {} });
  const options = resolveBridgeOptions(
    { path: "/pub", type: "publisher", realm: "realm1", role: "app", auth: "none" },
    "bridges[0]",
  );
  const bridge = httpBridge(costly(router), [options]);
  const post = () =>
    bridge.handle(
      new Request("http://127.0.0.1/pub", {
        method: "POST",
        body: JSON.stringify({ topic: "com.example.t", args: [1], options: { acknowledge: true } }),
      }),
      "tcp4:127.0.0.1:1",
    );
  equal((await post()).status, 202); // the session joined
  let worst = 0;
  let last = performance.now();
  const ticking = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
  }, 1);
  last = performance.now();
  const answers = await Promise.all(Array.from({ length: REQUESTS }, post));
  clearInterval(ticking);
  worst = Math.max(worst, performance.now() - last); // the last stretch, or all of it
  for (const answer of answers) equal(answer.status, 202);
  // All at once: 200 ms; in turns of TURN_MS (20 ms), a message more at most, then the loop.
  ok(worst < 100, `the event loop waited ${worst.toFixed(0)} ms for the bridge's requests`);
  await bridge.close();
  await router.close();
});
