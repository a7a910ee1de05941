/**
 * The dealer's Advanced Profile features, one block per feature key, on the
 * sans-I/O core with fake timers.
 */

import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { Dealer, type DealerOptions } from "../../router/core/dealer/dealer.ts";
import type { Outbound, SessionInfo } from "../../router/core/types.ts";
import {
  type CallMessage,
  type CancelMessage,
  type Dict,
  type ErrorMessage,
  ErrorUri,
  type InterruptMessage,
  type InvocationMessage,
  MessageType,
  ProtocolViolationError,
  type RegisterMessage,
  type ResultMessage,
  sequentialIdGenerator,
  type YieldMessage,
} from "../../wamp/mod.ts";
import { driven, FakeTimers } from "../_helpers/driven.ts";
import { sessionInfo } from "../_helpers/session_info.ts";

const ALL_RPC = [
  "progressive_call_results",
  "progressive_call_invocations",
  "call_timeout",
  "call_canceling",
  "caller_identification",
  "call_trustlevels",
  "pattern_based_registration",
  "shared_registration",
  "sharded_registration",
  "registration_revocation",
  "payload_passthru_mode",
];

/** A session announcing caller and callee with the given features. */
function peer(id: number, features: readonly string[] = ALL_RPC, extra: Partial<SessionInfo> = {}) {
  const f = Object.fromEntries(features.map((name) => [name, true]));
  return {
    ...sessionInfo(id, []),
    roles: { caller: { features: f }, callee: { features: f } },
    ...extra,
  } as SessionInfo;
}

function setup(options: Partial<DealerOptions> = {}) {
  const timers = new FakeTimers();
  const fired: Outbound[] = timers.fired;
  const dealer = driven(
    new Dealer({ registrationIds: sequentialIdGenerator(), now: Date.now, ...options }),
    timers.run,
  );
  return { dealer, timers, fired };
}

const register = (request: number, procedure: string, options: Dict = {}): RegisterMessage => ({
  type: MessageType.REGISTER,
  request,
  options,
  procedure,
});
const call = (request: number, procedure: string, options: Dict = {}, args?: unknown[]) => {
  const msg: CallMessage = { type: MessageType.CALL, request, options, procedure };
  if (args !== undefined) msg.args = args;
  return msg;
};
const yieldOf = (request: number, options: Dict = {}, args?: unknown[]): YieldMessage => {
  const msg: YieldMessage = { type: MessageType.YIELD, request, options };
  if (args !== undefined) msg.args = args;
  return msg;
};
const cancel = (request: number, mode?: CancelMessage["options"]["mode"]): CancelMessage => ({
  type: MessageType.CANCEL,
  request,
  options: mode === undefined ? {} : { mode },
});
const invocationError = (request: number, error: string): ErrorMessage => ({
  type: MessageType.ERROR,
  requestType: MessageType.INVOCATION,
  request,
  details: {},
  error,
});

function only(out: Outbound[], type: number): Outbound["msg"] {
  equal(out.length, 1, `expected one message, got ${JSON.stringify(out)}`);
  equal(out[0]!.msg.type, type);
  return out[0]!.msg;
}
const invocation = (out: Outbound[]) => only(out, MessageType.INVOCATION) as InvocationMessage;
const errorUri = (out: Outbound[]) => (only(out, MessageType.ERROR) as ErrorMessage).error;
const types = (out: Outbound[]) => out.map(({ to, msg }) => [to, msg.type]);

const callee = peer(1);
const alice = peer(2);
const basic = peer(3, []);

