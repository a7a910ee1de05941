/**
 * The in-process link as `connectLocal` and the HTTP bridge use it: the
 * router's end reads each message as a serializer reads what arrives, so
 * an in-process client cannot send what a socket peer is aborted for.
 */

import { deepEqual, equal, match, ok } from "node:assert/strict";
import { connect, connectLocal } from "../../mod.ts";
import { linkedPeers } from "../../transports/local.ts";
import { MessageType } from "../../wamp/mod.ts";
import { startRouter, within } from "../_helpers/router.ts";

/** Keeps the event loop busy for `ms` milliseconds: a message that costs the router that long. */
function busy(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) { /* the router at work */ }
}

Deno.test("an in-process PUBLISH with an option of the wrong type aborts its sender only", async () => {
  await using t = await startRouter();
  const subscriber = await connect(t.url, { realm: "realm1" });
  const events: unknown[] = [];
  await subscriber.subscribe("com.example.x", (e) => void events.push(e));
  const local = await connectLocal(t.router, "realm1");
  // A socket peer's PUBLISH with these options is aborted with protocol_violation; passed on,
  // every subscriber would be sent EVENT details it must refuse (and would leave).
  const options = { acknowledge: true, ppt_scheme: "x_a", ppt_serializer: 5 } as const;
  await local.publish("com.example.x", {}, options as never).catch(() => {});
  const closed = await within(local.closed, 2000, "the in-process session closed");
  equal(closed.reason, "wamp.error.protocol_violation");
  match(String(closed.details.message), /ppt_serializer/);
  equal((await subscriber.call("wamp.session.count")).args[0], 1, "the subscriber stays");
  deepEqual(events, []);
  await subscriber.close();
});

/**
 * A paced end (the HTTP bridge's) hands on what it receives in turns, as
 * a socket's inbox does: once its messages ran `TURN_MS`, the rest wait
 * for a later turn of the event loop, in order; an end that is not paced
 * hands on everything at once.
 */
for (const paced of [true, false]) {
  Deno.test(`${paced ? "a paced" : "an unpaced"} in-process end ${paced ? "keeps what comes after a turn's time for a later turn" : "hands on everything at once"}`, async () => {
    const [routerEnd, clientEnd] = linkedPeers({ validate: true, paced });
    const got: number[] = [];
    routerEnd.bind({
      receive(msg) {
        if (msg.type !== MessageType.PUBLISH) return;
        got.push(msg.request);
        busy(5); // each message costs 5 ms
      },
      fail() {},
      closed() {},
    });
    const all = Array.from({ length: 20 }, (_, i) => i + 1);
    for (const request of all) {
      clientEnd.send({ type: MessageType.PUBLISH, request, options: {}, topic: "com.example.t" });
    }
    await Promise.resolve(); // the batch's microtask
    if (paced) ok(got.length < all.length, `${got.length} handed on in the first turn`);
    else equal(got.length, all.length);
    await within(
      (async () => {
        while (got.length < all.length) await new Promise((resolve) => setTimeout(resolve, 5));
      })(),
      2000,
      "the rest in later turns",
    );
    deepEqual(got, all);
    clientEnd.close();
  });
}

/**
 * A paced end closed by its own side (the router ending the session) hands
 * nothing more on, as an end that is not paced stops at once: what it
 * kept for later turns is dropped. Closed by the other side, it still
 * hands on everything that side sent first.
 */
for (const side of ["its own side", "the other side"] as const) {
  Deno.test(`a paced in-process end closed by ${side} while it keeps messages for later turns`, async () => {
    const [routerEnd, clientEnd] = linkedPeers({ validate: true, paced: true });
    const got: number[] = [];
    let laterTurn = false;
    let closedAt: number | undefined;
    let closedCalls = 0;
    const gone = new Promise<void>((resolve) => {
      routerEnd.bind({
        receive(msg) {
          if (msg.type !== MessageType.PUBLISH) return;
          got.push(msg.request);
          busy(5);
          // The first message of a later turn: the rest are kept, and its own side closes it.
          if (side === "its own side" && laterTurn && closedAt === undefined) {
            closedAt = msg.request;
            routerEnd.close();
          }
        },
        fail() {},
        closed() {
          closedCalls++;
          resolve();
        },
      });
    });
    const all = Array.from({ length: 20 }, (_, i) => i + 1);
    for (const request of all) {
      clientEnd.send({ type: MessageType.PUBLISH, request, options: {}, topic: "com.example.t" });
    }
    if (side === "the other side") clientEnd.close();
    await Promise.resolve(); // the batch's microtask: the first turn
    laterTurn = true;
    ok(got.length < all.length, `${got.length} handed on in the first turn`);
    await within(gone, 2000, "the end closed"); // told once what it kept was handed on or dropped
    if (side === "its own side") {
      ok(closedAt !== undefined && closedAt < all.length, `closed at ${closedAt}`);
      deepEqual(got, all.slice(0, closedAt), "nothing handed on after its close");
    } else deepEqual(got, all);
    equal(closedCalls, 1);
  });
}

/**
 * `whenHandedOn`: called once what the other end sent before has left a
 * paced end, handed on in later turns or dropped (the end closed by its
 * own side; a message it could not accept ended its reading), never
 * before: the HTTP bridge keeps a request's slot until then.
 */
for (const ending of ["handed on", "closed", "a bad message"] as const) {
  Deno.test(`a paced in-process end tells when what it kept is gone: ${ending}`, async () => {
    const [routerEnd, clientEnd] = linkedPeers({ validate: true, paced: true });
    const got: number[] = [];
    routerEnd.bind({
      receive(msg) {
        if (msg.type !== MessageType.PUBLISH) return;
        got.push(msg.request);
        busy(5);
        if (ending === "closed" && msg.request === 10) routerEnd.close();
      },
      fail() {},
      closed() {},
    });
    let told = false;
    routerEnd.whenHandedOn(() => told = true); // nothing sent yet: at once
    ok(told);
    for (let request = 1; request <= 20; request++) {
      const options = ending === "a bad message" && request === 12 ? { acknowledge: 1 } : {};
      clientEnd.send(
        { type: MessageType.PUBLISH, request, options, topic: "com.example.t" } as never,
      );
    }
    const gone = new Promise<number>((resolve) =>
      routerEnd.whenHandedOn(() => resolve(got.length))
    );
    const handed = await within(gone, 2000, "told");
    equal(handed, ending === "handed on" ? 20 : ending === "closed" ? 10 : 11);
    clientEnd.close();
  });
}
