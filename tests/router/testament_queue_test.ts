/**
 * Testaments of sessions that left go out a few per turn, in rotation:
 * at most TESTAMENTS_PER_TURN, and fewer once what they lead to reaches
 * EVENTS_PER_TURN recipients (one fan-out to thousands goes alone).
 */

import { deepEqual, equal } from "node:assert/strict";
import {
  EVENTS_PER_TURN,
  TestamentQueue,
  TESTAMENTS_PER_TURN,
} from "../../router/core/meta/testament_queue.ts";
import { type Effect, type Output, output } from "../../router/core/output.ts";
import { MessageType } from "../../wamp/mod.ts";
import { sessionInfo } from "../_helpers/session_info.ts";

/** A queue whose testaments each reach `reach(testament)` sessions; `turn()` runs one timer. */
function queue(reach: (testament: number) => number) {
  const published: number[] = [];
  let pending: number | undefined;
  const q = new TestamentQueue<number>((_session, t) => {
    published.push(t);
    pending = t;
  }, (out: Output) => {
    const done = output();
    if (pending !== undefined) {
      const to = Array.from({ length: reach(pending) }, (_, i) => i + 1);
      done.messages.push({ to, msg: { type: MessageType.PUBLISHED, request: 1, publication: 1 } });
      pending = undefined;
    }
    for (const e of out.effects) done.effects.push(e);
    return done;
  });
  let timer: Effect | undefined;
  const turn = () => {
    if (timer?.kind !== "arm") throw new Error("no timer armed");
    const out = timer.fire();
    timer = out.effects.find((e) => e.kind === "arm");
    return published.splice(0);
  };
  const add = (id: number, testaments: number[], after = () => {}, source?: unknown) => {
    timer = q.add(sessionInfo(id, []), testaments, after, source ?? {}) ?? timer;
  };
  return { add, turn, q };
}

Deno.test("TestamentQueue: at most TESTAMENTS_PER_TURN per turn, sessions in rotation", () => {
  const { add, turn, q } = queue(() => 0);
  const left: number[] = [];
  add(1, Array.from({ length: 10 }, (_, i) => 100 + i), () => left.push(1));
  add(2, [200, 201], () => left.push(2));
  const first = turn();
  equal(first.length, TESTAMENTS_PER_TURN);
  deepEqual(first.slice(0, 5), [100, 200, 101, 201, 102]);
  deepEqual(left, [2]);
  deepEqual(turn(), [106, 107, 108, 109]);
  deepEqual(left, [2, 1]);
  equal(q.size, 0);
});

Deno.test("TestamentQueue: a turn stops once its testaments reach EVENTS_PER_TURN recipients", () => {
  const { add, turn } = queue((t) => t === 1 ? EVENTS_PER_TURN : EVENTS_PER_TURN / 2);
  add(1, [1, 2, 3, 4]);
  deepEqual(turn(), [1]); // a fan-out to EVENTS_PER_TURN goes alone
  deepEqual(turn(), [2, 3]);
  deepEqual(turn(), [4]);
});

Deno.test("TestamentQueue: the sessions of one connection take one turn in the rotation, in order", () => {
  const { add, turn, q } = queue(() => 0);
  const left: number[] = [];
  const cycling = {}; // one connection that joined and left 100 times, 3 testaments each
  for (let i = 0; i < 100; i++) {
    add(i, [1000 * i + 1, 1000 * i + 2, 1000 * i + 3], () => left.push(i), cycling);
  }
  add(999, [7, 8], () => left.push(999));
  // Per session, the victim's second testament waited behind all 100 (a rotation of 101).
  deepEqual(turn().slice(0, 5), [1, 7, 2, 8, 3]);
  deepEqual(left.slice(0, 2), [999, 0], "the victim's on_leave in the first turn");
  for (let n = 0; n < 100 && q.size > 0; n++) turn();
  deepEqual(left, [999, ...Array.from({ length: 100 }, (_, i) => i)]);
});
