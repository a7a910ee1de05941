/**
 * The output runner runs every effect of an output: one that throws (a
 * cluster send on a closing NATS connection) is logged and the effects
 * after it still run, instead of the error ending the session whose
 * message led there. A protocol violation still reaches that session.
 */

import { equal, match, throws } from "node:assert/strict";
import { OutputRunner } from "../../router/output_runner.ts";
import { Delivery } from "../../router/delivery.ts";
import type { Effect, Output } from "../../router/core/output.ts";
import { NOTHING } from "../../router/core/output.ts";
import { ProtocolViolationError } from "../../wamp/mod.ts";

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
