import { deepEqual, equal, throws } from "node:assert/strict";
import { ProtocolViolationError } from "../../wamp/errors.ts";
import { MAX_ID } from "../../wamp/ids.ts";
import { MessageType, type MessageTypeCode } from "../../wamp/message_type.ts";
import { invalidOptionKey, parseMessage, toWire, type WampMessage } from "../../wamp/messages.ts";
import type { CancelMode, Dict, InvocationPolicy } from "../../wamp/options.ts";
import type { MatchPolicy } from "../../wamp/uri.ts";

interface Case {
  name: string;
  wire: unknown[];
  msg: WampMessage;
}

/** One or more wire forms per message type; each must round-trip exactly. */
const CASES: Case[] = [
  {
    name: "HELLO",
    wire: [1, "com.example.realm", { roles: { caller: {}, subscriber: {} } }],
    msg: {
      type: MessageType.HELLO,
      realm: "com.example.realm",
      details: { roles: { caller: {}, subscriber: {} } },
    },
  },
  {
    name: "WELCOME",
    wire: [2, 9129137332, { roles: { broker: {} } }],
    msg: {
      type: MessageType.WELCOME,
      session: 9129137332,
      details: { roles: { broker: {} } },
    },
  },
  {
    name: "ABORT",
    wire: [3, { message: "no" }, "wamp.error.no_such_realm"],
    msg: {
      type: MessageType.ABORT,
      details: { message: "no" },
      reason: "wamp.error.no_such_realm",
    },
  },
  {
    name: "ABORT with args and kwargs",
    wire: [3, {}, "wamp.error.protocol_violation", ["bad"], { at: 1 }],
    msg: {
      type: MessageType.ABORT,
      details: {},
      reason: "wamp.error.protocol_violation",
      args: ["bad"],
      kwargs: { at: 1 },
    },
  },
  {
    name: "CHALLENGE",
    wire: [4, "wampcra", { challenge: "{}" }],
    msg: {
      type: MessageType.CHALLENGE,
      authmethod: "wampcra",
      extra: { challenge: "{}" },
    },
  },
  {
    name: "AUTHENTICATE",
    wire: [5, "c2lnbmF0dXJl", {}],
    msg: {
      type: MessageType.AUTHENTICATE,
      signature: "c2lnbmF0dXJl",
      extra: {},
    },
  },
  {
    name: "GOODBYE",
    wire: [6, {}, "wamp.close.close_realm"],
    msg: {
      type: MessageType.GOODBYE,
      details: {},
      reason: "wamp.close.close_realm",
    },
  },
  {
    name: "ERROR for CALL with args and kwargs",
    wire: [8, 48, 7, {}, "com.myapp.error", ["oops"], { code: 3 }],
    msg: {
      type: MessageType.ERROR,
      requestType: 48,
      request: 7,
      details: {},
      error: "com.myapp.error",
      args: ["oops"],
      kwargs: { code: 3 },
    },
  },
  {
    name: "ERROR for INVOCATION",
    wire: [8, 68, 3, {}, "wamp.error.runtime_error"],
    msg: {
      type: MessageType.ERROR,
      requestType: 68,
      request: 3,
      details: {},
      error: "wamp.error.runtime_error",
    },
  },
  {
    name: "PUBLISH without payload",
    wire: [16, 1, { acknowledge: true }, "com.myapp.topic"],
    msg: {
      type: MessageType.PUBLISH,
      request: 1,
      options: { acknowledge: true },
      topic: "com.myapp.topic",
    },
  },
  {
    name: "PUBLISH with args",
    wire: [16, 2, {}, "com.myapp.topic", [1, "two", null]],
    msg: {
      type: MessageType.PUBLISH,
      request: 2,
      options: {},
      topic: "com.myapp.topic",
      args: [1, "two", null],
    },
  },
  {
    name: "PUBLISH with args and kwargs",
    wire: [16, 3, { exclude_me: false }, "com.myapp.topic", [1], {
      a: { b: [true] },
    }],
    msg: {
      type: MessageType.PUBLISH,
      request: 3,
      options: { exclude_me: false },
      topic: "com.myapp.topic",
      args: [1],
      kwargs: { a: { b: [true] } },
    },
  },
  {
    name: "PUBLISHED",
    wire: [17, 1, 4429313566],
    msg: { type: MessageType.PUBLISHED, request: 1, publication: 4429313566 },
  },
  {
    name: "SUBSCRIBE",
    wire: [32, 1, { match: "prefix" }, "com.myapp."],
    msg: {
      type: MessageType.SUBSCRIBE,
      request: 1,
      options: { match: "prefix" },
      topic: "com.myapp.",
    },
  },
  {
    name: "SUBSCRIBED",
    wire: [33, 1, 5512315355],
    msg: { type: MessageType.SUBSCRIBED, request: 1, subscription: 5512315355 },
  },
  {
    name: "UNSUBSCRIBE",
    wire: [34, 2, 5512315355],
    msg: {
      type: MessageType.UNSUBSCRIBE,
      request: 2,
      subscription: 5512315355,
    },
  },
  {
    name: "UNSUBSCRIBED",
    wire: [35, 2],
    msg: { type: MessageType.UNSUBSCRIBED, request: 2 },
  },
  {
    name: "UNSUBSCRIBED revocation",
    wire: [35, 0, {
      subscription: 5512315355,
      reason: "wamp.subscription.revoked",
    }],
    msg: {
      type: MessageType.UNSUBSCRIBED,
      request: 0,
      details: {
        subscription: 5512315355,
        reason: "wamp.subscription.revoked",
      },
    },
  },
  {
    name: "EVENT with args and kwargs",
    wire: [36, 5512315355, 4429313566, { publisher: 9 }, ["hi"], { n: 1 }],
    msg: {
      type: MessageType.EVENT,
      subscription: 5512315355,
      publication: 4429313566,
      details: { publisher: 9 },
      args: ["hi"],
      kwargs: { n: 1 },
    },
  },
  {
    name: "CALL with args",
    wire: [48, 7, { timeout: 1000 }, "com.myapp.add", [1, 2]],
    msg: {
      type: MessageType.CALL,
      request: 7,
      options: { timeout: 1000 },
      procedure: "com.myapp.add",
      args: [1, 2],
    },
  },
  {
    name: "CANCEL",
    wire: [49, 7, { mode: "killnowait" }],
    msg: {
      type: MessageType.CANCEL,
      request: 7,
      options: { mode: "killnowait" },
    },
  },
  {
    name: "RESULT with empty args before kwargs",
    wire: [50, 7, {}, [], { sum: 3 }],
    msg: {
      type: MessageType.RESULT,
      request: 7,
      details: {},
      args: [],
      kwargs: { sum: 3 },
    },
  },
  {
    name: "RESULT progressive",
    wire: [50, 7, { progress: true }, [1]],
    msg: {
      type: MessageType.RESULT,
      request: 7,
      details: { progress: true },
      args: [1],
    },
  },
  {
    name: "REGISTER",
    wire: [64, 3, { match: "wildcard", invoke: "roundrobin" }, "com..add"],
    msg: {
      type: MessageType.REGISTER,
      request: 3,
      options: { match: "wildcard", invoke: "roundrobin" },
      procedure: "com..add",
    },
  },
  {
    name: "REGISTERED",
    wire: [65, 3, 2103333224],
    msg: { type: MessageType.REGISTERED, request: 3, registration: 2103333224 },
  },
  {
    name: "UNREGISTER",
    wire: [66, 4, 2103333224],
    msg: { type: MessageType.UNREGISTER, request: 4, registration: 2103333224 },
  },
  {
    name: "UNREGISTERED",
    wire: [67, 4],
    msg: { type: MessageType.UNREGISTERED, request: 4 },
  },
  {
    name: "UNREGISTERED revocation",
    wire: [67, 0, {
      registration: 2103333224,
      reason: "wamp.registration.revoked",
    }],
    msg: {
      type: MessageType.UNREGISTERED,
      request: 0,
      details: {
        registration: 2103333224,
        reason: "wamp.registration.revoked",
      },
    },
  },
  {
    name: "INVOCATION with args",
    wire: [68, 6131533, 2103333224, { caller: 12 }, ["x"]],
    msg: {
      type: MessageType.INVOCATION,
      request: 6131533,
      registration: 2103333224,
      details: { caller: 12 },
      args: ["x"],
    },
  },
  {
    name: "INTERRUPT",
    wire: [69, 6131533, { mode: "kill", reason: "wamp.error.canceled" }],
    msg: {
      type: MessageType.INTERRUPT,
      request: 6131533,
      options: { mode: "kill", reason: "wamp.error.canceled" },
    },
  },
  {
    name: "YIELD with kwargs only",
    wire: [70, 6131533, {}, [], { ok: true }],
    msg: {
      type: MessageType.YIELD,
      request: 6131533,
      options: {},
      args: [],
      kwargs: { ok: true },
    },
  },
  {
    name: "EVENT_RECEIVED",
    wire: [337, 5512315355],
    msg: { type: MessageType.EVENT_RECEIVED, publication: 5512315355 },
  },
];