Deno.test("progressive_call_results", async (t) => {
  await t.step(
    "progressive YIELDs become RESULT progress:true, the final one ends the call",
    () => {
      const { dealer } = setup();
      dealer.register(callee, register(1, "p"));
      const inv = invocation(dealer.call(alice, call(1, "p", { receive_progress: true })));
      equal(inv.details.receive_progress, true);
      for (const n of [1, 2]) {
        const [out] = dealer.yield(callee, yieldOf(inv.request, { progress: true }, [n]));
        deepEqual(out, {
          to: 2,
          msg: { type: MessageType.RESULT, request: 1, details: { progress: true }, args: [n] },
        });
      }
      const [final] = dealer.yield(callee, yieldOf(inv.request, {}, ["done"]));
      deepEqual((final!.msg as ResultMessage).details, {});
      // The call is over: another YIELD is late, not a violation.
      deepEqual(dealer.yield(callee, yieldOf(inv.request, { progress: true }, [3])), []);
    },
  );

  await t.step("a caller that did not ask gets only the final result", () => {
    const { dealer } = setup();
    dealer.register(callee, register(1, "p"));
    const inv = invocation(dealer.call(alice, call(1, "p")));
    equal(inv.details.receive_progress, undefined);
    deepEqual(dealer.yield(callee, yieldOf(inv.request, { progress: true }, [1])), []);
    equal(only(dealer.yield(callee, yieldOf(inv.request, {}, [2])), MessageType.RESULT).type, 50);
  });

  await t.step("a callee without progressive results (or without canceling) is not asked", () => {
    for (const features of [[], ["progressive_call_results"]]) {
      const { dealer } = setup();
      dealer.register(peer(5, features), register(1, "p"));
      const inv = invocation(dealer.call(alice, call(1, "p", { receive_progress: true })));
      equal(inv.details.receive_progress, undefined);
    }
  });
});

Deno.test("progressive_call_invocations", async (t) => {
  await t.step("chunks with the same request ID stream into one INVOCATION request", () => {
    const { dealer } = setup();
    dealer.register(callee, register(1, "p"));
    const first = invocation(dealer.call(alice, call(1, "p", { progress: true, timeout: 0 }, [1])));
    deepEqual(first.details, { progress: true });
    const second = invocation(
      dealer.call(alice, call(1, "p", { progress: true, x: 1 }, [2]), false),
    );
    deepEqual(second, {
      type: MessageType.INVOCATION,
      request: first.request,
      registration: first.registration,
      details: { progress: true },
      args: [2],
    });
    const last = invocation(dealer.call(alice, call(1, "p", {}, [3]), false));
    deepEqual(last.details, {});
    equal(last.request, first.request);
    // A chunk after the final one is discarded, before and after the result.
    deepEqual(dealer.call(alice, call(1, "p", { progress: true }), false), []);
    only(dealer.yield(callee, yieldOf(first.request, {}, ["sum"])), MessageType.RESULT);
    // After the call completed, a late chunk is discarded.
    deepEqual(dealer.call(alice, call(1, "p", { progress: true }), false), []);
  });

  await t.step(
    "a late chunk is discarded however many calls ended since; an old ID from a caller that cannot stream is a violation",
    () => {
      const { dealer } = setup();
      dealer.register(callee, register(1, "p"));
      const started = Array.from(
        { length: 300 },
        (_, i) => invocation(dealer.call(alice, call(i + 1, "p", { progress: true }))),
      );
      for (const inv of started) {
        only(dealer.yield(callee, yieldOf(inv.request)), MessageType.RESULT);
      }
      deepEqual(
        dealer.call(alice, call(1, "p"), false),
        [],
        "its last chunk, sent before the RESULT",
      );
      const plain = peer(3, ALL_RPC.filter((f) => f !== "progressive_call_invocations"));
      only(dealer.yield(callee, yieldOf(invocation(dealer.call(plain, call(1, "p"))).request)), 50);
      throws(() => dealer.call(plain, call(1, "p"), false), /request ID 1 is out of sequence/);
    },
  );

  await t.step("results and chunks interleave", () => {
    const { dealer } = setup();
    dealer.register(callee, register(1, "p"));
    const inv = invocation(
      dealer.call(alice, call(1, "p", { progress: true, receive_progress: true })),
    );
    only(dealer.yield(callee, yieldOf(inv.request, { progress: true })), MessageType.RESULT);
    invocation(dealer.call(alice, call(1, "p", { progress: true }), false));
    only(dealer.yield(callee, yieldOf(inv.request, { progress: true })), MessageType.RESULT);
    invocation(dealer.call(alice, call(1, "p"), false));
    only(dealer.yield(callee, yieldOf(inv.request)), MessageType.RESULT);
  });

  await t.step("an error from the callee ends the stream; later chunks are dropped", () => {
    const { dealer } = setup();
    dealer.register(callee, register(1, "p"));
    const inv = invocation(dealer.call(alice, call(1, "p", { progress: true })));
    equal(errorUri(dealer.error(callee, invocationError(inv.request, "app.bad"))), "app.bad");
    deepEqual(dealer.call(alice, call(1, "p", { progress: true }), false), []);
    deepEqual(dealer.call(alice, call(1, "p"), false), []);
  });

  await t.step("payload_size_exceeded after a chunk reached the callee: INTERRUPT too", () => {
    for (const chunks of [1, 2]) {
      const { dealer } = setup();
      dealer.register(callee, register(1, "p"));
      const inv = invocation(dealer.call(alice, call(1, "p", { progress: true })));
      if (chunks === 2) invocation(dealer.call(alice, call(1, "p", { progress: true }), false));
      // What the router answers for a callee a chunk was too large for (router/oversize.ts).
      const out = dealer.error(
        callee,
        invocationError(inv.request, ErrorUri.PAYLOAD_SIZE_EXCEEDED),
      );
      const toCaller: [number, number] = [alice.id, MessageType.ERROR];
      const toCallee: [number, number] = [callee.id, MessageType.INTERRUPT];
      deepEqual(types(out), chunks === 1 ? [toCaller] : [toCallee, toCaller]);
      equal((out.at(-1)!.msg as ErrorMessage).error, ErrorUri.PAYLOAD_SIZE_EXCEEDED);
    }
  });

  await t.step("a caller that did not announce the feature violates the protocol", () => {
    const { dealer } = setup();
    dealer.register(callee, register(1, "p"));
    throws(() => dealer.call(basic, call(1, "p", { progress: true })), ProtocolViolationError);
  });

  await t.step("a callee without the feature (or canceling): feature_not_supported", () => {
    for (const features of [[], ["progressive_call_invocations"]]) {
      const { dealer } = setup();
      dealer.register(peer(5, features), register(1, "p"));
      const out = dealer.call(alice, call(1, "p", { progress: true }));
      equal(errorUri(out), ErrorUri.FEATURE_NOT_SUPPORTED);
    }
  });

  await t.step("the request ID of a call in flight that is not progressive is a violation", () => {
    const { dealer } = setup();
    dealer.register(callee, register(1, "p"));
    dealer.call(alice, call(1, "p"));
    throws(() => dealer.call(alice, call(1, "p"), false), ProtocolViolationError);
  });
});

