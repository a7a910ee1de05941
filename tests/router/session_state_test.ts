/**
 * The session state machine on its own: no router, no transport, no
 * timers. Each step's output is read as the connection would act on it.
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import { realmAuthenticators } from "../../router/core/auth/methods.ts";
import { NOTHING, type Output } from "../../router/core/output.ts";
import { type RealmOptions, resolveRealmOptions } from "../../router/core/realm_options.ts";
import type { SessionOutput, SessionTask } from "../../router/core/session_output.ts";
import { type SessionRealm, SessionState } from "../../router/core/session_state.ts";
import type { SessionInfo } from "../../router/core/types.ts";
import {
  type AbortMessage,
  CloseUri,
  ErrorUri,
  type HelloMessage,
  MessageType,
  type WampMessage,
} from "../../wamp/mod.ts";

interface Handed {
  session: number;
  type: number;
  fresh: boolean;
}

function stateFor(
  options: Partial<RealmOptions> = {},
): { state: SessionState; handed: Handed[]; logs: string[] } {
  const resolved = resolveRealmOptions({ name: "realm1", ...options });
  const realm: SessionRealm = {
    name: "realm1",
    authenticators: realmAuthenticators(resolved, {
      authenticatorCall: () => Promise.reject(new Error("no calls")),
    }),
    options: resolved,
  };
  const handed: Handed[] = [];
  const logs: string[] = [];
  let id = 1;
  const state = new SessionState(
    {
      realm: (name) => name === "realm1" ? realm : undefined,
      sessionId: () => id++,
      agent: "test",
      authTimeout: 1000,
      roles: { broker: {}, dealer: {} },
      log: (_level, message) => logs.push(message),
    },
    {
      request(_realm, session: SessionInfo, msg: WampMessage, fresh: boolean): Output {
        handed.push({ session: session.id, type: msg.type, fresh });
        return NOTHING;
      },
    },
    { type: "fake" },
  );
  return { state, handed, logs };
}

function hello(roles: Record<string, unknown> = { publisher: {}, caller: {} }): HelloMessage {
  return { type: MessageType.HELLO, realm: "realm1", details: { roles } };
}

/** Runs the step's synchronous tasks the way the connection does. */
function settle(out: SessionOutput): SessionOutput {
  const task = out.effects.find((e): e is SessionTask => e.kind === "task");
  return task === undefined ? out : settle(task.resume({ ok: true, value: task.run() }));
}

function join(state: SessionState, roles?: Record<string, unknown>): SessionOutput {
  const out = settle(state.receive(hello(roles)));
  equal(out.reply?.[0]?.type, MessageType.WELCOME);
  return out;
}

function publish(request: number): WampMessage {
  return { type: MessageType.PUBLISH, request, options: {}, topic: "com.example.topic" };
}

function aborted(out: SessionOutput, reason: string): void {
  equal(out.reply?.length, 1);
  equal((out.reply![0] as AbortMessage).reason, reason);
  equal(out.close, true);
}

Deno.test("SessionState: HELLO runs the acceptor; WELCOME opens the session and asks to join", () => {
  const { state } = stateFor();
  const started = state.receive(hello());
  equal(state.phase, "authenticating");
  deepEqual(started.effects.map((e) => e.kind), ["arm", "task"]);
  const out = settle(started);
  equal(state.phase, "open");
  equal(out.joined?.id, 1);
  equal(out.joined, state.info);
  deepEqual(out.effects.map((e) => e.kind), ["cancel"]);
});

Deno.test("SessionState: requests reach the realm after role and request-ID checks", () => {
  const { state, handed } = stateFor();
  join(state);
  equal(state.receive(publish(1)), NOTHING, "the realm's output, as it is");
  state.receive({ type: MessageType.CALL, request: 2, options: {}, procedure: "p" });
  state.receive({ type: MessageType.CALL, request: 2, options: {}, procedure: "p" });
  deepEqual(handed, [
    { session: 1, type: MessageType.PUBLISH, fresh: true },
    { session: 1, type: MessageType.CALL, fresh: true },
    { session: 1, type: MessageType.CALL, fresh: false },
  ]);
  const out = state.receive({ type: MessageType.SUBSCRIBE, request: 3, options: {}, topic: "t" });
  aborted(out, ErrorUri.PROTOCOL_VIOLATION);
  equal(out.left?.id, 1);
  equal(state.phase, "closed");
  deepEqual(state.receive(publish(4)), { messages: [], effects: [] });
});