function assertViolation(wire: unknown, message?: RegExp): void {
  throws(
    () => parseMessage(wire),
    (error: unknown) => {
      if (!(error instanceof ProtocolViolationError)) return false;
      if (message !== undefined && !message.test(error.message)) {
        throw new Error(
          `unexpected message ${JSON.stringify(error.message)}, wanted ${message}`,
        );
      }
      return true;
    },
  );
}

Deno.test("parseMessage() and toWire() round-trip every message type", async (t) => {
  const seen = new Set<number>();
  for (const { name, wire, msg } of CASES) {
    await t.step(name, () => {
      deepEqual(parseMessage(structuredClone(wire)), msg);
      deepEqual(toWire(msg), wire);
    });
    seen.add(msg.type);
  }
  deepEqual(
    [...seen].sort((a, b) => a - b),
    Object.values(MessageType).sort((a, b) => a - b),
  );
});

Deno.test("parseMessage() accepts IDs at both ends of [1, 2^53]", () => {
  deepEqual(parseMessage([17, 1, MAX_ID]), {
    type: MessageType.PUBLISHED,
    request: 1,
    publication: MAX_ID,
  });
});

Deno.test("parseMessage() ignores unknown option keys", () => {
  const options = { x_custom: "a", _private: 1, unknown: [1] };
  deepEqual(parseMessage([16, 1, options, "com.myapp.topic"]), {
    type: MessageType.PUBLISH,
    request: 1,
    options,
    topic: "com.myapp.topic",
  });
});

