/**
 * A SUBSCRIBE in flight when the last local holder of the same
 * subscription unsubscribes: the router answers the SUBSCRIBE with that
 * subscription, then drops it on the UNSUBSCRIBE sent after. The new
 * subscription must not be left on a subscription the router dropped: the
 * client subscribes again, behind the UNSUBSCRIBE, and receives events.
 */

import { deepEqual } from "node:assert/strict";
import { join, startRouter, until } from "../_helpers/router.ts";

for (const via of ["tcp:json", "local"] as const) {
  Deno.test(`${via}: a SUBSCRIBE answered just before the UNSUBSCRIBE of the same subscription still receives events`, async () => {
    await using t = await startRouter();
    const s = await join(t, via);
    const publisher = await join(t, "json");
    const first = await s.subscribe("com.example.t", () => {});
    const got: unknown[] = [];
    const second = s.subscribe("com.example.t", (e) => void got.push(e.args[0]));
    await first.unsubscribe(); // sent after the second SUBSCRIBE, answered after it
    const sub = await second;
    await publisher.publish("com.example.t", { args: [1] }, { acknowledge: true });
    await until(() => got.length === 1, 2000, "the event");
    deepEqual(got, [1]);
    await sub.unsubscribe();
    await s.close();
    await publisher.close();
  });
}
