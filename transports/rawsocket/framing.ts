/**
 * RawSocket framing as pure functions, no I/O: the 4-octet opening
 * handshake (request, reply, error reply), frame headers, and an
 * incremental {@linkcode FrameReader} that cuts a byte stream into frames.
 * All integers are big-endian.
 *
 * Spec: https://wamp-proto.org/wamp_latest_ietf.html#name-rawsocket-transport
 * (`transport_rawsocket.md`).
 *
 * @module
 */

import { ProtocolViolationError } from "../../wamp/mod.ts";

const EMPTY = new Uint8Array(0);

/** The first octet of every RawSocket handshake (request and reply). */
export const RAWSOCKET_MAGIC = 0x7f;

/** The largest length a frame header can carry: 2^24 octets (with the X bit). */
export const MAX_FRAME_LENGTH = 0x100_0000;

/** Handshake error codes, sent by the router in the `EEEE` nibble. */
export const HandshakeError = {
  /** The serializer is illegal (0), reserved or not offered. */
  SERIALIZER_UNSUPPORTED: 1,
  /** The client's maximum message length is unacceptable. */
  MAX_LENGTH_UNACCEPTABLE: 2,
  /** The reserved octets were not zero. */
  RESERVED_BITS: 3,
  /** The router is at its connection limit. */
  CONNECTION_LIMIT: 4,
} as const;

/** A handshake error code (1 to 4). */
export type HandshakeErrorCode = typeof HandshakeError[keyof typeof HandshakeError];

/** What each handshake error code means, for messages. */
export const HANDSHAKE_ERROR_TEXT: Readonly<Record<number, string>> = {
  0: "illegal error code 0",
  1: "serializer unsupported",
  2: "maximum message length unacceptable",
  3: "use of reserved bits",
  4: "maximum connection count reached",
};

/** Frame types, the `TTT` bits of a frame header. */
export const FrameType = {
  /** A regular WAMP message. */
  MESSAGE: 0,
  /** A PING; the receiver answers with one PONG echoing the payload. */
  PING: 1,
  /** A PONG, echoing a PING's payload. */
  PONG: 2,
} as const;

/** A frame type code (0 to 2; 3 to 7 are reserved). */
export type FrameTypeCode = typeof FrameType[keyof typeof FrameType];

/** The variable part of a successful handshake (request or reply). */
export interface Handshake {
  /**
   * `LLLL`: the sender's receive limit is 2^(9 + lengthExponent) octets
   * (0 → 512 B … 15 → 16 MiB).
   */
  readonly lengthExponent: number;
  /** `SSSS`: the serializer ID (1 JSON, 2 MessagePack, 3 CBOR, …). */
  readonly serializer: number;
}

/** A handshake request as a router reads it: usable, or answered with an error. */
export type HandshakeRequest = Handshake | { readonly error: HandshakeErrorCode };

/** A handshake reply as a client reads it: accepted, or refused with a code. */
export type HandshakeReply = Handshake | { readonly error: number };

/** One complete frame read by {@linkcode FrameReader}. */
export interface Frame {
  /** Message, PING or PONG. */
  readonly type: FrameTypeCode;
  /** The payload (the reader's own copy). */
  readonly payload: Uint8Array;
}

/**
 * The message size a length exponent stands for: 2^(9 + exponent).
 *
 * @param exponent `LLLL`, 0 to 15.
 * @returns The size in octets, 512 to 16 MiB.
 * @throws {RangeError} When the exponent is not an integer from 0 to 15.
 *
 * @example
 * ```ts
 * import { maxLength } from "./framing.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(maxLength(0), 512);
 * equal(maxLength(15), 16 * 1024 * 1024);
 * ```
 */
export function maxLength(exponent: number): number {
  if (!Number.isInteger(exponent) || exponent < 0 || exponent > 15) {
    throw new RangeError(`Cannot use length exponent ${exponent}: must be an integer from 0 to 15`);
  }
  return 2 ** (9 + exponent);
}

/**
 * The length exponent to announce for a receive limit: the largest one
 * whose size is at most `maxBytes`, clamped to 0..15 (so a limit under
 * 512 octets still announces 512).
 *
 * @param maxBytes The largest message we accept, in octets.
 * @returns `LLLL`, 0 to 15.
 *
 * @example
 * ```ts
 * import { lengthExponent } from "./framing.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(lengthExponent(16 * 1024 * 1024), 15);
 * equal(lengthExponent(1_000_000), 10); // 512 KiB
 * equal(lengthExponent(100), 0);
 * ```
 */
