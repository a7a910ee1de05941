/**
 * What NATS brings a node is handled in turns of at most TURN_MS, in order,
 * with the event loop between them (no NATS server needed).
 */

import { deepEqual, ok } from "node:assert/strict";
import { Inbound, TURN_MS } from "../../cluster/inbound.ts";

function busy(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) { /* work */ }
}

Deno.test("Inbound: past TURN_MS of work in one turn the rest waits, in order, for later turns", async () => {
  const inbound = new Inbound();
  const done: number[] = [];
  const work = TURN_MS / 4; // ms each
  for (let i = 0; i < 12; i++) {
    inbound.push(() => {
      busy(work);
      done.push(i);
    }, 10);
  }
  const now = done.length;
  ok(now >= 1 && now <= 5, `${now} ran in the first turn`);
  let between = -1;
  setTimeout(() => between = done.length);
  for (let i = 0; i < 100 && done.length < 12; i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  deepEqual(done, Array.from({ length: 12 }, (_, i) => i));
  ok(between >= now && between < 12, `the event loop turned with ${between} done`);
});

Deno.test("Inbound: work that arrives within its turn's time runs at once", () => {
  const inbound = new Inbound();
  const done: number[] = [];
  for (let i = 0; i < 100; i++) inbound.push(() => done.push(i), 10);
  deepEqual(done.length, 100);
});