Deno.test("call_timeout", async (t) => {
  await t.step("the dealer enforces timeout: ERROR timeout, INTERRUPT, late YIELD dropped", () => {
    const { dealer, timers, fired } = setup();
    dealer.register(callee, register(1, "p"));
    const inv = invocation(dealer.call(alice, call(1, "p", { timeout: 100 })));
    equal(inv.details.timeout, undefined);
    timers.tick(99);
    deepEqual(fired, []);
    timers.tick(1);
    deepEqual(types(fired), [[1, MessageType.INTERRUPT], [2, MessageType.ERROR]]);
    const [first, second] = fired as Outbound[];
    deepEqual((first!.msg as InterruptMessage).options, {
      mode: "killnowait",
      reason: ErrorUri.TIMEOUT,
    });
    equal((second!.msg as ErrorMessage).error, ErrorUri.TIMEOUT);
    deepEqual(dealer.yield(callee, yieldOf(inv.request)), []);
    equal(timers.pending, 0);
  });

  await t.step("a callee without call_canceling gets no INTERRUPT", () => {
    const { dealer, timers, fired } = setup();
    dealer.register(basic, register(1, "p"));
    dealer.call(alice, call(1, "p", { timeout: 10 }));
    timers.tick(10);
    deepEqual(types(fired), [[2, MessageType.ERROR]]);
  });

  await t.step("the timeout restarts at each progressive result", () => {
    const { dealer, timers, fired } = setup();
    dealer.register(callee, register(1, "p"));
    const inv = invocation(
      dealer.call(alice, call(1, "p", { timeout: 50, receive_progress: true })),
    );
    for (let i = 0; i < 4; i++) {
      timers.tick(40);
      dealer.yield(callee, yieldOf(inv.request, { progress: true }));
    }
    deepEqual(fired, []);
    only(dealer.yield(callee, yieldOf(inv.request)), MessageType.RESULT);
    equal(timers.pending, 0);
  });

  await t.step("forward_timeout passes the timeout on to the callee", () => {
    const { dealer } = setup();
    dealer.register(callee, register(1, "p", { forward_timeout: true }));
    equal(invocation(dealer.call(alice, call(1, "p", { timeout: 250 }))).details.timeout, 250);
  });

  await t.step("a finished call stops its timer", () => {
    const { dealer, timers } = setup();
    dealer.register(callee, register(1, "p"));
    const inv = invocation(dealer.call(alice, call(1, "p", { timeout: 50 })));
    equal(timers.pending, 1);
    dealer.yield(callee, yieldOf(inv.request));
    equal(timers.pending, 0);
  });
});