export function lengthExponent(maxBytes: number): number {
  let exponent = 0;
  while (exponent < 15 && 2 ** (10 + exponent) <= maxBytes) exponent++;
  return exponent;
}

/**
 * The largest payload we enforce for a configured maximum: the configured
 * size, at least the 512 octets the handshake announces, at most 2^24.
 *
 * @param maxMessageSize The configured maximum.
 * @returns The enforced limit.
 */
export function receiveLimit(maxMessageSize = 16 * 1024 * 1024): number {
  return Math.max(512, Math.min(maxMessageSize, MAX_FRAME_LENGTH));
}

/**
 * The largest payload to send to a peer that announced `exponent`. A
 * message of exactly 2^24 octets needs the X bit, which older peers take
 * for a reserved bit, so 16 MiB announcements are capped at 2^24 − 1.
 *
 * @param exponent The peer's `LLLL`.
 * @returns The limit in octets.
 */
export function sendLimit(exponent: number): number {
  return Math.min(maxLength(exponent), MAX_FRAME_LENGTH - 1);
}

/**
 * Encodes a handshake: a client's request, or a router's accepting reply
 * (its own limit, the serializer echoed).
 *
 * @param handshake Length exponent and serializer ID.
 * @returns The 4 octets `7F LS 00 00`.
 * @throws {RangeError} When a field does not fit its nibble or the
 * serializer is 0.
 *
 * @example
 * ```ts
 * import { encodeHandshake } from "./framing.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(encodeHandshake({ lengthExponent: 15, serializer: 1 }), new Uint8Array([0x7f, 0xf1, 0, 0]));
 * ```
 */
export function encodeHandshake(handshake: Handshake): Uint8Array {
  const { lengthExponent: l, serializer: s } = handshake;
  maxLength(l);
  if (!Number.isInteger(s) || s < 1 || s > 15) {
    throw new RangeError(`Cannot use serializer ID ${s}: must be an integer from 1 to 15`);
  }
  return new Uint8Array([RAWSOCKET_MAGIC, (l << 4) | s, 0, 0]);
}

/**
 * Encodes a router's error reply.
 *
 * @param error The error code (see {@linkcode HandshakeError}).
 * @returns The 4 octets `7F E0 00 00`.
 *
 * @example
 * ```ts
 * import { encodeHandshakeError, HandshakeError } from "./framing.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(encodeHandshakeError(HandshakeError.SERIALIZER_UNSUPPORTED), new Uint8Array([0x7f, 0x10, 0, 0]));
 * ```
 */
export function encodeHandshakeError(error: HandshakeErrorCode): Uint8Array {
  return new Uint8Array([RAWSOCKET_MAGIC, error << 4, 0, 0]);
}

/** Checks the magic octet and the length of a handshake. */
function checkHandshake(bytes: Uint8Array): void {
  if (bytes.length < 4) {
    throw new RangeError(`Cannot decode handshake: ${bytes.length} of 4 octets`);
  }
  if (bytes[0] !== RAWSOCKET_MAGIC) {
    throw new RangeError(`Cannot decode handshake: first octet is 0x${hex(bytes[0]!)}, not 0x7f`);
  }
}

/**
 * Decodes a client's handshake request, as a router does. Non-zero
 * reserved octets give error 3, serializer 0 gives error 1; whether the
 * serializer is one we support is for the caller to decide.
 *
 * @param bytes At least 4 octets; only the first 4 are read.
 * @returns The request, or the error to answer with.
 * @throws {RangeError} When there are fewer than 4 octets or the first is
 * not 0x7F (not a RawSocket at all: fail the connection).
 *
 * @example
 * ```ts
 * import { decodeHandshakeRequest } from "./framing.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(decodeHandshakeRequest(new Uint8Array([0x7f, 0x92, 0, 0])), { lengthExponent: 9, serializer: 2 });
 * deepEqual(decodeHandshakeRequest(new Uint8Array([0x7f, 0xf1, 0, 1])), { error: 3 });
 * ```
 */
export function decodeHandshakeRequest(bytes: Uint8Array): HandshakeRequest {
  checkHandshake(bytes);
  if (bytes[2] !== 0 || bytes[3] !== 0) return { error: HandshakeError.RESERVED_BITS };
  const serializer = bytes[1]! & 0x0f;
  if (serializer === 0) return { error: HandshakeError.SERIALIZER_UNSUPPORTED };
  return { lengthExponent: bytes[1]! >> 4, serializer };
}

