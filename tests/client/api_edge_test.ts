/**
 * The client's API edge over a real socket: payloads that are not
 * `{ args?, kwargs? }` are a TypeError naming the method (or, from an
 * endpoint, an ERROR for the caller and a report for the callee), and a
 * request on a session that is not open says what happened to it.
 */

import { deepEqual, equal, match, ok, rejects } from "node:assert/strict";
import {
  ApplicationError,
  connect,
  type Endpoint,
  ErrorUri,
  type Session,
  SessionClosedError,
} from "../../mod.ts";
import { startRouter, type TestRouter, until, within } from "../_helpers/router.ts";

async function pair(t: TestRouter): Promise<[Session, Session]> {
  return [await connect(t.url, { realm: "realm1" }), await connect(t.url, { realm: "realm1" })];
}

/** A payload as an application mistakenly passes it: the types say no, the runtime checks. */
// deno-lint-ignore no-explicit-any
const loose = (value: unknown): any => value;

/** Input chunks, the second one positional. */
async function* badChunks() {
  yield { args: [1] };
  yield loose([2]);
}

Deno.test("publish() and call() refuse positional and bare payloads with a TypeError naming the method", async () => {
  await using t = await startRouter();
  const [a, b] = await pair(t);
  try {
    await a.register("com.example.echo", (args, kwargs) => ({ args, kwargs }));
    const cases: [string, () => Promise<unknown>, RegExp][] = [
      [
        "publish array",
        () => b.publish("com.example.t", loose(["a"])),
        /Session\.publish\(com\.example\.t\).*array of 1.*\{ args: \[\.\.\.\] \}/,
      ],
      [
        "publish string",
        () => b.publish("com.example.t", loose("a")),
        /Session\.publish\(com\.example\.t\).*the string "a"/,
      ],
      [
        "publish args not array",
        () => b.publish("com.example.t", loose({ args: 1 })),
        /Session\.publish.*"args" must be an array, got the number 1/,
      ],
      [
        "call array",
        () => b.call("com.example.echo", loose([1, 2])),
        /Session\.call\(com\.example\.echo\).*array of 2/,
      ],
      [
        "call number",
        () => b.call("com.example.echo", loose(5)),
        /Session\.call\(com\.example\.echo\).*the number 5/,
      ],
      ["call null", () => b.call("com.example.echo", loose(null)), /Session\.call.*got null/],
      [
        "call other keys",
        () => b.call("com.example.echo", loose({ result: 5 })),
        /Session\.call.*an object with "result"/,
      ],
      [
        "call kwargs array",
        () => b.call("com.example.echo", loose({ kwargs: [1] })),
        /"kwargs" must be an object/,
      ],
      [
        "call cancelMode unknown",
        () => b.call("com.example.echo", {}, { cancelMode: loose("x") }),
        /Session\.call\(com\.example\.echo\): cancelMode must be "skip", "kill" or "killnowait"/,
      ],
      [
        "streamed call onProgress not a function",
        () => b.call("com.example.echo", badChunks(), { onProgress: loose(null) }),
        /Session\.call\(com\.example\.echo\): onProgress must be a function/,
      ],
    ];
    for (const [name, run, pattern] of cases) {
      await rejects(run(), (e: Error) => {
        ok(e instanceof TypeError, `${name}: ${e}`);
        match(e.message, pattern, name);
        return true;
      });
    }
    // A bad chunk of a streamed call ends the call with the TypeError.
    await rejects(b.call("com.example.echo", badChunks()), (e: Error) => {
      ok(e instanceof TypeError);
      match(e.message, /Session\.call\(com\.example\.echo\) input chunk.*array of 1/);
      return true;
    });
    // What is right still goes, and the session is unharmed.
    deepEqual((await b.call("com.example.echo", { args: [1], kwargs: { k: 2 } })).args, [1]);
    equal(await b.publish("com.example.t", {}, { acknowledge: true }) !== undefined, true);
    equal(await b.publish("com.example.t"), undefined);
  } finally {
    await a.close();
    await b.close();
  }
});

