/**
 * The client against a hostile router (attack review E): a router that
 * sends what it should not, or too much of it, gets a bounded client.
 */

import { deepEqual, equal, match, ok } from "node:assert/strict";
import { ApplicationError, connect, ErrorUri, SessionClosedError } from "../../mod.ts";
import { until, within } from "../_helpers/router.ts";
import { assertIdle, hostile } from "./_hostile.ts";
import type { SubscribeOptions } from "../../wamp/mod.ts";

Deno.test("hostile router: a second CHALLENGE in one join is a protocol violation, answered by no second AUTHENTICATE", async () => {
  await using router = hostile((msg, send) => {
    if (msg[0] === 1) {
      send([4, "ticket", {}]);
      send([4, "ticket", {}]);
      send([4, "ticket", {}]);
    }
  });
  const error = await within(
    connect(router.url, {
      realm: "r",
      authid: "a",
      ticket: "t",
      serializers: ["json"],
      timeout: 3000,
    })
      .then(() => undefined, (e: unknown) => e),
    5000,
    "the join",
  );
  ok(error instanceof SessionClosedError, String(error));
  equal(error.reason, ErrorUri.PROTOCOL_VIOLATION);
  match(error.message, /second CHALLENGE/);
  await until(() => router.received.some((m) => m[0] === 3), 2000, "the router gets ABORT");
  const kinds = router.received.map((m) => m[0]);
  deepEqual(kinds.filter((k) => k === 5), [], "no AUTHENTICATE after the ABORT");
  equal(router.received.find((m) => m[0] === 3)?.[2], ErrorUri.PROTOCOL_VIOLATION);
});

Deno.test("hostile router: a WELCOME that skips the credentials the client offered is refused", async () => {
  const cases: [string, Record<string, unknown>, Record<string, unknown>][] = [
    ["anonymous, not offered", { password: "pw" }, { authmethod: "anonymous" }],
    ["no authmethod", { password: "pw" }, {}],
    ["ticket, not offered", { password: "pw" }, { authmethod: "ticket" }],
    ["scram without its CHALLENGE", { password: "pw" }, { authmethod: "wamp-scram" }],
    ["ticket without its CHALLENGE", { ticket: "t" }, { authmethod: "ticket" }],
    ["no authmethod, a custom method offered", { authmethods: ["x-otp"] }, {}],
  ];
  for (const [name, credentials, details] of cases) {
    await using router = hostile((msg, send) => {
      if (msg[0] === 1) send([2, 1, { roles: { broker: {} }, ...details }]);
    });
    const error = await within(
      connect(router.url, { realm: "r", authid: "a", serializers: ["json"], ...credentials })
        .then((s) => s.close().then(() => undefined), (e: unknown) => e),
      5000,
      name,
    );
    ok(error instanceof SessionClosedError, `${name}: ${error}`);
    match(error.message, /welcomed the session|could not prove/, name);
  }
  // Welcomes without a CHALLENGE that a real router gives: anonymous (with or without its
  // authmethod), a cookie login (Crossbar names the method the cookie was won with), a method
  // of the router's own that takes none (Bondy's trust).
  const accepted: [Record<string, unknown>, Record<string, unknown>][] = [
    [{}, { authmethod: "anonymous" }],
    [{}, {}],
    [{ authmethods: ["cookie", "wampcra"], secret: "s" }, {
      authmethod: "wampcra",
      authprovider: "cookie",
    }],
    [{ authmethods: ["cookie", "wamp-scram"], password: "pw" }, {
      authmethod: "wamp-scram",
      authprovider: "cookie",
    }],
    [{ authmethods: ["trust"] }, { authmethod: "trust" }],
  ];
  for (const [credentials, details] of accepted) {
    await using router = hostile((msg, send) => {
      if (msg[0] === 1) send([2, 1, { roles: { broker: {} }, ...details }]);
    });
    const session = await connect(router.url, {
      realm: "r",
      authid: "a",
      serializers: ["json"],
      ...credentials,
    });
    await session.close();
  }
});

const WELCOME = [2, 1, {
  roles: { broker: {}, dealer: { features: { progressive_call_invocations: true } } },
}];

