/**
 * parseMessage reads the hottest messages (PUBLISH, CALL, YIELD, EVENT,
 * RESULT, INVOCATION) without the layout table: over every combination of
 * good and bad fields, it returns or throws exactly what the table reader
 * does (parseMessageByLayout), keys in the same order.
 */

import { deepEqual, equal } from "node:assert/strict";
import { MessageType, parseMessage, parseMessageByLayout, toWire } from "../../wamp/mod.ts";

const IDS: unknown[] = [1, 7, 2 ** 53, 0, -1, 1.5, 2 ** 53 + 2, "1", null];
const DICTS: unknown[] = [
  {},
  { acknowledge: true, exclude_me: false },
  { receive_progress: true, timeout: 10 },
  { progress: true },
  { x_custom: [1, { y: 2 }] },
  { disclose_me: 1 }, // a mistyped known key of PUBLISH and CALL
  { timeout: "soon" },
  { progress: "yes" },
  { publisher: "me" },
  { caller: 0 },
  { a: null }, // a null value reads as absent
  { enc_algo: "cryptobox" }, // Autobahn's opaque payload
  null,
  [],
  new Uint8Array(2),
  "options",
];
const URIS: unknown[] = ["com.example.x", "a", "", "bad\ud800", 5, null];
/** What may follow the head: nothing, Arguments, Arguments and ArgumentsKw, or more. */
const PAYLOADS: unknown[][] = [
  [],
  [[]],
  [[1, "two", { three: 3 }]],
  [null],
  ["opaque"],
  [new Uint8Array(3)],
  [[1], { k: 1 }],
  [[], {}],
  [null, { k: 1 }],
  [[1], null],
  [[1], [2]],
  [[1], "kw"],
  [[1], { k: 1 }, "extra"],
];

/** The outcome of a parse: the message (and its key order), or the error's words. */
function outcome(parse: () => unknown): unknown {
  try {
    const msg = parse() as Record<string, unknown>;
    return { msg, keys: Object.keys(msg) };
  } catch (error) {
    return { error: `${(error as Error).name}: ${(error as Error).message}` };
  }
}

function same(wire: unknown[]): void {
  for (const prechecked of [false, true]) {
    deepEqual(
      outcome(() => parseMessage(wire, { prechecked })),
      outcome(() => parseMessageByLayout(wire, { prechecked })),
      JSON.stringify(wire),
    );
  }
}

Deno.test("PUBLISH and CALL read as the layout table reads them", () => {
  let n = 0;
  for (const type of [MessageType.PUBLISH, MessageType.CALL]) {
    for (const id of IDS) {
      for (const dict of DICTS) {
        for (const uri of URIS) {
          for (const payload of PAYLOADS) {
            same([type, id, dict, uri, ...payload]);
            n++;
          }
        }
      }
    }
  }
  equal(n, 2 * IDS.length * DICTS.length * URIS.length * PAYLOADS.length);
});

Deno.test("YIELD and RESULT read as the layout table reads them", () => {
  for (const type of [MessageType.YIELD, MessageType.RESULT]) {
    for (const id of IDS) {
      for (const dict of DICTS) {
        for (const payload of PAYLOADS) same([type, id, dict, ...payload]);
      }
    }
  }
});

Deno.test("EVENT and INVOCATION read as the layout table reads them", () => {
  for (const type of [MessageType.EVENT, MessageType.INVOCATION]) {
    for (const first of IDS) {
      for (const second of IDS) {
        for (const dict of DICTS) {
          for (const payload of PAYLOADS) same([type, first, second, dict, ...payload]);
        }
      }
    }
  }
});

Deno.test("short, nested and non-plain messages read as the layout table reads them", () => {
  same([MessageType.PUBLISH]);
  same([MessageType.PUBLISH, 1, {}]);
  same([MessageType.CALL, 1, {}, "p", [new Date(0)]]); // not plain data
  let deep: unknown = 1;
  for (let i = 0; i < 40; i++) deep = [deep];
  same([MessageType.YIELD, 1, {}, [deep]]); // nested past MAX_NESTING_DEPTH
  same([MessageType.SUBSCRIBE, 1, {}, "t"]); // not a hot type: the table alone
  same([MessageType.EVENT, 1, 2]);
});

/** The spec's field order of each hot message (the head before Arguments). */
const HEADS: Record<number, string[]> = {
  [MessageType.PUBLISH]: ["request", "options", "topic"],
  [MessageType.CALL]: ["request", "options", "procedure"],
  [MessageType.YIELD]: ["request", "options"],
  [MessageType.RESULT]: ["request", "details"],
  [MessageType.EVENT]: ["subscription", "publication", "details"],
  [MessageType.INVOCATION]: ["request", "registration", "details"],
};

Deno.test("toWire writes the hot messages in the spec's order, payload as parsed", () => {
  let n = 0;
  for (const [code, fields] of Object.entries(HEADS)) {
    for (const dict of [{}, { progress: true }]) {
      // Each field its own value, so that two swapped fields show.
      const values: Record<string, unknown> = {
        request: 11,
        subscription: 12,
        publication: 13,
        registration: 14,
        topic: "a.topic",
        procedure: "a.proc",
        options: dict,
        details: dict,
      };
      const head = [Number(code), ...fields.map((f) => values[f])];
      for (const payload of [[], [[1]], [[1], { k: 2 }], [[], { k: 2 }]]) {
        const wire = [...head, ...payload];
        const msg = parseMessage(wire) as unknown as Record<string, unknown>;
        deepEqual(toWire(msg as never), wire, JSON.stringify(wire));
        deepEqual(toWire(msg as never, false), head);
        n++;
      }
    }
  }
  equal(n, 6 * 2 * 4);
});
