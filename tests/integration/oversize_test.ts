/**
 * A message the router would send over what its recipient accepts (a
 * RawSocket client's announced limit, a WebSocket or long-poll
 * listener's own `maxMessageSize`) never closes the recipient. JSON escaping makes a
 * MessagePack string of control characters six times larger, so any
 * publisher or caller could reach such a limit: the EVENT is dropped for
 * that subscriber, an INVOCATION is refused to its caller, a RESULT
 * becomes ERROR `payload_size_exceeded`, and a progressive RESULT ends
 * its call (`canceled`, INTERRUPT to the callee). Before, each of these
 * closed the recipient's connection (a long-poll recipient was sent it,
 * and our client ended its session over it).
 */

import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { ApplicationError, connect, type Session } from "../../mod.ts";
import { ErrorUri, MessageType } from "../../wamp/mod.ts";
import { metricsOf } from "../../router/metrics.ts";
import { join, startRouter, type TestRouter, until, within } from "../_helpers/router.ts";
import { rawJsonClient } from "../_helpers/raw_rawsocket.ts";

/** 1,000 bytes of MessagePack, 6,000 of JSON: over the 4 KiB limit of the recipient. */
const SWOLLEN = "\u0001".repeat(1000);
const LIMIT = 4096;

/** Where the recipient is. */
type Carrier = "tcp" | "ws" | "longpoll" | "longpoll-batched";

/** The recipient with a 4 KiB limit: announced over RawSocket, else the listener's own. */
function small(t: TestRouter, carrier: Carrier): Promise<Session> {
  if (carrier !== "tcp") return join(t, `${carrier}:json`);
  const url = t.listener.urls.rawsocket!;
  return connect(url, { realm: "realm1", serializers: ["json"], maxMessageSize: LIMIT });
}

function sizeExceeded(error: unknown): boolean {
  return error instanceof ApplicationError && error.uri === ErrorUri.PAYLOAD_SIZE_EXCEEDED;
}

