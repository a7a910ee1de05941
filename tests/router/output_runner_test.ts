/**
 * The output runner runs every effect of an output: one that throws (a
 * cluster send on a closing NATS connection) is logged and the effects
 * after it still run, instead of the error ending the session whose
 * message led there. A protocol violation still reaches that session. A
 * task's promise is waited for no longer than its limit (`settle`).
 */

import { deepEqual, equal, match, ok, throws } from "node:assert/strict";
import { OutputRunner } from "../../router/output_runner.ts";
import { Delivery } from "../../router/delivery.ts";
import type { Effect, Output, Settled } from "../../router/core/output.ts";
import { CallError } from "../../router/core/errors.ts";
import { NOTHING } from "../../router/core/output.ts";
import { ErrorUri, ProtocolViolationError } from "../../wamp/mod.ts";

function runner(): { runner: OutputRunner; lines: string[] } {
  const lines: string[] = [];
  const out = new OutputRunner(
    (level, message) => lines.push(`${level} ${message}`),
    new Delivery(),
  );
  return { runner: out, lines };
}

Deno.test("an effect that throws is logged, and the effects after it still run", async () => {
  const { runner: out, lines } = runner();
  out.cluster = () => {
    throw new Error("NATS connection closed");
  };
  let fired = 0;
  let ran = 0;
  const output: Output = {
    messages: [],
    effects: [
      { kind: "cluster" } as unknown as Effect,
      { kind: "task", run: () => ran++, resume: () => NOTHING } as unknown as Effect,
      { kind: "arm", key: "k", ms: 0, fire: () => (fired++, NOTHING) },
    ],
  };
  out.run(output); // does not throw
  equal(ran, 1);
  await new Promise((resolve) => setTimeout(resolve, 20));
  equal(fired, 1);
  equal(lines.length, 1);
  match(
    lines[0]!,
    /^error Internal error in a router effect \(cluster\): Error: NATS connection closed/,
  );
});

Deno.test("a protocol violation from an effect still ends the session that caused it", () => {
  const { runner: out } = runner();
  const violation: Effect = {
    kind: "task",
    run: () => 1,
    resume: () => {
      throw new ProtocolViolationError("held request out of sequence");
    },
  } as unknown as Effect;
  throws(() => out.run({ messages: [], effects: [violation] }), ProtocolViolationError);
});

Deno.test("settle(): a promise past its limit continues once with wamp.error.timeout; what it settles with later is ignored", async () => {
  const { runner: out } = runner();
  const outcomes: Settled<unknown>[] = [];
  const late = Promise.withResolvers<string>();
  const timedOut = Promise.withResolvers<void>();
  out.settle(late.promise, 1, (settled) => {
    outcomes.push(settled);
    timedOut.resolve();
  });
  await timedOut.promise;
  late.resolve("too late");
  await late.promise;
  await Promise.resolve();
  equal(outcomes.length, 1);
  const first = outcomes[0]!;
  ok(!first.ok && first.error instanceof CallError);
  equal(first.error.uri, ErrorUri.TIMEOUT);
});

Deno.test("settle(): a promise settled within its limit continues with its outcome, and its timer stops (no timer left behind)", async () => {
  const { runner: out } = runner();
  const outcomes: Settled<unknown>[] = [];
  await new Promise<void>((resolve) => {
    out.settle(Promise.resolve("yes"), 60_000, (settled) => (outcomes.push(settled), resolve()));
  });
  const failing = Promise.reject(new Error("no"));
  await new Promise<void>((resolve) => {
    out.settle(failing, 60_000, (settled) => (outcomes.push(settled), resolve()));
  });
  deepEqual(outcomes.map((s) => s.ok ? s.value : `${s.error}`), ["yes", "Error: no"]);
});

Deno.test("settle(): close() stops the limits of promises that never settle (the router closed)", () => {
  const { runner: out } = runner();
  let continued = 0;
  out.settle(new Promise(() => {}), 60_000, () => continued++);
  out.close(); // the test's op sanitizer fails if a timer is left
  equal(continued, 0);
});

Deno.test("settle(): a promise-like whose then throws, or calls back at once, still continues once, later", async () => {
  const { runner: out } = runner();
  const order: string[] = [];
  const throwing = {
    then: () => {
      throw new Error("broken thenable");
    },
  } as PromiseLike<unknown>;
  const eager = { then: (done: (value: unknown) => void) => done("now") } as PromiseLike<unknown>;
  const settled = new Promise<void>((resolve) => {
    let n = 0;
    const then = (s: Settled<unknown>) => {
      order.push(s.ok ? `ok ${s.value}` : `error ${s.error}`);
      if (++n === 2) resolve();
    };
    out.settle(throwing, undefined, then);
    out.settle(eager, undefined, then);
    order.push("returned");
  });
  await settled;
  deepEqual(order, ["returned", "error Error: broken thenable", "ok now"]);
});
