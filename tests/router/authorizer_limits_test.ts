/**
 * What one session can make a dynamic authorizer hold: at most
 * `MAX_PENDING_DECISIONS` decisions waited for at once (the router
 * procedures that check a permission do not wait in the session's line),
 * cached decisions bounded in characters as well as in number, no
 * decision cached for a session that left while it was pending, and
 * nothing asked about a request whose options are over `ASKED_BYTES`.
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import {
  Authorizer,
  type AuthorizerCall,
  type Decision,
  MAX_PENDING_DECISIONS,
  type PendingDecision,
} from "../../router/core/authorizer.ts";
import { ASKED_BYTES } from "../../router/core/limits.ts";
import { NOTHING, type Output } from "../../router/core/output.ts";
import { sessionInfo } from "../_helpers/session_info.ts";

const noCall: AuthorizerCall = (_realm, _procedure, _args, _kwargs, done) =>
  done({ ok: false, error: new Error("no calls") });

const session = (id: number) => ({ ...sessionInfo(id, ["publisher"]), authrole: "r" });

/** The task of a started decision, to run later. */
function taskOf(out: Output): () => Promise<void> {
  const task = out.effects.find((e) => e.kind === "task");
  ok(task !== undefined && task.kind === "task", "a task that asks the authorizer");
  return async () => void task.resume({ ok: true, value: await task.run() });
}

Deno.test("Authorizer: one session waits for at most MAX_PENDING_DECISIONS dynamic decisions; others are not held up", () => {
  const authorizer = new Authorizer([{ name: "r", authorizer: () => true }], noCall);
  const denied: Decision[] = [];
  const then = (d: Decision) => (denied.push(d), NOTHING);
  const ask = (id: number, uri: string) =>
    (authorizer.authorize(session(id), () => ({}), "publish", uri, {}) as PendingDecision)
      .start(then);
  for (let i = 0; i < MAX_PENDING_DECISIONS; i++) taskOf(ask(1, `com.t${i}`));
  equal(denied.length, 0);
  const over = ask(1, "com.over");
  equal(over.effects.length, 0);
  equal(denied.length, 1);
  equal(denied[0]!.allow, false);
  taskOf(ask(2, "com.other")); // another session is still asked
  equal(denied.length, 1);
});

Deno.test("Authorizer: a decision that arrives after its session left is not cached", async () => {
  let asked = 0;
  const authorizer = new Authorizer([{
    name: "r",
    authorizer: () => (asked++, { allow: true, cache: true }),
  }], noCall);
  const pending = authorizer.authorize(session(1), () => ({}), "publish", "com.t", {});
  const run = taskOf((pending as PendingDecision).start(() => NOTHING));
  authorizer.forget(1); // the session left while its decision was pending
  await run();
  equal(asked, 1);
  ok(!("allow" in authorizer.authorize(session(1), () => ({}), "publish", "com.t", {})));
});

Deno.test("Authorizer: cached decisions are bounded in characters (long URIs), the oldest forgotten first", async () => {
  let asked = 0;
  const authorizer = new Authorizer([{
    name: "r",
    authorizer: () => (asked++, { allow: true, cache: true }),
  }], noCall);
  const ask = async (uri: string) => {
    const decision = authorizer.authorize(session(1), () => ({}), "publish", uri, {});
    if ("allow" in decision) return;
    await taskOf(decision.start(() => NOTHING))();
  };
  const long = (i: number) => `com.${String(i).padStart(4, "0")}.${"x".repeat(4000)}`;
  for (let i = 0; i < 100; i++) await ask(long(i));
  equal(asked, 100);
  await ask(long(99));
  equal(asked, 100, "a recent decision is cached");
  await ask(long(0));
  equal(asked, 101, "the oldest is gone: 100 long keys are over the character budget");
});

Deno.test("Authorizer: a request whose options are over ASKED_BYTES is denied without asking", () => {
  let asked = 0;
  const authorizer = new Authorizer([{ name: "r", authorizer: () => (asked++, true) }], noCall);
  const decided: Decision[] = [];
  const start = (options: Record<string, unknown>) =>
    (authorizer.authorize(session(1), () => ({}), "publish", "com.t", options) as PendingDecision)
      .start((d) => (decided.push(d), NOTHING));
  const over = start({ x_pad: "x".repeat(ASKED_BYTES + 1) });
  equal(over.effects.length, 0, "no task, no timer");
  deepEqual(decided, [{ allow: false }]);
  taskOf(start({ x_pad: "x".repeat(ASKED_BYTES - 100) }))();
  equal(asked, 1, "options under the bound are the authorizer's to judge");
});
