/**
 * The one encode-once cache (`transports/stream/encode.ts`): the same
 * message object is encoded once per serializer and framed once per
 * framing, however many links send it; a different object is encoded
 * afresh; an error is remembered as the frame would be.
 *
 * @module
 */

import { deepEqual, equal, notStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import type { Socket } from "node:net";
import {
  encodeBytes,
  encodeOnce,
  encodeOwnedBytes,
  frameCache,
} from "../../../transports/stream/encode.ts";
import { RawSocketConnection } from "../../../transports/rawsocket/link.ts";
import { WebSocketPeer } from "../../../transports/websocket/link.ts";
import { FLUSH_BYTES, Wire } from "../../../transports/stream/wire.ts";
import { encodeFrame, Opcode } from "../../../transports/websocket/framing.ts";
import {
  cbor,
  createSerializer,
  json,
  MessageType,
  msgpack,
  type Serializer,
  type WampMessage,
} from "../../../wamp/mod.ts";
import { recordingSocket } from "../../_helpers/recording_socket.ts";
import { plainBytes } from "../../wamp/serializer_suite.ts";

for (const serializer of [json, msgpack, cbor]) {
  const name = serializer.name;

  Deno.test(`encodeOnce(${name}) returns the cached frame for the same message object`, () => {
    const msg: WampMessage = { type: MessageType.PUBLISHED, request: 1, publication: 2 };
    const first = encodeOnce(serializer, msg);
    strictEqual(encodeOnce(serializer, msg), first);
    strictEqual(encodeOnce(serializer, msg), first);
    deepEqual(plainBytes(first), plainBytes(serializer.encode(msg)));
    strictEqual(encodeBytes(serializer, msg), encodeBytes(serializer, msg));
    const bytes = typeof first === "string" ? new TextEncoder().encode(first) : first;
    deepEqual(plainBytes(encodeBytes(serializer, msg)), plainBytes(bytes));
  });

  Deno.test(`encodeOnce(${name}) encodes a different message object afresh`, () => {
    const a: WampMessage = { type: MessageType.PUBLISHED, request: 1, publication: 2 };
    const b: WampMessage = { type: MessageType.PUBLISHED, request: 1, publication: 3 };
    const frameA = encodeOnce(serializer, a);
    const bytesA = plainBytes(frameA);
    const frameB = encodeOnce(serializer, b);
    deepEqual(serializer.decode(frameB), b);
    // Going back to a is not served from a stale cache, and a's frame is intact.
    deepEqual(plainBytes(encodeOnce(serializer, a)), bytesA);
    deepEqual(plainBytes(frameA), bytesA);
    // An equal but distinct object gets its own frame.
    const frameCopy = encodeOnce(serializer, { ...a });
    deepEqual(plainBytes(frameCopy), bytesA);
    if (serializer.binary) notStrictEqual(frameCopy, frameA);
  });
}

/** A serializer that counts its encodes and can be told to fail. */
function counting(): {
  serializer: Serializer;
  encodes: () => number;
  fail: (on: boolean) => void;
} {
  let encodes = 0;
  let failing = false;
  const serializer = createSerializer(
    { name: "json", subprotocol: "wamp.2.json", binary: false, rawSocketId: 1 },
    {
      encode(wire) {
        encodes++;
        if (failing) throw new RangeError("cannot encode");
        return JSON.stringify(wire);
      },
      decode: (frame) => JSON.parse(frame as string),
    },
  );
  return { serializer, encodes: () => encodes, fail: (on) => failing = on };
}

Deno.test("encodeOnce() and encodeBytes() remember what the serializer threw, without retrying", () => {
  const { serializer, encodes, fail } = counting();
  const msg: WampMessage = { type: MessageType.PUBLISHED, request: 1, publication: 2 };
  fail(true);
  throws(() => encodeOnce(serializer, msg), RangeError);
  throws(() => encodeBytes(serializer, msg), RangeError);
  equal(encodes(), 1);
  fail(false);
  const other: WampMessage = { ...msg };
  equal(new TextDecoder().decode(encodeBytes(serializer, other)), "[17,1,2]");
  equal(encodes(), 2);
});

Deno.test("the cache is per serializer object: two serializers named json do not share frames", () => {
  const a = counting();
  const b = counting();
  const msg: WampMessage = { type: MessageType.PUBLISHED, request: 1, publication: 2 };
  encodeOnce(a.serializer, msg);
  encodeOnce(b.serializer, msg);
  equal(a.encodes(), 1);
  equal(b.encodes(), 1);
  notStrictEqual(frameCache(a.serializer, "x"), frameCache(b.serializer, "x"));
  strictEqual(frameCache(a.serializer, "x"), frameCache(a.serializer, "x"));
  notStrictEqual(frameCache(a.serializer, "x"), frameCache(a.serializer, "y"));
});

Deno.test("a fan-out over WebSocket and RawSocket links encodes once and frames once per framing", () => {
  const { serializer, encodes } = counting();
  const info = { type: "websocket", serializer: "json" } as const;
  const writes: Uint8Array[][] = [];
  const wires: Wire[] = [];
  const wire = () => {
    const written: Uint8Array[] = [];
    writes.push(written);
    wires.push(new Wire(recordingSocket(written)));
    return wires.at(-1)!;
  };
  const ws = [1, 2, 3].map(() => new WebSocketPeer(wire(), { role: "server", serializer, info }));
  const raw = [1, 2, 3].map(() =>
    new RawSocketConnection(wire(), {
      info: { ...info, type: "rawsocket" },
      serializer,
      receiveLimit: 1 << 24,
      sendLimit: (1 << 24) - 1,
      pingInterval: 0,
      pingTimeout: 0,
    })
  );
  const event: WampMessage = {
    type: MessageType.EVENT,
    subscription: 1,
    publication: 2,
    details: {},
    args: ["hello"],
  };
  for (const link of [...ws, ...raw]) link.send(event);
  for (const w of wires) w.flush();
  equal(encodes(), 1);
  const frames = writes.map((written) => written[0]!);
  // The same frame object on every link of a framing; one per framing.
  for (const frame of frames.slice(0, 3)) strictEqual(frame, frames[0]);
  for (const frame of frames.slice(3)) strictEqual(frame, frames[3]);
  deepEqual(frames[0]!.subarray(2), new TextEncoder().encode('[36,1,2,{},["hello"]]'));
  deepEqual(frames[3]!.subarray(4), new TextEncoder().encode('[36,1,2,{},["hello"]]'));
});

Deno.test("a wire hands a slab-carved frame to its socket as it is, and a copy once congested", () => {
  const written: Uint8Array[] = [];
  const socket = recordingSocket(written) as Socket & { writableLength: number };
  const wire = new Wire(socket);
  const frame = encodeFrame(Opcode.TEXT, new TextEncoder().encode("[17,1,2]"));
  ok(frame.byteLength < frame.buffer.byteLength, "a small frame is a view into a slab");
  wire.write(frame);
  wire.flush();
  strictEqual(written[0], frame);
  // Congested: the socket would hold the view, and the whole slab with it.
  socket.writableLength = 1;
  wire.write(frame);
  wire.flush();
  notStrictEqual(written[1], frame);
  deepEqual(written[1], frame);
  equal(written[1]!.byteLength, written[1]!.buffer.byteLength);
});

Deno.test("a wire writes a chunk of 64 KiB or more as it is, after what was queued", () => {
  const written: Uint8Array[] = [];
  const wire = new Wire(recordingSocket(written));
  const small = new Uint8Array(10).fill(1);
  const large = new Uint8Array(FLUSH_BYTES).fill(2); // a fan-out's frame: every link's
  wire.write(small);
  wire.write(large);
  wire.write(small);
  wire.flush();
  equal(written.length, 3);
  deepEqual(written[0], small);
  strictEqual(written[1], large, "not copied into one chunk with the others");
  deepEqual(written[2], small);
});

Deno.test("encodeOwnedBytes() copies a message once for every queue that keeps it", () => {
  for (const serializer of [json, msgpack, cbor]) {
    const msg: WampMessage = {
      type: MessageType.EVENT,
      subscription: 1,
      publication: 2,
      details: {},
      args: ["x".repeat(100)],
    };
    const owned = encodeOwnedBytes(serializer, msg);
    equal(owned.byteLength, owned.buffer.byteLength, `${serializer.name}: alone in its buffer`);
    deepEqual(owned, encodeBytes(serializer, msg));
    // Long-poll queues of N subscribers: one copy, the same bytes for all.
    strictEqual(encodeOwnedBytes(serializer, msg), owned);
    const other = { ...msg, publication: 3 } as WampMessage;
    notStrictEqual(encodeOwnedBytes(serializer, other), owned);
  }
});