Deno.test("parseMessage() rejects a non-array", () => {
  for (
    const wire of [undefined, null, 16, "[16]", { 0: 16 }, new Uint8Array([16])]
  ) {
    assertViolation(wire, /non-empty list/);
  }
});

Deno.test("parseMessage() rejects an empty list", () => {
  assertViolation([], /non-empty list/);
});

Deno.test("parseMessage() rejects an unknown type code", () => {
  for (
    const code of [0, 7, 9, 99, 255, 1024, -16, 16.5, "16", null, true, [16]]
  ) {
    assertViolation([code, 1, {}, "com.myapp.topic"], /unknown message type/);
  }
});

Deno.test("parseMessage() rejects a wrong length", () => {
  const cases: unknown[][] = [
    [1, "com.example.realm"],
    [1, "com.example.realm", {}, []],
    [3, {}],
    [6, {}, "wamp.close.normal", []],
    [8, 48, 1, {}],
    [8, 48, 1, {}, "com.myapp.error", [], {}, 1],
    [16, 1, {}],
    [16, 1, {}, "com.myapp.topic", [], {}, null],
    [17, 1],
    [17, 1, 2, 3],
    [32, 1, {}, "com.myapp.topic", []],
    [33, 1],
    [35],
    [35, 1, {}, {}],
    [36, 1, 2],
    [48, 1, {}],
    [49, 1],
    [50, 1],
    [50, 1, {}, [], {}, 1],
    [64, 1, {}, "com.myapp.proc", []],
    [65, 1, 2, 3],
    [67],
    [68, 1, 2],
    [69, 1],
    [70, 1],
    [70, 1, {}, [], {}, []],
    [337],
    [337, 1, 2],
  ];
  for (const wire of cases) assertViolation(wire, /elements, expected/);
});