Deno.test("an endpoint returning a bare value answers the caller with runtime_error and reports a TypeError", async () => {
  await using t = await startRouter();
  const [callee, caller] = await pair(t);
  const reported: [unknown, string][] = [];
  callee.onUserError = (error, where) => reported.push([error, where]);
  try {
    const endpoints: [string, Endpoint, RegExp][] = [
      ["com.example.five", loose(() => 5), /the endpoint of com\.example\.five.*the number 5/],
      [
        "com.example.list",
        loose(() => [1, 2]),
        /com\.example\.list.*array of 2.*\{ args: \[\.\.\.\] \}/,
      ],
      [
        "com.example.async",
        loose(() => Promise.resolve("x")),
        /com\.example\.async.*the string "x"/,
      ],
      [
        "com.example.keys",
        loose(() => ({ result: 1 })),
        /com\.example\.keys.*an object with "result"/,
      ],
    ];
    for (const [procedure, endpoint, pattern] of endpoints) {
      await callee.register(procedure, endpoint);
      await rejects(caller.call(procedure), (e: ApplicationError) => {
        ok(e instanceof ApplicationError, String(e));
        equal(e.uri, ErrorUri.RUNTIME_ERROR);
        match(String(e.args[0]), pattern);
        return true;
      });
      const [error, where] = reported.at(-1)!;
      ok(error instanceof TypeError);
      match(error.message, pattern);
      equal(where, `endpoint of ${procedure}`);
    }
    equal(reported.length, endpoints.length);
    // progress() with a bare value throws inside the endpoint: the caller learns it.
    await callee.register("com.example.progress", (_a, _k, _d, invocation) => {
      invocation.progress(loose(1));
      return {};
    });
    await rejects(
      caller.call("com.example.progress", {}, { onProgress: () => {} }),
      /runtime_error: invocation\.progress\(\) of com\.example\.progress.*the number 1/,
    );
    // Nothing, {}, { args }, { kwargs } are fine.
    await callee.register("com.example.nothing", () => {});
    await callee.register("com.example.empty", () => ({}));
    await callee.register("com.example.kw", () => ({ kwargs: { a: 1 } }));
    deepEqual((await caller.call("com.example.nothing")).args, []);
    deepEqual((await caller.call("com.example.empty")).args, []);
    deepEqual((await caller.call("com.example.kw")).kwargs, { a: 1 });
    equal(reported.length, endpoints.length);
  } finally {
    await callee.close();
    await caller.close();
  }
});

Deno.test("a throwing event handler goes to onUserError, and the subscription keeps going", async () => {
  await using t = await startRouter();
  const [subscriber, publisher] = await pair(t);
  const reported: [unknown, string][] = [];
  subscriber.onUserError = (error, where) => reported.push([error, where]);
  const seen: unknown[] = [];
  try {
    await subscriber.subscribe("com.example.t", (event) => {
      seen.push(event.args[0]);
      if (event.args[0] === 1) throw new Error("handler broke");
    });
    await publisher.publish("com.example.t", { args: [1] }, { acknowledge: true });
    await publisher.publish("com.example.t", { args: [2] }, { acknowledge: true });
    await until(() => seen.length === 2, 5000, "both events");
    equal(reported.length, 1);
    match(String(reported[0]![0]), /handler broke/);
    equal(reported[0]![1], "event handler of com.example.t");
  } finally {
    await subscriber.close();
    await publisher.close();
  }
});

Deno.test("a request on a closed session says what happened: transport lost, closed by router, closed by the client", async () => {
  const expectClosed = async (session: Session, pattern: RegExp, by: string) => {
    for (
      const attempt of [
        () => session.call("com.example.x"),
        () => session.publish("com.example.t"),
        () => session.subscribe("com.example.t"),
        () => session.register("com.example.x", () => {}),
      ]
    ) {
      await rejects(attempt(), (e: SessionClosedError) => {
        ok(e instanceof SessionClosedError, String(e));
        match(e.message, pattern);
        ok(!/the session is not open/.test(e.message), e.message);
        equal(e.by, by);
        return true;
      });
    }
  };

  // The transport: the listener goes away, the router stays.
  {
    const t = await startRouter();
    const session = await connect(t.url, { realm: "realm1" });
    const pending = session.call("com.example.never", {}, {}).catch((e) => e);
    await t.listener.close();
    const info = await within(session.closed, 5000, "transport loss");
    equal(info.by, "transport");
    match(String(await pending), /^SessionClosedError: Session closed: transport lost$/);
    await expectClosed(session, /^Session closed: transport lost$/, "transport");
    await t.router.close();
  }
  // The router: it shuts down with GOODBYE.
  {
    await using t = await startRouter();
    const session = await connect(t.url, { realm: "realm1" });
    await t.router.close();
    const info = await within(session.closed, 5000, "router GOODBYE");
    equal(info.by, "router");
    await expectClosed(
      session,
      /^Session closed by router: wamp\.close\.system_shutdown/,
      "router",
    );
  }
  // The client: close() was called.
  {
    await using t = await startRouter();
    const session = await connect(t.url, { realm: "realm1" });
    await session.close();
    equal((await session.closed).by, "client");
    await expectClosed(session, /^Session closed by the client$/, "client");
  }
});
