/**
 * RPC across cluster nodes: caller on one node, callee on another, our
 * client over WebSocket (json, msgpack, cbor), a real nats-server.
 */

import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { type ApplicationError, connect } from "../../mod.ts";
import { until, within } from "../_helpers/router.ts";
import { isUri, joinNode, seen, sleep, startCluster, tableHas, TIMING } from "./_cluster.ts";

for (const serializer of ["json", "msgpack", "cbor"] as const) {
  Deno.test(`[${serializer}] a call on node A reaches a callee on node B`, async () => {
    await using c = await startCluster(2);
    const [a, b] = c.nodes;
    const callee = await joinNode(b!, serializer);
    const caller = await joinNode(a!, serializer);
    await callee.register("com.example.add", (args, kwargs) => ({
      args: [Number(args[0]) + Number(args[1])],
      kwargs: { echo: kwargs },
    }));
    await seen(a!, "com.example.add", 1);
    const result = await caller.call("com.example.add", { args: [2, 3], kwargs: { x: [1, "y"] } });
    deepEqual(result.args, [5]);
    deepEqual(result.kwargs, { echo: { x: [1, "y"] } });
    await rejects(
      caller.call("com.example.missing"),
      isUri("wamp.error.no_such_procedure"),
    );
    await callee.close();
    await caller.close();
  });
}

Deno.test("a session that is caller and callee on two nodes calls and is called both ways", async () => {
  await using c = await startCluster(2);
  const [a, b] = c.nodes;
  const sa = await joinNode(a!), sb = await joinNode(b!);
  await sa.register("com.example.on_a", () => ({ args: ["a"] }));
  await sb.register("com.example.on_b", () => ({ args: ["b"] }));
  await seen(a!, "com.example.on_b", 1);
  await seen(b!, "com.example.on_a", 1);
  // sb's call leaves a proxy of sb on node A; sa's call to sb must still cross to node B.
  deepEqual((await sb.call("com.example.on_a")).args, ["a"]);
  deepEqual((await sa.call("com.example.on_b")).args, ["b"]);
  deepEqual((await sb.call("com.example.on_a")).args, ["a"]);
  await sa.close();
  await sb.close();
});

Deno.test("procedure_already_exists holds across nodes, a race has one winner, policies must agree", async () => {
  await using c = await startCluster(2);
  const [a, b] = c.nodes;
  const sa = await joinNode(a!), sb = await joinNode(b!);
  await sa.register("com.example.single", () => ({ args: [1] }));
  await seen(b!, "com.example.single", 1);
  await rejects(
    sb.register("com.example.single", () => ({})),
    isUri("wamp.error.procedure_already_exists"),
  );
  // A race: both register before either sees the other.
  const outcomes = await Promise.allSettled([
    sa.register("com.example.race", () => ({ args: ["a"] })),
    sb.register("com.example.race", () => ({ args: ["b"] })),
  ]);
  equal(outcomes.filter((o) => o.status === "fulfilled").length, 1);
  const lost = outcomes.find((o) => o.status === "rejected") as PromiseRejectedResult;
  ok(isUri("wamp.error.procedure_already_exists")(lost.reason));
  // Shared registrations: same policy joins, another is refused.
  await sa.register("com.example.rr", () => ({}), { invoke: "roundrobin" });
  await seen(b!, "com.example.rr", 1);
  await rejects(
    sb.register("com.example.rr", () => ({}), { invoke: "random" }),
    isUri("wamp.error.procedure_already_exists"),
  );
  await sb.register("com.example.rr", () => ({}), { invoke: "roundrobin" });
  await seen(a!, "com.example.rr", 2);
  await seen(b!, "com.example.rr", 2);
  await sa.close();
  await sb.close();
});

