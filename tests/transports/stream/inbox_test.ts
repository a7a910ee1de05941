/**
 * The inbox hands arrivals on in order, and a connection's arrivals run at
 * most `TURN_MS` per turn of the event loop when the connection can stop
 * reading: the rest, closure included, wait for a later turn.
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import { Inbox, TURN_MS } from "../../../transports/stream/inbox.ts";
import { LARGE_FRAME } from "../../../transports/stream/turn_limits.ts";
import {
  MessageType,
  type PeerHandler,
  ProtocolViolationError,
  type WampMessage,
} from "../../../wamp/mod.ts";
import { measuredTwice } from "../../_helpers/timed.ts";

function publish(request: number): WampMessage {
  return { type: MessageType.PUBLISH, request, options: {}, topic: "t" };
}

/** Reading that records each hold; `drained` resolves when `congested` is not set. */
function reading(
  congested?: Promise<void>,
): { hold(held: boolean): void; drained(): Promise<void>; holds: boolean[] } {
  const holds: boolean[] = [];
  return {
    holds,
    hold: (held) => void holds.push(held),
    drained: () => congested ?? Promise.resolve(),
  };
}

/** A handler that spends `cost` ms on each message and records what it heard. */
function recorder(cost: number): { handler: PeerHandler; heard: string[] } {
  const heard: string[] = [];
  const handler: PeerHandler = {
    receive(msg) {
      const until = Date.now() + cost;
      while (Date.now() < until) { /* a message that costs the router `cost` ms */ }
      heard.push(`m${(msg as { request: number }).request}`);
    },
    fail: (error) => heard.push(`fail: ${error.message}`),
    closed: () => heard.push("closed"),
  };
  return { handler, heard };
}

Deno.test("an inbox that cannot stop reading hands every arrival on as it comes", () => {
  const { handler, heard } = recorder(2);
  const inbox = new Inbox();
  inbox.bind(handler, false);
  for (let i = 1; i <= 12; i++) inbox.deliver(publish(i));
  inbox.closed();
  equal(heard.length, 13);
  equal(heard.at(-1), "closed");
});

Deno.test(
  "past TURN_MS in one turn, the rest waits for a later turn, reading stopped, order kept",
  measuredTwice(async () => {
    const { handler, heard } = recorder(3);
    const { holds, ...wire } = reading();
    const inbox = new Inbox(wire);
    inbox.bind(handler, false);
    const count = Math.ceil((4 * TURN_MS) / 3) + 8;
    for (let i = 1; i <= count; i++) inbox.deliver(publish(i));
    inbox.fail(new ProtocolViolationError("bad frame"));
    inbox.deliver(publish(999)); // after a failure: never handed on
    inbox.closed();
    const first = heard.length;
    ok(first < count, `${first} of ${count} messages were handed on in the first turn`);
    ok(first * 3 >= TURN_MS, `the first turn stopped after ${first} messages`);
    deepEqual(holds, [true]);
    equal(inbox.waiting, true);
    await inbox.drained();
    deepEqual(heard, [
      ...Array.from({ length: count }, (_, i) => `m${i + 1}`),
      "fail: bad frame",
      "closed",
    ]);
    deepEqual(holds, [true, false]);
    equal(inbox.waiting, false);
  }),
);

Deno.test(
  "connections whose arrivals come in the same turn of the event loop share TURN_MS, one arrival each past it",
  measuredTwice(async () => {
    const inboxes = Array.from({ length: 4 }, () => {
      const { handler, heard } = recorder(3);
      const inbox = new Inbox(reading());
      inbox.bind(handler, false);
      return { inbox, heard };
    });
    const count = Math.ceil(TURN_MS / 3) + 16;
    await new Promise((resolve) => setTimeout(resolve, 5)); // a new turn of the event loop
    for (const { inbox } of inboxes) {
      for (let i = 1; i <= count; i++) inbox.deliver(publish(i));
      await Promise.resolve(); // each connection's data in its own callback, as sockets' are
    }
    const first = inboxes.map(({ heard }) => heard.length);
    // A whole turn: TURN_MS of 3 ms arrivals, fewer when the machine takes the process off its core.
    ok(first[0]! * 3 >= TURN_MS / 2 && first[0]! < count, `the first had a whole turn: ${first}`);
    deepEqual(first.slice(1), [1, 1, 1], "the others one arrival each");
    await Promise.all(inboxes.map(({ inbox }) => inbox.drained()));
    for (const { heard } of inboxes) equal(heard.length, count);
  }),
);

