/**
 * What a decoded message costs the router: byte strings decode as views
 * and own their bytes once kept (a small one kept past the turn must not pin
 * its frame), and a message holds at most MAX_DICT_KEYS dict keys,
 * MAX_BYTE_STRINGS byte strings and MAX_VALUES values (a list or dict
 * weighing CONTAINER_WEIGHT) in all (decoders build big dicts in super-linear time;
 * each byte string is one more object to copy; decoding takes time in
 * proportion to the values and the containers).
 */
import { equal, match, throws } from "node:assert/strict";
import { ProtocolViolationError } from "../../wamp/errors.ts";
import { MessageType } from "../../wamp/message_type.ts";
import { cbor } from "../../wamp/serializers/cbor.ts";
import { json } from "../../wamp/serializers/json.ts";
import { msgpack } from "../../wamp/serializers/msgpack.ts";
import {
  CONTAINER_WEIGHT,
  MAX_BYTE_STRINGS,
  MAX_DICT_KEYS,
  MAX_VALUES,
} from "../../wamp/serializers/decode_limits.ts";
import { keptPayloadSize, PAYLOAD_KEYS } from "../../router/core/limits.ts";
import type { PublishMessage } from "../../wamp/messages.ts";
import { measuredTwice } from "../_helpers/timed.ts";

const publish = (options: Record<string, unknown>, args: unknown[], kwargs = {}): PublishMessage =>
  ({ type: MessageType.PUBLISH, request: 1, options, topic: "t", args, kwargs }) as PublishMessage;

/** The frame copied into the start of a much larger buffer, as a read chunk or batch holds it. */
function inBigBuffer(frame: Uint8Array): Uint8Array {
  const big = new Uint8Array(frame.length + 4 * 1024 * 1024);
  big.set(frame);
  return big.subarray(0, frame.length);
}

for (const s of [msgpack, cbor]) {
  Deno.test(`${s.name}: a small byte string kept past the turn does not keep its frame alive`, () => {
    const msg = publish({ pad: "p".repeat(512 * 1024) }, [Uint8Array.of(7)], {
      deep: [{ bin: Uint8Array.of(1, 2) }],
    });
    const frame = inBigBuffer(s.encode(msg) as Uint8Array);
    const got = s.decode(frame) as PublishMessage;
    // Decoded as views (no copy in the hot path); what keeps the payload copies them.
    equal((got.args![0] as Uint8Array).buffer, frame.buffer);
    keptPayloadSize(got, 1 << 20, PAYLOAD_KEYS);
    const arg = got.args![0] as Uint8Array;
    equal(arg[0], 7);
    equal(arg.buffer.byteLength, 1);
    const deep = (got.kwargs!.deep as { bin: Uint8Array }[])[0]!.bin;
    equal(deep.buffer.byteLength, 2);
    equal(deep[1], 2);
  });

  Deno.test(`${s.name}: a kept byte string that is most of its frame is not copied`, () => {
    // A frame of its own, as transports hand over (encoders return views into their buffers).
    const frame = new Uint8Array(
      s.encode(publish({}, [new Uint8Array(64 * 1024).fill(9)])) as Uint8Array,
    );
    const got = s.decode(frame) as PublishMessage;
    keptPayloadSize(got, 1 << 20, PAYLOAD_KEYS);
    const arg = got.args![0] as Uint8Array;
    equal(arg.buffer, frame.buffer);
    equal(arg.length, 64 * 1024);
  });
}

/** A msgpack or CBOR PUBLISH whose args are `n` one-byte byte strings (a list32 / 4-byte-length array). */
function byteStrings(n: number, cborFormat: boolean): Uint8Array {
  const head = cborFormat
    ? [0x85, 0x10, 0x01, 0xa0, 0x61, 0x74, 0x9a]
    : [0x95, 0x10, 0x01, 0x80, 0xa1, 0x74, 0xdd];
  const out = new Uint8Array(head.length + 4 + n * (cborFormat ? 2 : 3));
  out.set(head);
  new DataView(out.buffer).setUint32(head.length, n);
  let at = head.length + 4;
  for (let i = 0; i < n; i++) {
    if (cborFormat) out[at++] = 0x41;
    else {
      out[at++] = 0xc4;
      out[at++] = 1;
    }
    out[at++] = i & 0xff;
  }
  return out;
}