Deno.test("every invocation policy holds cluster-wide", async () => {
  await using c = await startCluster(3);
  const [a, b, d] = c.nodes;
  const caller = await joinNode(a!, "msgpack");
  const callees = [await joinNode(a!), await joinNode(b!), await joinNode(d!)];
  for (const policy of ["roundrobin", "first", "last", "random"] as const) {
    for (const [i, s] of callees.entries()) {
      await s.register(`com.example.${policy}`, () => ({ args: [i] }), { invoke: policy });
      for (const node of c.nodes) await seen(node, `com.example.${policy}`, i + 1);
    }
  }
  const picks = async (policy: string, n: number, options = {}) => {
    const out: unknown[] = [];
    for (let i = 0; i < n; i++) {
      out.push((await caller.call(`com.example.${policy}`, {}, options)).args[0]);
    }
    return out;
  };
  deepEqual(await picks("roundrobin", 6), [0, 1, 2, 0, 1, 2]);
  deepEqual(await picks("first", 3), [0, 0, 0]);
  deepEqual(await picks("last", 3), [2, 2, 2]);
  const random = await picks("random", 30);
  deepEqual(new Set(random).size, 3, "random reaches every node's callee");
  // Sharded: one rkey always reaches the same callee, whichever node calls.
  const other = await joinNode(b!, "cbor");
  const sharded = { runmode: "partition", rkey: "user-42" };
  const here = await picks("roundrobin", 3, sharded);
  equal(new Set(here).size, 1);
  equal((await other.call("com.example.roundrobin", {}, sharded)).args[0], here[0]);
  // Order is cluster-wide: "first" from node B is the same callee.
  equal((await other.call("com.example.first")).args[0], 0);
  equal((await other.call("com.example.last")).args[0], 2);
  for (const s of [caller, other, ...callees]) await s.close();
});

Deno.test("progressive results, progressive invocations and disclosure across nodes", async () => {
  await using c = await startCluster(2);
  const [a, b] = c.nodes;
  const callee = await joinNode(b!, "cbor");
  const caller = await joinNode(a!, "json");
  await callee.register("com.example.count", (args, _k, details, inv) => {
    for (let i = 1; i <= Number(args[0]); i++) inv.progress({ args: [i] });
    return { args: ["done"], kwargs: { caller: details.caller ?? null } };
  });
  await callee.register("com.example.sum", async (_args, _k, _d, inv) => {
    let sum = 0;
    for await (const chunk of inv.chunks) {
      sum += Number(chunk.args[0] ?? 0);
      inv.progress({ args: [sum] });
    }
    return { args: [sum] };
  });
  await callee.register("com.example.who", (_a, _k, details) => ({
    kwargs: { caller: details.caller ?? null, authrole: details.caller_authrole ?? null },
  }), { disclose_caller: true });
  await seen(a!, "com.example.count", 1);
  await seen(a!, "com.example.sum", 1);
  await seen(a!, "com.example.who", 1);
  const progress: unknown[] = [];
  const result = await caller.call("com.example.count", { args: [3] }, {
    onProgress: (p) => progress.push(p.args[0]),
  });
  deepEqual(progress, [1, 2, 3]);
  deepEqual(result.args, ["done"]);
  equal(result.kwargs.caller, null, "not disclosed unless asked");
  const disclosed = await caller.call("com.example.count", { args: [0] }, { disclose_me: true });
  equal(disclosed.kwargs.caller, caller.id);
  async function* numbers() {
    for (const n of [1, 2, 3, 4]) yield { args: [n] };
  }
  const sums: unknown[] = [];
  const summed = await caller.call("com.example.sum", numbers(), {
    onProgress: (p) => sums.push(p.args[0]),
  });
  deepEqual(summed.args, [10]);
  deepEqual(sums.at(-1), 10);
  const who = await caller.call("com.example.who");
  deepEqual(who.kwargs, { caller: caller.id, authrole: "anonymous" });
  await callee.close();
  await caller.close();
});