Deno.test(
  "past TURN_MS in a turn of the event loop, an inbox whose recent turns were costly waits for a tick; a cheap one goes on",
  measuredTwice(async () => {
    const bound = (cost: number) => {
      const { handler, heard } = recorder(cost);
      const inbox = new Inbox(reading());
      inbox.bind(handler, false);
      return { inbox, heard };
    };
    const costly = Array.from({ length: Math.ceil(TURN_MS / 2) + 4 }, () => bound(2));
    const cheap = bound(0);
    // Each connection keeps one costly request in flight: one arrival per turn of the event loop.
    const round = async (request: number) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      for (const { inbox } of costly) {
        inbox.deliver(publish(request));
        await Promise.resolve();
      }
      cheap.inbox.deliver(publish(request));
    };
    await round(1);
    equal(
      costly.filter(({ heard }) => heard.length === 1).length,
      costly.length,
      "one each, as yet",
    );
    await Promise.all(costly.map(({ inbox }) => inbox.drained()));
    await round(2);
    const waiting = costly.filter(({ heard }) => heard.length === 1).length;
    ok(waiting >= 2, `${waiting} costly inboxes wait for a tick`);
    ok(costly.every(({ inbox, heard }) => inbox.waiting === (heard.length === 1)));
    deepEqual(cheap.heard, ["m1", "m2"], "the cheap one's arrival ran at once");
    await Promise.all(costly.map(({ inbox }) => inbox.drained()));
    for (const { heard } of costly) deepEqual(heard, ["m1", "m2"]);
    // A link asks before it decodes: the frames of the costly ones wait undecoded, as their
    // messages would have waited decoded.
    await new Promise((resolve) => setTimeout(resolve, 5));
    const deferred: number[] = [];
    for (const [i, { inbox }] of costly.entries()) {
      if (inbox.waitsFor(16)) {
        deferred.push(i);
        inbox.defer(() => inbox.deliver(publish(3)));
      } else inbox.deliver(publish(3));
      await Promise.resolve();
    }
    ok(deferred.length >= 2, `${deferred.length} costly inboxes' frames wait for a tick`);
    await Promise.all(costly.map(({ inbox }) => inbox.drained()));
    for (const { heard } of costly) deepEqual(heard, ["m1", "m2", "m3"]);
  }),
);

Deno.test(
  "a large frame's decoding counts against the turn: past TURN_MS, other connections' large frames wait undecoded",
  measuredTwice(async () => {
    const inboxes = Array.from({ length: 4 }, () => {
      const { handler, heard } = recorder(0);
      const inbox = new Inbox(reading());
      inbox.bind(handler, false);
      return { inbox, heard };
    });
    const decoded: number[] = [];
    /** A link's work on a large frame: decoding it costs 1.5 TURN_MS, then the message is delivered. */
    const decode = (i: number) => {
      const until = Date.now() + TURN_MS * 1.5;
      while (Date.now() < until) { /* JSON.parse of 16 MiB */ }
      decoded.push(i);
      inboxes[i]!.inbox.deliver(publish(i));
    };
    await new Promise((resolve) => setTimeout(resolve, 5)); // a new turn of the event loop
    for (const [i, { inbox }] of inboxes.entries()) {
      if (inbox.waitsFor(LARGE_FRAME)) inbox.defer(() => decode(i));
      else decode(i);
      await Promise.resolve(); // each connection's data in its own callback, as sockets' are
    }
    deepEqual(decoded, [0], "one decoded at once, the others waiting for their turns");
    // A small frame of a cheap connection still goes on at once (one arrival past the turn).
    const cheap = recorder(0);
    const small = new Inbox(reading());
    small.bind(cheap.handler, false);
    equal(small.waitsFor(LARGE_FRAME - 1), false);
    small.deliver(publish(9));
    deepEqual(cheap.heard, ["m9"]);
    await Promise.all(inboxes.map(({ inbox }) => inbox.drained()));
    deepEqual(decoded, [0, 1, 2, 3]);
    for (const [i, { heard }] of inboxes.entries()) deepEqual(heard, [`m${i}`]);
  }),
);

Deno.test("arrivals before bind wait for it; bind hands them on within the turn's time", async () => {
  const { handler, heard } = recorder(3);
  const { holds, ...wire } = reading();
  const inbox = new Inbox(wire);
  const count = Math.ceil((4 * TURN_MS) / 3) + 8;
  for (let i = 1; i <= count; i++) inbox.deliver(publish(i));
  inbox.bind(handler, true);
  ok(heard.length < count, `${heard.length} of ${count} were handed on at bind`);
  await inbox.drained();
  equal(heard.length, count + 1);
  equal(heard.at(-1), "closed");
  deepEqual(holds, [true, false]);
});

