/**
 * Hostile clients against the realm's resource limits, over real sockets
 * (issue 15, items 5-7): a CALL burst from a raw RawSocket client, retained
 * events past the realm's byte cap, and a CALL timeout past 2^31 ms. A
 * healthy session runs alongside each and must lose nothing.
 */

import { equal, ok } from "node:assert/strict";
import type net from "node:net";
import { ApplicationError } from "../../client/mod.ts";
import { DEFAULT_LIMITS } from "../../router/core/limits.ts";
import { concat } from "../../transports/stream/bytes.ts";
import { join, startRouter, until, within } from "../_helpers/router.ts";
import { jsonFrame, rawTcp } from "../_helpers/raw_rawsocket.ts";
import { realmOf } from "../../router/router.ts";

/** Reads RawSocket JSON frames from a socket (after the 4-byte handshake reply). */
function frames(socket: net.Socket, onMessage: (msg: unknown[]) => void): void {
  let buffer = new Uint8Array(0);
  let handshake = true;
  socket.on("data", (chunk: Uint8Array) => {
    const next = new Uint8Array(buffer.length + chunk.length);
    next.set(buffer);
    next.set(chunk, buffer.length);
    buffer = next;
    if (handshake) {
      if (buffer.length < 4) return;
      buffer = buffer.subarray(4);
      handshake = false;
    }
    let at = 0;
    while (buffer.length - at >= 4) {
      const view = new DataView(buffer.buffer, buffer.byteOffset + at);
      const kind = view.getUint8(0);
      const length = view.getUint32(0) & 0xffffff;
      if (buffer.length - at < 4 + length) break;
      const body = buffer.subarray(at + 4, at + 4 + length);
      at += 4 + length;
      if (kind === 0) onMessage(JSON.parse(new TextDecoder().decode(body)));
    }
    buffer = buffer.slice(at);
  });
}

const BURST = 30_000;

Deno.test("a burst of 30,000 CALLs: the caller gets limit_exceeded past callsPerSession, the callee stays", async () => {
  await using t = await startRouter();
  const callee = await join(t, "json");
  let invoked = 0;
  await callee.register("com.example.echo", (args) => {
    invoked++;
    return { args };
  });
  const bystander = await join(t, "msgpack");
  const seen: number[] = [];
  await bystander.subscribe("com.example.tick", (e) => {
    seen.push(e.args[0] as number);
  });

  const socket = await rawTcp(t.listener.urls.rawsocket!);
  const replies = new Map<number, unknown[]>();
  let caller = 0;
  frames(socket, (msg) => {
    if (msg[0] === 2) caller = msg[1] as number;
    else if (msg[0] === 50 || (msg[0] === 8 && msg[1] === 48)) {
      replies.set((msg[0] === 50 ? msg[1] : msg[2]) as number, msg);
    }
  });
  let closed = false;
  socket.on("close", () => closed = true);
  socket.write(Uint8Array.of(0x7f, 0xf1, 0, 0));
  socket.write(jsonFrame([1, "realm1", { roles: { caller: {} } }]));
  await until(() => caller !== 0, 5000, "WELCOME");
  const calls: Uint8Array[] = [];
  for (let i = 1; i <= BURST; i++) calls.push(jsonFrame([48, i, {}, "com.example.echo", [i]]));
  socket.write(concat(calls));

  // Meanwhile, a healthy session publishes and calls.
  const publisher = await join(t, "cbor");
  for (let i = 0; i < 20; i++) {
    await publisher.publish("com.example.tick", { args: [i] }, { acknowledge: true });
  }
  equal((await publisher.call("com.example.echo", { args: ["healthy"] })).args[0], "healthy");

  await until(() => replies.size === BURST || closed, 20_000, "every CALL answered");
  let results = 0;
  let refused = 0;
  for (const [id, msg] of replies) {
    if (msg[0] === 50) {
      results++;
      equal((msg[3] as unknown[])[0], id);
    } else {
      equal(msg[4], "cloverleaf.error.limit_exceeded", JSON.stringify(msg));
      refused++;
    }
  }
  ok(refused > 0, "no CALL was refused");
  ok(invoked <= results + (BURST - replies.size) + 1, `${invoked} invocations`);
  // Reading from it stops while its replies wait, so it is never closed.
  equal(closed, false, t.logs.join("\n"));
  equal(results + refused, BURST);
  ok(results >= DEFAULT_LIMITS.callsPerSession, `only ${results} results`);
  equal(invoked, results + 1); // plus the healthy call
  // The callee is still there, with its registration.
  ok(callee.isOpen);
  equal((await publisher.call("com.example.echo", { args: ["after"] })).args[0], "after");
  await until(() => seen.length === 20, 5000, "the bystander's events");
  equal(seen.join(), [...Array(20).keys()].join());
  socket.destroy();
  await callee.close();
  await bystander.close();
  await publisher.close();
});

Deno.test("retained events past retainedBytes are refused; the realm's retained bytes stay under the cap", async () => {
  await using t = await startRouter();
  const flooder = await join(t, "msgpack");
  const watcher = await join(t, "json");
  let delivered = 0;
  await watcher.subscribe("com.example.flood", () => {
    delivered++;
  }, { match: "prefix" });
  const big = "x".repeat(60_000);
  let kept = 0;
  let refused = 0;
  for (let i = 0; i < 300; i++) {
    try {
      await flooder.publish(`com.example.flood.t${i}`, { args: [big] }, {
        retain: true,
        acknowledge: true,
      });
      kept++;
    } catch (error) {
      ok(error instanceof ApplicationError, String(error));
      equal(error.uri, "cloverleaf.error.limit_exceeded");
      refused++;
    }
  }
  // One event over retainedEventBytes is refused on its own.
  await flooder.publish("com.example.flood.huge", { args: ["x".repeat(1 << 20)] }, {
    retain: true,
    acknowledge: true,
  }).then(() => ok(false, "a 1 MiB retained event was accepted"), (error) => {
    equal(error.uri, "cloverleaf.error.limit_exceeded");
  });
  await flooder.close();
  const retained = realmOf(t.router, "realm1")!.broker.retained;
  ok(refused > 0, "nothing was refused");
  equal(retained.size, kept);
  ok(retained.size * 60_000 <= DEFAULT_LIMITS.retainedBytes, `${retained.size} events kept`);
  ok(retained.bytes <= DEFAULT_LIMITS.retainedBytes);
  await until(() => delivered === kept, 5000, "the watcher's events");
  // A late subscriber gets what was kept, and the healthy session still works.
  const late = await join(t, "cbor");
  let got = 0;
  await late.subscribe("com.example.flood.t0", () => {
    got++;
  }, { get_retained: true });
  await until(() => got === 1, 5000, "the retained event");
  await late.close();
  await watcher.close();
});

Deno.test("a CALL timeout of 2^31 ms or more does not fire at once", async () => {
  await using t = await startRouter();
  const callee = await join(t, "json");
  await callee.register("com.example.later", async (args) => {
    await new Promise((resolve) => setTimeout(resolve, 30));
    return { args };
  });
  const caller = await join(t, "msgpack");
  for (const timeout of [2 ** 31, 2 ** 32 + 5]) {
    const result = await within(
      caller.call("com.example.later", { args: [timeout] }, { timeout }),
      5000,
      "the call",
    );
    equal(result.args[0], timeout);
  }
  await caller.close();
  await callee.close();
});