Deno.test("call timeout and cancel in every mode across nodes", async () => {
  await using c = await startCluster(2);
  const [a, b] = c.nodes;
  const callee = await joinNode(b!, "msgpack");
  const caller = await joinNode(a!, "json");
  const interrupts: string[] = [];
  const started: number[] = [];
  let release!: () => void;
  await callee.register("com.example.wait", async (args, _k, _d, inv) => {
    started.push(Number(args[0]));
    await new Promise<void>((resolve) => {
      release = resolve;
      inv.signal.addEventListener("abort", () => {
        interrupts.push(String((inv.signal.reason as ApplicationError).details.mode));
        resolve();
      }, { once: true });
    });
    return { args: ["finished"] };
  });
  await callee.register("com.example.ping", () => ({ args: ["pong"] }));
  await seen(a!, "com.example.wait", 1);
  await seen(a!, "com.example.ping", 1);
  const ping = async () => deepEqual((await caller.call("com.example.ping")).args, ["pong"]);

  await rejects(
    caller.call("com.example.wait", { args: [0] }, { timeout: 100 }),
    isUri("wamp.error.timeout"),
  );
  await until(() => interrupts.length === 1);
  deepEqual(interrupts, ["killnowait"]);

  const cancel = async (n: number, cancelMode: "skip" | "kill" | "killnowait") => {
    const controller = new AbortController();
    const reason = new Error("gave up");
    const call = caller.call("com.example.wait", { args: [n] }, {
      signal: controller.signal,
      cancelMode,
    });
    await until(() => started.includes(n));
    controller.abort(reason);
    return { call, reason };
  };
  const skip = await cancel(1, "skip");
  await rejects(skip.call, (e) => e === skip.reason);
  await ping();
  deepEqual(interrupts, ["killnowait"], "skip: the callee is not told");
  release();
  const nowait = await cancel(2, "killnowait");
  await rejects(nowait.call, (e) => e === nowait.reason);
  await until(() => interrupts.length === 2);
  equal(interrupts[1], "killnowait");
  const kill = await cancel(3, "kill");
  await rejects(kill.call, isUri("wamp.error.canceled"));
  equal(interrupts[2], "kill");
  await ping();
  await callee.close();
  await caller.close();
});

Deno.test("a callee that leaves: its calls fail, its registration is gone everywhere", async () => {
  await using c = await startCluster(2);
  const [a, b] = c.nodes;
  const callee = await joinNode(b!);
  const caller = await joinNode(a!);
  await callee.register("com.example.hang", () => new Promise(() => {}));
  await seen(a!, "com.example.hang", 1);
  const call = caller.call("com.example.hang");
  const outcome = call.then(() => "resolved", (e) => e);
  await new Promise((r) => setTimeout(r, 50));
  await callee.close();
  ok(isUri("wamp.error.canceled")(await outcome));
  await seen(a!, "com.example.hang", 0);
  await rejects(caller.call("com.example.hang"), isUri("wamp.error.no_such_procedure"));
  await tableHas(c.nats, "t", 0);
  // And the shared table forgot it: a session on A may register it as single.
  await caller.register("com.example.hang", () => ({ args: ["mine"] }));
  deepEqual((await caller.call("com.example.hang")).args, ["mine"]);
  await caller.close();
});

Deno.test("a node SIGKILLed mid-call: the caller gets wamp.error.canceled, the registration goes", async () => {
  await using c = await startCluster(1, "kill");
  const [a] = c.nodes;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./_node.ts", import.meta.url).pathname,
      c.nats.url,
      "kill",
      String(TIMING.heartbeat),
      String(TIMING.nodeTimeout),
    ],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let killed = false;
  try {
    const { value } = await lines.read();
    const url = value!.trim();
    const callee = await connect(url, { realm: "realm1", serializers: ["msgpack"] });
    const started: number[] = [];
    await callee.register("com.example.hang", () => {
      started.push(1);
      return new Promise(() => {});
    });
    await seen(a!, "com.example.hang", 1);
    const caller = await joinNode(a!, "cbor");
    const outcome = caller.call("com.example.hang").then(() => "resolved", (e) => e);
    await until(() => started.length === 1);
    child.kill("SIGKILL");
    killed = true;
    const t0 = Date.now();
    const error = await within(outcome, TIMING.nodeTimeout + 2000);
    const waited = Date.now() - t0;
    ok(isUri("wamp.error.canceled")(error));
    ok(waited <= TIMING.nodeTimeout + 1000, `canceled after ${waited} ms`);
    await seen(a!, "com.example.hang", 0);
    await rejects(caller.call("com.example.hang"), isUri("wamp.error.no_such_procedure"));
    console.error("DBG before tableHas", Date.now() - t0);
    await tableHas(c.nats, "kill", 0);
    console.error("DBG after tableHas", Date.now() - t0);
    // The survivors cleaned the shared table: the procedure can be registered again.
    await caller.register("com.example.hang", () => ({ args: ["back"] }));
    deepEqual((await caller.call("com.example.hang")).args, ["back"]);
    await caller.close();
    console.error("DBG end", Date.now() - t0);
    callee.close().catch(() => {});
  } finally {
    if (!killed) child.kill("SIGKILL");
    await child.status;
    await lines.cancel().catch(() => {});
  }
});