/**
 * Decodes a router's handshake reply, as a client does. A zero serializer
 * nibble means an error whose code is in the high nibble.
 *
 * @param bytes At least 4 octets; only the first 4 are read.
 * @returns The accepted handshake, or the router's error code.
 * @throws {RangeError} When there are fewer than 4 octets, the first is not
 * 0x7F, or the reserved octets are not zero.
 *
 * @example
 * ```ts
 * import { decodeHandshakeReply } from "./framing.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(decodeHandshakeReply(new Uint8Array([0x7f, 0xf3, 0, 0])), { lengthExponent: 15, serializer: 3 });
 * deepEqual(decodeHandshakeReply(new Uint8Array([0x7f, 0x40, 0, 0])), { error: 4 });
 * ```
 */
export function decodeHandshakeReply(bytes: Uint8Array): HandshakeReply {
  checkHandshake(bytes);
  if (bytes[2] !== 0 || bytes[3] !== 0) {
    throw new RangeError(
      `Cannot decode handshake reply: reserved octets are 0x${hex(bytes[2]!)}${hex(bytes[3]!)}`,
    );
  }
  const serializer = bytes[1]! & 0x0f;
  if (serializer === 0) return { error: bytes[1]! >> 4 };
  return { lengthExponent: bytes[1]! >> 4, serializer };
}

/**
 * Encodes a frame header. A length of exactly 2^24 sets the X bit (the
 * 25th length bit) with zero in the 24-bit length field.
 *
 * @param type Message, PING or PONG.
 * @param length The payload length, 0 to 2^24.
 * @returns The 4-octet header.
 * @throws {RangeError} When the type or the length is out of range.
 *
 * @example
 * ```ts
 * import { encodeFrameHeader, FrameType } from "./framing.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(encodeFrameHeader(FrameType.MESSAGE, 5), new Uint8Array([0, 0, 0, 5]));
 * deepEqual(encodeFrameHeader(FrameType.MESSAGE, 2 ** 24), new Uint8Array([8, 0, 0, 0]));
 * ```
 */
export function encodeFrameHeader(type: FrameTypeCode, length: number): Uint8Array {
  const header = new Uint8Array(4);
  writeFrameHeader(header, type, length);
  return header;
}

/**
 * Encodes a whole frame, header and payload, in one array.
 *
 * @param type Message, PING or PONG.
 * @param payload The payload, at most 2^24 octets.
 * @returns The header followed by the payload.
 * @throws {RangeError} When the type or the length is out of range.
 *
 * @example
 * ```ts
 * import { encodeFrame, FrameType } from "./framing.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(encodeFrame(FrameType.PING, new Uint8Array([1, 2])), new Uint8Array([1, 0, 0, 2, 1, 2]));
 * ```
 */
export function encodeFrame(type: FrameTypeCode, payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(4 + payload.byteLength);
  writeFrameHeader(frame, type, payload.byteLength);
  frame.set(payload, 4);
  return frame;
}

function writeFrameHeader(into: Uint8Array, type: FrameTypeCode, length: number): void {
  if (type !== 0 && type !== 1 && type !== 2) {
    throw new RangeError(`Cannot encode frame type ${type}: must be 0, 1 or 2`);
  }
  if (!Number.isInteger(length) || length < 0 || length > MAX_FRAME_LENGTH) {
    throw new RangeError(`Cannot encode a frame of ${length} octets: must be 0 to 2^24`);
  }
  const x = length === MAX_FRAME_LENGTH ? 0x08 : 0;
  into[0] = x | type;
  into[1] = (length >> 16) & 0xff;
  into[2] = (length >> 8) & 0xff;
  into[3] = length & 0xff;
}

/**
 * Cuts a byte stream into frames, chunk by chunk. A header is checked as
 * soon as its 4 octets are in: reserved bits, reserved types, an X bit
 * with a non-zero length, or a length over the limit throw at once,
 * before any of the payload is buffered. Memory grows with the bytes
 * received, never with the length a header announces: a frame that fits
 * in one chunk costs one copy, one spread over several costs two.
 *
 * After it throws, the reader is unusable: fail the connection.
 *
 * @example
 * ```ts
 * import { FrameReader, FrameType } from "./framing.ts";
 * import { deepEqual, throws } from "node:assert/strict";
 *
 * const reader = new FrameReader(1024);
 * deepEqual([...reader.push(new Uint8Array([0, 0, 0, 2, 7]))], []);
 * deepEqual([...reader.push(new Uint8Array([8, 1, 0, 0, 0]))], [
 *   { type: FrameType.MESSAGE, payload: new Uint8Array([7, 8]) },
 *   { type: FrameType.PING, payload: new Uint8Array() },
 * ]);
 * throws(() => [...reader.push(new Uint8Array([0, 0x40, 0, 0]))], /over the limit/);
 * ```
 */