Deno.test("SessionState: a CALL with an ID never issued is a protocol violation, not a continuation", () => {
  const { state, handed } = stateFor();
  join(state);
  state.receive(publish(1));
  const out = state.receive({ type: MessageType.CALL, request: 3, options: {}, procedure: "p" });
  aborted(out, ErrorUri.PROTOCOL_VIOLATION);
  deepEqual((out.reply![0] as AbortMessage).details, {
    message: "Request ID 3 out of sequence: expected 2",
  });
  deepEqual(handed, [{ session: 1, type: MessageType.PUBLISH, fresh: true }]);
});

Deno.test("SessionState: an out-of-sequence request ID is a protocol violation", () => {
  const { state, handed, logs } = stateFor();
  join(state);
  const out = state.receive(publish(2));
  aborted(out, ErrorUri.PROTOCOL_VIOLATION);
  deepEqual((out.reply![0] as AbortMessage).details, {
    message: "Request ID 2 out of sequence: expected 1",
  });
  deepEqual(handed, []);
  ok(logs.some((l) => l.includes("protocol violation")));
});

Deno.test("SessionState: GOODBYE leaves and the transport may carry a new session", () => {
  const { state } = stateFor();
  join(state);
  state.receive(publish(1));
  const out = state.receive({ type: MessageType.GOODBYE, details: {}, reason: CloseUri.NORMAL });
  deepEqual(out.reply, [{
    type: MessageType.GOODBYE,
    details: {},
    reason: CloseUri.GOODBYE_AND_OUT,
  }]);
  equal(out.left?.id, 1);
  equal(out.close, undefined);
  equal(state.phase, "idle");
  equal(join(state).joined?.id, 2);
  state.receive(publish(1)); // request IDs start again
  equal(state.phase, "open");
});

Deno.test("SessionState: shutdown() says GOODBYE and waits for the client's", () => {
  const { state } = stateFor();
  join(state);
  const out = state.shutdown(CloseUri.SYSTEM_SHUTDOWN, "bye");
  deepEqual(out.reply, [{
    type: MessageType.GOODBYE,
    details: { message: "bye" },
    reason: CloseUri.SYSTEM_SHUTDOWN,
  }]);
  equal(out.left?.id, 1);
  equal(state.phase, "shutting-down");
  deepEqual(state.receive(publish(1)).reply, undefined, "ignored while shutting down");
  const answered = state.receive({
    type: MessageType.GOODBYE,
    details: {},
    reason: CloseUri.NORMAL,
  });
  equal(answered.close, true);
  equal(answered.left, undefined);
  equal(state.phase, "closed");
});

Deno.test("SessionState: the hello timeout during a CHALLENGE denies; the timer is cancelled", () => {
  const { state, logs } = stateFor({
    anonymous: false,
    auth: { ticket: { principals: { joe: { ticket: "t", role: "user" } } } },
  });
  const challenged = settle(state.receive({
    type: MessageType.HELLO,
    realm: "realm1",
    details: { roles: { caller: {} }, authmethods: ["ticket"], authid: "joe" },
  }));
  equal(challenged.reply?.[0]?.type, MessageType.CHALLENGE);
  const out = state.expire("timed out (helloTimeout)");
  aborted(out, ErrorUri.AUTHENTICATION_FAILED);
  deepEqual(out.effects.map((e) => e.kind), ["cancel"]);
  deepEqual(logs, ["Session 1: ticket authentication failed: timed out (helloTimeout)"]);
});

Deno.test("SessionState: a message before HELLO, or AUTHENTICATE without a CHALLENGE, aborts", () => {
  const early = stateFor().state;
  aborted(early.receive(publish(1)), ErrorUri.PROTOCOL_VIOLATION);
  const { state } = stateFor();
  state.receive(hello()); // the step is still running: no CHALLENGE yet
  aborted(
    state.receive({ type: MessageType.AUTHENTICATE, signature: "x", extra: {} }),
    ErrorUri.PROTOCOL_VIOLATION,
  );
});
