/**
 * A bridge path's requests take turns with the WAMP connections: its
 * in-process session's router end is paced as a socket's inbox is
 * (`transports/stream/inbox.ts`). Requests whose messages each cost the
 * router 5 ms, 40 at once: the event loop gets turns between them (a
 * socket is read, a timer fires) instead of none for the 200 ms they take
 * together. The router's cost is a handler that takes 5 ms per message,
 * and what is counted is the timer's turns, not how long they waited, so
 * a busy machine does not change the outcome.
 */

import { equal, ok } from "node:assert/strict";
import { Router } from "../../mod.ts";
import { httpBridge } from "../../bridge/mount.ts";
import { resolveBridgeOptions } from "../../bridge/config.ts";
import { TURN_MS } from "../../transports/stream/inbox.ts";
import { costly } from "./_costly.ts";

const REQUESTS = 40;
const COST_MS = 5;

Deno.test("40 bridge requests that each cost the router 5 ms leave the event loop turns in between", async () => {
  const router = new Router({ realms: [{ name: "realm1" }], logger: () => {} });
  const options = resolveBridgeOptions(
    { path: "/pub", type: "publisher", realm: "realm1", role: "app", auth: "none" },
    "bridges[0]",
  );
  const bridge = httpBridge(costly(router, COST_MS), [options]);
  // Each from an address of its own: one address may have 8 (maxPendingPerSource) being read.
  const post = (i: number) =>
    bridge.handle(
      new Request("http://127.0.0.1/pub", {
        method: "POST",
        body: JSON.stringify({ topic: "com.example.t", args: [1], options: { acknowledge: true } }),
      }),
      `tcp4:10.0.0.${i + 1}:1`,
    );
  equal((await post(0)).status, 202); // the session joined
  let ticks = 0;
  const ticking = setInterval(() => ticks++, 1);
  const answers = await Promise.all(Array.from({ length: REQUESTS }, (_, i) => post(i)));
  clearInterval(ticking);
  for (const answer of answers) equal(answer.status, 202);
  // All at once: 200 ms and no turn for the timer (0 or 1 ticks); in turns of TURN_MS, about one
  // tick after each.
  const least = (REQUESTS * COST_MS) / (2 * TURN_MS);
  ok(
    ticks >= least,
    `the timer had ${ticks} turns while the bridge's requests ran (${least} at least)`,
  );
  await bridge.close();
  await router.close();
});
