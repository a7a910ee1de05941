import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { Dealer } from "../../router/core/dealer/dealer.ts";
import type { Outbound, SessionInfo } from "../../router/core/types.ts";
import {
  type CallMessage,
  type Dict,
  type ErrorMessage,
  ErrorUri,
  type InvocationMessage,
  MessageType,
  ProtocolViolationError,
  type RegisterMessage,
  sequentialIdGenerator,
  type UnregisterMessage,
  type YieldMessage,
} from "../../wamp/mod.ts";
import { type Driven, driven } from "../_helpers/driven.ts";
import { sessionInfo } from "../_helpers/session_info.ts";

function session(id: number): SessionInfo {
  return sessionInfo(id, ["caller", "callee"]);
}

const callee = session(1);
const alice = session(2);
const bob = session(3);

function newDealer(strictUris = false): Driven<Dealer> {
  return driven(
    new Dealer({ strictUris, registrationIds: sequentialIdGenerator(), now: Date.now }),
  );
}

function register(
  request: number,
  procedure: string,
  options: Dict = {},
): RegisterMessage {
  return { type: MessageType.REGISTER, request, options, procedure };
}

function unregister(request: number, registration: number): UnregisterMessage {
  return { type: MessageType.UNREGISTER, request, registration };
}

function call(
  request: number,
  procedure: string,
  payload: Pick<CallMessage, "args" | "kwargs"> = {},
  options: Dict = {},
): CallMessage {
  return { type: MessageType.CALL, request, options, procedure, ...payload };
}

function yieldOf(
  request: number,
  payload: Pick<YieldMessage, "args" | "kwargs"> = {},
  options: Dict = {},
): YieldMessage {
  return { type: MessageType.YIELD, request, options, ...payload };
}

function invocationError(
  request: number,
  error: string,
  payload: Pick<ErrorMessage, "args" | "kwargs"> = {},
): ErrorMessage {
  return {
    type: MessageType.ERROR,
    requestType: MessageType.INVOCATION,
    request,
    details: {},
    error,
    ...payload,
  };
}

function errorOf(out: Outbound | undefined): ErrorMessage {
  ok(out !== undefined);
  equal(out.msg.type, MessageType.ERROR);
  return out.msg as ErrorMessage;
}

function invocationOf(out: Outbound[]): InvocationMessage {
  equal(out.length, 1);
  equal(out[0]!.msg.type, MessageType.INVOCATION);
  return out[0]!.msg as InvocationMessage;
}

/** A dealer with `com.example.add` registered by the callee (registration 1). */
function withProcedure(): Driven<Dealer> {
  const dealer = newDealer();
  dealer.register(callee, register(1, "com.example.add"));
  return dealer;
}

Deno.test("Dealer.register() returns REGISTERED with the request ID", () => {
  const dealer = newDealer();
  deepEqual(dealer.register(callee, register(4, "com.example.add")), [
    {
      to: 1,
      msg: { type: MessageType.REGISTERED, request: 4, registration: 1 },
    },
  ]);
  const reg = dealer.registration(1);
  ok(reg !== undefined);
  equal(reg.procedure, "com.example.add");
  deepEqual(reg.callees, [1]);
});

Deno.test("Dealer.register() refuses a procedure that is already registered", () => {
  const dealer = withProcedure();
  const [other] = dealer.register(alice, register(2, "com.example.add"));
  equal(other!.to, 2);
  equal(errorOf(other).requestType, MessageType.REGISTER);
  equal(errorOf(other).request, 2);
  equal(errorOf(other).error, ErrorUri.PROCEDURE_ALREADY_EXISTS);
  const [again] = dealer.register(callee, register(2, "com.example.add"));
  equal(again!.to, 1);
  equal(errorOf(again).error, ErrorUri.PROCEDURE_ALREADY_EXISTS);
  deepEqual(dealer.registration(1)!.callees, [1]);
});

Deno.test("Dealer.register() refuses invalid, reserved and strict-invalid URIs", () => {
  for (const procedure of ["com..add", "wamp.session.count", "wamp"]) {
    const [out] = newDealer().register(callee, register(1, procedure));
    equal(errorOf(out).error, ErrorUri.INVALID_URI, procedure);
  }
  equal(
    errorOf(newDealer(true).register(callee, register(1, "Com.X"))[0]).error,
    ErrorUri.INVALID_URI,
  );
  equal(
    newDealer(false).register(callee, register(1, "Com.X"))[0]!.msg.type,
    MessageType.REGISTERED,
  );
});