Deno.test("call_canceling", async (t) => {
  const start = (calleeInfo = callee) => {
    const s = setup();
    s.dealer.register(calleeInfo, register(1, "p"));
    const inv = invocation(s.dealer.call(alice, call(1, "p")));
    return { ...s, inv };
  };

  await t.step("skip: ERROR canceled at once, no INTERRUPT, late YIELD dropped", () => {
    const { dealer, inv } = start();
    const out = dealer.cancel(alice, cancel(1, "skip"));
    deepEqual(types(out), [[2, MessageType.ERROR]]);
    equal((out[0]!.msg as ErrorMessage).error, ErrorUri.CANCELED);
    deepEqual(dealer.yield(callee, yieldOf(inv.request)), []);
  });

  await t.step("killnowait (the default): INTERRUPT and ERROR canceled at once", () => {
    for (const mode of ["killnowait", undefined] as const) {
      const { dealer, inv } = start();
      const out = dealer.cancel(alice, cancel(1, mode));
      deepEqual(types(out), [[1, MessageType.INTERRUPT], [2, MessageType.ERROR]]);
      deepEqual(out[0]!.msg, {
        type: MessageType.INTERRUPT,
        request: inv.request,
        options: { mode: "killnowait", reason: ErrorUri.CANCELED },
      });
      deepEqual(dealer.error(callee, invocationError(inv.request, ErrorUri.CANCELED)), []);
    }
  });

  await t.step("kill: INTERRUPT, then the callee's answer goes to the caller", () => {
    const { dealer, inv } = start();
    const out = dealer.cancel(alice, cancel(1, "kill"));
    deepEqual(types(out), [[1, MessageType.INTERRUPT]]);
    equal((out[0]!.msg as InterruptMessage).options.mode, "kill");
    deepEqual(dealer.cancel(alice, cancel(1, "kill")), []); // repeated: ignored
    const answer = dealer.error(callee, invocationError(inv.request, ErrorUri.CANCELED));
    deepEqual(types(answer), [[2, MessageType.ERROR]]);
    equal(errorUri(answer), ErrorUri.CANCELED);
  });

  await t.step("kill: a callee that finished first still delivers its RESULT", () => {
    const { dealer, inv } = start();
    dealer.cancel(alice, cancel(1, "kill"));
    only(dealer.yield(callee, yieldOf(inv.request, {}, [42])), MessageType.RESULT);
  });

  await t.step("a callee without call_canceling always gets skip behaviour", () => {
    for (const mode of ["kill", "killnowait"] as const) {
      const { dealer } = start(basic);
      const out = dealer.cancel(alice, cancel(1, mode));
      deepEqual(types(out), [[2, MessageType.ERROR]]);
    }
  });

  await t.step("CANCEL for an unknown or finished call is ignored", () => {
    const { dealer, inv } = start();
    deepEqual(dealer.cancel(alice, cancel(99)), []);
    dealer.yield(callee, yieldOf(inv.request));
    deepEqual(dealer.cancel(alice, cancel(1)), []);
  });

  await t.step("a caller that leaves gets its calls interrupted (killnowait)", () => {
    const { dealer, inv } = start();
    const out = dealer.removeSession(alice.id);
    deepEqual(types(out), [[1, MessageType.INTERRUPT]]);
    equal((out[0]!.msg as InterruptMessage).request, inv.request);
    deepEqual(dealer.yield(callee, yieldOf(inv.request)), []);
  });
});

