/**
 * Advanced RPC end to end: our client as caller and callee against our
 * router, once per way of connecting (ws+json, ws+msgpack, ws+cbor, local).
 * One test per feature key, its scenarios as steps.
 */

import { deepEqual, equal, notEqual, ok, rejects } from "node:assert/strict";
import {
  ApplicationError,
  type Arguments,
  type Invocation,
  type InvocationChunk,
  type Result,
  type Session,
} from "../../mod.ts";
import {
  join,
  startRouter,
  type TestRouter,
  until,
  type Via,
  VIAS,
  within,
} from "../_helpers/router.ts";

/** Checks that `e` is an ApplicationError with this URI. */
function isUri(uri: string) {
  return (e: unknown) => {
    ok(e instanceof ApplicationError, `expected ApplicationError ${uri}, got ${e}`);
    equal(e.uri, uri);
    return true;
  };
}

/** Settles when `signal` aborts: rejects with its reason. */
function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) return reject(signal.reason);
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}

/** A promise plus its resolver. */
function deferred<T = void>(): { promise: Promise<T>; resolve(value: T): void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => resolve = r);
  return { promise, resolve };
}

/** Registers one test per way of connecting. */
function feature(
  key: string,
  fn: (t: Deno.TestContext, via: Via) => Promise<void>,
): void {
  for (const via of VIAS) Deno.test(`[${via}] ${key}`, (t) => fn(t, via));
}

/** Joins `n` sessions. */
function sessions(t: TestRouter, via: Via, n: number, realm = "realm1"): Promise<Session[]> {
  return Promise.all(Array.from({ length: n }, () => join(t, via, realm)));
}

feature("progressive_call_results", async (t, via) => {
  await using r = await startRouter();
  const [callee, caller] = await sessions(r, via, 2);

  await t.step("progressive RESULTs reach onProgress, then the final result", async () => {
    const seen: Dict[] = [];
    await callee!.register("com.example.count", (args, _kwargs, details, inv) => {
      seen.push(details);
      for (let i = 1; i <= (args[0] as number); i++) {
        equal(inv.progress({ args: [i], kwargs: { i } }), true);
      }
      return { args: ["done"] };
    });
    const progress: Result[] = [];
    const result = await caller!.call("com.example.count", { args: [3] }, {
      onProgress: (p) => progress.push(p),
    });
    deepEqual(progress.map((p) => [p.args, p.kwargs, p.details.progress]), [
      [[1], { i: 1 }, true],
      [[2], { i: 2 }, true],
      [[3], { i: 3 }, true],
    ]);
    deepEqual(result.args, ["done"]);
    equal(result.details.progress, undefined);
    equal(seen[0]!.receive_progress, true);
  });

  await t.step("without onProgress the callee gets no receive_progress", async () => {
    let sent: boolean | undefined;
    let flag: boolean | undefined;
    await callee!.register("com.example.quiet", (_a, _k, _d, inv) => {
      flag = inv.receiveProgress;
      sent = inv.progress({ args: ["lost"] });
      return { args: ["final"] };
    });
    const result = await caller!.call("com.example.quiet");
    deepEqual(result.args, ["final"]);
    equal(flag, false);
    equal(sent, false);
  });

  await t.step("an ERROR after progressive results rejects the call", async () => {
    await callee!.register("com.example.halfway", (_a, _k, _d, inv) => {
      inv.progress({ args: [1] });
      throw new ApplicationError("com.example.broke", { args: ["halfway"] });
    });
    const progress: unknown[] = [];
    await rejects(
      caller!.call("com.example.halfway", {}, { onProgress: (p) => progress.push(p.args[0]) }),
      isUri("com.example.broke"),
    );
    deepEqual(progress, [1]);
  });

  await t.step("an onProgress that throws cancels the call", async () => {
    const interrupted = deferred<unknown>();
    await callee!.register("com.example.endless", async (_a, _k, _d, inv) => {
      inv.progress({ args: [1] });
      await aborted(inv.signal).catch((e) => interrupted.resolve(e));
    });
    const oops = new Error("handler failed");
    await rejects(
      caller!.call("com.example.endless", {}, {
        onProgress: () => {
          throw oops;
        },
      }),
      (e) => e === oops,
    );
    ok(isUri("wamp.error.canceled")(await within(interrupted.promise)));
  });
  await callee!.close();
  await caller!.close();
});

