/**
 * fox-wamp (npm `fox-wamp`, a Node WAMP router) as an interop peer for our
 * client: the test starts it under `node` (tests/interop/fox/launcher.mjs)
 * on 127.0.0.1 and runs the basic checks with `connect()` over WebSocket +
 * JSON, the only transport and serializer fox-wamp speaks.
 *
 * The test installs fox-wamp when it is missing (`npm ci --prefix tests/interop/fox
 * --ignore-scripts`, as .ci/run does). When npm or node cannot, the test FAILS:
 * it is never skipped.
 *
 * The checks accept what fox-wamp really sends where it is off-spec but
 * harmless (a `null` Arguments/ArgumentsKw in EVENT, INVOCATION and
 * RESULT, which our client reads as absent), and pin its deviations where
 * they change what the application sees (a callee's error URI arrives as
 * `wamp.error.callee_failure` with the URI as the first argument).
 *
 * fox-wamp 0.7.28's known deviations (seen on the wire):
 * - WebSocket + `wamp.2.json` only (no msgpack, cbor, RawSocket);
 * - `null` for empty Arguments and absent ArgumentsKw (EVENT, INVOCATION,
 *   RESULT), and a lone list argument unwrapped (`[[1, 2]]` arrives as
 *   `[1, 2]`), so `[x]` and `x` cannot be told apart when `x` is a list;
 * - a callee's ERROR reaches the caller as `wamp.error.callee_failure`,
 *   `[callee's URI]`: the callee's URI, args and kwargs are lost;
 * - GOODBYE is answered with `wamp.error.goodbye_and_out` (the spec:
 *   `wamp.close.goodbye_and_out`);
 * - an invalid frame or unknown message type closes the WebSocket with 1003
 *   without ABORT; CANCEL is ignored;
 * - `wamp.session.on_join` carries the details as ArgumentsKw with null
 *   Arguments (the spec: Arguments `[details]`); publication IDs count up
 *   from 1 (the spec: random, global scope); WELCOME has no authid/authrole.
 */

import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { ApplicationError, connect, type Event, type Session } from "../../mod.ts";
import { within } from "../_helpers/router.ts";

/** The bound on every wait, in milliseconds. */
const TIMEOUT_MS = 3000;

const FOX_DIR = fileURLToPath(new URL("./fox/", import.meta.url));

/** A running fox-wamp router. */
interface Fox extends AsyncDisposable {
  /** Its WebSocket URL. */
  url: string;
}

/**
 * Installs fox-wamp from the lock file when it is missing (`npm ci`; its WAMP
 * path loads no native module, so install scripts are skipped). Throws, and
 * so fails the test, when npm cannot.
 */
