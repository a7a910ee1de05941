import { deepEqual, equal, throws } from "node:assert/strict";
import { encode as encodeMsgpack } from "@msgpack/msgpack";
import { Encoder } from "cbor-x/encode";
import { ProtocolViolationError } from "../../wamp/errors.ts";
import { MessageType } from "../../wamp/message_type.ts";
import type { WampMessage } from "../../wamp/messages.ts";
import { cbor } from "../../wamp/serializers/cbor.ts";
import { msgpack } from "../../wamp/serializers/msgpack.ts";
import { json } from "../../wamp/serializers/json.ts";
import { cborFault, isUtf8, msgpackFault } from "../../wamp/serializers/prescan.ts";
import { jsonFault } from "../../wamp/serializers/json_scan.ts";
import type { Serializer } from "../../wamp/serializers/serializer.ts";

const text = new TextEncoder();
const cborx = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false });

function bytes(...parts: (number | Uint8Array | number[])[]): Uint8Array {
  const chunks = parts.map((part) => typeof part === "number" ? [part] : part);
  const out = new Uint8Array(chunks.reduce((n, chunk) => n + chunk.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

function refused(serializer: Serializer, frame: Uint8Array | string, message: RegExp): void {
  throws(() => serializer.decode(frame), (error: unknown) => {
    return error instanceof ProtocolViolationError && message.test(error.message);
  });
}

/** Random plain values of every kind the serializers carry. */
function randomValue(depth: number, next: () => number): unknown {
  const pick = Math.floor(next() * (depth > 6 ? 9 : 11));
  switch (pick) {
    case 0:
      return null;
    case 1:
      return next() < 0.5;
    case 2:
      return Math.floor(next() * 2 ** 20) - 2 ** 19;
    case 3:
      return Math.floor(next() * 2 ** 53);
    case 4:
      return next() * 1e6;
    case 5:
      return "é€😀ab".repeat(Math.floor(next() * 60));
    case 6:
      return "x".repeat(Math.floor(next() * 300));
    case 7:
      return new Uint8Array(Math.floor(next() * 300)).fill(0xff);
    case 8:
      return -Math.floor(next() * 2 ** 40);
    case 9:
      return Array.from({ length: Math.floor(next() * 20) }, () => randomValue(depth + 1, next));
    default:
      return Object.fromEntries(
        Array.from({ length: Math.floor(next() * 20) }, (_, i) => [
          `k${i}`,
          randomValue(depth + 1, next),
        ]),
      );
  }
}

function seeded(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
}

Deno.test("isUtf8() follows RFC 3629", () => {
  const good = ["", "ascii", "é", "€", "😀", "\u{10ffff}", "\ufffd"];
  for (const s of good) {
    const b = text.encode(s);
    equal(isUtf8(b, 0, b.length), true, s);
  }
  const bad = [
    [0x80], // lone continuation
    [0xff],
    [0xc0, 0xaf], // overlong "/"
    [0xe0, 0x80, 0xaf], // overlong
    [0xed, 0xa0, 0x80], // surrogate U+D800
    [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
    [0xe2, 0x82], // truncated €
    [0x61, 0xc3], // truncated é
  ];
  for (const b of bad) equal(isUtf8(Uint8Array.from(b), 0, b.length), false, String(b));
});

Deno.test("the pre-scans accept everything our encoders produce", () => {
  const next = seeded(42);
  for (let i = 0; i < 300; i++) {
    const value = [36, 1, 2, {}, [randomValue(0, next)], { k: randomValue(0, next) }];
    const m = encodeMsgpack(value);
    equal(msgpackFault(m), undefined);
    const c = cborx.encode(value);
    equal(cborFault(c), undefined);
  }
  // The serializers' own output, including 64-bit IDs.
  const msg: WampMessage = {
    type: MessageType.EVENT,
    subscription: 2 ** 53,
    publication: 9129137332,
    details: { publisher: 2 ** 40 },
    args: [-(2 ** 50), 1.5, "😀", new Uint8Array([0xff])],
    kwargs: { u: undefined },
  };
  equal(cborFault(cbor.encode(msg) as Uint8Array), undefined);
  equal(msgpackFault(msgpack.encode(msg) as Uint8Array), undefined);
});

Deno.test("cborFault() accepts indefinite-length items, floats and undefined", () => {
  // [_ 1, (_ "a", "b"), {_ "k": 1.5}, undefined, h'00']
  const frame = bytes(
    0x9f,
    0x01,
    0x7f,
    0x61,
    0x61,
    0x61,
    0x62,
    0xff,
    0xbf,
    0x61,
    0x6b,
    0xf9,
    0x3e,
    0x00,
    0xff,
    0xf7,
    0x41,
    0x00,
    0xff,
  );
  equal(cborFault(frame), undefined);
});

Deno.test("cbor.decode() reads tag 64 on a byte string as bytes (Autobahn|JS)", () => {
  // [16, 1, {}, "t", [64(h'0102')]]
  deepEqual(cbor.decode(bytes(0x85, 0x10, 0x01, 0xa0, 0x61, 0x74, 0x81, 0xd8, 0x40, 0x42, 1, 2)), {
    type: MessageType.PUBLISH,
    request: 1,
    options: {},
    topic: "t",
    args: [new Uint8Array([1, 2])],
  });
  equal(cborFault(bytes(0x81, 0xd8, 0x40, 0x01)), "CBOR tag 64 is not allowed");
  equal(cborFault(bytes(0xd8, 0x40, 0x42, 1, 2)), "trailing bytes after the CBOR item");
});

Deno.test("cborFault() refuses tags, odd simple values and malformed frames", () => {
  const cases: [Uint8Array, RegExp][] = [
    [bytes(0x83, 0x01, 0xc2, 0x41, 0x01, 0xa0), /CBOR tag 2 /],
    [bytes(0x81, 0xd8, 0x1c, 0x80), /CBOR tag 28 /],
    [bytes(0x81, 0xd8, 0x1d, 0x00), /CBOR tag 29 /],
    [bytes(0x81, 0xc1, 0x00), /CBOR tag 1 /], // a Date
    [bytes(0x81, 0xf0), /simple value 16/],
    [bytes(0x81, 0xf8, 0xff), /simple value 255/],
    [bytes(0x81, 0x1c), /reserved/],
    [bytes(0x81, 0x1f), /indefinite/],
    [bytes(0x82, 0x01), /truncated/],
    [bytes(0x9b, 0, 0, 0, 1, 0, 0, 0, 0, 0x01), /truncated/],
    [bytes(0x81, 0x01, 0x02), /trailing/],
    [bytes(0x81, 0xff), /break/],
    [bytes(0xa1, 0x81, 0x01, 0x02), /dict key/],
    [bytes(0xbf, 0x61, 0x6b, 0xff), /without a value/],
    [bytes(0x81, 0x62, 0xc0, 0xaf), /UTF-8/],
    [bytes(0x81, 0x7f, 0x61, 0xff, 0xff), /UTF-8/],
    [bytes(0x81, 0x7f, 0x41, 0x00, 0xff), /indefinite-length CBOR string/],
  ];
  for (const [frame, message] of cases) {
    const fault = cborFault(frame);
    equal(fault !== undefined && message.test(fault), true, `${frame}: ${fault}`);
  }
});

Deno.test("cborFault() and msgpackFault() refuse nesting deeper than 64 levels", () => {
  equal(cborFault(new Uint8Array(64).fill(0x81).with(63, 0x80)), undefined);
  equal(cborFault(new Uint8Array(66).fill(0x81)), "nesting deeper than 64 levels");
  equal(cborFault(new Uint8Array(66).fill(0x9f)), "nesting deeper than 64 levels");
  equal(msgpackFault(new Uint8Array(64).fill(0x91).with(63, 0x90)), undefined);
  equal(msgpackFault(new Uint8Array(66).fill(0x91)), "nesting deeper than 64 levels");
  // A million levels costs no more than the first 65.
  equal(cborFault(new Uint8Array(1_000_000).fill(0x81)), "nesting deeper than 64 levels");
  equal(msgpackFault(new Uint8Array(1_000_000).fill(0x91)), "nesting deeper than 64 levels");
});

Deno.test("msgpackFault() refuses ext types, 0xc1 and malformed frames", () => {
  const cases: [Uint8Array, RegExp][] = [
    [bytes(0x91, 0xd6, 0xff, 0, 0, 0, 1), /ext type -1 /], // timestamp
    [bytes(0x91, 0xd4, 0x05, 0x01), /ext type 5 /],
    [bytes(0x91, 0xd4, 0x00, 0x01), /ext type 0 /], // type 0, but not msgpackr's undefined
    [bytes(0x91, 0xd4, 0x00), /ext type 0 /], // truncated
    [bytes(0x81, 0xd4, 0x00, 0x00, 0x01), /dict key/],
    [bytes(0x91, 0xc7, 0x01, 0x07, 0x00), /ext type 7 /],
    [bytes(0x91, 0xc9), /ext types/],
    [bytes(0x91, 0xc1), /0xc1/],
    [bytes(0x92, 0x01), /truncated/],
    [bytes(0xdd, 0xff, 0xff, 0xff, 0xff, 0x01), /truncated/],
    [bytes(0x91, 0x01, 0x02), /trailing/],
    [bytes(0x81, 0x90, 0x01), /dict key/],
    [bytes(0x81, 0xc0, 0x01), /dict key/],
    [bytes(0x81, 0xcb, 0, 0, 0, 0, 0, 0, 0, 0, 0x01), /dict key/],
    [bytes(0x91, 0xa2, 0xc0, 0xaf), /UTF-8/],
    [bytes(0x91, 0xa1, 0xff), /UTF-8/],
    [bytes(0x91, 0xa3, 0xed, 0xa0, 0x80), /UTF-8/],
  ];
  for (const [frame, message] of cases) {
    const fault = msgpackFault(frame);
    equal(fault !== undefined && message.test(fault), true, `${frame}: ${fault}`);
  }
  equal(msgpackFault(bytes(0x81, 0x01, 0x02)), undefined); // integer key
});

Deno.test("msgpack.decode() reads msgpackr's undefined (fixext 1, type 0, data 0) as absent", () => {
  // [32, 1, {"match": undefined}, "t"], as wampy's msgpackr writes it.
  const frame = bytes(0x94, 0x20, 0x01, 0x81, 0xa5, text.encode("match"), 0xd4, 0, 0, 0xa1, 0x74);
  equal(msgpackFault(frame), undefined);
  deepEqual(msgpack.decode(frame), {
    type: MessageType.SUBSCRIBE,
    request: 1,
    options: {},
    topic: "t",
  });
});

Deno.test("cbor.decode() refuses a 256 KB tag-2 bignum in linear time", () => {
  const big = new Uint8Array(262144).fill(0xab);
  const frame = bytes(0x83, 0x01, 0xc2, 0x5a, 0x00, 0x04, 0x00, 0x00, big, 0xa0);
  const start = performance.now();
  refused(cbor, frame, /Cannot decode cbor message: CBOR tag 2 is not allowed/);
  // cbor-x itself takes ~20 s here; generous bound, not a timing assertion.
  equal(performance.now() - start < 2000, true);
});

Deno.test("cbor.decode() refuses shared-reference tags 28/29 (cycles)", () => {
  // 28([29(0)]): a list containing itself.
  refused(cbor, bytes(0xd8, 0x1c, 0x81, 0xd8, 0x1d, 0x00), /CBOR tag 28/);
});

Deno.test("cbor.decode() reads undefined (0xf7) and null options and args as absent", () => {
  // [32, 1, {"match": undefined, "get_retained": null}, "t"]
  const frame = bytes(
    0x84,
    0x18,
    0x20,
    0x01,
    0xa2,
    0x65,
    text.encode("match"),
    0xf7,
    0x6c,
    text.encode("get_retained"),
    0xf6,
    0x61,
    0x74,
  );
  deepEqual(cbor.decode(frame), {
    type: MessageType.SUBSCRIBE,
    request: 1,
    options: {},
    topic: "t",
  });
  // [48, 1, {}, "p", undefined, {"a": 1}]
  deepEqual(
    cbor.decode(bytes(0x86, 0x18, 0x30, 0x01, 0xa0, 0x61, 0x70, 0xf7, 0xa1, 0x61, 0x61, 1)),
    {
      type: MessageType.CALL,
      request: 1,
      options: {},
      procedure: "p",
      kwargs: { a: 1 },
    },
  );
});

Deno.test("msgpack.decode() reads nil options and args as absent", () => {
  deepEqual(msgpack.decode(encodeMsgpack([32, 1, { match: null, get_retained: null }, "t"])), {
    type: MessageType.SUBSCRIBE,
    request: 1,
    options: {},
    topic: "t",
  });
  deepEqual(msgpack.decode(encodeMsgpack([36, 1, 2, {}, [1], null])), {
    type: MessageType.EVENT,
    subscription: 1,
    publication: 2,
    details: {},
    args: [1],
  });
});

Deno.test("msgpack.decode() refuses ext types, the timestamp included", () => {
  const withDate = encodeMsgpack([16, 1, {}, "t", [new Date(0)]]);
  refused(msgpack, withDate, /msgpack ext type -1 is not allowed/);
  refused(msgpack, bytes(0x95, 0x10, 0x01, 0x80, 0xa1, 0x74, 0x91, 0xd4, 0x05, 0x01), /ext type 5/);
});

Deno.test("msgpack.decode() and cbor.decode() refuse invalid UTF-8 in a topic", () => {
  // SUBSCRIBE with topic bytes "a" 0xff (msgpack's JS decoder made it "aÿ").
  refused(msgpack, bytes(0x94, 0x20, 0x01, 0x80, 0xa2, 0x61, 0xff), /UTF-8/);
  refused(msgpack, bytes(0x94, 0x20, 0x01, 0x80, 0xa3, 0x61, 0xc0, 0xaf), /UTF-8/);
  refused(cbor, bytes(0x84, 0x18, 0x20, 0x01, 0xa0, 0x62, 0x61, 0xff), /UTF-8/);
  // HELLO realm with a CESU-8 surrogate.
  refused(msgpack, bytes(0x93, 0x01, 0xa3, 0xed, 0xa0, 0x80, 0x80), /UTF-8/);
});

Deno.test("msgpack.decode() and cbor.decode() refuse deep nesting", () => {
  const deep = encodeMsgpack([16, 1, {}, "t", [0]]);
  const prefix = deep.subarray(0, deep.length - 2);
  const frame = bytes(prefix, new Uint8Array(200_000).fill(0x91), 0x00);
  refused(msgpack, frame, /nesting deeper than 64 levels/);
  refused(
    cbor,
    bytes(0x85, 0x10, 0x01, 0xa0, 0x61, 0x74, new Uint8Array(100).fill(0x81), 0),
    /nesting/,
  );
});

Deno.test("json.decode() refuses 16 MiB of nesting without parsing it", () => {
  const half = 8 * 1024 * 1024;
  for (const frame of ["[".repeat(half) + "]".repeat(half), '{"a":'.repeat(half / 5)]) {
    const start = performance.now();
    refused(json, frame, /nesting deeper than 64 levels/);
    // JSON.parse alone takes over a second here; generous bound, not a timing assertion.
    equal(performance.now() - start < 500, true);
  }
  // Brackets inside strings are not nesting.
  const inString = JSON.stringify([16, 1, {}, "t", ["[{".repeat(40_000)]]);
  equal(json.decode(inString).type, MessageType.PUBLISH);
});

Deno.test("jsonFault() counts lists and dicts outside strings", () => {
  const deep = "nesting deeper than 64 levels";
  equal(jsonFault("[".repeat(64) + "]".repeat(64)), undefined);
  equal(jsonFault("[".repeat(65)), deep);
  equal(jsonFault('["\\"[[[[' + "[".repeat(70) + '"]'), undefined);
  equal(jsonFault('{"a":'.repeat(65)), deep);
});

Deno.test("strict decoding (a router's ingress) refuses what another serializer cannot carry; a client's takes it", () => {
  const event = (kwargs: unknown) => [36, 1, 2, {}, [], kwargs];
  const frames: [Serializer, string | Uint8Array][] = [
    [msgpack, encodeMsgpack(event({ a: "\0hi" }))],
    [cbor, cborx.encode(event({ a: ["x", "\0hi"] }))],
    [json, JSON.stringify(event({ a: 1 })).replace('{"a":1}', '{"__proto__":{"a":1}}')],
    [json, JSON.stringify(event({ a: 1 })).replace('{"a":1}', '{"\\u005f_proto__":1}')],
  ];
  for (const [serializer, frame] of frames) {
    const name = serializer.name;
    throws(() => serializer.decode(frame), /U\+0000|__proto__/, `${name} strict`);
    const msg = serializer.decode(frame, false);
    equal(msg.type, 36, `${name} lenient: a client takes what its router sends`);
  }
});