feature("progressive_call_invocations", async (t, via) => {
  await using r = await startRouter();
  const [callee, caller] = await sessions(r, via, 2);
  const chunkLog: InvocationChunk[][] = [];
  await callee!.register("com.example.sum", async (args, _kwargs, details, inv) => {
    const chunks: InvocationChunk[] = [];
    let sum = 0;
    for await (const chunk of inv.chunks) {
      chunks.push(chunk);
      sum += (chunk.args[0] as number | undefined) ?? 0;
      inv.progress({ args: [sum] });
    }
    chunkLog.push(chunks);
    return { args: [sum], kwargs: { first: args[0] ?? null, caller: details.caller ?? null } };
  });

  await t.step("chunks share one call; all but the last carry progress", async () => {
    async function* numbers() {
      for (const n of [1, 2, 3, 4]) yield { args: [n] };
    }
    const result = await caller!.call("com.example.sum", numbers(), { disclose_me: true });
    deepEqual(result.args, [10]);
    deepEqual(result.kwargs, { first: 1, caller: caller!.id });
    const chunks = chunkLog.at(-1)!;
    deepEqual(chunks.map((c) => c.args), [[1], [2], [3], [4]]);
    deepEqual(chunks.map((c) => c.details.progress === true), [true, true, true, false]);
  });

  await t.step("a single chunk is an ordinary call; no chunks is an empty call", async () => {
    async function* one() {
      yield { args: [5] };
    }
    deepEqual((await caller!.call("com.example.sum", one())).args, [5]);
    equal(chunkLog.at(-1)!.length, 1);
    equal(chunkLog.at(-1)![0]!.details.progress, undefined);
    async function* none(): AsyncGenerator<Arguments> {}
    deepEqual((await caller!.call("com.example.sum", none())).args, [0]);
  });

  await t.step("progressive results arrive while chunks still flow", async () => {
    const progress: unknown[] = [];
    const sawProgress = (n: number) => until(() => progress.length >= n, 5000, `progress ${n}`);
    async function* paced() {
      yield { args: [1] };
      yield { args: [2] }; // chunk 1 goes out now
      await sawProgress(1);
      yield { args: [3] }; // chunk 2 goes out now
      await sawProgress(2);
    }
    const result = await caller!.call("com.example.sum", paced(), {
      onProgress: (p) => progress.push(p.args[0]),
    });
    deepEqual(result.args, [6]);
    deepEqual(progress, [1, 3, 6]);
  });

  await t.step("a throwing iterable cancels the call and rejects with its error", async () => {
    const interrupted = deferred<unknown>();
    await callee!.register("com.example.drain", async (_a, _k, _d, inv) => {
      try {
        for await (const _ of inv.chunks) { /* read until interrupted */ }
      } catch (e) {
        interrupted.resolve(e);
      }
    });
    const oops = new Error("source failed");
    async function* failing() {
      yield { args: [1] };
      yield { args: [2] };
      throw oops;
    }
    await rejects(caller!.call("com.example.drain", failing()), (e) => e === oops);
    ok(isUri("wamp.error.canceled")(await within(interrupted.promise)));
  });

  await t.step("the callee may answer before the input ends", async () => {
    await callee!.register("com.example.first", async (_a, _k, _d, inv) => {
      for await (const chunk of inv.chunks) return { args: chunk.args };
    });
    let pulled = 0;
    async function* many() {
      for (let i = 0; i < 1000; i++) {
        pulled++;
        yield { args: [i] };
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    }
    deepEqual((await caller!.call("com.example.first", many())).args, [0]);
    ok(pulled < 1000, `the caller stopped streaming (pulled ${pulled})`);
    // The session still works: later continuations were ignored.
    deepEqual((await caller!.call("com.example.sum", { args: [2] })).args, [2]);
  });
  await callee!.close();
  await caller!.close();
});

feature("call_timeout", async (t, via) => {
  await using r = await startRouter();
  const [callee, caller] = await sessions(r, via, 2);
  const reasons: unknown[] = [];
  let answerLate = deferred();
  await callee!.register("com.example.stuck", async (_a, _k, details, inv) => {
    await aborted(inv.signal).catch((e) => reasons.push([e, details.timeout]));
    await answerLate.promise;
    return { args: ["too late"] };
  });

  await t.step("the dealer times the call out and interrupts the callee", async () => {
    await rejects(
      caller!.call("com.example.stuck", {}, { timeout: 100 }),
      isUri("wamp.error.timeout"),
    );
    await until(() => reasons.length === 1);
    const [reason, forwarded] = reasons[0] as [ApplicationError, unknown];
    ok(isUri("wamp.error.timeout")(reason));
    equal(reason.details.mode, "killnowait");
    equal(forwarded, undefined);
    // The late YIELD is dropped; the session carries on.
    answerLate.resolve();
    await callee!.register("com.example.ping", () => ({ args: ["pong"] }));
    deepEqual((await caller!.call("com.example.ping")).args, ["pong"]);
  });

  await t.step("forward_timeout passes the timeout on; the callee times out", async () => {
    answerLate = deferred();
    reasons.length = 0;
    await callee!.register("com.example.stuck.fwd", async (_a, _k, details, inv) => {
      await aborted(inv.signal).catch((e) => reasons.push([e, details.timeout]));
      await answerLate.promise;
    }, { forward_timeout: true });
    await rejects(
      caller!.call("com.example.stuck.fwd", {}, { timeout: 150 }),
      isUri("wamp.error.timeout"),
    );
    await until(() => reasons.length === 1);
    const [reason, forwarded] = reasons[0] as [unknown, unknown];
    ok(isUri("wamp.error.timeout")(reason));
    equal(forwarded, 150);
    answerLate.resolve();
  });

  await t.step("progressive results restart the timeout", async () => {
    await callee!.register("com.example.ticks", async (_a, _k, _d, inv) => {
      for (let i = 0; i < 6; i++) {
        await new Promise((resolve) => setTimeout(resolve, 60));
        inv.progress({ args: [i] });
      }
      return { args: ["finished"] };
    });
    const ticks: unknown[] = [];
    const result = await caller!.call("com.example.ticks", {}, {
      timeout: 250,
      onProgress: (p) => ticks.push(p.args[0]),
    });
    deepEqual(result.args, ["finished"]);
    deepEqual(ticks, [0, 1, 2, 3, 4, 5]);
  });

  await t.step("no timeout, or 0, means none", async () => {
    await callee!.register("com.example.slowish", async () => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      return { args: [1] };
    });
    deepEqual((await caller!.call("com.example.slowish", {}, { timeout: 0 })).args, [1]);
  });
  await callee!.close();
  await caller!.close();
});