async function installFox(): Promise<void> {
  try {
    await Deno.stat(`${FOX_DIR}node_modules/fox-wamp/package.json`);
    return;
  } catch {
    // not installed yet
  }
  const { code, stderr } = await new Deno.Command("npm", {
    args: ["ci", "--ignore-scripts", "--no-audit", "--no-fund"],
    cwd: FOX_DIR,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(
      `Cannot install fox-wamp (npm ci in ${FOX_DIR}, exit ${code}): ${
        new TextDecoder().decode(stderr).trim()
      }`,
    );
  }
}

/**
 * Starts fox-wamp under node on a free port; disposing it closes its stdin,
 * which ends it.
 */
async function startFox(): Promise<Fox> {
  await installFox();
  const child = new Deno.Command("node", {
    args: [`${FOX_DIR}launcher.mjs`, "0"],
    cwd: FOX_DIR,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  let onLine: (line: string) => void = () => {};
  const firstLine = new Promise<string>((resolve) => onLine = resolve);
  const reading = (async () => {
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      output += chunk;
      const end = output.indexOf("\n");
      if (end >= 0) onLine(output.slice(0, end));
    }
    onLine("");
  })();
  const errors = new Response(child.stderr).text();
  const stop = async (): Promise<Deno.CommandStatus> => {
    await child.stdin.close().catch(() => {});
    const status = await child.status;
    await reading;
    return status;
  };
  const line = await within(firstLine, 10_000, "fox-wamp start").catch(async (e) => {
    child.kill();
    await stop();
    throw e;
  });
  if (line === "") {
    const status = await stop();
    throw new Error(`Cannot start fox-wamp (exit ${status.code}): ${(await errors).trim()}`);
  }
  const { port } = JSON.parse(line) as { port: number };
  return {
    url: `ws://127.0.0.1:${port}`,
    async [Symbol.asyncDispose]() {
      await stop();
      await errors;
    },
  };
}

/** Joins realm1 of fox-wamp with our client, JSON only. */
function joinFox(fox: Fox): Promise<Session> {
  return connect(fox.url, { realm: "realm1", serializers: ["json"] });
}

/** The next event of a subscription-by-handler, bounded. */
function nextEvent(events: Event[], count: number): Promise<Event> {
  return within(
    (async () => {
      while (events.length < count) await new Promise((r) => setTimeout(r, 5));
      return events[count - 1]!;
    })(),
    TIMEOUT_MS,
    `event #${count}`,
  );
}

/** Closes sessions that are still open. */
async function closeAll(...sessions: (Session | undefined)[]): Promise<void> {
  await Promise.all(sessions.map((s) => s?.isOpen ? s.close() : undefined));
}

Deno.test("fox-wamp: our client's basic checks over ws+json", async (t) => {
  await using fox = await startFox();

  await t.step("join", async () => {
    const s = await within(joinFox(fox), TIMEOUT_MS, "join");
    ok(s.isOpen);
    equal(typeof s.id, "number");
    equal(s.realm, "realm1");
    await s.close();
  });

  const payloads: [string, { args?: unknown[]; kwargs?: Record<string, unknown> }][] = [
    ["args", { args: [1, "two", { three: 3 }] }],
    ["kwargs", { kwargs: { a: 1, b: [true, null] } }],
    ["args+kwargs", { args: ["x", 2], kwargs: { y: "z" } }],
    ["no payload", {}],
  ];
  for (const [name, payload] of payloads) {
    await t.step(`pubsub: ${name}`, async () => {
      let sub: Session | undefined, pub: Session | undefined;
      try {
        [sub, pub] = await Promise.all([joinFox(fox), joinFox(fox)]);
        const events: Event[] = [];
        await sub.subscribe("com.example.fox.topic", (e) => void events.push(e));
        const publication = await pub.publish("com.example.fox.topic", payload, {
          acknowledge: true,
        });
        equal(typeof publication, "number");
        const event = await nextEvent(events, 1);
        deepEqual([event.args, event.kwargs], [payload.args ?? [], payload.kwargs ?? {}]);
        equal(event.topic, "com.example.fox.topic");
      } finally {
        await closeAll(sub, pub);
      }
    });
  }

  await t.step("unsubscribe", async () => {
    let sub: Session | undefined, pub: Session | undefined;
    try {
      [sub, pub] = await Promise.all([joinFox(fox), joinFox(fox)]);
      const gone: Event[] = [];
      const kept: Event[] = [];
      const old = await sub.subscribe("com.example.fox.gone", (e) => void gone.push(e));
      await sub.subscribe("com.example.fox.kept", (e) => void kept.push(e));
      await within(old.unsubscribe(), TIMEOUT_MS, "unsubscribe");
      await pub.publish("com.example.fox.gone", { args: [1] }, { acknowledge: true });
      await pub.publish("com.example.fox.kept", { args: [2] }, { acknowledge: true });
      deepEqual((await nextEvent(kept, 1)).args, [2]);
      equal(gone.length, 0);
    } finally {
      await closeAll(sub, pub);
    }
  });

  const calls: [string, { args?: unknown[]; kwargs?: Record<string, unknown> }][] = [
    ["args", { args: [1, "two", { three: 3 }] }],
    ["kwargs only", { kwargs: { a: 1, b: "c" } }],
    ["no args", {}],
  ];
  for (const [name, payload] of calls) {
    await t.step(`rpc: ${name}`, async () => {
      let callee: Session | undefined, caller: Session | undefined;
      try {
        [callee, caller] = await Promise.all([joinFox(fox), joinFox(fox)]);
        const seen: unknown[] = [];
        await callee.register("com.example.fox.echo", (args, kwargs) => {
          seen.push([args, kwargs]);
          return { args: [...args, "echoed"], kwargs };
        });
        const result = await within(
          caller.call("com.example.fox.echo", payload),
          TIMEOUT_MS,
          "call",
        );
        deepEqual(seen, [[payload.args ?? [], payload.kwargs ?? {}]]);
        deepEqual([result.args, result.kwargs], [
          [...payload.args ?? [], "echoed"],
          payload.kwargs ?? {},
        ]);
      } finally {
        await closeAll(callee, caller);
      }
    });
  }

  await t.step("rpc: error from the callee", async () => {
    let callee: Session | undefined, caller: Session | undefined;
    try {
      [callee, caller] = await Promise.all([joinFox(fox), joinFox(fox)]);
      await callee.register("com.example.fox.fail", () => {
        throw new ApplicationError("com.example.fox.oops", { args: ["why"] });
      });
      // fox-wamp replaces the callee's URI and payload (a deviation):
      // ERROR wamp.error.callee_failure, args [the callee's URI].
      await rejects(
        within(caller.call("com.example.fox.fail"), TIMEOUT_MS, "call"),
        (e: unknown) => {
          ok(e instanceof ApplicationError, `expected ApplicationError, got ${e}`);
          deepEqual([e.uri, e.args], ["wamp.error.callee_failure", ["com.example.fox.oops"]]);
          return true;
        },
      );
      ok(callee.isOpen && caller.isOpen);
    } finally {
      await closeAll(callee, caller);
    }
  });

  await t.step("rpc: no_such_procedure", async () => {
    const caller = await joinFox(fox);
    try {
      await rejects(
        within(caller.call("com.example.fox.nobody"), TIMEOUT_MS, "call"),
        (e: unknown) => e instanceof ApplicationError && e.uri === "wamp.error.no_such_procedure",
      );
      ok(caller.isOpen);
    } finally {
      await closeAll(caller);
    }
  });

  await t.step("unregister", async () => {
    let callee: Session | undefined, caller: Session | undefined;
    try {
      [callee, caller] = await Promise.all([joinFox(fox), joinFox(fox)]);
      const reg = await callee.register("com.example.fox.once", () => ({ args: [1] }));
      deepEqual((await within(caller.call("com.example.fox.once"), TIMEOUT_MS, "call")).args, [1]);
      await within(reg.unregister(), TIMEOUT_MS, "unregister");
      await rejects(
        within(caller.call("com.example.fox.once"), TIMEOUT_MS, "call"),
        (e: unknown) => e instanceof ApplicationError && e.uri === "wamp.error.no_such_procedure",
      );
    } finally {
      await closeAll(callee, caller);
    }
  });

  await t.step("rpc: progressive results", async () => {
    let callee: Session | undefined, caller: Session | undefined;
    try {
      [callee, caller] = await Promise.all([joinFox(fox), joinFox(fox)]);
      await callee.register("com.example.fox.count", (_args, _kwargs, _details, invocation) => {
        invocation.progress({ args: ["one"] });
        invocation.progress({ args: ["two"] });
        return { args: ["three"] };
      });
      const progress: unknown[] = [];
      const result = await within(
        caller.call("com.example.fox.count", {}, {
          onProgress: (p) => void progress.push(p.args[0]),
        }),
        TIMEOUT_MS,
        "progressive call",
      );
      deepEqual([...progress, ...result.args], ["one", "two", "three"]);
    } finally {
      await closeAll(callee, caller);
    }
  });

  await t.step("leave", async () => {
    const s = await joinFox(fox);
    await within(s.close(), TIMEOUT_MS, "leave");
    ok(!s.isOpen);
    const closed = await within(s.closed, TIMEOUT_MS, "closed");
    equal(typeof closed.reason, "string");
  });
});
