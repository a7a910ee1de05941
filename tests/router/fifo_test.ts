/**
 * `Fifo` behaves as an array used with `push` and `shift`, across its
 * compactions; an event history kept in it reads the same as before it
 * (the last `limit` events, in order, publication bounds included) once
 * far more events than its compaction threshold have gone through.
 */

import { deepEqual, equal } from "node:assert/strict";
import { Fifo } from "../../router/core/fifo.ts";
import { EventHistory } from "../../router/core/broker/event_history.ts";
import type { Publication } from "../../router/core/broker/publication.ts";
import { sessionInfo } from "../_helpers/session_info.ts";

function random(seed: number): () => number {
  return () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
}

Deno.test("Fifo: the same as an array's push and shift, through compactions", () => {
  const next = random(7);
  const fifo = new Fifo<number>();
  const model: number[] = [];
  let n = 0;
  for (let op = 0; op < 20_000; op++) {
    // Phases that grow, then drain (to empty), then grow again.
    const grow = Math.floor(op / 2500) % 2 === 0 ? 0.7 : 0.3;
    if (next() < grow) {
      fifo.push(n);
      model.push(n++);
    } else {
      equal(fifo.shift(), model.shift());
    }
    equal(fifo.length, model.length);
    if (op % 97 === 0) {
      for (let i = -1; i <= model.length; i++) equal(fifo.at(i), model[i]);
    }
  }
  while (model.length > 0) equal(fifo.shift(), model.shift());
  equal(fifo.shift(), undefined);
  equal(fifo.length, 0);
});

Deno.test("EventHistory: the last `limit` events, in order, after many times the compaction threshold", () => {
  const history = new EventHistory();
  history.enable(1, 3000);
  for (let id = 1; id <= 10_000; id++) {
    const pub: Publication = { id, topic: "t", timestamp: id, details: {} };
    history.append(1, pub);
  }
  const sub = { id: 1, match: "exact" as const };
  const reader = sessionInfo(5, ["subscriber"]);
  const ids = (kwargs: Record<string, unknown>) =>
    history.query(sub, reader, kwargs).map((e) => e.publication);
  const all = ids({});
  equal(all.length, 3000);
  equal(all[0], 7001);
  equal(all[2999], 10_000);
  deepEqual(ids({ after_publication: 9997 }), [9998, 9999, 10_000]);
  deepEqual(ids({ until_publication: 7002 }), [7001, 7002]);
  deepEqual(ids({ reverse: true, limit: 2 }), [10_000, 9999]);
  // One no longer kept: older than every kept event.
  equal(ids({ from_publication: 10 }).length, 3000);
});
