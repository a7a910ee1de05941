/**
 * The client's own wait for a call with a `timeout` (the router enforces
 * it; the client gives up 1 s past it when the router says nothing): it
 * starts with the first CALL, not before, and a `kill` cancel does not
 * make it longer.
 */

import { equal, ok } from "node:assert/strict";
import { ApplicationError, connect, ErrorUri } from "../../mod.ts";
import { startRouter, until, within } from "../_helpers/router.ts";
import { hostile } from "./_hostile.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("a streamed call whose chunks take longer than its timeout to start is answered: the wait starts with the first CALL", async () => {
  await using t = await startRouter();
  const callee = await connect(t.url, { realm: "realm1", serializers: ["json"] });
  const caller = await connect(t.url, { realm: "realm1", serializers: ["json"] });
  await callee.register("com.upload", async (_args, _kwargs, _details, invocation) => {
    const got: unknown[] = [];
    for await (const chunk of invocation.chunks) got.push(chunk.args[0]);
    return { args: [got] };
  });
  async function* chunks() {
    yield { args: ["part 1"] };
    await sleep(1300); // reading the next part of a file: no CALL has gone out yet
    yield { args: ["part 2"] };
  }
  const result = await within(caller.call("com.upload", chunks(), { timeout: 100 }));
  equal(JSON.stringify(result.args), '[["part 1","part 2"]]');
  await caller.close();
  await callee.close();
});

Deno.test("a call with a timeout cancelled with kill, its router silent: rejects 1 s past the timeout, not after requestTimeout", async () => {
  await using router = hostile((msg, send) => {
    if (msg[0] === 1) send([2, 1, { roles: { dealer: { features: { call_canceling: true } } } }]);
  });
  const session = await connect(router.url, {
    realm: "r",
    serializers: ["json"],
    requestTimeout: 60_000,
  });
  const controller = new AbortController();
  const started = performance.now();
  const pending = session.call("p", {}, {
    timeout: 100,
    signal: controller.signal,
    cancelMode: "kill",
  }).catch((e) => e);
  await until(() => router.received.some((m) => m[0] === 48), 2000, "CALL");
  controller.abort(new Error("enough"));
  const error = await within(pending, 3000, "the call's end");
  ok(error instanceof ApplicationError && error.uri === ErrorUri.TIMEOUT, String(error));
  ok(performance.now() - started < 2500, `${Math.round(performance.now() - started)} ms`);
  await session.close();
});