feature("call_canceling", async (t, via) => {
  await using r = await startRouter();
  const [callee, caller] = await sessions(r, via, 2);
  const interrupts: unknown[] = [];
  const started: number[] = [];
  let release = deferred();
  await callee!.register("com.example.wait", async (args, _k, _d, inv) => {
    started.push(args[0] as number);
    await Promise.race([
      aborted(inv.signal).catch((e) => {
        interrupts.push(e);
      }),
      release.promise,
    ]);
    return { args: ["finished"] };
  });
  await callee!.register("com.example.ping", () => ({ args: ["pong"] }));
  const ping = async () => deepEqual((await caller!.call("com.example.ping")).args, ["pong"]);
  const reason = new Error("caller gave up");

  const cancelOnce = async (n: number, cancelMode?: "skip" | "kill" | "killnowait") => {
    const controller = new AbortController();
    const call = caller!.call(
      "com.example.wait",
      { args: [n] },
      cancelMode === undefined
        ? { signal: controller.signal }
        : { signal: controller.signal, cancelMode },
    );
    await until(() => started.includes(n));
    controller.abort(reason);
    return call;
  };

  await t.step("skip: rejects at once with the abort reason; the callee is not told", async () => {
    await rejects(cancelOnce(1, "skip"), (e) => e === reason);
    await ping(); // INTERRUPT would have reached the callee before this INVOCATION
    deepEqual(interrupts, []);
    release.resolve(); // its late YIELD is dropped
    await ping();
  });

  await t.step("killnowait (the default): rejects at once; the callee is interrupted", async () => {
    release = deferred();
    await rejects(cancelOnce(2), (e) => e === reason);
    await until(() => interrupts.length === 1);
    ok(isUri("wamp.error.canceled")(interrupts[0]));
    equal((interrupts[0] as ApplicationError).details.mode, "killnowait");
    await ping();
  });

  await t.step("kill: the caller gets the callee's answer, wamp.error.canceled", async () => {
    interrupts.length = 0;
    await rejects(cancelOnce(3, "kill"), isUri("wamp.error.canceled"));
    equal(interrupts.length, 1);
    equal((interrupts[0] as ApplicationError).details.mode, "kill");
    await ping();
  });

  await t.step("kill: an endpoint that ignores the signal is answered for", async () => {
    await callee!.register("com.example.deaf", () => new Promise(() => {}));
    const controller = new AbortController();
    const call = caller!.call("com.example.deaf", {}, {
      signal: controller.signal,
      cancelMode: "kill",
    });
    await ping(); // the INVOCATION is out
    controller.abort(reason);
    await rejects(call, isUri("wamp.error.canceled"));
  });

  await t.step("aborting a finished call, or before calling, sends nothing", async () => {
    const controller = new AbortController();
    const result = await caller!.call("com.example.ping", {}, { signal: controller.signal });
    deepEqual(result.args, ["pong"]);
    controller.abort(reason);
    await rejects(
      caller!.call("com.example.ping", {}, { signal: controller.signal }),
      (e) => e === reason,
    );
    await ping();
  });

  await t.step("a caller that leaves interrupts its calls", async () => {
    interrupts.length = 0;
    const leaving = await join(r, via);
    const call = leaving.call("com.example.wait", { args: [4] });
    await until(() => started.includes(4));
    await leaving.close();
    await rejects(call, (e) => (e as Error).name === "SessionClosedError");
    await until(() => interrupts.length === 1);
    ok(isUri("wamp.error.canceled")(interrupts[0]));
  });
  await callee!.close();
  await caller!.close();
});