Deno.test("caller_identification", async (t) => {
  const discloses = (options: Partial<DealerOptions>, callOptions: Dict, regOptions: Dict = {}) => {
    const { dealer } = setup(options);
    dealer.register(callee, register(1, "p", regOptions));
    const out = dealer.call(alice, call(1, "p", callOptions));
    if (out[0]!.msg.type === MessageType.ERROR) return (out[0]!.msg as ErrorMessage).error;
    const details = invocation(out).details;
    if (details.caller === undefined) return false;
    deepEqual(
      [details.caller, details.caller_authid, details.caller_authrole],
      [alice.id, alice.authid, alice.authrole],
    );
    return true;
  };
  await t.step("disclose_me, or the callee's disclose_caller, disclose the caller", () => {
    equal(discloses({}, {}), false);
    equal(discloses({}, { disclose_me: true }), true);
    equal(discloses({}, {}, { disclose_caller: true }), true);
    equal(discloses({ discloseCaller: "request" }, { disclose_me: false }), false);
  });
  await t.step('realm option "always" discloses every caller', () => {
    equal(discloses({ discloseCaller: "always" }, {}), true);
  });
  await t.step('realm option "never" refuses disclose_me and disclose_caller', () => {
    equal(
      discloses({ discloseCaller: "never" }, { disclose_me: true }),
      ErrorUri.OPTION_DISALLOWED_DISCLOSE_ME,
    );
    const { dealer } = setup({ discloseCaller: "never" });
    const out = dealer.register(callee, register(1, "p", { disclose_caller: true }));
    equal(errorUri(out), ErrorUri.OPTION_NOT_ALLOWED);
  });
});

Deno.test("call_trustlevels", () => {
  const { dealer } = setup();
  dealer.register(callee, register(1, "p"));
  const trusted = peer(7, ALL_RPC, { trustlevel: 3 });
  equal(invocation(dealer.call(trusted, call(1, "p"))).details.trustlevel, 3);
  equal(invocation(dealer.call(alice, call(1, "p"))).details.trustlevel, undefined);
});

Deno.test("pattern_based_registration", async (t) => {
  await t.step("exact > longest prefix > wildcard, with details.procedure for patterns", () => {
    const { dealer } = setup();
    const regs: Record<string, number> = {};
    const add = (id: number, uri: string, match: string) => {
      const [out] = dealer.register(peer(id), register(1, uri, { match }));
      regs[`${match}:${uri}`] = (out!.msg as { registration: number }).registration;
    };
    add(11, "a1.b2.c3.d4.e55", "exact");
    add(12, "a1.b2.c3.", "prefix"); // a string prefix: the dot keeps c33 out
    add(13, "a1.b2.c3.d4", "prefix");
    add(14, "a1.b2..d4.e5", "wildcard");
    add(15, "a1.b2.c33..e5", "wildcard");
    const route = (uri: string) => {
      const out = dealer.call(alice, call(1, uri));
      if (out[0]!.msg.type === MessageType.ERROR) return (out[0]!.msg as ErrorMessage).error;
      const inv = invocation(out);
      dealer.yield(peer(out[0]!.to as number), yieldOf(inv.request));
      return [out[0]!.to, inv.details.procedure];
    };
    deepEqual(route("a1.b2.c3.d4.e55"), [11, undefined]);
    deepEqual(route("a1.b2.c3.d4.e5"), [13, "a1.b2.c3.d4.e5"]);
    deepEqual(route("a1.b2.c3.d98.e74"), [12, "a1.b2.c3.d98.e74"]);
    deepEqual(route("a1.b2.c33.d4.e5"), [15, "a1.b2.c33.d4.e5"]);
    deepEqual(route("a1.b2.c88.d4.e5"), [14, "a1.b2.c88.d4.e5"]);
    equal(route("a1.b2.c33.d4.e5.f6"), ErrorUri.NO_SUCH_PROCEDURE);
  });

  await t.step("patterns with empty components must use prefix or wildcard", () => {
    const { dealer } = setup();
    equal(errorUri(dealer.register(callee, register(1, "a..b"))), ErrorUri.INVALID_URI);
    only(
      dealer.register(callee, register(2, "a..b", { match: "wildcard" })),
      MessageType.REGISTERED,
    );
    only(dealer.register(callee, register(3, "a.", { match: "prefix" })), MessageType.REGISTERED);
  });

  await t.step("the same URI under different match policies are separate registrations", () => {
    const { dealer } = setup();
    only(dealer.register(callee, register(1, "a.b")), MessageType.REGISTERED);
    only(dealer.register(alice, register(1, "a.b", { match: "prefix" })), MessageType.REGISTERED);
    equal(invocation(dealer.call(basic, call(1, "a.b"))).registration, 1);
    equal(invocation(dealer.call(basic, call(2, "a.bc"))).registration, 2);
  });
});

