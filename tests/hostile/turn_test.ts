/**
 * One connection whose messages are each costly (a SUBSCRIBE asking for
 * the retained events of a wildcard pattern that starts with a wildcard
 * looks at every retained topic: 2 ms at 30,000) sends a thousand of them
 * in one burst: the router reads them in one chunk, but runs only
 * `TURN_MS` of them per turn of the event loop, so another session's
 * calls keep being answered meanwhile. Before, the burst held every other
 * session for seconds. Many connections that each keep one such message
 * in flight share the turns the same way.
 */

import { equal, ok } from "node:assert/strict";
import type { Session } from "../../mod.ts";
import { concat } from "../../transports/stream/bytes.ts";
import { jsonFrame, rawTcp } from "../_helpers/raw_rawsocket.ts";
import { join, startRouter, type TestRouter, within } from "../_helpers/router.ts";
import { measuredTwice } from "../_helpers/timed.ts";

const RETAINED = 30_000;
const BURST = 1_000;

/** A router holding 30,000 retained events, a callee of `com.example.echo` and a bystander. */
async function setUp(perSession = BURST): Promise<{ t: TestRouter; bystander: Session }> {
  const t = await startRouter({
    realms: [{
      name: "realm1",
      limits: { subscriptionsPerSession: perSession, patternSubscriptions: 32 * perSession },
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
  return { t, bystander: await join(t, "msgpack") };
}

const CASES = [
  ["tcp:json", 1],
  ["ws-batched:msgpack", 1],
  ["longpoll-batched:json", 1],
  ["tcp:json", 4],
  ["ws:json", 8],
] as const;

for (const [via, count] of CASES) {
  const who = count === 1 ? "a burst" : `${count} bursts at once`;
  Deno.test(
    `${via}: ${who} of costly SUBSCRIBEs hold another session's calls for at most a few turns`,
    measuredTwice(async () => {
      const { t, bystander } = await setUp();
      await using _router = t;
      const attackers = await Promise.all(Array.from({ length: count }, () => join(t, via)));

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
      for (const [k, attacker] of attackers.entries()) {
        for (let i = 0; i < BURST / count; i++) {
          // Patterns that match no retained topic: each one looks at all of them.
          burst.push(attacker.subscribe(`.example.a${k}p${i}`, () => {}, {
            match: "wildcard",
            get_retained: true,
          }));
        }
      }
      await within(Promise.all(burst), 30_000, "the burst of SUBSCRIBEs");
      attacking = false;
      await calling;
      ok(calls > 10, `${calls} calls during the burst`);
      // Bursts that arrive together share one turn of the event loop, and
      // connections waiting for a turn share TURN_MS between them: 8 held a
      // call 240-300 ms when each took a whole turn, 35-75 ms now.
      const bound = count === 1 ? 300 : 150;
      ok(worst < bound, `a call waited ${worst.toFixed(0)} ms behind the burst`);
    }),
  );
}

Deno.test("what came before a bad frame is answered, though it waited for later turns", async () => {
  const { t } = await setUp();
  await using _router = t;
  const socket = await rawTcp(t.listener.urls.rawsocket!);
  let text = "";
  socket.on("data", (chunk: Uint8Array) => text += new TextDecoder().decode(chunk));
  const closed = new Promise((resolve) => socket.once("close", resolve));
  const frames = [
    Uint8Array.of(0x7f, 0xf1, 0, 0),
    jsonFrame([1, "realm1", { roles: { subscriber: {}, publisher: {} } }]),
  ];
  // 60 SUBSCRIBEs of 2 ms each: the turn runs out; what follows waits.
  for (let i = 1; i <= 60; i++) {
    frames.push(jsonFrame([32, i, { match: "wildcard", get_retained: true }, `.example.p${i}`]));
  }
  for (let i = 61; i <= 360; i++) {
    frames.push(jsonFrame([16, i, { acknowledge: true }, "com.example.x"]));
  }
  frames.push(Uint8Array.of(3, 0, 0, 0)); // a frame of a reserved type: the router closes
  socket.write(concat(frames));
  await within(closed, 10_000, "the router closing");
  equal((text.match(/\[33,/g) ?? []).length, 60, "SUBSCRIBED");
  equal((text.match(/\[17,/g) ?? []).length, 300, "PUBLISHED");
});

Deno.test(
  "32 connections that each keep one costly SUBSCRIBE in flight hold another session's calls for a turn or two",
  measuredTwice(async () => {
    const { t, bystander } = await setUp(10_000);
    await using _router = t;
    const attackers = await Promise.all(Array.from({ length: 32 }, () => join(t, "ws:json")));
    let attacking = true;
    const attacks = attackers.map(async (attacker, k) => {
      for (let i = 0; attacking; i++) {
        await attacker.subscribe(`.example.a${k}p${i}`, () => {}, {
          match: "wildcard",
          get_retained: true,
        });
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const waits: number[] = [];
    for (let i = 0; i < 40; i++) {
      const start = performance.now();
      await bystander.call("com.example.echo", { args: [i] });
      waits.push(performance.now() - start);
    }
    attacking = false;
    await within(Promise.all(attacks), 30_000, "the attackers");
    waits.sort((a, b) => a - b);
    const median = waits[waits.length >> 1]!;
    // Each connection used to run one SUBSCRIBE per turn of the event loop
    // (64 ms): 150 ms per call. Costly ones now wait for a tick: 45 ms.
    ok(median < 90, `a call waited ${median.toFixed(0)} ms (median) behind the costly SUBSCRIBEs`);
  }),
);
