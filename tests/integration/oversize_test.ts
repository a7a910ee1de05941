/**
 * A message the router would send over what its recipient accepts (a
 * RawSocket client's announced limit, a WebSocket listener's own
 * `maxMessageSize`) never closes the recipient. JSON escaping makes a
 * MessagePack string of control characters six times larger, so any
 * publisher or caller could reach such a limit: the EVENT is dropped for
 * that subscriber, an INVOCATION is refused to its caller, a RESULT
 * becomes ERROR `payload_size_exceeded`, and a progressive RESULT ends
 * its call (`canceled`, INTERRUPT to the callee). Before, each of these
 * closed the recipient's connection.
 */

import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { ApplicationError, connect, type Session } from "../../mod.ts";
import { ErrorUri } from "../../wamp/mod.ts";
import { join, startRouter, type TestRouter, until, within } from "../_helpers/router.ts";

/** 1,000 bytes of MessagePack, 6,000 of JSON: over the 4 KiB limit of the recipient. */
const SWOLLEN = "\u0001".repeat(1000);
const LIMIT = 4096;

/** The recipient with a 4 KiB limit: announced over RawSocket, the listener's own over WebSocket. */
function small(t: TestRouter, carrier: "tcp" | "ws"): Promise<Session> {
  if (carrier === "ws") return join(t, "ws:json");
  const url = t.listener.urls.rawsocket!;
  return connect(url, { realm: "realm1", serializers: ["json"], maxMessageSize: LIMIT });
}

function sizeExceeded(error: unknown): boolean {
  return error instanceof ApplicationError && error.uri === ErrorUri.PAYLOAD_SIZE_EXCEEDED;
}

for (const carrier of ["tcp", "ws"] as const) {
  Deno.test(`${carrier}: what a recipient cannot take is dropped or answered for, never closing it`, async (t) => {
    await using r = await startRouter({
      listener: carrier === "ws" ? { websocket: { maxMessageSize: LIMIT } } : {},
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

    await t.step("a RESULT becomes ERROR payload_size_exceeded", async () => {
      await other.register("com.example.big", () => ({ args: [SWOLLEN] }));
      await rejects(within(recipient.call("com.example.big")), sizeExceeded);
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
