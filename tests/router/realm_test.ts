/**
 * The realm as a pure core: every entry point returns an `Output` (the
 * messages to deliver, then the effects for the shell), and the tests
 * drive timers and dynamic authorizers by feeding the effects back.
 */

import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { type ArmTimer, NOTHING, type Output, type RunTask } from "../../router/core/output.ts";
import { Realm } from "../../router/core/realm.ts";
import { type RealmOptions, resolveRealmOptions } from "../../router/core/realm_options.ts";
import { MAX_HELD } from "../../router/core/requests.ts";
import type { RealmMember, SessionInfo } from "../../router/core/types.ts";
import {
  ErrorUri,
  MessageType,
  MetaProcedure,
  MetaTopic,
  ProtocolViolationError,
  sequentialIdGenerator,
  type WampMessage,
} from "../../wamp/mod.ts";
import { sessionInfo } from "../_helpers/session_info.ts";

const ROLES = ["publisher", "subscriber", "caller", "callee"];

function realm(options: Partial<RealmOptions> = {}): Realm {
  return new Realm(resolveRealmOptions({ name: "realm1", ...options }), {
    ids: { global: sequentialIdGenerator(), router: sequentialIdGenerator() },
    now: () => 0,
    authenticatorCall: () => Promise.reject(new Error("no authenticator calls")),
  });
}

function member(id: number): RealmMember {
  return { info: sessionInfo(id + 1000, ROLES), peer: { info: { type: "local" } } };
}

function joined(r: Realm, id: number): SessionInfo {
  const m = member(id);
  r.join(m);
  return m.info;
}

const types = (out: Output) => out.messages.map(({ to, msg }) => [to, msg.type]);
const kinds = (out: Output) => out.effects.map((e) => e.kind);

function call(request: number, procedure: string, options = {}): WampMessage & { type: 48 } {
  return { type: MessageType.CALL, request, options, procedure };
}

Deno.test("Realm.receive: PUBLISH returns EVENTs and PUBLISHED, no effects", () => {
  const r = realm();
  const alice = joined(r, 1);
  const bob = joined(r, 2);
  const sub = r.receive(bob, {
    type: MessageType.SUBSCRIBE,
    request: 1,
    options: {},
    topic: "com.example.t",
  });
  deepEqual(types(sub), [[bob.id, MessageType.SUBSCRIBED]]);
  const out = r.receive(alice, {
    type: MessageType.PUBLISH,
    request: 1,
    options: { acknowledge: true },
    topic: "com.example.t",
  });
  deepEqual(types(out), [[[bob.id], MessageType.EVENT], [alice.id, MessageType.PUBLISHED]]);
  deepEqual(out.effects, []);
});

Deno.test("Realm.receive: a call timeout is an ArmTimer; firing it answers ERROR timeout", () => {
  const r = realm();
  const callee = joined(r, 1);
  const caller = joined(r, 2);
  r.receive(callee, { type: MessageType.REGISTER, request: 1, options: {}, procedure: "p" });
  const out = r.receive(caller, call(1, "p", { timeout: 50 }));
  deepEqual(types(out), [[callee.id, MessageType.INVOCATION]]);
  deepEqual(kinds(out), ["arm"]);
  const timer = out.effects[0] as ArmTimer;
  equal(timer.ms, 50);
  const fired = timer.fire();
  deepEqual(types(fired), [[caller.id, MessageType.ERROR]]);
  equal((fired.messages[0]!.msg as { error: string }).error, ErrorUri.TIMEOUT);
  deepEqual(timer.fire(), NOTHING, "a timer that fired twice does nothing more");
});

Deno.test("Realm.receive: YIELD cancels the call's timer", () => {
  const r = realm();
  const callee = joined(r, 1);
  const caller = joined(r, 2);
  r.receive(callee, { type: MessageType.REGISTER, request: 1, options: {}, procedure: "p" });
  const armed = r.receive(caller, call(1, "p", { timeout: 50 }));
  const invocation = armed.messages[0]!.msg as { request: number };
  const out = r.receive(callee, {
    type: MessageType.YIELD,
    request: invocation.request,
    options: {},
  });
  deepEqual(types(out), [[caller.id, MessageType.RESULT]]);
  deepEqual(out.effects, [{ kind: "cancel", key: (armed.effects[0] as ArmTimer).key }]);
});

Deno.test("Realm.receive: a dynamic authorizer is a task raced by a timer; requests wait in order", () => {
  const r = realm({
    roles: [{ name: "anonymous", authorizer: () => true }],
  });
  const alice = joined(r, 1);
  const first = r.receive(alice, call(1, MetaProcedure.SESSION_COUNT));
  deepEqual(first.messages, []);
  deepEqual(kinds(first), ["arm", "task"]);
  ok(r.holding(alice.id));
  deepEqual(r.receive(alice, call(2, MetaProcedure.SESSION_COUNT)), NOTHING, "held");
  const task = first.effects[1] as RunTask;
  equal(task.run(), true);
  const resumed = task.resume({ ok: true, value: true });
  // The first CALL is answered, the timer cancelled, the held CALL asks again.
  deepEqual(types(resumed), [[alice.id, MessageType.RESULT]]);
  deepEqual(kinds(resumed), ["cancel", "arm", "task"]);
  ok(r.holding(alice.id));
  const late = (first.effects[0] as ArmTimer).fire();
  deepEqual(late, NOTHING, "the first of task and timer wins");
});