Deno.test("parseMessage() rejects a zero ID", () => {
  assertViolation([16, 0, {}, "com.myapp.topic"], /invalid request 0/);
  assertViolation([17, 1, 0], /invalid publication 0/);
  assertViolation([2, 0, {}], /invalid session 0/);
  assertViolation([36, 0, 1, {}], /invalid subscription 0/);
  assertViolation([68, 1, 0, {}], /invalid registration 0/);
});

Deno.test("parseMessage() rejects an ID above 2^53", () => {
  assertViolation([17, 1, MAX_ID + 2], /invalid publication/);
  assertViolation([48, 2 ** 60, {}, "com.myapp.proc"], /invalid request/);
});

Deno.test("parseMessage() rejects a non-integer ID", () => {
  for (const id of [1.5, Number.NaN, Infinity, "1", true, null, [1], {}]) {
    assertViolation([33, 1, id], /invalid subscription/);
  }
  assertViolation([33, 1, 1n], /a bigint value/);
});

Deno.test("parseMessage() rejects a negative ID", () => {
  assertViolation([34, -1, 1], /invalid request -1/);
  assertViolation([66, 1, -2103333224], /invalid registration/);
  assertViolation([35, -1, {}], /invalid request -1/);
});

Deno.test("parseMessage() rejects wrong field types", () => {
  assertViolation([1, 42, {}], /invalid realm/);
  assertViolation([1, "", {}], /invalid realm/);
  assertViolation([3, {}, null], /invalid reason/);
  assertViolation([4, 1, {}], /invalid authmethod/);
  assertViolation([5, null, {}], /invalid signature/);
  assertViolation([6, {}, 5], /invalid reason/);
  assertViolation([8, 48, 1, {}, 5], /invalid error/);
  assertViolation([16, 1, {}, 5], /invalid topic/);
  assertViolation([16, 1, {}, ""], /invalid topic/);
  assertViolation([32, 1, {}, ["com.myapp.topic"]], /invalid topic/);
  assertViolation([48, 1, {}, { uri: "com.myapp.proc" }], /invalid procedure/);
  assertViolation([64, 1, {}, null], /invalid procedure/);
});

Deno.test("parseMessage() rejects non-dict options and details", () => {
  for (const dict of [[], ["a"], "x", 1, true, new Uint8Array(1)]) {
    assertViolation([1, "com.example.realm", dict], /invalid details/);
    assertViolation([4, "ticket", dict], /invalid extra/);
    assertViolation([16, 1, dict, "com.myapp.topic"], /invalid options/);
    assertViolation([36, 1, 2, dict], /invalid details/);
    assertViolation([49, 1, dict], /invalid options/);
    assertViolation([35, 0, dict], /invalid details/);
  }
});

Deno.test("parseMessage() rejects known option keys with the wrong type", () => {
  assertViolation(
    [16, 1, { acknowledge: 1 }, "com.myapp.topic"],
    /options key "acknowledge"/,
  );
  assertViolation(
    [32, 1, { match: "regex" }, "com.myapp.topic"],
    /options key "match"/,
  );
  assertViolation(
    [48, 1, { timeout: -1 }, "com.myapp.proc"],
    /options key "timeout"/,
  );
  assertViolation([49, 1, { mode: "abort" }], /options key "mode"/);
  assertViolation(
    [1, "com.example.realm", { authmethods: "ticket" }],
    /details key "authmethods"/,
  );
});

/** Parses a wire message and narrows it to its type, failing otherwise. */
function parseAs<T extends MessageTypeCode>(
  type: T,
  wire: unknown[],
): Extract<WampMessage, { type: T }> {
  const msg = parseMessage(wire);
  equal(msg.type, type);
  return msg as Extract<WampMessage, { type: T }>;
}