Deno.test("shared_registration", async (t) => {
  const shared = (invoke: string, random?: () => number) => {
    const { dealer } = setup(random === undefined ? {} : { random });
    for (const id of [11, 12, 13]) {
      only(dealer.register(peer(id), register(1, "p", { invoke })), MessageType.REGISTERED);
    }
    return (n: number) =>
      Array.from({ length: n }, (_, i) => {
        const out = dealer.call(alice, call(i + 1, "p"));
        invocation(out);
        return out[0]!.to;
      });
  };
  await t.step("roundrobin walks the callees in registration order", () => {
    deepEqual(shared("roundrobin")(7), [11, 12, 13, 11, 12, 13, 11]);
  });
  await t.step("first and last pick the oldest and newest callee", () => {
    deepEqual(shared("first")(3), [11, 11, 11]);
    deepEqual(shared("last")(3), [13, 13, 13]);
  });
  await t.step("random picks with the injected source", () => {
    const values = [0.9, 0.1, 0.5];
    deepEqual(shared("random", () => values.shift()!)(3), [13, 11, 12]);
  });
  await t.step(
    "a different policy, single, or the same session again: procedure_already_exists",
    () => {
      const { dealer } = setup();
      dealer.register(peer(11), register(1, "p", { invoke: "roundrobin" }));
      equal(
        errorUri(dealer.register(peer(12), register(1, "p", { invoke: "first" }))),
        ErrorUri.PROCEDURE_ALREADY_EXISTS,
      );
      equal(
        errorUri(dealer.register(peer(12), register(1, "p"))),
        ErrorUri.PROCEDURE_ALREADY_EXISTS,
      );
      equal(
        errorUri(dealer.register(peer(11), register(2, "p", { invoke: "roundrobin" }))),
        ErrorUri.PROCEDURE_ALREADY_EXISTS,
      );
    },
  );
  await t.step("all callees share one registration ID; it lives until the last one leaves", () => {
    const { dealer } = setup();
    const ids = [11, 12].map((id) =>
      (only(
        dealer.register(peer(id), register(1, "p", { invoke: "last" })),
        MessageType.REGISTERED,
      ) as {
        registration: number;
      }).registration
    );
    equal(ids[0], ids[1]);
    dealer.removeSession(12);
    equal(invocation(dealer.call(alice, call(1, "p"))).registration, ids[0]);
    deepEqual(dealer.registration(ids[0]!)!.callees, [11]);
    dealer.removeSession(11);
    equal(dealer.registration(ids[0]!), undefined);
  });
  await t.step("roundrobin stays fair when a callee leaves", () => {
    const { dealer } = setup();
    for (const id of [11, 12, 13]) {
      dealer.register(peer(id), register(1, "p", { invoke: "roundrobin" }));
    }
    const next = (n: number) => dealer.call(alice, call(n, "p"))[0]!.to;
    equal(next(1), 11);
    dealer.removeSession(11);
    deepEqual([next(2), next(3), next(4)], [12, 13, 12]);
  });
});

Deno.test("sharded_registration", async (t) => {
  const { dealer } = setup();
  for (const id of [11, 12, 13, 14]) {
    dealer.register(peer(id), register(1, "db", { invoke: "random" }));
  }
  const shard = (n: number, rkey: string) =>
    dealer.call(alice, call(n, "db", { runmode: "partition", rkey }))[0]!.to;
  await t.step("one rkey always reaches the same callee", () => {
    const first = shard(1, "user-1");
    for (let n = 2; n < 10; n++) equal(shard(n, "user-1"), first);
  });
  await t.step("different keys spread over the callees", () => {
    const seen = new Set(Array.from({ length: 40 }, (_, i) => shard(100 + i, `user-${i}`)));
    ok(seen.size > 1);
  });
  await t.step("partition without rkey, or another runmode, is refused", () => {
    equal(
      errorUri(dealer.call(alice, call(200, "db", { runmode: "partition" }))),
      ErrorUri.INVALID_ARGUMENT,
    );
    equal(
      errorUri(dealer.call(alice, call(201, "db", { runmode: "all" }))),
      ErrorUri.OPTION_NOT_ALLOWED,
    );
  });
});

