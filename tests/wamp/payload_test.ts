import { deepEqual, equal, throws } from "node:assert/strict";
import { ProtocolViolationError } from "../../wamp/errors.ts";
import { MessageType } from "../../wamp/message_type.ts";
import { parseMessage, toWire } from "../../wamp/messages.ts";
import { MAX_NESTING_DEPTH, unsafeValue } from "../../wamp/payload.ts";
import { isValidUri } from "../../wamp/uri.ts";

function violation(wire: unknown, message: RegExp, options: { prechecked?: boolean } = {}): void {
  throws(() => parseMessage(wire, options), (error: unknown) => {
    return error instanceof ProtocolViolationError && message.test(error.message);
  });
}

/** A list nested `levels` deep: `nested(1)` is `[]`. */
function nested(levels: number, inner: unknown = 1): unknown {
  let value: unknown = [inner];
  for (let i = 1; i < levels; i++) value = [value];
  return value;
}

Deno.test("parseMessage() drops null and undefined option values, for every message type", () => {
  deepEqual(
    parseMessage([32, 1, { match: null, get_retained: undefined, nkey: "k" }, "a.topic"]),
    { type: MessageType.SUBSCRIBE, request: 1, options: { nkey: "k" }, topic: "a.topic" },
  );
  const wires: unknown[][] = [
    [1, "realm1", { authid: null, roles: { caller: {} } }],
    [2, 5, { authrole: null }],
    [3, { message: null }, "wamp.error.no_such_realm"],
    [4, "ticket", { challenge: null }],
    [5, "sig", { x: undefined }],
    [6, { message: null }, "wamp.close.normal"],
    [8, 48, 1, { x: null }, "wamp.error.canceled"],
    [16, 1, { acknowledge: null, exclude: null, retain: undefined }, "a.topic"],
    [35, 0, { reason: null, subscription: 7 }],
    [36, 1, 2, { publisher: null, trustlevel: null }],
    [48, 1, { timeout: null, receive_progress: null }, "a.proc"],
    [49, 1, { mode: null }],
    [50, 1, { progress: null }],
    [64, 1, { match: null, invoke: null }, "a.proc"],
    [68, 1, 2, { caller: null, timeout: undefined }],
    [69, 1, { mode: null, reason: null }],
    [70, 1, { progress: null }],
  ];
  for (const wire of wires) {
    const msg = parseMessage(wire) as unknown as Record<string, Record<string, unknown>>;
    const dict = Object.values(msg).find((v) => typeof v === "object")!;
    for (const value of Object.values(dict)) {
      equal(value === null || value === undefined, false, JSON.stringify(wire));
    }
  }
});

Deno.test("parseMessage() reads a null or undefined Options/Details dict as {}", () => {
  deepEqual(parseMessage([32, 1, null, "a.topic"]), {
    type: MessageType.SUBSCRIBE,
    request: 1,
    options: {},
    topic: "a.topic",
  });
  deepEqual(parseMessage([36, 1, 2, undefined, [1]]), {
    type: MessageType.EVENT,
    subscription: 1,
    publication: 2,
    details: {},
    args: [1],
  });
  deepEqual(parseMessage([1, "realm1", null]), {
    type: MessageType.HELLO,
    realm: "realm1",
    details: {},
  });
});

Deno.test("parseMessage() reads a null Arguments or ArgumentsKw as absent", () => {
  deepEqual(parseMessage([48, 1, {}, "p", null, { a: 1 }]), {
    type: MessageType.CALL,
    request: 1,
    options: {},
    procedure: "p",
    kwargs: { a: 1 },
  });
  deepEqual(parseMessage([68, 1, 2, {}, null]), {
    type: MessageType.INVOCATION,
    request: 1,
    registration: 2,
    details: {},
  });
  deepEqual(parseMessage([36, 1, 2, {}, [1], null]), {
    type: MessageType.EVENT,
    subscription: 1,
    publication: 2,
    details: {},
    args: [1],
  });
  deepEqual(parseMessage([50, 1, {}, undefined, undefined]), {
    type: MessageType.RESULT,
    request: 1,
    details: {},
  });
});

Deno.test("toWire() stays spec-exact for a message parsed from nulls", () => {
  deepEqual(toWire(parseMessage([48, 1, null, "p", null, { a: 1 }])), [48, 1, {}, "p", [], {
    a: 1,
  }]);
  deepEqual(toWire(parseMessage([68, 1, 2, { caller: null }, null])), [68, 1, 2, {}]);
});