Deno.test("parseMessage() gives each message its typed options and details", () => {
  // Compile-time: each assignment only type-checks when the key has its
  // declared type (an untyped Dict would give `unknown`).
  const publish = parseAs(MessageType.PUBLISH, [16, 1, {
    acknowledge: true,
    exclude: [7],
    eligible_authrole: ["admin"],
    ppt_scheme: "x_custom",
    forward_for: [{ session: 1 }],
  }, "a.topic"]);
  const acknowledge: boolean | undefined = publish.options.acknowledge;
  const exclude: number[] | undefined = publish.options.exclude;
  const roles: string[] | undefined = publish.options.eligible_authrole;
  const scheme: string | undefined = publish.options.ppt_scheme;
  const forwardFor: Dict[] | undefined = publish.options.forward_for;
  // @ts-expect-error: acknowledge is a boolean, not any
  const notAString: string | undefined = publish.options.acknowledge;
  equal(notAString, true);
  deepEqual([acknowledge, exclude, roles, scheme, forwardFor], [
    true,
    [7],
    ["admin"],
    "x_custom",
    [{ session: 1 }],
  ]);

  const subscribe = parseAs(MessageType.SUBSCRIBE, [32, 2, { match: "prefix" }, "a."]);
  const match: MatchPolicy | undefined = subscribe.options.match;
  equal(match, "prefix");

  const register = parseAs(MessageType.REGISTER, [64, 3, { invoke: "roundrobin" }, "a.proc"]);
  const invoke: InvocationPolicy | undefined = register.options.invoke;
  equal(invoke, "roundrobin");

  const call = parseAs(MessageType.CALL, [48, 4, { timeout: 500, runmode: "partition" }, "a.p"]);
  const timeout: number | undefined = call.options.timeout;
  const runmode: string | undefined = call.options.runmode;
  deepEqual([timeout, runmode], [500, "partition"]);

  const cancel = parseAs(MessageType.CANCEL, [49, 4, { mode: "kill" }]);
  const mode: CancelMode | undefined = cancel.options.mode;
  equal(mode, "kill");

  const interrupt = parseAs(MessageType.INTERRUPT, [69, 5, { mode: "kill", reason: "a.err" }]);
  const reason: string | undefined = interrupt.options.reason;
  equal(reason, "a.err");

  const yielded = parseAs(MessageType.YIELD, [70, 5, { progress: true }]);
  const yieldProgress: boolean | undefined = yielded.options.progress;
  equal(yieldProgress, true);

  const event = parseAs(MessageType.EVENT, [36, 1, 2, { publisher: 9, topic: "a.b" }]);
  const publisher: number | undefined = event.details.publisher;
  const topic: string | undefined = event.details.topic;
  deepEqual([publisher, topic], [9, "a.b"]);

  const invocation = parseAs(MessageType.INVOCATION, [68, 6, 7, {
    caller: 3,
    procedure: "a.p",
    timeout: 10,
  }]);
  const caller: number | undefined = invocation.details.caller;
  const procedure: string | undefined = invocation.details.procedure;
  const invocationTimeout: number | undefined = invocation.details.timeout;
  deepEqual([caller, procedure, invocationTimeout], [3, "a.p", 10]);

  const result = parseAs(MessageType.RESULT, [50, 4, { progress: true }]);
  const resultProgress: boolean | undefined = result.details.progress;
  equal(resultProgress, true);

  const error = parseAs(MessageType.ERROR, [8, 48, 4, { ppt_cipher: "c" }, "a.err"]);
  const cipher: string | undefined = error.details.ppt_cipher;
  equal(cipher, "c");

  const hello = parseAs(MessageType.HELLO, [1, "realm1", {
    roles: { caller: {} },
    authmethods: ["ticket"],
    authextra: { a: 1 },
  }]);
  const helloRoles: Dict | undefined = hello.details.roles;
  const methods: string[] | undefined = hello.details.authmethods;
  const authextra: Dict | undefined = hello.details.authextra;
  deepEqual([helloRoles, methods, authextra], [{ caller: {} }, ["ticket"], { a: 1 }]);

  const welcome = parseAs(MessageType.WELCOME, [2, 5, { authrole: "user" }]);
  const authrole: string | undefined = welcome.details.authrole;
  equal(authrole, "user");

  // Unknown keys stay reachable, untyped.
  const custom: unknown = parseAs(MessageType.CALL, [48, 1, { x_custom: 1 }, "a.p"]).options
    .x_custom;
  equal(custom, 1);
});

Deno.test("parseMessage() reads a null known key as absent, so its type holds", () => {
  const call = parseAs(MessageType.CALL, [48, 1, { timeout: null, rkey: null }, "a.p"]);
  deepEqual(call.options, {});
  const cancel = parseAs(MessageType.CANCEL, [49, 1, { mode: null }]);
  equal(cancel.options.mode, undefined);
});