for (const carrier of ["tcp", "ws", "longpoll", "longpoll-batched"] as const) {
  Deno.test(`${carrier}: what a recipient cannot take is dropped or answered for, never closing it`, async (t) => {
    await using r = await startRouter({
      listener: carrier === "tcp"
        ? {}
        : carrier === "ws"
        ? { websocket: { maxMessageSize: LIMIT } }
        : { longpoll: { maxMessageSize: LIMIT } },
    });
    const recipient = await small(r, carrier);
    const other = await join(r, "tcp:msgpack");
    let closed = false;
    recipient.closed.then(() => closed = true);

    await t.step("an EVENT is dropped for that subscriber; the next one arrives", async () => {
      const got: unknown[] = [];
      await recipient.subscribe("com.example.t", (e) => void got.push(e.args[0]));
      await other.publish("com.example.t", { args: [SWOLLEN] }, { acknowledge: true });
      await other.publish("com.example.t", { args: ["fits"] }, { acknowledge: true });
      await until(() => got.length > 0, 5000, "the EVENT that fits");
      deepEqual(got, ["fits"]);
      ok(
        r.logs.some((l) => /EVENT of \d+ bytes is over the peer's limit .*: EVENT dropped/.test(l)),
      );
    });

    await t.step("an INVOCATION is refused to its caller; the callee serves on", async () => {
      await recipient.register("com.example.small", (args) => ({ args }));
      await rejects(other.call("com.example.small", { args: [SWOLLEN] }), sizeExceeded);
      deepEqual((await other.call("com.example.small", { args: ["fits"] })).args, ["fits"]);
    });

    await t.step("a RESULT becomes ERROR payload_size_exceeded, counted as sent", async () => {
      await other.register("com.example.big", () => ({ args: [SWOLLEN] }));
      const errors = metricsOf(r.router).messagesOut[MessageType.ERROR]!;
      await rejects(within(recipient.call("com.example.big")), sizeExceeded);
      equal(metricsOf(r.router).messagesOut[MessageType.ERROR], errors + 1);
    });

    await t.step(
      "a progressive RESULT ends its call: canceled, and INTERRUPT to the callee",
      async () => {
        let interrupted = false;
        await other.register("com.example.stream", async (_args, _kwargs, _details, inv) => {
          inv.progress({ args: [SWOLLEN] });
          await new Promise<void>((resolve) =>
            inv.signal.addEventListener("abort", () => resolve())
          );
          interrupted = true;
          return {};
        });
        await rejects(
          within(recipient.call("com.example.stream", {}, { onProgress: () => {} })),
          (e) => e instanceof ApplicationError && e.uri === ErrorUri.CANCELED,
        );
        await until(() => interrupted, 5000, "the INTERRUPT");
      },
    );

    equal(closed, false, "the recipient was closed");
    ok(!r.logs.some((l) => l.includes("closing")), r.logs.join("\n"));
    await recipient.close();
    await other.close();
  });
}

/** A raw JSON RawSocket connection announcing 4 KiB. */
function rawSmall(t: TestRouter) {
  return rawJsonClient(t.listener.urls.rawsocket!, 0x31);
}

const FEATURES = { features: { progressive_call_results: true, call_canceling: true } };
const HELLO = [1, "realm1", { roles: { caller: FEATURES, callee: FEATURES, subscriber: {} } }];

Deno.test("what the router answers for an oversize message never reaches the connection's next session", async (t) => {
  await using r = await startRouter();
  const other = await join(r, "tcp:msgpack");
  let interrupted = false;
  await other.register("com.example.wait", async (_args, _kwargs, _details, inv) => {
    await new Promise<void>((resolve) => inv.signal.addEventListener("abort", () => resolve()));
    interrupted = true;
    return {};
  });
  for (const next of ["a new session", "no session"] as const) {
    await t.step(`a progressive RESULT too large, then GOODBYE and ${next}`, async () => {
      interrupted = false;
      const s = await rawSmall(r);
      // The session calls itself; its progressive answer is too large for it.
      s.send(HELLO, [64, 1, {}, "com.example.self"]);
      await s.until((m) => m[0] === 65);
      s.send([48, 2, { receive_progress: true }, "com.example.self", []]);
      const invocation = await s.until((m) => m[0] === 68);
      const after = next === "a new session"
        ? [HELLO, [32, 1, {}, "com.example.t"], [48, 2, {}, "com.example.wait", []]] // its call 2
        : [];
      s.send(
        [70, invocation[1], { progress: true }, [SWOLLEN]],
        [6, {}, "wamp.close.normal"],
        ...after,
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      deepEqual(s.seen.filter((m) => m[0] === 3 || m[0] === 8), [], JSON.stringify(s.seen));
      equal(interrupted, false, "the new session's call was canceled");
      s.close();
      await until(() => interrupted || next === "no session", 3000, "its call ending with it");
    });
  }
  await other.close();
});

Deno.test("ws: an EVENT of under 2 KiB over the listener's maxMessageSize reaches none of its subscribers", async () => {
  await using r = await startRouter({ listener: { websocket: { maxMessageSize: 1024 } } });
  const subscribers = [await join(r, "ws:json"), await join(r, "ws:json")];
  const got: unknown[][] = [[], []];
  for (const [i, s] of subscribers.entries()) {
    await s.subscribe("com.example.t", (e) => void got[i]!.push(e.args[0]));
  }
  const publisher = await join(r, "tcp:msgpack");
  // 250 bytes of MessagePack, 1,500 of JSON text: framed by the short-text path.
  await publisher.publish("com.example.t", { args: ["\u0001".repeat(250)] }, { acknowledge: true });
  await publisher.publish("com.example.t", { args: ["fits"] }, { acknowledge: true });
  await until(() => got.every((g) => g.length > 0), 3000, "the EVENT that fits");
  deepEqual(got, [["fits"], ["fits"]]);
});

Deno.test("a progressive RESULT too large, then the final one in the same turn: the call ends canceled, not short", async () => {
  await using r = await startRouter();
  const s = await rawSmall(r);
  s.send(HELLO, [64, 1, {}, "com.example.self"]);
  await s.until((m) => m[0] === 65);
  s.send([48, 2, { receive_progress: true }, "com.example.self", []]);
  const invocation = await s.until((m) => m[0] === 68);
  s.send(
    [70, invocation[1], { progress: true }, [SWOLLEN]],
    [70, invocation[1], { progress: true }, ["small"]],
    [70, invocation[1], {}, ["done"]],
  );
  const end = await s.until((m) => (m[0] === 8 || m[0] === 50) && m[2] === 2);
  deepEqual(end, [8, 48, 2, {}, ErrorUri.CANCELED]);
  await new Promise((resolve) => setTimeout(resolve, 100));
  deepEqual(s.seen.filter((m) => m[0] === 50), [], "no RESULT for the call");
  s.close();
});

const STREAMS = {
  features: { progressive_call_invocations: true, call_canceling: true },
};

for (const order of ["a later chunk", "the first chunk"] as const) {
  Deno.test(`${order} of a progressive call too large for its callee: the caller gets payload_size_exceeded, the callee what came before and INTERRUPT`, async () => {
    await using r = await startRouter();
    const callee = await rawSmall(r);
    callee.send([1, "realm1", { roles: { callee: STREAMS } }], [64, 1, {}, "com.example.sink"]);
    await callee.until((m) => m[0] === 65);
    const caller = await rawSmall(r);
    caller.send([1, "realm1", { roles: { caller: STREAMS } }]);
    await caller.until((m) => m[0] === 2);
    const chunks = order === "a later chunk" ? ["small", SWOLLEN] : [SWOLLEN, "small"];
    caller.send(
      ...chunks.map((c) => [48, 1, { progress: true }, "com.example.sink", [c]]),
      [48, 1, {}, "com.example.sink", ["last"]],
    );
    const end = await caller.until((m) => m[0] === 8 || m[0] === 50);
    deepEqual(end.slice(0, 5), [8, 48, 1, {}, ErrorUri.PAYLOAD_SIZE_EXCEEDED]);
    await callee.until((m) => m[0] === 69);
    await new Promise((resolve) => setTimeout(resolve, 100));
    // No chunk after the one that did not fit; INTERRUPT ends what the callee has.
    const got = callee.seen.filter((m) => m[0] === 68).map((m) => (m[4] as string[])[0]);
    deepEqual(got, order === "a later chunk" ? ["small"] : []);
    const interrupt = callee.seen.find((m) => m[0] === 69)!;
    deepEqual(interrupt[2], { mode: "killnowait", reason: ErrorUri.PAYLOAD_SIZE_EXCEEDED });
    caller.close();
    callee.close();
  });
}