Deno.test("Dealer.unregister() returns UNREGISTERED for the callee's own registration", () => {
  const dealer = withProcedure();
  deepEqual(dealer.unregister(callee, unregister(2, 1)), [
    { to: 1, msg: { type: MessageType.UNREGISTERED, request: 2 } },
  ]);
  equal(dealer.registration(1), undefined);
  // The procedure is free again.
  const [out] = dealer.register(alice, register(1, "com.example.add"));
  equal(out!.msg.type, MessageType.REGISTERED);
  // ... and calls no longer reach the old callee.
  const invocation = invocationOf(dealer.call(bob, call(1, "com.example.add")));
  equal(invocation.registration, 2);
});

Deno.test("Dealer.unregister() refuses an unknown ID or someone else's registration", () => {
  const dealer = withProcedure();
  const noSuch = {
    type: MessageType.ERROR,
    requestType: MessageType.UNREGISTER,
    request: 3,
    details: {},
    error: ErrorUri.NO_SUCH_REGISTRATION,
  };
  deepEqual(dealer.unregister(callee, unregister(3, 99)), [{
    to: 1,
    msg: noSuch,
  }]);
  deepEqual(dealer.unregister(alice, unregister(3, 1)), [{
    to: 2,
    msg: noSuch,
  }]);
  ok(dealer.registration(1) !== undefined);
});

Deno.test("Dealer.call() sends INVOCATION with args and kwargs to the callee", () => {
  const dealer = withProcedure();
  const args = [2, 3];
  const kwargs = { precise: true };
  deepEqual(dealer.call(alice, call(1, "com.example.add", { args, kwargs })), [{
    to: 1,
    msg: {
      type: MessageType.INVOCATION,
      request: 1,
      registration: 1,
      details: {},
      args,
      kwargs,
    },
  }]);
  const bare = invocationOf(dealer.call(alice, call(2, "com.example.add")));
  equal("args" in bare, false);
  equal("kwargs" in bare, false);
});

Deno.test("Dealer.call() numbers invocations per callee, 1, 2, 3, …", () => {
  const dealer = withProcedure();
  const other = session(9);
  dealer.register(other, register(1, "com.example.other"));
  // Request IDs from different callers do not leak into the numbering.
  equal(
    invocationOf(dealer.call(alice, call(17, "com.example.add"))).request,
    1,
  );
  equal(invocationOf(dealer.call(bob, call(17, "com.example.add"))).request, 2);
  equal(
    invocationOf(dealer.call(alice, call(18, "com.example.other"))).request,
    1,
  );
  equal(
    invocationOf(dealer.call(alice, call(19, "com.example.add"))).request,
    3,
  );
});

Deno.test("Dealer.call() answers ERROR no_such_procedure for an unregistered procedure", () => {
  const dealer = withProcedure();
  deepEqual(dealer.call(alice, call(5, "com.example.missing")), [{
    to: 2,
    msg: {
      type: MessageType.ERROR,
      requestType: MessageType.CALL,
      request: 5,
      details: {},
      error: ErrorUri.NO_SUCH_PROCEDURE,
    },
  }]);
  // A failed call is not in flight: its request ID may be used again.
  equal(
    dealer.call(alice, call(5, "com.example.add"))[0]!.msg.type,
    MessageType.INVOCATION,
  );
});

Deno.test("Dealer.call() answers ERROR invalid_uri for a malformed procedure", () => {
  const [out] = withProcedure().call(alice, call(1, "com..add"));
  equal(errorOf(out).error, ErrorUri.INVALID_URI);
  equal(errorOf(out).requestType, MessageType.CALL);
});

Deno.test("Dealer.call() throws when a request ID is reused while in flight", () => {
  const dealer = withProcedure();
  dealer.call(alice, call(1, "com.example.add"));
  throws(
    () => dealer.call(alice, call(1, "com.example.add")),
    ProtocolViolationError,
  );
  // Another caller may use the same number.
  invocationOf(dealer.call(bob, call(1, "com.example.add")));
  // Once answered, the ID is free again.
  dealer.yield(callee, yieldOf(1));
  invocationOf(dealer.call(alice, call(1, "com.example.add")));
});