Deno.test(
  `a message holds at most ${MAX_BYTE_STRINGS} byte strings; 1M are refused at once`,
  measuredTwice(() => {
    for (const [s, isCbor] of [[msgpack, false], [cbor, true]] as const) {
      const ok = s.decode(byteStrings(MAX_BYTE_STRINGS, isCbor)) as PublishMessage;
      equal(ok.args!.length, MAX_BYTE_STRINGS);
      throws(
        () => s.decode(byteStrings(MAX_BYTE_STRINGS + 1, isCbor)),
        /more than 65535 byte strings/,
      );
      const huge = byteStrings(1_000_000, isCbor);
      const started = performance.now();
      throws(() => s.decode(huge), /more than 65535 byte strings/);
      const ms = performance.now() - started;
      equal(ms < 200, true, `${s.name}: ${ms.toFixed(0)} ms`);
    }
  }),
);

/** A msgpack PUBLISH whose kwargs is a map32 of `keys` 6-character keys. */
function msgpackKeys(keys: number): Uint8Array {
  const head = [0x96, 0x10, 0x01, 0x80, 0xa1, 0x74, 0x90, 0xdf];
  const out = new Uint8Array(head.length + 4 + keys * 8);
  out.set(head);
  new DataView(out.buffer).setUint32(head.length, keys);
  let at = head.length + 4;
  for (let i = 0; i < keys; i++) {
    out[at++] = 0xa6;
    const k = i.toString(36).padStart(6, "0");
    for (let j = 0; j < 6; j++) out[at++] = k.charCodeAt(j);
    out[at++] = 0;
  }
  return out;
}

/** A CBOR PUBLISH whose kwargs has `keys` keys, definite-length or indefinite. */
function cborKeys(keys: number, indefinite: boolean): Uint8Array {
  const head = [0x86, 0x10, 0x01, 0xa0, 0x61, 0x74, 0x80];
  const out = new Uint8Array(head.length + 6 + keys * 8);
  out.set(head);
  let at = head.length;
  if (indefinite) out[at++] = 0xbf;
  else {
    out[at++] = 0xba;
    new DataView(out.buffer).setUint32(at, keys);
    at += 4;
  }
  for (let i = 0; i < keys; i++) {
    out[at++] = 0x66;
    const k = i.toString(36).padStart(6, "0");
    for (let j = 0; j < 6; j++) out[at++] = k.charCodeAt(j);
    out[at++] = 0;
  }
  if (indefinite) out[at++] = 0xff;
  return out.subarray(0, at);
}

function jsonKeys(keys: number): string {
  const parts: string[] = [];
  for (let i = 0; i < keys; i++) parts.push(`"${i.toString(36).padStart(6, "0")}":0`);
  return `[16,1,{},"t",[],{${parts.join(",")}}]`;
}

const tooMany = (decode: () => unknown): void => {
  throws(decode, (e: Error) => {
    equal(e instanceof ProtocolViolationError, true);
    match(e.message, new RegExp(`more than ${MAX_DICT_KEYS} dict keys`));
    return true;
  });
};