Deno.test("a caller that leaves mid-call: the callee on the other node is interrupted", async () => {
  await using c = await startCluster(2);
  const [a, b] = c.nodes;
  const callee = await joinNode(b!);
  const caller = await joinNode(a!);
  const interrupted: string[] = [];
  let started = false;
  await callee.register("com.example.wait", (_a, _k, _d, inv) =>
    new Promise((resolve) => {
      started = true;
      inv.signal.addEventListener("abort", () => {
        interrupted.push((inv.signal.reason as ApplicationError).uri);
        resolve({});
      });
    }));
  await seen(a!, "com.example.wait", 1);
  caller.call("com.example.wait").catch(() => {});
  await until(() => started);
  await caller.close();
  await until(() => interrupted.length === 1);
  deepEqual(interrupted, ["wamp.error.canceled"]);
  await callee.close();
});

Deno.test("revoking a registration on the callee's node removes it cluster-wide", async () => {
  await using c = await startCluster(2);
  const [a, b] = c.nodes;
  const callee = await joinNode(b!);
  const caller = await joinNode(a!);
  const reg = await callee.register("com.example.revoked", () => ({}));
  await seen(a!, "com.example.revoked", 1);
  await tableHas(c.nats, "t", 2); // the head and the callee
  equal(b!.router.revokeRegistration("realm1", reg.id, "gone"), true);
  await seen(a!, "com.example.revoked", 0);
  await tableHas(c.nats, "t", 0);
  await rejects(caller.call("com.example.revoked"), isUri("wamp.error.no_such_procedure"));
  await callee.close();
  await caller.close();
});

Deno.test("a session that called a procedure on B is still a callee B's callers reach on A", async () => {
  await using c = await startCluster(2, "both");
  const [a, b] = c.nodes;
  const onA = await joinNode(a!);
  const onB = await joinNode(b!, "msgpack");
  await onA.register("com.example.on_a", () => ({ args: ["a"] }));
  await onB.register("com.example.on_b", () => ({ args: ["b"] }));
  await seen(a!, "com.example.on_b", 1);
  await seen(b!, "com.example.on_a", 1);
  // onA calls B first: B now knows onA as a caller (a proxy) too.
  deepEqual((await within(onA.call("com.example.on_b"), 5000, "A calls B")).args, ["b"]);
  deepEqual((await within(onB.call("com.example.on_a"), 5000, "B calls A")).args, ["a"]);
  await onA.close();
  await onB.close();
});

Deno.test("registrationsPerSession holds in a cluster for a burst of concurrent REGISTERs", async () => {
  await using c = await startCluster(1, "t", { limits: { registrationsPerSession: 2 } });
  const s = await joinNode(c.nodes[0]!);
  const outcomes = await Promise.allSettled(
    ["a", "b", "c"].map((p) => s.register(`com.example.${p}`, () => ({}))),
  );
  equal(outcomes.filter((o) => o.status === "fulfilled").length, 2);
  const refused = outcomes.find((o) => o.status === "rejected") as PromiseRejectedResult;
  ok(isUri("cloverleaf.error.limit_exceeded")(refused.reason));
  await s.close();
});

Deno.test("a session's second REGISTER of a procedure it is registering is refused, and its entry stays shared", async () => {
  await using c = await startCluster(2);
  const [a, b] = c.nodes;
  const callee = await joinNode(b!);
  const caller = await joinNode(a!);
  const both = await Promise.allSettled([
    callee.register("com.example.twice", () => ({ args: ["one"] })),
    callee.register("com.example.twice", () => ({ args: ["two"] })),
  ]);
  equal(both.filter((r) => r.status === "fulfilled").length, 1);
  await seen(a!, "com.example.twice", 1);
  await sleep(300); // a wrongful release would reach node A by now
  deepEqual((await caller.call("com.example.twice")).args?.length, 1);
  await callee.close();
  await caller.close();
});
