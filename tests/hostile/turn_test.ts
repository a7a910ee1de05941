/**
 * One connection whose messages are each costly (a SUBSCRIBE asking for
 * the retained events of a wildcard pattern that starts with a wildcard
 * looks at every retained topic: 2 ms at 30,000) sends a thousand of them
 * in one burst: the router reads them in one chunk, but runs only
 * `TURN_MS` of them per turn of the event loop, so another session's
 * calls keep being answered meanwhile. Before, the burst held every other
 * session for seconds.
 */

import { ok } from "node:assert/strict";
import { join, startRouter, within } from "../_helpers/router.ts";

const RETAINED = 30_000;
const BURST = 1_000;

for (const via of ["tcp:json", "ws-batched:msgpack", "longpoll-batched:json"] as const) {
  Deno.test(`${via}: a burst of costly SUBSCRIBEs holds another session's calls for at most a few turns`, async () => {
    await using t = await startRouter({
      realms: [{
        name: "realm1",
        limits: { subscriptionsPerSession: BURST, patternSubscriptions: BURST },
      }],
    });
    const publisher = await join(t, "tcp:msgpack");
    const acks: Promise<unknown>[] = [];
    for (let i = 0; i < RETAINED; i++) {
      acks.push(publisher.publish(`com.example.t${i}`, {}, { retain: true, acknowledge: true }));
    }
    await within(Promise.all(acks), 20_000, "the retained events");
    const callee = await join(t, "json");
    await callee.register("com.example.echo", (args) => ({ args }));
    const bystander = await join(t, "msgpack");
    const attacker = await join(t, via);

    let attacking = true;
    let worst = 0;
    let calls = 0;
    const calling = (async () => {
      while (attacking) {
        const start = performance.now();
        await bystander.call("com.example.echo", { args: [calls++] });
        worst = Math.max(worst, performance.now() - start);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const burst: Promise<unknown>[] = [];
    for (let i = 0; i < BURST; i++) {
      // Patterns that match no retained topic: each one looks at all of them.
      burst.push(attacker.subscribe(`.none.p${i}`, () => {}, {
        match: "wildcard",
        get_retained: true,
      }));
    }
    await within(Promise.all(burst), 30_000, "the burst of SUBSCRIBEs");
    attacking = false;
    await calling;
    ok(calls > 10, `${calls} calls during the burst`);
    ok(worst < 300, `a call waited ${worst.toFixed(0)} ms behind the burst`);
  });
}
