/**
 * Before its session joined, a connection may send messages of at most
 * 64 KiB (HELLO, AUTHENTICATE are small): a larger one is refused with
 * ABORT `wamp.error.protocol_violation` before it is decoded (a 16 MiB
 * frame of tiny values, sent by anyone who can connect, took the router up
 * to 2 s to decode). Once joined, the listener's `maxMessageSize` applies.
 */

import { equal, match, ok, rejects } from "node:assert/strict";
import { connect, SessionClosedError } from "../../mod.ts";
import { addressOf, startRouter, within } from "../_helpers/router.ts";

const VIAS = [
  "ws:json",
  "ws:msgpack",
  "ws-batched:cbor",
  "ws-deflate:json",
  "tcp:json",
  "tcp:msgpack",
  "longpoll:json",
  "longpoll-batched:cbor",
] as const;

for (const via of VIAS) {
  Deno.test(`${via}: a HELLO over 64 KiB is refused before it is decoded; joined, 100 KiB go`, async () => {
    await using t = await startRouter(
      via.startsWith("ws-deflate")
        ? { listener: { websocket: { compression: { enabled: true, threshold: 0 } } } }
        : {},
    );
    const [url, options] = addressOf(t, via);
    await rejects(
      within(connect(url, { realm: "realm1", ...options, authid: "x".repeat(100_000) })),
      (error: Error) => {
        ok(error instanceof SessionClosedError, String(error));
        equal(error.reason, "wamp.error.protocol_violation");
        return true;
      },
    );
    ok(t.logs.some((line) => /before the session joined/.test(line)), t.logs.join("\n"));
    const session = await within(connect(url, { realm: "realm1", ...options }));
    const big = "y".repeat(100_000);
    let got = "";
    await session.subscribe("com.example.big", (event) => void (got = String(event.args?.[0])));
    await session.publish("com.example.big", { args: [big] }, {
      acknowledge: true,
      exclude_me: false,
    });
    await within((async () => {
      while (got !== big) await new Promise((resolve) => setTimeout(resolve, 5));
    })());
    match(got, /^y+$/);
    await session.close();
  });
}
