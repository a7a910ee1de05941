/**
 * A subscriber that reads loses nothing of a burst published in one turn,
 * even when the listener's `maxBacklog` is small: EVENTs stop at half of
 * it, so what a turn queues reaches the socket (and the kernel) before it
 * can look like a backlog, batched WebSocket included (its batch goes out
 * at a quarter of `maxBacklog` too).
 */

import { equal } from "node:assert/strict";
import { connect, connectLocal } from "../../mod.ts";
import { addressOf, routerFor, startRouter, until, type Via } from "../_helpers/router.ts";

const MAX_BACKLOG = 64 * 1024;
const BURST = 1000; // of 40-byte EVENTs: more than half of MAX_BACKLOG in one turn

for (const via of ["ws:json", "ws-batched:json", "ws-deflate:json", "tcp:json"] as const) {
  Deno.test(`[${via}] a reading subscriber gets all of a burst past half of a small maxBacklog`, async () => {
    const base = routerFor(via as Via);
    await using t = await startRouter({
      ...base,
      listener: { ...base.listener, attach: { maxBacklog: MAX_BACKLOG } },
    });
    const [url, options] = addressOf(t, via);
    const subscriber = await connect(url, { realm: "realm1", ...options });
    let got = 0;
    await subscriber.subscribe("room", () => void got++);
    const publisher = await connectLocal(t.router, "realm1");
    const payload = "x".repeat(40);
    for (let i = 0; i < BURST; i++) publisher.publish("room", { args: [payload] });
    await until(() => got === BURST, 5000, "the whole burst");
    equal(got, BURST);
    await subscriber.close();
    await publisher.close();
  });
}