Deno.test("parseMessage() refuses every typed key given a value outside its type", () => {
  const cases: [wire: unknown[], key: string][] = [
    [[1, "realm1", { roles: [] }], "roles"],
    [[1, "realm1", { authextra: "x" }], "authextra"],
    [[1, "realm1", { authid: 1 }], "authid"],
    [[2, 1, { authmethod: 1 }], "authmethod"],
    [[2, 1, { roles: "broker" }], "roles"],
    [[8, 48, 1, { forward_for: [1] }, "a.err"], "forward_for"],
    [[8, 48, 1, { enc_algo: "rot13" }, "a.err"], "enc_algo"],
    [[16, 1, { exclude: ["a"] }, "a.t"], "exclude"],
    [[16, 1, { eligible: [0] }, "a.t"], "eligible"],
    [[16, 1, { exclude_authid: [1] }, "a.t"], "exclude_authid"],
    [[16, 1, { retain: "yes" }, "a.t"], "retain"],
    [[16, 1, { ppt_scheme: 1 }, "a.t"], "ppt_scheme"],
    [[16, 1, { transaction_hash: 1 }, "a.t"], "transaction_hash"],
    [[32, 1, { get_retained: 1 }, "a.t"], "get_retained"],
    [[36, 1, 2, { publisher: "x" }], "publisher"],
    [[36, 1, 2, { topic: 1 }], "topic"],
    [[36, 1, 2, { trustlevel: -1 }], "trustlevel"],
    [[48, 1, { timeout: 1.5 }, "a.p"], "timeout"],
    [[48, 1, { receive_progress: "yes" }, "a.p"], "receive_progress"],
    [[48, 1, { rkey: 1 }, "a.p"], "rkey"],
    [[49, 1, { mode: 1 }], "mode"],
    [[50, 1, { progress: 1 }], "progress"],
    [[64, 1, { invoke: "sometimes" }, "a.p"], "invoke"],
    [[64, 1, { match: "glob" }, "a.p"], "match"],
    [[64, 1, { disclose_caller: 1 }, "a.p"], "disclose_caller"],
    [[68, 1, 2, { caller: 0 }], "caller"],
    [[68, 1, 2, { procedure: 1 }], "procedure"],
    [[69, 1, { mode: "abort" }], "mode"],
    [[69, 1, { reason: 1 }], "reason"],
    [[70, 1, { progress: "no" }], "progress"],
  ];
  for (const [wire, key] of cases) {
    assertViolation(wire, new RegExp(`(options|details) key "${key}"`));
    equal(invalidOptionKey(wire[0] as number, wire.find((x) => isObject(x)) as Dict), key);
  }
});

Deno.test("parseMessage() takes keys named like Object.prototype members as unknown keys", () => {
  for (const key of ["hasOwnProperty", "valueOf", "isPrototypeOf", "constructor", "toString"]) {
    const msg = parseMessage([16, 1, { [key]: 1 }, "a.topic"]);
    equal((msg as { options: Dict }).options[key], 1);
    equal(invalidOptionKey(MessageType.PUBLISH, { [key]: 1 }), undefined);
  }
});

