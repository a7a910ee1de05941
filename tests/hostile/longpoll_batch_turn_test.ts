/**
 * A long-poll `send` in a batched subprotocol is decoded one message at a
 * time, as a stream link's batch is: past the turn, the rest waits
 * undecoded for a later one, and other sessions' calls go on. Before, one
 * 16 MiB body of 1024 heavy PUBLISHes was decoded in one synchronous loop
 * (about 370 ms here), past both the turn limit and the values limit of a
 * single message.
 */

import { equal, ok } from "node:assert/strict";
import { encode } from "@msgpack/msgpack";
import { joinBatch } from "../../transports/stream/batched.ts";
import { join, startRouter, within } from "../_helpers/router.ts";
import { measuredTwice } from "../_helpers/timed.ts";

Deno.test(
  "a batched long-poll send of 1024 heavy PUBLISHes holds another session's calls for a turn or two",
  measuredTwice(async () => {
    await using t = await startRouter();
    const callee = await join(t, "json");
    await callee.register("com.example.echo", (args) => ({ args }));
    const bystander = await join(t, "json");
    const base = t.listener.urls.longpoll!;
    const post = async (path: string, body?: string | Uint8Array) => {
      const res = await within(
        fetch(`${base}${path}`, { method: "POST", body: (body ?? null) as BodyInit | null }),
        20_000,
      );
      return { status: res.status, bytes: await res.bytes() };
    };
    const opened = JSON.parse(
      new TextDecoder().decode(
        (await post("/open", JSON.stringify({ protocols: ["wamp.2.msgpack.batched"] }))).bytes,
      ),
    );
    const id = opened.transport as string;
    const hello = encode([1, "realm1", { roles: { publisher: {} } }]);
    equal((await post(`/${id}/send`, joinBatch([hello], true))).status, 204);
    equal((await post(`/${id}/receive`)).status, 200); // WELCOME
    const ints = Array.from({ length: 16_000 }, (_, i) => i % 100);
    const parts = Array.from(
      { length: 1024 },
      (_, i) => encode([16, i + 1, {}, "com.example.t", ints]),
    );
    const body = joinBatch(parts, true);
    let sending = true;
    const sent = post(`/${id}/send`, body).finally(() => sending = false);
    let worst = 0;
    let calls = 0;
    while (sending) {
      const start = performance.now();
      await within(bystander.call("com.example.echo", { args: [calls++] }), 10_000, "a call");
      worst = Math.max(worst, performance.now() - start);
    }
    equal((await sent).status, 204);
    ok(calls > 5, `${calls} calls during the send`);
    ok(worst < 200, `a call waited ${worst.toFixed(0)} ms behind the send`);
  }),
);