Deno.test("parseMessage() keeps a transparent payload next to a null ArgumentsKw", () => {
  const payload = new Uint8Array([1, 2]);
  deepEqual(parseMessage([36, 1, 2, { enc_algo: "cryptobox", x: null }, payload, null]), {
    type: MessageType.EVENT,
    subscription: 1,
    publication: 2,
    details: { enc_algo: "cryptobox" },
    payload,
  });
  violation([36, 1, 2, { enc_algo: null }, payload], /Arguments must be a list/);
});

Deno.test("parseMessage() refuses a message nested deeper than MAX_NESTING_DEPTH", () => {
  equal(MAX_NESTING_DEPTH, 64);
  // The message list is level 1 and args level 2: 62 more levels fit.
  parseMessage([16, 1, {}, "a.topic", [nested(MAX_NESTING_DEPTH - 2)]]);
  violation([16, 1, {}, "a.topic", [nested(MAX_NESTING_DEPTH - 1)]], /nesting deeper than 64/);
  let dict: unknown = {};
  for (let i = 0; i < MAX_NESTING_DEPTH; i++) dict = { a: dict };
  violation([48, 1, {}, "a.proc", [], dict], /nesting deeper than 64/);
  violation([36, 1, 2, { deep: nested(70) }], /nesting deeper than 64/);
});

Deno.test("parseMessage() refuses a million levels of nesting quickly, without recursion", () => {
  const start = performance.now();
  violation([16, 1, {}, "a.topic", [nested(1_000_000)]], /nesting deeper than 64/);
  // Generous: proves the walk stops at the limit (not a timing assertion).
  equal(performance.now() - start < 1000, true);
});

Deno.test("parseMessage() refuses a cycle", () => {
  const args: unknown[] = [];
  args.push(args);
  violation([16, 1, {}, "a.topic", args], /nesting deeper than 64/);
});

Deno.test("parseMessage() refuses values that are not plain data", () => {
  const bad: [unknown, RegExp][] = [
    [new Date(0), /a Date value/],
    [new Map(), /a Map value/],
    [new Set(), /a Set value/],
    [1n, /a bigint value/],
    [Symbol("s"), /a symbol value/],
    [() => 1, /a function value/],
    [new Int16Array(1), /a Int16Array value/],
    [new (class Tag {})(), /a Tag value/],
  ];
  for (const [value, message] of bad) {
    violation([16, 1, {}, "a.topic", [value]], message);
    violation([16, 1, {}, "a.topic", [], { k: [value] }], message);
    violation([16, 1, { x_opt: value }, "a.topic"], message);
  }
});

Deno.test("unsafeValue() accepts plain data", () => {
  const value = [
    null,
    undefined,
    true,
    1.5,
    "s",
    new Uint8Array(2),
    Object.create(null),
    { a: [{ b: "c" }] },
  ];
  equal(unsafeValue(value), undefined);
});

Deno.test("parseMessage() refuses URIs that are not well-formed UTF-16", () => {
  // The payload walk finds them first; the URI check stands for prechecked input.
  violation([32, 1, {}, "com.\ud800.topic"], /invalid topic|lone surrogate/);
  violation([1, "realm\udc00", {}], /invalid realm|lone surrogate/);
  violation([48, 1, {}, "a.\ud83d"], /invalid procedure|lone surrogate/);
  violation([8, 48, 1, {}, "wamp.error.\ud800"], /invalid error|lone surrogate/);
  deepEqual(parseMessage([32, 1, {}, "com.\ud83d\ude00"]), {
    type: MessageType.SUBSCRIBE,
    request: 1,
    options: {},
    topic: "com.\ud83d\ude00",
  });
  violation([32, 1, {}, "com.\ud800.topic"], /invalid topic/, { prechecked: true });
});

Deno.test("parseMessage() refuses a lone surrogate anywhere in the payload", () => {
  violation([16, 1, {}, "t", ["\ud800"]], /lone surrogate/);
  violation([16, 1, {}, "t", [], { "k\udc00": 1 }], /lone surrogate/);
  violation([16, 1, { x_custom: "\ud83d" }, "t"], /lone surrogate/);
  equal(parseMessage([16, 1, {}, "t", ["\ud83d\ude00"]]).type, MessageType.PUBLISH);
});

Deno.test("isValidUri() refuses lone surrogates", () => {
  equal(isValidUri("com.\ud800.x"), false);
  equal(isValidUri("com.\ud800.x", { match: "prefix" }), false);
  equal(isValidUri("com.ü.x"), true);
});