Deno.test("Dealer.call() throws for progress: progressive invocations are not announced", () => {
  throws(
    () =>
      withProcedure().call(
        alice,
        call(1, "com.example.add", {}, { progress: true }),
      ),
    ProtocolViolationError,
  );
});

Deno.test("Dealer.yield() returns RESULT with the CALL request ID and the same payload", () => {
  const dealer = withProcedure();
  const invocation = invocationOf(
    dealer.call(alice, call(42, "com.example.add", { args: [2, 3] })),
  );
  const args = [5];
  const kwargs = { note: "sum" };
  deepEqual(
    dealer.yield(callee, yieldOf(invocation.request, { args, kwargs })),
    [{
      to: 2,
      msg: { type: MessageType.RESULT, request: 42, details: {}, args, kwargs },
    }],
  );
});

Deno.test("Dealer.yield() routes each result to its own caller", () => {
  const dealer = withProcedure();
  const a = invocationOf(dealer.call(alice, call(7, "com.example.add")));
  const b = invocationOf(dealer.call(bob, call(7, "com.example.add")));
  // Answered out of order.
  deepEqual(dealer.yield(callee, yieldOf(b.request, { args: ["b"] })), [{
    to: 3,
    msg: { type: MessageType.RESULT, request: 7, details: {}, args: ["b"] },
  }]);
  deepEqual(dealer.yield(callee, yieldOf(a.request, { args: ["a"] })), [{
    to: 2,
    msg: { type: MessageType.RESULT, request: 7, details: {}, args: ["a"] },
  }]);
});

Deno.test("Dealer.yield() throws for an INVOCATION ID never issued", () => {
  const dealer = withProcedure();
  throws(() => dealer.yield(callee, yieldOf(1)), ProtocolViolationError);
  dealer.call(alice, call(1, "com.example.add"));
  throws(() => dealer.yield(callee, yieldOf(2)), ProtocolViolationError);
  // A session the dealer has never seen.
  throws(() => dealer.yield(session(77), yieldOf(1)), ProtocolViolationError);
  // Someone else's invocation.
  throws(() => dealer.yield(alice, yieldOf(1)), ProtocolViolationError);
});

Deno.test("Dealer.yield() drops a progressive YIELD the caller did not ask for", () => {
  const dealer = withProcedure();
  dealer.call(alice, call(1, "com.example.add"));
  deepEqual(dealer.yield(callee, yieldOf(1, { args: [1] }, { progress: true })), []);
  const [result] = dealer.yield(callee, yieldOf(1, { args: [2] }));
  deepEqual(result!.msg, { type: MessageType.RESULT, request: 1, details: {}, args: [2] });
});

Deno.test("Dealer.error() passes the callee's ERROR to the caller as ERROR for CALL", () => {
  const dealer = withProcedure();
  const invocation = invocationOf(
    dealer.call(alice, call(12, "com.example.add")),
  );
  const args = ["not a number"];
  const kwargs = { field: "x" };
  deepEqual(
    dealer.error(
      callee,
      invocationError(invocation.request, "com.example.error.bad_input", {
        args,
        kwargs,
      }),
    ),
    [{
      to: 2,
      msg: {
        type: MessageType.ERROR,
        requestType: 48,
        request: 12,
        details: {},
        error: "com.example.error.bad_input",
        args,
        kwargs,
      },
    }],
  );
  // The call is finished: a YIELD for it now is a late answer.
  deepEqual(dealer.yield(callee, yieldOf(invocation.request)), []);
});

Deno.test("Dealer.error() throws for an INVOCATION ID never issued", () => {
  throws(
    () => withProcedure().error(callee, invocationError(1, "com.example.error")),
    ProtocolViolationError,
  );
});

Deno.test("Dealer.removeSession() cancels every call the leaving callee owed at once", () => {
  const dealer = withProcedure();
  dealer.call(alice, call(1, "com.example.add"));
  dealer.call(bob, call(1, "com.example.add"));
  dealer.call(alice, call(2, "com.example.add"));
  const out = dealer.removeSession(1);
  deepEqual(
    out.map((
      o,
    ) => [o.to, errorOf(o).requestType, errorOf(o).request, errorOf(o).error]),
    [
      [2, MessageType.CALL, 1, ErrorUri.CANCELED],
      [3, MessageType.CALL, 1, ErrorUri.CANCELED],
      [2, MessageType.CALL, 2, ErrorUri.CANCELED],
    ],
  );
  // The registration is gone and the canceled request IDs are free.
  equal(dealer.registration(1), undefined);
  equal(
    errorOf(dealer.call(alice, call(1, "com.example.add"))[0]).error,
    ErrorUri.NO_SUCH_PROCEDURE,
  );
  deepEqual(dealer.removeSession(1), []);
});

