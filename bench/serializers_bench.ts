/**
 * Encode and decode cost of each serializer (json as baseline) per WAMP message
 * kind, small realistic payloads plus an EVENT carrying about 1 KB of kwargs.
 * Run: deno bench -A bench/serializers_bench.ts
 */

import {
  cbor,
  type EventMessage,
  json,
  MessageType,
  msgpack,
  type Serializer,
  type WampMessage,
} from "../wamp/mod.ts";
import { encodeBytes } from "../transports/stream/encode.ts";

const event: EventMessage = {
  type: MessageType.EVENT,
  subscription: 123456,
  publication: 7890123456789,
  details: {},
  args: ["hello", 42, { a: [1, 2, 3] }],
  kwargs: { k: "v" },
};

/** Twelve readings: about 1 KB of kwargs as JSON. */
const readings = Array.from({ length: 12 }, (_, i) => ({
  sensor: `building-7.floor-${i % 4}.room-${100 + i}`,
  celsius: 20 + i * 0.37,
  humidity: 40 + i,
  ok: i % 5 !== 0,
}));

const messages: Record<string, WampMessage> = {
  HELLO: {
    type: MessageType.HELLO,
    realm: "realm1",
    details: {
      roles: {
        caller: { features: { progressive_call_results: true, call_canceling: true } },
        callee: { features: { progressive_call_results: true, call_canceling: true } },
        publisher: { features: { publisher_exclusion: true } },
        subscriber: { features: { pattern_based_subscription: true } },
      },
      authmethods: ["anonymous"],
      agent: "cloverleaf/0.1.0",
    },
  },
  WELCOME: {
    type: MessageType.WELCOME,
    session: 4891253098761234,
    details: {
      roles: {
        broker: { features: { publisher_exclusion: true, pattern_based_subscription: true } },
        dealer: { features: { progressive_call_results: true, call_canceling: true } },
      },
      authid: "anonymous-1f3c",
      authrole: "anonymous",
      authmethod: "anonymous",
      authprovider: "static",
    },
  },
  SUBSCRIBE: {
    type: MessageType.SUBSCRIBE,
    request: 7,
    options: { match: "prefix" },
    topic: "com.example.sensors.",
  },
  PUBLISH: {
    type: MessageType.PUBLISH,
    request: 8,
    options: { acknowledge: true },
    topic: "com.example.sensors.temperature",
    args: [21.5, "celsius"],
    kwargs: { sensor: "t-17" },
  },
  EVENT: event,
  CALL: {
    type: MessageType.CALL,
    request: 9,
    options: { timeout: 5000 },
    procedure: "com.example.add2",
    args: [2, 3],
  },
  INVOCATION: {
    type: MessageType.INVOCATION,
    request: 10,
    registration: 4567890123456,
    details: { caller: 2345678901234 },
    args: [2, 3],
  },
  YIELD: { type: MessageType.YIELD, request: 10, options: {}, args: [5] },
  RESULT: { type: MessageType.RESULT, request: 9, details: {}, args: [5] },
  ERROR: {
    type: MessageType.ERROR,
    requestType: MessageType.CALL,
    request: 9,
    details: {},
    error: "wamp.error.invalid_argument",
    args: ["expected two numbers"],
  },
  "EVENT 1 KB": {
    ...event,
    args: [],
    kwargs: { station: "north-gate", ts: 1767225600123, seq: 98765, readings },
  },
};

for (const [kind, msg] of Object.entries(messages)) {
  for (const s of [json, msgpack, cbor] as Serializer[]) {
    const frame = s.encode(msg);
    Deno.bench({
      name: `${s.name} (${frame.length} B)`,
      group: `${kind} encode`,
      baseline: s.name === "json",
      fn() {
        // A fresh object each time, as a router sends (the transports'
        // encodeOnce returns the last frame for the same object).
        s.encode({ ...msg });
      },
    });
    Deno.bench({
      name: s.name,
      group: `${kind} decode`,
      baseline: s.name === "json",
      fn() {
        s.decode(frame);
      },
    });
  }
}

// A CALL decoded and passed on as an INVOCATION, as the router does ("spliced": the serializer's
// splice, which for JSON under 1 KiB of text re-encodes the head and payload without walking the
// payload for binary) vs encoded whole from copied objects (walked).
for (const size of [16, 256, 512, 768, 1024, 4096]) {
  for (const s of [json, msgpack] as Serializer[]) {
    const call = s.encode({
      type: MessageType.CALL,
      request: 9,
      options: {},
      procedure: "com.example.echo",
      args: [1767225600123.5, "x".repeat(size)],
    });
    const invocation = (args: unknown[]): WampMessage => ({
      type: MessageType.INVOCATION,
      request: 10,
      registration: 4567890123456,
      details: {},
      args,
    });
    const argsOf = (msg: WampMessage) => (msg as { args: unknown[] }).args;
    Deno.bench({
      name: `${s.name} ${size} B spliced`,
      group: `splice ${s.name} ${size}`,
      baseline: true,
      fn() {
        encodeBytes(s, invocation(argsOf(s.decode(call))));
      },
    });
    Deno.bench({
      name: `${s.name} ${size} B whole`,
      group: `splice ${s.name} ${size}`,
      fn() {
        // A copy of the Arguments is not the decoded list: encoded afresh.
        encodeBytes(s, invocation([...argsOf(s.decode(call))]));
      },
    });
  }
}

// A PUBLISH with a byte string, decoded from where a transport reads it: a view into a 64 KiB chunk
// (the byte string decodes as a view into that chunk; only what is kept past the turn is copied).
const binaryPublish: WampMessage = {
  type: MessageType.PUBLISH,
  request: 8,
  options: {},
  topic: "com.example.sensors.raw",
  args: [new Uint8Array(32).fill(7), 1],
};
for (const s of [msgpack, cbor] as Serializer[]) {
  const frame = s.encode(binaryPublish) as Uint8Array;
  const chunk = new Uint8Array(64 * 1024);
  chunk.set(frame, 100);
  const view = chunk.subarray(100, 100 + frame.length);
  Deno.bench({
    name: `${s.name} binary (${frame.length} B)`,
    group: "PUBLISH with a 32-byte binary from a 64 KiB chunk: decode",
    fn() {
      s.decode(view);
    },
  });
}
