/**
 * RawSocket framing (`transports/rawsocket/framing.ts`): the handshake and
 * frame-header vectors of `../shared/wamp-vectors/generated-auth-transport.json`
 * (key `rawsocket`), plus the incremental {@linkcode FrameReader}. No
 * sockets.
 *
 * Needs `--allow-read` for the vector file; without it, or without the
 * file, the vector test is registered as ignored with the reason in its
 * name.
 *
 * @module
 */

import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { ProtocolViolationError, serializers } from "../../../wamp/mod.ts";
import {
  encodeFrame,
  encodeFrameHeader,
  type Frame,
  FrameReader,
  FrameType,
  type FrameTypeCode,
  MAX_FRAME_LENGTH,
} from "../../../transports/rawsocket/framing.ts";
import {
  decodeHandshakeReply,
  decodeHandshakeRequest,
  encodeHandshake,
  encodeHandshakeError,
  HANDSHAKE_ERROR_TEXT,
  HandshakeError,
  type HandshakeErrorCode,
  lengthExponent,
  maxLength,
} from "../../../transports/rawsocket/handshake.ts";
import { missing } from "../../_helpers/missing.ts";

const VECTORS = new URL(
  "../../../../shared/wamp-vectors/generated-auth-transport.json",
  import.meta.url,
);

type Vector =
  | {
    kind: "handshake request/accept";
    serializer: "json" | "msgpack" | "cbor";
    max_len_exp: number;
    max_len: number;
    bytes_hex: string;
  }
  | { kind: "handshake error reply"; error: number; meaning: string; bytes_hex: string }
  | { kind: "frame header"; type: number; length: number; description: string; header_hex: string };

function fromHex(hex: string): Uint8Array {
  return Uint8Array.fromHex(hex);
}

/** The vectors, or why they cannot be read. */
function loadVectors(): { vectors: Vector[] } | { unavailable: string } {
  try {
    const data = JSON.parse(Deno.readTextFileSync(VECTORS));
    if (!Array.isArray(data.rawsocket)) return { unavailable: "no rawsocket key" };
    return { vectors: data.rawsocket as Vector[] };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      return { unavailable: `${VECTORS.pathname} missing` };
    }
    if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
      return { unavailable: "run with --allow-read to read ../shared/wamp-vectors" };
    }
    throw error;
  }
}

const loaded = loadVectors();
if ("unavailable" in loaded) {
  missing("rawsocket vectors", loaded.unavailable);
} else {
  Deno.test("rawsocket vectors: every handshake and frame header encodes and decodes", async (t) => {
    equal(loaded.vectors.length > 0, true);
    for (const v of loaded.vectors) {
      if (v.kind === "handshake request/accept") {
        await t.step(`${v.kind} ${v.serializer} 2^${9 + v.max_len_exp}`, () => {
          const bytes = fromHex(v.bytes_hex);
          const handshake = {
            lengthExponent: v.max_len_exp,
            serializer: serializers[v.serializer].rawSocketId,
          };
          deepEqual(encodeHandshake(handshake), bytes);
          deepEqual(decodeHandshakeRequest(bytes), handshake);
          deepEqual(decodeHandshakeReply(bytes), handshake);
          equal(maxLength(v.max_len_exp), v.max_len);
          equal(lengthExponent(v.max_len), v.max_len_exp);
        });
      } else if (v.kind === "handshake error reply") {
        await t.step(`${v.kind} ${v.error} (${v.meaning})`, () => {
          const bytes = fromHex(v.bytes_hex);
          deepEqual(encodeHandshakeError(v.error as HandshakeErrorCode), bytes);
          deepEqual(decodeHandshakeReply(bytes), { error: v.error });
          equal(HANDSHAKE_ERROR_TEXT[v.error], v.meaning);
        });
      } else if (v.kind === "frame header") {
        await t.step(`${v.kind}: ${v.description}`, () => {
          const header = fromHex(v.header_hex);
          deepEqual(encodeFrameHeader(v.type as FrameTypeCode, v.length), header);
          // The reader takes the header and announces a frame of that length.
          const reader = new FrameReader(MAX_FRAME_LENGTH);
          deepEqual(
            [...reader.push(header)],
            v.length === 0 ? [{ type: v.type, payload: new Uint8Array() }] : [],
          );
          if (v.length <= 16) {
            const payload = new Uint8Array(v.length).fill(0x61);
            deepEqual([...reader.push(payload)], [{ type: v.type, payload }]);
          }
        });
      } else {
        await t.step(`unknown vector kind ${(v as { kind: string }).kind}`, () => {
          throw new Error(`unknown vector: ${JSON.stringify(v)}`);
        });
      }
    }
  });
}