Deno.test("Dealer.removeSession() discards the late YIELD after the caller left", () => {
  const dealer = withProcedure();
  const gone = invocationOf(dealer.call(alice, call(1, "com.example.add")));
  const kept = invocationOf(dealer.call(bob, call(1, "com.example.add")));
  deepEqual(dealer.removeSession(2), []);
  deepEqual(dealer.yield(callee, yieldOf(gone.request, { args: [5] })), []);
  deepEqual(
    dealer.error(callee, invocationError(gone.request, "com.example.error")),
    [],
  );
  // The other caller's invocation is unaffected.
  deepEqual(dealer.yield(callee, yieldOf(kept.request)), [{
    to: 3,
    msg: { type: MessageType.RESULT, request: 1, details: {} },
  }]);
});

Deno.test("Dealer.removeSession() keeps other callees' registrations", () => {
  const dealer = withProcedure();
  dealer.register(alice, register(1, "com.example.mul"));
  dealer.removeSession(1);
  equal(dealer.registration(1), undefined);
  equal(dealer.registration(2)!.procedure, "com.example.mul");
  invocationOf(dealer.call(bob, call(1, "com.example.mul")));
});

Deno.test("Dealer.unregister() leaves invocations already sent answerable", () => {
  const dealer = withProcedure();
  const invocation = invocationOf(
    dealer.call(alice, call(1, "com.example.add")),
  );
  dealer.unregister(callee, unregister(2, 1));
  deepEqual(dealer.yield(callee, yieldOf(invocation.request, { args: [5] })), [{
    to: 2,
    msg: { type: MessageType.RESULT, request: 1, details: {}, args: [5] },
  }]);
});

Deno.test("Dealer.removeSession() cancels calls owed after the callee unregistered", () => {
  const dealer = withProcedure();
  dealer.call(alice, call(1, "com.example.add"));
  dealer.unregister(callee, unregister(2, 1));
  const out = dealer.removeSession(1);
  deepEqual(out.map((o) => [o.to, errorOf(o).error]), [[2, ErrorUri.CANCELED]]);
});

Deno.test("Dealer.call(): no pattern reaches a wamp. procedure (those are the router's)", () => {
  const dealer = newDealer();
  const registered = (out: Outbound[]) => equal(out[0]!.msg.type, MessageType.REGISTERED);
  registered(dealer.register(callee, register(1, "wam", { match: "prefix" })));
  registered(dealer.register(callee, register(2, "..", { match: "wildcard" })));
  // One the router serves only when enabled, and one it never serves.
  for (const [request, procedure] of [[3, "wamp.session.kill"], [4, "wamp.x.y"]] as const) {
    equal(
      errorOf(dealer.call(alice, call(request, procedure))[0]).error,
      ErrorUri.NO_SUCH_PROCEDURE,
    );
    equal(dealer.match(procedure), undefined); // wamp.registration.match agrees
  }
  equal(dealer.call(alice, call(5, "wamx.session.kill"))[0]!.msg.type, MessageType.INVOCATION);
});

Deno.test("in a cluster, another session's UNREGISTER is refused and takes nothing from the shared table", () => {
  const dealer = new Dealer({ registrationIds: sequentialIdGenerator(), now: Date.now });
  dealer.joinCluster({ node: "n1", realm: "r", claim: () => Promise.resolve(undefined) });
  const [registered] = dealer.register(callee, register(1, "com.p"));
  const id = (registered!.msg as { registration: number }).registration;
  const foreign = dealer.unregisterRequest(alice, unregister(1, id));
  equal((foreign.messages[0]!.msg as ErrorMessage).error, ErrorUri.NO_SUCH_REGISTRATION);
  deepEqual(foreign.effects, [], "no release of the shared table");
  const own = dealer.unregisterRequest(callee, unregister(2, id));
  equal(own.messages[0]!.msg.type, MessageType.UNREGISTERED);
  equal(own.effects.length, 1, "the callee's own UNREGISTER releases its entry");
});