/** A router that welcomes, answers REGISTER with registration 77 and then runs `onRegister`. */
function dealer(onRegister: (send: (msg: unknown[]) => void) => void) {
  return hostile((msg, send) => {
    if (msg[0] === 1) send(WELCOME);
    if (msg[0] === 64) {
      send([65, msg[1], 77]);
      onRegister(send);
    }
  });
}

/** The ERRORs and YIELDs the router got, as [request, error URI or "yield"]. */
function answers(received: unknown[][]): [number, string][] {
  return received.filter((m) => m[0] === 8 || m[0] === 70).map((m) =>
    m[0] === 70 ? [m[1] as number, "yield"] : [m[2] as number, m[4] as string]
  );
}

Deno.test("hostile router: INVOCATIONs past maxInvocations get ERROR wamp.error.unavailable at once and run nothing", async () => {
  await using router = dealer((send) => {
    for (let i = 1; i <= 5; i++) send([68, i, 77, {}, [i]]);
  });
  const session = await connect(router.url, {
    realm: "r",
    serializers: ["json"],
    maxInvocations: 2,
  });
  const release = Promise.withResolvers<void>();
  const ran: unknown[] = [];
  await session.register("p", async (args) => {
    ran.push(args[0]);
    await release.promise;
    return { args: ["done"] };
  });
  await until(() => answers(router.received).length === 3, 3000, "three refusals");
  deepEqual(answers(router.received), [
    [3, "wamp.error.unavailable"],
    [4, "wamp.error.unavailable"],
    [
      5,
      "wamp.error.unavailable",
    ],
  ]);
  deepEqual(ran, [1, 2]);
  release.resolve();
  await until(() => answers(router.received).length === 5, 3000, "the two running answer");
  await session.close();
});

Deno.test("hostile router: input chunks past maxInputChunks answer ERROR limit_exceeded and abort the invocation", async () => {
  await using router = dealer((send) => {
    send([68, 1, 77, { progress: true }, ["first"]]);
    for (let i = 0; i < 10; i++) send([68, 1, 77, { progress: true }, [i]]);
  });
  const session = await connect(router.url, {
    realm: "r",
    serializers: ["json"],
    maxInputChunks: 3,
  });
  let reason: unknown;
  await session.register("p", async (_args, _kwargs, _details, invocation) => {
    // Reads nothing: the chunks queue until the invocation is aborted.
    await new Promise((resolve) => invocation.signal.addEventListener("abort", resolve));
    reason = invocation.signal.reason;
    return { args: ["ignored"] };
  });
  await until(() => reason !== undefined, 3000, "the abort");
  match(String(reason), /maxInputChunks/);
  await new Promise((resolve) => setTimeout(resolve, 50));
  deepEqual(answers(router.received), [[1, ErrorUri.LIMIT_EXCEEDED]]);
  await session.close();
});

Deno.test("hostile router: an INVOCATION timeout past 2^31-1 ms does not fire at once", async () => {
  await using router = dealer((send) => {
    send([68, 1, 77, { timeout: 2 ** 31 }, []]);
    send([68, 2, 77, { timeout: 30 * 86_400_000 }, []]);
  });
  const session = await connect(router.url, { realm: "r", serializers: ["json"] });
  await session.register("p", async () => {
    await new Promise((resolve) => setTimeout(resolve, 100));
    return { args: ["done"] };
  });
  await until(() => answers(router.received).length === 2, 3000, "two answers");
  deepEqual(answers(router.received), [[1, "yield"], [2, "yield"]]);
  await session.close();
});

Deno.test("hostile router: an iterated subscription holds at most maxQueuedEvents unread and counts the dropped", async () => {
  await using router = hostile((msg, send) => {
    if (msg[0] === 1) send(WELCOME);
    if (msg[0] === 32) {
      send([33, msg[1], 9]);
      for (let i = 1; i <= 150; i++) send([36, 9, i, {}, [i]]);
    }
  });
  const session = await connect(router.url, {
    realm: "r",
    serializers: ["json"],
    maxQueuedEvents: 100,
  });
  const sub = await session.subscribe("t");
  await until(() => sub.dropped === 50, 3000, "50 dropped");
  const it = sub[Symbol.asyncIterator]();
  equal((await it.next()).value?.publication, 51);
  await session.close();
});