Deno.test("decodeHandshakeRequest() answers serializer 0 with error 1 and reserved octets with error 3", () => {
  deepEqual(decodeHandshakeRequest(fromHex("7ff00000")), {
    error: HandshakeError.SERIALIZER_UNSUPPORTED,
  });
  deepEqual(decodeHandshakeRequest(fromHex("7ff10100")), { error: HandshakeError.RESERVED_BITS });
  deepEqual(decodeHandshakeRequest(fromHex("7ff10001")), { error: HandshakeError.RESERVED_BITS });
  // Serializers 4..15 are legal on the wire; whether we support one is the server's call.
  deepEqual(decodeHandshakeRequest(fromHex("7f070000")), { lengthExponent: 0, serializer: 7 });
  // Only the first 4 octets are read.
  deepEqual(decodeHandshakeRequest(fromHex("7ff1000000000005")), {
    lengthExponent: 15,
    serializer: 1,
  });
});

Deno.test("decodeHandshakeRequest() and decodeHandshakeReply() throw on a short or non-RawSocket handshake", () => {
  throws(() => decodeHandshakeRequest(fromHex("7ff100")), RangeError);
  throws(() => decodeHandshakeRequest(fromHex("47455420")), /first octet is 0x47/);
  throws(() => decodeHandshakeReply(fromHex("7ff1")), RangeError);
  throws(() => decodeHandshakeReply(fromHex("7ff10100")), /reserved octets/);
});

Deno.test("encodeHandshake() refuses fields that do not fit", () => {
  throws(() => encodeHandshake({ lengthExponent: 16, serializer: 1 }), RangeError);
  throws(() => encodeHandshake({ lengthExponent: 0, serializer: 0 }), RangeError);
  throws(() => encodeHandshake({ lengthExponent: 0, serializer: 16 }), RangeError);
});

Deno.test("lengthExponent() picks the largest size not above the limit, clamped to 0..15", () => {
  equal(lengthExponent(0), 0);
  equal(lengthExponent(511), 0);
  equal(lengthExponent(512), 0);
  equal(lengthExponent(1023), 0);
  equal(lengthExponent(1024), 1);
  equal(lengthExponent(2 ** 24 - 1), 14);
  equal(lengthExponent(2 ** 24), 15);
  equal(lengthExponent(2 ** 30), 15);
  equal(lengthExponent(Infinity), 15);
  for (let l = 0; l <= 15; l++) equal(lengthExponent(maxLength(l)), l);
  throws(() => maxLength(16), RangeError);
});

Deno.test("encodeFrameHeader() sets the X bit only for exactly 2^24 octets", () => {
  deepEqual(encodeFrameHeader(FrameType.MESSAGE, 2 ** 24), fromHex("08000000"));
  deepEqual(encodeFrameHeader(FrameType.PONG, 2 ** 24), fromHex("0a000000"));
  deepEqual(encodeFrameHeader(FrameType.MESSAGE, 2 ** 24 - 1), fromHex("00ffffff"));
  deepEqual(encodeFrameHeader(FrameType.PING, 0), fromHex("01000000"));
  throws(() => encodeFrameHeader(FrameType.MESSAGE, 2 ** 24 + 1), RangeError);
  throws(() => encodeFrameHeader(FrameType.MESSAGE, -1), RangeError);
  throws(() => encodeFrameHeader(3 as FrameTypeCode, 1), RangeError);
  deepEqual(encodeFrame(FrameType.PONG, fromHex("cafe")), fromHex("02000002cafe"));
});

/** Three frames, back to back. */
function sampleStream(): { bytes: Uint8Array; frames: Frame[] } {
  const frames: Frame[] = [
    { type: FrameType.MESSAGE, payload: new TextEncoder().encode('[1,"realm1",{}]') },
    { type: FrameType.PING, payload: new Uint8Array() },
    { type: FrameType.PONG, payload: fromHex("00ff10") },
    { type: FrameType.MESSAGE, payload: new Uint8Array(300).map((_, i) => i) },
  ];
  const parts = frames.map((f) => encodeFrame(f.type, f.payload));
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  return { bytes, frames };
}

Deno.test("FrameReader.push() yields the same frames for any chunking, byte by byte included", () => {
  const { bytes, frames } = sampleStream();
  for (const size of [1, 2, 3, 4, 5, 7, 64, bytes.length]) {
    const reader = new FrameReader(1024);
    const got: Frame[] = [];
    for (let at = 0; at < bytes.length; at += size) {
      // A fresh buffer per chunk, overwritten after the call: the frames must not alias it.
      const chunk = bytes.slice(at, at + size);
      got.push(...reader.push(chunk));
      chunk.fill(0xee);
    }
    deepEqual(got, frames, `chunks of ${size}`);
  }
});