function isObject(value: unknown): boolean {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

Deno.test("parseMessage() rejects args that are not a list", () => {
  for (const args of [{ a: 1 }, "x", 1, true, new Uint8Array(1)]) {
    assertViolation(
      [16, 1, {}, "com.myapp.topic", args],
      /Arguments must be a list/,
    );
    assertViolation([50, 1, {}, args, {}], /Arguments must be a list/);
  }
});

Deno.test("parseMessage() rejects kwargs that are not a dict", () => {
  for (const kwargs of [[], [1], "x", 1, true, new Uint8Array(1)]) {
    assertViolation(
      [48, 1, {}, "com.myapp.proc", [], kwargs],
      /ArgumentsKw must be a dict/,
    );
    assertViolation([70, 1, {}, [1], kwargs], /ArgumentsKw must be a dict/);
  }
});

Deno.test("parseMessage() rejects ERROR with an invalid request type", () => {
  for (
    const requestType of [
      0,
      1,
      8,
      17,
      33,
      36,
      49,
      50,
      65,
      69,
      70,
      337,
      "48",
      null,
    ]
  ) {
    assertViolation(
      [8, requestType, 1, {}, "com.myapp.error"],
      /invalid requestType/,
    );
  }
});

Deno.test("parseMessage() accepts ERROR for every request type the spec allows", () => {
  for (const requestType of [16, 32, 34, 48, 64, 66, 68]) {
    deepEqual(parseMessage([8, requestType, 1, {}, "com.myapp.error"]), {
      type: MessageType.ERROR,
      requestType,
      request: 1,
      details: {},
      error: "com.myapp.error",
    });
  }
});

Deno.test("parseMessage() rejects request 0 outside the revocation form", () => {
  assertViolation([35, 0], /request 0 without details/);
  assertViolation([67, 0], /request 0 without details/);
  assertViolation([34, 0, 1], /invalid request 0/);
  assertViolation([50, 0, {}], /invalid request 0/);
});

Deno.test("parseMessage() keeps a transparent payload where Arguments goes", () => {
  const payload = new Uint8Array([0x83, 0xa5, 0x63]);
  deepEqual(parseMessage([36, 1, 2, { enc_algo: "cryptobox" }, payload]), {
    type: MessageType.EVENT,
    subscription: 1,
    publication: 2,
    details: { enc_algo: "cryptobox" },
    payload,
  });
  deepEqual(
    parseMessage([16, 1, { enc_algo: "cryptobox" }, "com.myapp.topic", "a166"]),
    {
      type: MessageType.PUBLISH,
      request: 1,
      options: { enc_algo: "cryptobox" },
      topic: "com.myapp.topic",
      payload: "a166",
    },
  );
});

Deno.test("parseMessage() rejects a transparent payload followed by kwargs", () => {
  assertViolation(
    [36, 1, 2, { enc_algo: "cryptobox" }, new Uint8Array(1), {}],
    /Arguments must be a list/,
  );
});

Deno.test("parseMessage() rejects a transparent payload without enc_algo", () => {
  assertViolation(
    [36, 1, 2, { enc_serializer: "cbor" }, "a166"],
    /Arguments must be a list/,
  );
});

Deno.test("toWire() emits a transparent payload in place of args", () => {
  const payload = new Uint8Array([1, 2]);
  deepEqual(
    toWire({
      type: MessageType.YIELD,
      request: 1,
      options: { enc_algo: "cryptobox" },
      payload,
    }),
    [70, 1, { enc_algo: "cryptobox" }, payload],
  );
});

Deno.test("toWire() drops empty args", () => {
  deepEqual(
    toWire({
      type: MessageType.PUBLISH,
      request: 1,
      options: {},
      topic: "t",
      args: [],
    }),
    [16, 1, {}, "t"],
  );
});

Deno.test("toWire() drops empty kwargs", () => {
  deepEqual(
    toWire({
      type: MessageType.CALL,
      request: 1,
      options: {},
      procedure: "p",
      args: [1],
      kwargs: {},
    }),
    [48, 1, {}, "p", [1]],
  );
  deepEqual(
    toWire({
      type: MessageType.RESULT,
      request: 1,
      details: {},
      args: [],
      kwargs: {},
    }),
    [50, 1, {}],
  );
  deepEqual(
    toWire({ type: MessageType.RESULT, request: 1, details: {}, kwargs: {} }),
    [50, 1, {}],
  );
});

Deno.test("toWire() keeps empty args when kwargs follow", () => {
  deepEqual(
    toWire({
      type: MessageType.RESULT,
      request: 1,
      details: {},
      args: [],
      kwargs: { a: 1 },
    }),
    [50, 1, {}, [], { a: 1 }],
  );
});

Deno.test("toWire() writes empty args when only kwargs are set", () => {
  deepEqual(
    toWire({
      type: MessageType.EVENT,
      subscription: 1,
      publication: 2,
      details: {},
      kwargs: { a: 1 },
    }),
    [36, 1, 2, {}, [], { a: 1 }],
  );
});

Deno.test("toWire() writes UNSUBSCRIBED and UNREGISTERED details only when set", () => {
  deepEqual(toWire({ type: MessageType.UNSUBSCRIBED, request: 5 }), [35, 5]);
  deepEqual(
    toWire({
      type: MessageType.UNREGISTERED,
      request: 0,
      details: { registration: 3 },
    }),
    [67, 0, { registration: 3 }],
  );
});