export class FrameReader {
  /** The largest payload accepted, in octets. */
  readonly maxLength: number;
  #header = new Uint8Array(4);
  #headerFill = 0;
  #type: FrameTypeCode = 0;
  /** The payload length of the frame being read, or -1 between frames. */
  #length = -1;
  /**
   * The payload read so far, when a frame spans chunks: one buffer grown
   * by doubling up to the frame's length, so neither a header promising
   * 16 MiB nor a payload dripped a byte at a time costs more than twice
   * what has arrived.
   */
  #payload: Uint8Array = EMPTY;
  #received = 0;
  #failed: Error | undefined;

  /**
   * Creates a reader.
   *
   * @param maxLength The largest payload accepted (at most 2^24).
   */
  constructor(maxLength: number) {
    this.maxLength = Math.min(maxLength, MAX_FRAME_LENGTH);
  }

  /**
   * Takes the next chunk of the stream and yields every frame it
   * completes. Consume the iterator fully (or stop and drop the reader).
   *
   * @param chunk The next bytes; only read while iterating.
   * @returns The frames completed by this chunk, in order.
   * @throws {ProtocolViolationError} On a bad header or an oversize length;
   * frames before it are yielded first.
   */
  *push(chunk: Uint8Array): Generator<Frame, void, undefined> {
    if (this.#failed !== undefined) throw this.#failed;
    let at = 0;
    while (at < chunk.length) {
      if (this.#length < 0) {
        const take = Math.min(4 - this.#headerFill, chunk.length - at);
        this.#header.set(chunk.subarray(at, at + take), this.#headerFill);
        this.#headerFill += take;
        at += take;
        if (this.#headerFill < 4) return;
        this.#headerFill = 0;
        this.#length = this.#readHeader();
      }
      const take = Math.min(this.#length - this.#received, chunk.length - at);
      if (this.#received === 0 && take === this.#length) {
        // The whole payload is in this chunk: one copy, no buffer.
        this.#length = -1;
        yield { type: this.#type, payload: chunk.slice(at, at + take) };
        at += take;
        continue;
      }
      this.#append(chunk.subarray(at, at + take));
      at += take;
      if (this.#received === this.#length) {
        const payload = this.#payload.subarray(0, this.#received);
        this.#length = -1;
        this.#payload = EMPTY;
        this.#received = 0;
        yield { type: this.#type, payload };
      }
    }
  }

  /** Copies part of the frame's payload after what was read before. */
  #append(bytes: Uint8Array): void {
    const received = this.#received + bytes.length;
    if (received > this.#payload.length) {
      const grown = new Uint8Array(
        Math.min(this.#length, Math.max(received, 2 * this.#payload.length, 1024)),
      );
      grown.set(this.#payload.subarray(0, this.#received));
      this.#payload = grown;
    }
    this.#payload.set(bytes, this.#received);
    this.#received = received;
  }

  /** Checks the buffered header; returns the payload length. */
  #readHeader(): number {
    const h = this.#header;
    const first = h[0]!;
    const fail = (message: string): never => {
      this.#failed = new ProtocolViolationError(message);
      throw this.#failed;
    };
    if (first & 0xf0) fail(`RawSocket frame uses reserved bits: first octet 0x${hex(first)}`);
    const type = first & 0x07;
    if (type > 2) fail(`RawSocket frame type ${type} is reserved`);
    let length = (h[1]! << 16) | (h[2]! << 8) | h[3]!;
    if (first & 0x08) {
      if (length !== 0) fail(`RawSocket frame has the X bit set with length ${length}, not 0`);
      length = MAX_FRAME_LENGTH;
    }
    if (length > this.maxLength) {
      fail(`RawSocket frame of ${length} octets is over the limit of ${this.maxLength}`);
    }
    this.#type = type as FrameTypeCode;
    return length;
  }
}

function hex(octet: number): string {
  return octet.toString(16).padStart(2, "0");
}