Deno.test("FrameReader.push() rejects an oversize frame from its header, before any payload", () => {
  const reader = new FrameReader(1024);
  // A 2^24-octet (X bit) and a 16 MiB - 1 header, with no payload at all: the header alone fails.
  throws(() => [...reader.push(fromHex("00ffffff"))], (e: unknown) => {
    equal(e instanceof ProtocolViolationError, true);
    equal((e as Error).message, "RawSocket frame of 16777215 octets is over the limit of 1024");
    return true;
  });
  // The reader stays failed.
  throws(() => [...reader.push(fromHex("00000001"))], /over the limit/);
  throws(() => [...new FrameReader(1024).push(fromHex("08000000"))], /16777216 octets is over/);
  // Exactly the limit is fine.
  const exact = new FrameReader(4);
  deepEqual([...exact.push(fromHex("0000000401020304"))], [
    { type: FrameType.MESSAGE, payload: fromHex("01020304") },
  ]);
  // Frames before the bad one are still yielded.
  const mixed = new FrameReader(4);
  const seen: Frame[] = [];
  throws(() => {
    for (const f of mixed.push(fromHex("0100000000000005"))) seen.push(f);
  }, /5 octets is over the limit of 4/);
  deepEqual(seen, [{ type: FrameType.PING, payload: new Uint8Array() }]);
});

Deno.test("FrameReader.push() rejects reserved bits, reserved types and a misused X bit", () => {
  for (
    const [hex, message] of [
      ["10000001", /reserved bits: first octet 0x10/],
      ["80000001", /reserved bits: first octet 0x80/],
      ["03000001", /frame type 3 is reserved/],
      ["07000001", /frame type 7 is reserved/],
      ["08000001", /X bit set with length 1/],
    ] as const
  ) {
    throws(() => [...new FrameReader(MAX_FRAME_LENGTH).push(fromHex(hex))], message, hex);
  }
  // The X bit with length 0 is exactly 2^24 octets, accepted under a 2^24 limit.
  const reader = new FrameReader(MAX_FRAME_LENGTH);
  deepEqual([...reader.push(fromHex("08000000"))], []);
  const payload = new Uint8Array(MAX_FRAME_LENGTH);
  const frames = [...reader.push(payload)];
  equal(frames.length, 1);
  equal(frames[0]!.payload.length, MAX_FRAME_LENGTH);
});

Deno.test("FrameReader holds a payload dripped a byte at a time in one buffer, not one array per chunk", () => {
  const LENGTH = 1_000_000;
  const reader = new FrameReader(1 << 24);
  const header = Uint8Array.of(0x00, LENGTH >> 16, (LENGTH >> 8) & 0xff, LENGTH & 0xff);
  equal([...reader.push(header)].length, 0);
  const byte = new Uint8Array(1);
  const before = Deno.memoryUsage();
  for (let i = 0; i < LENGTH - 1; i++) {
    byte[0] = i & 0xff;
    for (const _ of reader.push(byte)) throw new Error("early frame");
  }
  const after = Deno.memoryUsage();
  const grown = after.heapUsed + after.external - before.heapUsed - before.external;
  // One Uint8Array per chunk costs over 100 bytes each (> 100 MB here).
  ok(grown < 32 * 1024 * 1024, `${(grown / 1048576).toFixed(1)} MiB kept for 1 MB of payload`);
  byte[0] = (LENGTH - 1) & 0xff;
  const [frame] = [...reader.push(byte)];
  equal(frame?.payload.length, LENGTH);
  equal(frame!.payload[LENGTH - 1], (LENGTH - 1) & 0xff);
  equal(frame!.payload[54321], 54321 & 0xff);
});

Deno.test("FrameReader refuses a header that admit refuses, before its payload, and stays failed", () => {
  const refusal = new ProtocolViolationError("too much for now");
  const asked: number[] = [];
  const reader = new FrameReader(1000, (n) => (asked.push(n), n > 10 ? refusal : undefined));
  const frames = [...reader.push(encodeFrame(FrameType.MESSAGE, new Uint8Array(10)))];
  equal(frames.length, 1);
  throws(() => [...reader.push(encodeFrameHeader(FrameType.PING, 500))], (e) => e === refusal);
  throws(() => [...reader.push(new Uint8Array(3))], (e) => e === refusal);
  deepEqual(asked, [10, 500]);
});