Deno.test(`a message holds at most ${MAX_DICT_KEYS} dict keys, in every serializer`, () => {
  equal(
    Object.keys((msgpack.decode(msgpackKeys(MAX_DICT_KEYS)) as PublishMessage).kwargs!).length,
    MAX_DICT_KEYS,
  );
  tooMany(() => msgpack.decode(msgpackKeys(MAX_DICT_KEYS + 1)));
  for (const indefinite of [false, true]) {
    equal(
      Object.keys((cbor.decode(cborKeys(MAX_DICT_KEYS, indefinite)) as PublishMessage).kwargs!)
        .length,
      MAX_DICT_KEYS,
    );
    tooMany(() => cbor.decode(cborKeys(MAX_DICT_KEYS + 1, indefinite)));
  }
  equal(
    Object.keys((json.decode(jsonKeys(MAX_DICT_KEYS)) as PublishMessage).kwargs!).length,
    MAX_DICT_KEYS,
  );
  tooMany(() => json.decode(jsonKeys(MAX_DICT_KEYS + 1)));
  // Keys count across every dict of the message, nested ones too.
  const half = Object.fromEntries(
    Array.from({ length: MAX_DICT_KEYS / 2 }, (_, i) => [`k${i}`, 0]),
  );
  const split = publish({ a: 1 }, [half], { ...half, z: { y: 1 } });
  for (const s of [msgpack, cbor, json]) tooMany(() => s.decode(s.encode(split)));
});

Deno.test(
  "a 16 MB dict of 2 million keys is refused in linear time",
  measuredTwice(() => {
    const frames = [msgpackKeys(2_000_000), cborKeys(2_000_000, true), jsonKeys(2_000_000)];
    const started = performance.now();
    tooMany(() => msgpack.decode(frames[0]!));
    tooMany(() => cbor.decode(frames[1]!));
    tooMany(() => json.decode(frames[2]!));
    // It took 8 s to decode; the scans stop at the first key too many.
    const ms = performance.now() - started;
    equal(ms < 1000, true, `${ms.toFixed(0)} ms`);
  }),
);

Deno.test(`a message holds at most ${MAX_VALUES} values, a list or dict counting ${CONTAINER_WEIGHT}, in every serializer`, () => {
  const values = (n: number) => publish({}, new Array(n).fill(7));
  const lists = (n: number) => publish({}, Array.from({ length: n }, () => []));
  // A time series of 70,000 [t, v] pairs is an ordinary payload (a cap of 65,535 lists refused it).
  const pairs = publish({}, Array.from({ length: 70_000 }, (_, i) => [i, i / 2]));
  const tooMany = /more than 1000000 values/;
  for (const s of [msgpack, cbor, json]) {
    const many = s.decode(s.encode(values(MAX_VALUES - 64))) as PublishMessage;
    equal(many.args!.length, MAX_VALUES - 64);
    throws(() => s.decode(s.encode(values(MAX_VALUES + 1))), tooMany);
    equal((s.decode(s.encode(pairs)) as PublishMessage).args!.length, 70_000);
    const empty = Math.floor(MAX_VALUES / (CONTAINER_WEIGHT + 2));
    equal((s.decode(s.encode(lists(empty - 64))) as PublishMessage).args!.length, empty - 64);
    throws(() => s.decode(s.encode(lists(MAX_VALUES / CONTAINER_WEIGHT))), tooMany);
  }
  // JSON byte strings count as the binary serializers' do.
  const binary = `[16,1,{},"t",[${
    new Array(MAX_BYTE_STRINGS + 1).fill('"\\u0000AQ=="').join(",")
  }]]`;
  throws(() => json.decode(binary), /more than 65535 byte strings/);
});

Deno.test(
  "a 16 MB frame of tiny values is refused in the scan, before it is decoded",
  measuredTwice(() => {
    // 8 million values: 0.2-0.4 s to decode, in one turn of the event loop.
    const tiny = publish({}, new Array(8_000_000).fill(0));
    for (const s of [msgpack, cbor, json]) {
      const frame = s.encode(tiny);
      const started = performance.now();
      throws(() => s.decode(frame), /more than 1000000 values/);
      const ms = performance.now() - started;
      equal(ms < 100, true, `${s.name}: ${ms.toFixed(0)} ms`);
    }
  }),
);