feature("caller_identification", async (t, via) => {
  await using r = await startRouter({
    realms: [
      { name: "realm1" },
      { name: "always", discloseCaller: "always" },
      { name: "never", discloseCaller: "never" },
    ],
  });
  const identity = (_a: unknown[], _k: unknown, details: Record<string, unknown>) => ({
    kwargs: {
      caller: details.caller ?? null,
      authid: details.caller_authid ?? null,
      authrole: details.caller_authrole ?? null,
    },
  });

  await t.step("disclose_me discloses the caller; without it nothing", async () => {
    const [callee, caller] = await sessions(r, via, 2);
    await callee!.register("com.example.who", identity);
    const disclosed = await caller!.call("com.example.who", {}, { disclose_me: true });
    deepEqual(disclosed.kwargs, {
      caller: caller!.id,
      authid: caller!.details.authid,
      authrole: "anonymous",
    });
    const hidden = await caller!.call("com.example.who");
    deepEqual(hidden.kwargs, { caller: null, authid: null, authrole: null });
    await callee!.register("com.example.who.always", identity, { disclose_caller: true });
    equal((await caller!.call("com.example.who.always")).kwargs.caller, caller!.id);
    await callee!.close();
    await caller!.close();
  });

  await t.step('realm discloseCaller "always" discloses every caller', async () => {
    const [callee, caller] = await sessions(r, via, 2, "always");
    await callee!.register("com.example.who", identity);
    equal((await caller!.call("com.example.who")).kwargs.caller, caller!.id);
    await callee!.close();
    await caller!.close();
  });

  await t.step('realm discloseCaller "never" refuses disclose_me and disclose_caller', async () => {
    const [callee, caller] = await sessions(r, via, 2, "never");
    await rejects(
      callee!.register("com.example.who", identity, { disclose_caller: true }),
      isUri("wamp.error.option_not_allowed"),
    );
    await callee!.register("com.example.who", identity);
    await rejects(
      caller!.call("com.example.who", {}, { disclose_me: true }),
      isUri("wamp.error.option_disallowed.disclose_me"),
    );
    equal((await caller!.call("com.example.who")).kwargs.caller, null);
    await callee!.close();
    await caller!.close();
  });
});