Deno.test("registration_revocation", async (t) => {
  await t.step(
    "callees that announced it get UNREGISTERED request 0; others lose it silently",
    () => {
      const { dealer } = setup();
      dealer.register(callee, register(1, "p", { invoke: "roundrobin" }));
      dealer.register(basic, register(1, "p", { invoke: "roundrobin" }));
      const out = dealer.revoke(1, "wamp.close.maintenance");
      deepEqual(out, [{
        to: 1,
        msg: {
          type: MessageType.UNREGISTERED,
          request: 0,
          details: { registration: 1, reason: "wamp.close.maintenance" },
        },
      }]);
      equal(dealer.registration(1), undefined);
      equal(errorUri(dealer.call(alice, call(1, "p"))), ErrorUri.NO_SUCH_PROCEDURE);
      deepEqual(dealer.revoke(1), []);
    },
  );

  await t.step("one callee's part of a shared registration", () => {
    const { dealer } = setup();
    dealer.register(callee, register(1, "p", { invoke: "first" }));
    dealer.register(alice, register(1, "p", { invoke: "first" }));
    equal(dealer.revoke(1, undefined, callee.id).length, 1);
    equal(invocation(dealer.call(basic, call(1, "p"))).registration, 1);
    equal(dealer.call(basic, call(2, "p"))[0]!.to, alice.id);
  });

  await t.step("invocations already sent may still be answered", () => {
    const { dealer } = setup();
    dealer.register(callee, register(1, "p"));
    const inv = invocation(dealer.call(alice, call(1, "p")));
    dealer.revoke(1);
    only(dealer.yield(callee, yieldOf(inv.request)), MessageType.RESULT);
  });
});

Deno.test("payload_passthru_mode", async (t) => {
  const ppt = {
    ppt_scheme: "wamp",
    ppt_serializer: "cbor",
    ppt_cipher: "xsalsa20poly1305",
    ppt_keyid: "k1",
  };
  const blob = new Uint8Array([1, 2, 3]);

  await t.step("ppt options pass to INVOCATION and RESULT, the payload untouched", () => {
    const { dealer } = setup();
    dealer.register(callee, register(1, "p"));
    const inv = invocation(dealer.call(alice, call(1, "p", ppt, [blob])));
    deepEqual(inv.details, ppt);
    equal(inv.args![0], blob);
    const [out] = dealer.yield(callee, yieldOf(inv.request, { ppt_scheme: "x_custom" }, [blob]));
    deepEqual(out!.msg, {
      type: MessageType.RESULT,
      request: 1,
      details: { ppt_scheme: "x_custom" },
      args: [blob],
    });
  });

  await t.step("senders that did not announce it violate the protocol", () => {
    const { dealer } = setup();
    dealer.register(basic, register(1, "p"));
    throws(() => dealer.call(basic, call(1, "p", ppt)), ProtocolViolationError);
    dealer.call(basic, call(2, "p"));
    throws(() => dealer.yield(basic, yieldOf(1, ppt)), ProtocolViolationError);
  });

  await t.step("a callee without it: feature_not_supported to the caller", () => {
    const { dealer } = setup();
    dealer.register(basic, register(1, "p"));
    equal(errorUri(dealer.call(alice, call(1, "p", ppt))), ErrorUri.FEATURE_NOT_SUPPORTED);
  });

  await t.step("a PPT answer for a caller without it: feature_not_supported", () => {
    const { dealer } = setup();
    dealer.register(callee, register(1, "p"));
    const inv = invocation(dealer.call(basic, call(1, "p")));
    equal(
      errorUri(dealer.yield(callee, yieldOf(inv.request, ppt))),
      ErrorUri.FEATURE_NOT_SUPPORTED,
    );
  });

  await t.step("options outside the spec's schemes: invalid_argument", () => {
    const { dealer } = setup();
    dealer.register(callee, register(1, "p"));
    const bad = [
      { ppt_scheme: "mqtt", ppt_cipher: "aes256gcm" },
      { ppt_scheme: "mqtt", ppt_serializer: "xml" },
      { ppt_scheme: "wamp" },
      { ppt_scheme: "wamp", ppt_serializer: "cbor", ppt_cipher: "rot13" },
      { ppt_scheme: "custom" },
    ];
    bad.forEach((options, i) => {
      equal(errorUri(dealer.call(alice, call(i + 1, "p", options))), ErrorUri.INVALID_ARGUMENT);
    });
  });
});