Deno.test("Realm.receive: a dynamic authorizer that stays silent is denied when its timer fires", () => {
  const r = realm({
    roles: [{ name: "anonymous", authorizer: () => new Promise<boolean>(() => {}) }],
  });
  const alice = joined(r, 1);
  const first = r.receive(alice, call(1, "com.example.p"));
  const timer = first.effects[0] as ArmTimer;
  equal(timer.ms, 10_000);
  const denied = timer.fire();
  deepEqual(types(denied), [[alice.id, MessageType.ERROR]]);
  equal((denied.messages[0]!.msg as { error: string }).error, ErrorUri.NOT_AUTHORIZED);
  equal(r.holding(alice.id), false);
  deepEqual((first.effects[1] as RunTask).resume({ ok: true, value: true }), NOTHING);
});

Deno.test("Realm.receive: requests held behind an authorization are bounded", () => {
  const r = realm({
    roles: [{ name: "anonymous", authorizer: () => true }],
  });
  const alice = joined(r, 1);
  r.receive(alice, call(1, "com.example.p"));
  for (let i = 2; i <= MAX_HELD + 1; i++) r.receive(alice, call(i, "com.example.p"));
  throws(() => r.receive(alice, call(MAX_HELD + 2, "com.example.p")), ProtocolViolationError);
  r.leave(alice.id);
  equal(r.holding(alice.id), false, "leaving drops what was held");
});

Deno.test("Realm: a kill answers RESULT, then on_leave, and asks the shell to close the session", () => {
  const r = realm({ meta: { kill: true } });
  const watcher = joined(r, 1);
  const victim = joined(r, 2);
  r.receive(watcher, {
    type: MessageType.SUBSCRIBE,
    request: 1,
    options: {},
    topic: MetaTopic.SESSION_ON_LEAVE,
  });
  const out = r.receive(watcher, {
    ...call(1, MetaProcedure.SESSION_KILL),
    args: [victim.id],
    kwargs: { reason: "wamp.close.killed" },
  });
  deepEqual(types(out), [[watcher.id, MessageType.RESULT], [[watcher.id], MessageType.EVENT]]);
  deepEqual(out.effects, [{ kind: "close", session: victim.id, reason: "wamp.close.killed" }]);
  equal(r.member(victim.id), undefined, "it left the realm at once");
  deepEqual(r.leave(victim.id), NOTHING, "the shell's leave after GOODBYE is a no-op");
});

Deno.test("Realm.leave: callers of the calls a callee owed get ERROR; their timers are cancelled", () => {
  const r = realm();
  const callee = joined(r, 1);
  const caller = joined(r, 2);
  r.receive(callee, { type: MessageType.REGISTER, request: 1, options: {}, procedure: "p" });
  const armed = r.receive(caller, call(1, "p", { timeout: 50 }));
  const out = r.leave(callee.id);
  deepEqual(types(out), [[caller.id, MessageType.ERROR]]);
  deepEqual(out.effects, [{ kind: "cancel", key: (armed.effects[0] as ArmTimer).key }]);
});

Deno.test("Realm: a procedure authorizer is a router call; the callee's YIELD decides", () => {
  const r = realm({
    roles: [
      { name: "anonymous", authorizer: "com.example.authorize" },
      {
        name: "trusted",
        permissions: [{ uri: "com.example.authorize", allow: { register: true } }],
      },
    ],
  });
  const backend = { ...member(1), info: { ...sessionInfo(1001, ROLES), authrole: "trusted" } };
  r.join(backend);
  r.receive(backend.info, {
    type: MessageType.REGISTER,
    request: 1,
    options: {},
    procedure: "com.example.authorize",
  });
  const alice = joined(r, 2);
  const asked = r.receive(alice, call(1, MetaProcedure.SESSION_COUNT));
  deepEqual(types(asked), [[backend.info.id, MessageType.INVOCATION]]);
  deepEqual(kinds(asked), ["arm", "arm"], "the authorizer's and the router call's timers");
  const invocation = asked.messages[0]!.msg as { request: number; args: unknown[] };
  deepEqual(invocation.args.slice(1), [MetaProcedure.SESSION_COUNT, "call", {}]);
  const decided = r.receive(backend.info, {
    type: MessageType.YIELD,
    request: invocation.request,
    options: {},
    args: [{ allow: true }],
  });
  deepEqual(types(decided), [[alice.id, MessageType.RESULT]]);
  // The timers cancelled; the sessions whose GOODBYE waited behind a decision may go on.
  deepEqual(kinds(decided), ["cancel", "cancel", "resume"]);
  equal(r.holding(alice.id), false);
});