Deno.test("hostile router: a request the router never answers rejects after requestTimeout", async () => {
  await using router = hostile((msg, send) => {
    if (msg[0] === 1) send(WELCOME);
  });
  const session = await connect(router.url, {
    realm: "r",
    serializers: ["json"],
    requestTimeout: 200,
  });
  const started = Date.now();
  const error = await within(session.subscribe("t").then(() => undefined, (e: unknown) => e), 3000);
  ok(error instanceof ApplicationError, String(error));
  equal(error.uri, ErrorUri.TIMEOUT);
  match(error.message, /SUBSCRIBE got no reply in 200 ms/);
  ok(Date.now() - started < 2000);
  ok(session.isOpen);
  await session.close();
});

Deno.test("maxInvocations: an endpoint that answers synchronously is answered at once and never counts", async () => {
  await using router = dealer((send) => {
    for (let i = 1; i <= 5; i++) send([68, i, 77, {}, [i]]);
  });
  const session = await connect(router.url, {
    realm: "r",
    serializers: ["json"],
    maxInvocations: 1,
  });
  await session.register("p", (args) => ({ args }));
  await until(() => answers(router.received).length === 5, 3000, "five answers");
  deepEqual(answers(router.received), [1, 2, 3, 4, 5].map((i) => [i, "yield"]));
  await session.close();
});

/** Whether the client ended the session with ABORT protocol_violation, and its message. */
function abortOf(received: unknown[][]): string | undefined {
  const abort = received.find((m) => m[0] === 3 && m[2] === ErrorUri.PROTOCOL_VIOLATION);
  return (abort?.[1] as { message?: string } | undefined)?.message;
}

Deno.test("hostile router: a REGISTERED with an ID the session holds ends it (its invocations would run the other endpoint)", async () => {
  await using router = hostile((msg, send) => {
    if (msg[0] === 1) send(WELCOME);
    if (msg[0] === 64) send([65, msg[1], 77]); // the same ID for every procedure
  });
  const session = await connect(router.url, { realm: "r", serializers: ["json"] });
  const transfer = await session.register("com.bank.transfer", () => ({ args: ["moved"] }));
  equal(transfer.id, 77);
  await within(
    session.register("com.app.echo", () => ({ args: ["echo"] })).then(
      () => Promise.reject(new Error("registered")),
      (error) => ok(error instanceof SessionClosedError, String(error)),
    ),
  );
  await until(() => abortOf(router.received) !== undefined, 3000, "ABORT");
  match(abortOf(router.received)!, /REGISTERED with registration 77, held already/);
  equal(session.isOpen, false);
});

const COLLISIONS: [what: string, first: string, then: [string, SubscribeOptions]][] = [
  ["another topic's subscription ID", "com.bank.alerts", ["com.public.chat", {}]],
  ["the subscription ID of the topic under another match policy", "com.bank", ["com.bank", {
    match: "prefix",
  }]],
];
for (const [what, first, [topic, options]] of COLLISIONS) {
  Deno.test(`hostile router: a SUBSCRIBED with ${what} ends the session`, async () => {
    await using router = hostile((msg, send) => {
      if (msg[0] === 1) send(WELCOME);
      if (msg[0] === 32) send([33, msg[1], 555]);
    });
    const session = await connect(router.url, { realm: "r", serializers: ["json"] });
    await session.subscribe(first, () => {});
    // The same topic and policy again shares the ID, as routers answer it.
    await session.subscribe(first, () => {});
    await within(
      session.subscribe(topic, () => {}, options).then(
        () => Promise.reject(new Error("subscribed")),
        (error) => ok(error instanceof SessionClosedError, String(error)),
      ),
    );
    await until(() => abortOf(router.received) !== undefined, 3000, "ABORT");
    match(
      abortOf(router.received)!,
      /SUBSCRIBED with subscription 555, held for another topic or match/,
    );
  });
}