feature("call_trustlevels", async (t, via) => {
  const transport = via === "local" ? "local" : "websocket";
  await using r = await startRouter({
    realms: [
      {
        name: "realm1",
        trustLevels: [
          { authrole: "backend", trustlevel: 9 },
          { authrole: "anonymous", transport, trustlevel: 2 },
        ],
      },
      { name: "other", trustLevels: [{ authrole: "backend", trustlevel: 9 }] },
    ],
  });
  const level = (_a: unknown[], _k: unknown, details: Record<string, unknown>) => ({
    args: [details.trustlevel ?? null],
  });

  await t.step("the first matching rule sets INVOCATION trustlevel", async () => {
    const [callee, caller] = await sessions(r, via, 2);
    await callee!.register("com.example.level", level);
    deepEqual((await caller!.call("com.example.level")).args, [2]);
    await callee!.close();
    await caller!.close();
  });

  await t.step("no matching rule, no trustlevel", async () => {
    const [callee, caller] = await sessions(r, via, 2, "other");
    await callee!.register("com.example.level", level);
    deepEqual((await caller!.call("com.example.level")).args, [null]);
    await callee!.close();
    await caller!.close();
  });
});

feature("pattern_based_registration", async (t, via) => {
  await using r = await startRouter();
  const [callee, caller] = await sessions(r, via, 2);
  const tagged = (tag: string) => (_a: unknown[], _k: unknown, _d: unknown, inv: Invocation) => ({
    args: [tag, inv.procedure],
    kwargs: { detail: inv.details.procedure ?? null },
  });
  await callee!.register("com.example.exact.get", tagged("exact"));
  await callee!.register("com.example.", tagged("prefix"), { match: "prefix" });
  await callee!.register("com.example.deep.", tagged("longer prefix"), { match: "prefix" });
  await callee!.register("com.example..set", tagged("wildcard"), { match: "wildcard" });
  await callee!.register("org..get", tagged("wildcard .x."), { match: "wildcard" });
  await callee!.register("org.a..", tagged("wildcard a.."), { match: "wildcard" });
  await callee!.register("org..b.get", tagged("wildcard .b.get"), { match: "wildcard" });
  const call = async (uri: string) => {
    const result = await caller!.call(uri);
    return [...result.args, result.kwargs.detail];
  };

  await t.step("an exact registration wins and gets no details.procedure", async () => {
    deepEqual(await call("com.example.exact.get"), [
      "exact",
      "com.example.exact.get",
      null,
    ]);
  });

  await t.step(
    "the longest prefix wins, over wildcards too; details.procedure is set",
    async () => {
      deepEqual(await call("com.example.exact.set"), [
        "prefix",
        "com.example.exact.set",
        "com.example.exact.set",
      ]);
      deepEqual(await call("com.example.deep.x.y"), [
        "longer prefix",
        "com.example.deep.x.y",
        "com.example.deep.x.y",
      ]);
    },
  );

  await t.step("wildcards: literal components win left to right", async () => {
    deepEqual(await call("org.z.get"), ["wildcard .x.", "org.z.get", "org.z.get"]);
    // Both org.a.. and org..b.get match; the literal "a" comes first.
    deepEqual(await call("org.a.b.get"), ["wildcard a..", "org.a.b.get", "org.a.b.get"]);
    deepEqual(await call("org.c.b.get"), ["wildcard .b.get", "org.c.b.get", "org.c.b.get"]);
  });

  await t.step("no match: wamp.error.no_such_procedure", async () => {
    await rejects(caller!.call("net.example.get"), isUri("wamp.error.no_such_procedure"));
    await rejects(caller!.call("org.z.get.more"), isUri("wamp.error.no_such_procedure"));
  });
  await callee!.close();
  await caller!.close();
});

