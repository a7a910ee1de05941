/** RPC messages over NATS's max_payload (1 MB by default) between nodes. */

import { equal } from "node:assert/strict";
import { within } from "../_helpers/router.ts";
import { joinNode, seen, startCluster } from "./_cluster.ts";

Deno.test("a CALL over NATS's max_payload to a callee on another node is answered, not left hanging", async () => {
  await using c = await startCluster(2, "big");
  const [a, b] = c.nodes;
  const callee = await joinNode(b!, "msgpack");
  const caller = await joinNode(a!, "msgpack");
  await callee.register("com.example.echo", (args) => ({ args }));
  await seen(a!, "com.example.echo", 1);
  const big = "x".repeat(1_200_000);
  const error = await within(
    caller.call("com.example.echo", { args: [big] }).then(() => undefined, (e) => e),
    5000,
    "the big call's answer",
  );
  equal(error?.uri, "cloverleaf.error.cluster_unavailable");
  equal((await caller.call("com.example.echo", { args: [1] })).args[0], 1);
  await caller.close();
  await callee.close();
});

Deno.test("a RESULT over NATS's max_payload from a callee on another node reaches its caller as an ERROR", async () => {
  await using c = await startCluster(2, "big2");
  const [a, b] = c.nodes;
  const callee = await joinNode(b!, "msgpack");
  const caller = await joinNode(a!, "msgpack");
  await callee.register("com.example.big", () => ({ args: ["x".repeat(1_200_000)] }));
  await seen(a!, "com.example.big", 1);
  const error = await within(
    caller.call("com.example.big").then(() => undefined, (e) => e),
    5000,
    "the big result's answer",
  );
  equal(error?.uri, "cloverleaf.error.cluster_unavailable");
  await callee.register("com.example.small", () => ({ args: [1] }));
  await seen(a!, "com.example.small", 1);
  equal((await caller.call("com.example.small")).args[0], 1); // neither session paid for it
  await caller.close();
  await callee.close();
});

Deno.test("a later chunk of a progressive call over NATS's max_payload ends the call on both nodes", async () => {
  await using c = await startCluster(2, "big3");
  const [a, b] = c.nodes;
  const callee = await joinNode(b!, "msgpack");
  const caller = await joinNode(a!, "msgpack");
  let interrupted!: () => void;
  const interrupt = new Promise<void>((resolve) => interrupted = resolve);
  await callee.register("com.example.sink", async (_a, _k, _d, inv) => {
    inv.signal.addEventListener("abort", () => interrupted(), { once: true });
    for await (const _ of inv.chunks) { /* the big one never comes */ }
    return { args: ["all read"] };
  });
  await seen(a!, "com.example.sink", 1);
  async function* chunks() {
    yield { args: ["small"] };
    yield { args: ["x".repeat(1_200_000)] };
  }
  const error = await within(
    caller.call("com.example.sink", chunks()).then(() => undefined, (e) => e),
    5000,
    "the big chunk's answer",
  );
  equal(error?.uri, "cloverleaf.error.cluster_unavailable");
  await within(interrupt, 5000, "the callee's INTERRUPT");
  await caller.close();
  await callee.close();
});

Deno.test("a progressive RESULT over NATS's max_payload ends the call as a CANCEL would: ERROR canceled, INTERRUPT to the callee", async () => {
  await using c = await startCluster(2, "big4");
  const [a, b] = c.nodes;
  const callee = await joinNode(b!, "msgpack");
  const caller = await joinNode(a!, "msgpack");
  let interrupted!: () => void;
  const interrupt = new Promise<void>((resolve) => interrupted = resolve);
  await callee.register("com.example.stream", async (_a, _k, _d, inv) => {
    inv.signal.addEventListener("abort", () => interrupted(), { once: true });
    inv.progress({ args: ["x".repeat(1_200_000)] });
    await within(interrupt, 5000, "the callee's INTERRUPT");
    return { args: ["done"] };
  });
  await seen(a!, "com.example.stream", 1);
  const error = await within(
    caller.call("com.example.stream", {}, { onProgress: () => {} }).then(() => undefined, (e) => e),
    5000,
    "the call's end",
  );
  equal(error?.uri, "wamp.error.canceled");
  await within(interrupt, 5000, "the callee's INTERRUPT");
  await caller.close();
  await callee.close();
});