// Timed too: 1,000 arrivals past TURN_MS (a host's pause, or a turn of the event loop that an
// earlier test's inboxes used) stop reading, as they should.
Deno.test(
  "cheap arrivals never stop reading",
  measuredTwice(() => {
    const { handler, heard } = recorder(0);
    const { holds, ...wire } = reading();
    const inbox = new Inbox(wire);
    inbox.bind(handler, false);
    for (let i = 1; i <= 1000; i++) inbox.deliver(publish(i));
    equal(heard.length, 1000);
    deepEqual(holds, []);
  }),
);

Deno.test("what waits is unread: it goes on only once the connection's backlog would let it read", async () => {
  const { handler, heard } = recorder(3);
  const { promise: congested, resolve: drain } = Promise.withResolvers<void>();
  const { holds, ...wire } = reading(congested);
  const inbox = new Inbox(wire);
  inbox.bind(handler, false);
  const count = Math.ceil((4 * TURN_MS) / 3) + 8;
  for (let i = 1; i <= count; i++) inbox.deliver(publish(i));
  const first = heard.length;
  await new Promise((resolve) => setTimeout(resolve, 50));
  equal(heard.length, first, "nothing more while the backlog stops reading");
  drain();
  await inbox.drained();
  equal(heard.length, count);
  deepEqual(holds, [true, false]);
});

Deno.test("past the turn's time the link's frames wait undecoded (defer), in order with closure", async () => {
  const { handler, heard } = recorder(3);
  const { holds, ...wire } = reading();
  const inbox = new Inbox(wire);
  inbox.bind(handler, false);
  const count = Math.ceil((4 * TURN_MS) / 3) + 8;
  let decoded = 0;
  // A link's read loop: each frame decoded and delivered now, or deferred while the inbox waits.
  for (let i = 1; i <= count; i++) {
    const frame = () => {
      decoded++;
      inbox.deliver(publish(i));
    };
    if (inbox.waiting) inbox.defer(frame);
    else frame();
  }
  inbox.closed();
  ok(decoded < count, `${decoded} of ${count} frames were decoded in the first turn`);
  equal(heard.at(-1), `m${decoded}`);
  await inbox.drained();
  deepEqual(heard, [...Array.from({ length: count }, (_, i) => `m${i + 1}`), "closed"]);
  equal(decoded, count);
  deepEqual(holds, [true, false]);
});

Deno.test(
  "waiting inboxes take turns together, TURN_MS a timer tick: other callbacks run between ticks",
  measuredTwice(async () => {
    const order: string[] = [];
    const inboxes = ["a", "b", "c"].map((name) => {
      const handler: PeerHandler = {
        receive() {
          const until = Date.now() + 3;
          while (Date.now() < until) { /* costly */ }
          if (order.at(-1) !== name) order.push(name);
        },
        fail() {},
        closed() {},
      };
      const inbox = new Inbox(reading());
      inbox.bind(handler, false);
      return inbox;
    });
    const count = Math.ceil((3 * TURN_MS) / 3) + 8;
    for (const inbox of inboxes) {
      for (let i = 1; i <= count; i++) inbox.deliver(publish(i));
    }
    // A timer chain standing for other connections' callbacks.
    let ticking = true;
    let ticks = 0;
    const tick = () => {
      ticks++;
      if (order.at(-1) !== "tick") order.push("tick");
      if (ticking) setTimeout(tick);
    };
    setTimeout(tick);
    await Promise.all(inboxes.map((inbox) => inbox.drained()));
    ticking = false;
    // After their first turns, each inbox has at most one turn between two ticks.
    const rounds = order.slice(order.indexOf("tick")).join(" ").split("tick").map((r) => r.trim());
    for (const round of rounds) {
      const names = round.split(" ").filter((n) => n !== "");
      equal(new Set(names).size, names.length, order.join(" "));
    }
    ok(
      rounds.filter((r) => r.includes(" ")).length >= 1,
      `several turns in one tick: ${order.join(" ")}`,
    );
    ok(ticks >= 4, `${ticks} ticks`);
  }),
);

Deno.test("the handler hears the connection is gone once, after what was kept", async () => {
  const { handler, heard } = recorder(3);
  const { holds, ...wire } = reading();
  const inbox = new Inbox(wire);
  inbox.bind(handler, false);
  // The turn runs out on the last arrival of the chunk: nothing is kept, and reading goes on.
  let i = 0;
  while (!inbox.waiting) inbox.deliver(publish(++i));
  inbox.closed();
  await inbox.drained();
  await new Promise((resolve) => setTimeout(resolve, 10));
  deepEqual(heard.filter((h) => h === "closed"), ["closed"]);
  equal(heard.at(-1), "closed");
  deepEqual(holds, []);
});