feature("shared_registration", async (t, via) => {
  await using r = await startRouter();
  const callees = await sessions(r, via, 3);
  const [caller] = await sessions(r, via, 1);
  // One after the other: registration order decides roundrobin/first/last.
  const register = async (
    uri: string,
    invoke: "single" | "roundrobin" | "random" | "first" | "last",
  ) => {
    const regs = [];
    for (const [i, s] of callees.entries()) {
      regs.push(await s.register(uri, () => ({ args: [i] }), { invoke }));
    }
    return regs;
  };
  const answers = async (uri: string, n: number) => {
    const out: unknown[] = [];
    for (let i = 0; i < n; i++) out.push((await caller!.call(uri)).args[0]);
    return out;
  };

  await t.step("roundrobin walks the callees in registration order", async () => {
    const regs = await register("com.example.rr", "roundrobin");
    equal(new Set(regs.map((reg) => reg.id)).size, 1, "one registration ID for all");
    deepEqual(await answers("com.example.rr", 6), [0, 1, 2, 0, 1, 2]);
  });

  await t.step("first and last pick the oldest and newest callee", async () => {
    await register("com.example.first", "first");
    deepEqual(await answers("com.example.first", 3), [0, 0, 0]);
    await register("com.example.last", "last");
    deepEqual(await answers("com.example.last", 3), [2, 2, 2]);
  });

  await t.step("random picks among the callees", async () => {
    await register("com.example.random", "random");
    const seen = await answers("com.example.random", 30);
    ok(seen.every((i) => i === 0 || i === 1 || i === 2));
    ok(new Set(seen).size > 1, `30 random calls all went to callee ${seen[0]}`);
  });

  await t.step("a removed callee drops out of the rotation", async () => {
    const regs = await register("com.example.rr2", "roundrobin");
    await regs[1]!.unregister();
    equal(regs[1]!.active, false);
    equal(regs[1]!.revoked, undefined);
    deepEqual(await answers("com.example.rr2", 4), [0, 2, 0, 2]);
  });

  await t.step("single, a different policy, or the same session twice: refused", async () => {
    await callees[0]!.register("com.example.single", () => ({}));
    await rejects(
      callees[1]!.register("com.example.single", () => ({})),
      isUri("wamp.error.procedure_already_exists"),
    );
    await rejects(
      callees[1]!.register("com.example.rr", () => ({}), { invoke: "first" }),
      isUri("wamp.error.procedure_already_exists"),
    );
    await rejects(
      callees[0]!.register("com.example.rr", () => ({}), { invoke: "roundrobin" }),
      isUri("wamp.error.procedure_already_exists"),
    );
  });
  for (const s of [...callees, caller!]) await s.close();
});