Deno.test("hostile router: an INVOCATION reusing a running invocation's ID for another registration ends the session", async () => {
  const ids = [1, 2];
  await using router = hostile((msg, send) => {
    if (msg[0] === 1) send(WELCOME);
    if (msg[0] === 64) {
      send([65, msg[1], ids.shift()]);
      if (ids.length === 0) {
        send([68, 5, 1, { progress: true }, ["start A"]]);
        send([68, 5, 2, {}, ["meant for B"]]);
      }
    }
  });
  const session = await connect(router.url, { realm: "r", serializers: ["json"] });
  const got: unknown[] = [];
  await session.register("a", async (_args, _kwargs, _details, invocation) => {
    for await (const chunk of invocation.chunks) got.push(chunk.args[0]);
    return { args: ["A"] };
  });
  await session.register("b", () => ({ args: ["B"] }));
  await until(() => abortOf(router.received) !== undefined, 3000, "ABORT");
  match(abortOf(router.received)!, /INVOCATION 5 for registration 2, running for another/);
  deepEqual(got, ["start A"], "B's chunk never reached A");
});

/** A dealer that takes calls and cancels, answers none unless `answer` does, and records them. */
function silentDealer(answer: (msg: unknown[], send: (m: unknown[]) => void) => void = () => {}) {
  return hostile((msg, send) => {
    if (msg[0] === 1) {
      send([2, 1, {
        roles: { dealer: { features: { call_canceling: true, progressive_call_results: true } } },
      }]);
    }
    if (msg[0] === 48) answer(msg, send);
  });
}

Deno.test("hostile router: a call with a timeout the router never answers rejects wamp.error.timeout soon after it, and is canceled", async () => {
  await using router = silentDealer();
  const session = await connect(router.url, { realm: "r", serializers: ["json"] });
  const started = performance.now();
  const error = await within(session.call("p", {}, { timeout: 200 }).catch((e) => e));
  const took = performance.now() - started;
  ok(error instanceof ApplicationError && error.uri === ErrorUri.TIMEOUT, String(error));
  ok(took >= 200 + 900 && took < 3000, `${Math.round(took)} ms`);
  await until(() => router.received.some((m) => m[0] === 49), 2000, "CANCEL");
  deepEqual(router.received.find((m) => m[0] === 49)?.[2], { mode: "killnowait" });
  await session.close();
});

Deno.test("hostile router: progressive results keep a call with a timeout waiting; the final one settles it", async () => {
  await using router = silentDealer((msg, send) => {
    let n = 0;
    const timer = setInterval(() => {
      if (++n < 12) return send([50, msg[1], { progress: true }, [n]]);
      clearInterval(timer);
      send([50, msg[1], {}, ["done"]]);
    }, 150); // 1.8 s in all, each result well within the timeout and its grace
  });
  const session = await connect(router.url, { realm: "r", serializers: ["json"] });
  const seen: unknown[] = [];
  const result = await within(session.call("p", {}, {
    timeout: 200,
    onProgress: (p) => seen.push(p.args[0]),
  }));
  deepEqual(result.args, ["done"]);
  equal(seen.length, 11);
  await session.close();
});

Deno.test("hostile router: a call canceled with kill that the router never answers rejects after requestTimeout", async () => {
  await using router = silentDealer();
  const session = await connect(router.url, {
    realm: "r",
    serializers: ["json"],
    requestTimeout: 300,
  });
  const controller = new AbortController();
  const pending = session.call("p", {}, { signal: controller.signal, cancelMode: "kill" })
    .catch((e) => e);
  await until(() => router.received.some((m) => m[0] === 48), 2000, "CALL");
  controller.abort(new Error("enough"));
  await until(() => router.received.some((m) => m[0] === 49), 2000, "CANCEL");
  const error = await within(pending, 2000, "the call's rejection");
  equal((error as Error).message, "enough");
  await session.close();
});

Deno.test("hostile router: a WAMP-SCRAM Argon2id derivation stops when its join times out", async () => {
  await using router = hostile((msg, send) => {
    if (msg[0] !== 1) return;
    // About 5 s of Argon2id work (64 MiB x 16), within the default kdfLimits; no WELCOME follows.
    const nonce = `${msg[2].authextra.nonce}s`;
    const salt = btoa("saltsaltsaltsalt");
    send([4, "wamp-scram", { nonce, salt, kdf: "argon2id13", iterations: 16, memory: 65536 }]);
  });
  const joining = connect(router.url, {
    realm: "r",
    serializers: ["json"],
    authid: "a",
    password: "p",
    timeout: 500,
  });
  const error = await within(joining.catch((e) => e), 5000, "the join's end");
  ok(error instanceof SessionClosedError, String(error));
  await assertIdle(); // a derivation left running stops at its next step
});