feature("sharded_registration", async (t, via) => {
  await using r = await startRouter();
  const callees = await sessions(r, via, 3);
  const [caller] = await sessions(r, via, 1);
  await Promise.all(
    callees.map((s, i) =>
      s.register("com.example.shard", () => ({ args: [i] }), { invoke: "roundrobin" })
    ),
  );
  const shard = async (rkey: string) =>
    (await caller!.call("com.example.shard", {}, { runmode: "partition", rkey })).args[0];

  await t.step("the same rkey always reaches the same callee", async () => {
    const keys = Array.from({ length: 12 }, (_, i) => `key-${i}`);
    const first = await Promise.all(keys.map(shard));
    const again = await Promise.all(keys.map(shard));
    deepEqual(again, first);
    ok(first.every((i) => i === 0 || i === 1 || i === 2));
  });

  await t.step('runmode "partition" without rkey: wamp.error.invalid_argument', async () => {
    await rejects(
      caller!.call("com.example.shard", {}, { runmode: "partition" }),
      isUri("wamp.error.invalid_argument"),
    );
  });
  for (const s of [...callees, caller!]) await s.close();
});

feature("registration_revocation", async (t, via) => {
  await using r = await startRouter();
  const [callee, caller] = await sessions(r, via, 2);

  await t.step("the callee learns the reason; calls then find no procedure", async () => {
    const revoked = deferred<string>();
    const reg = await callee!.register("com.example.revocable", () => ({ args: [1] }), {
      onRevoked: (reason) => revoked.resolve(reason),
    });
    deepEqual((await caller!.call("com.example.revocable")).args, [1]);
    equal(r.router.revokeRegistration("realm1", reg.id, "maintenance"), true);
    equal(await within(revoked.promise), "maintenance");
    equal(reg.active, false);
    equal(reg.revoked, "maintenance");
    await rejects(caller!.call("com.example.revocable"), isUri("wamp.error.no_such_procedure"));
    await reg.unregister(); // a no-op now
    equal(reg.revoked, "maintenance");
    // The URI can be registered again; a revocation without a reason.
    const again = await callee!.register("com.example.revocable", () => ({ args: [2] }));
    deepEqual((await caller!.call("com.example.revocable")).args, [2]);
    equal(again.revoked, undefined);
    r.router.revokeRegistration("realm1", again.id);
    await until(() => again.revoked !== undefined);
    equal(again.revoked, "");
  });
  await callee!.close();
  await caller!.close();
});

feature("payload_passthru_mode", async (t, via) => {
  await using r = await startRouter();
  const [callee, caller] = await sessions(r, via, 2);
  const ppt = { ppt_scheme: "x_cloverleaf", ppt_serializer: "cbor", ppt_keyid: "k1" };

  await t.step("ppt options and a binary payload pass through untouched", async () => {
    const seen: Record<string, unknown>[] = [];
    await callee!.register("com.example.opaque", (args, kwargs, details) => {
      seen.push({ args, kwargs, details });
      const input = args[0] as Uint8Array;
      return { args: [input.toReversed()], options: ppt };
    });
    const payload = new Uint8Array([0, 1, 2, 254, 255]);
    const result = await caller!.call("com.example.opaque", { args: [payload] }, ppt);
    const got = seen[0]!;
    ok((got.args as unknown[])[0] instanceof Uint8Array);
    deepEqual([...(got.args as Uint8Array[])[0]!], [...payload]);
    deepEqual(got.kwargs, {});
    const details = got.details as Record<string, unknown>;
    deepEqual(
      [details.ppt_scheme, details.ppt_serializer, details.ppt_keyid],
      ["x_cloverleaf", "cbor", "k1"],
    );
    ok(result.args[0] instanceof Uint8Array);
    deepEqual([...(result.args[0] as Uint8Array)], [255, 254, 2, 1, 0]);
    deepEqual(
      [result.details.ppt_scheme, result.details.ppt_serializer, result.details.ppt_keyid],
      ["x_cloverleaf", "cbor", "k1"],
    );
    notEqual(result.details.progress, true);
  });
  await callee!.close();
  await caller!.close();
});

type Dict = Record<string, unknown>;
