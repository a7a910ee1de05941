/**
 * RawSocket frames as pure functions, no I/O: frame headers and an
 * incremental {@linkcode FrameReader} that cuts a byte stream into frames.
 * The 4-octet opening handshake is in `handshake.ts`. All integers are
 * big-endian.
 *
 * Spec: https://wamp-proto.org/wamp_latest_ietf.html#name-rawsocket-transport
 * (`transport_rawsocket.md`).
 *
 * @module
 */

import { slabBytes, slabUtf8 } from "../../wamp/bytes.ts";

import { ProtocolViolationError } from "../../wamp/mod.ts";

const EMPTY = new Uint8Array(0);

/** The largest length a frame header can carry: 2^24 octets (with the X bit). */
export const MAX_FRAME_LENGTH = 0x100_0000;

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

/** One complete frame read by {@linkcode FrameReader}. */
export interface Frame {
  /** Message, PING or PONG. */
  readonly type: FrameTypeCode;
  /** The payload (the reader's own copy). */
  readonly payload: Uint8Array;
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
 * Encodes a whole frame, header and payload, in one array of its own
 * bytes (a small one is a view into a shared slab: `slabBytes`).
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
  const frame = slabBytes(4 + payload.byteLength);
  writeFrameHeader(frame, type, payload.byteLength);
  frame.set(payload, 4);
  return frame;
}

/**
 * Encodes a MESSAGE frame with the UTF-8 of `text` written in place, in a
 * view of a shared slab (`slabUtf8`: read it, never write to it).
 *
 * @param text The payload (a JSON message).
 * @returns The frame, or undefined for text that takes 2 KiB or more.
 *
 * @example
 * ```ts
 * import { encodeFrame, encodeTextFrame, FrameType } from "./framing.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(encodeTextFrame("[17,1,2]"), encodeFrame(FrameType.MESSAGE, new TextEncoder().encode("[17,1,2]")));
 * ```
 */
export function encodeTextFrame(text: string): Uint8Array | undefined {
  const frame = slabUtf8(text, 4);
  if (frame !== undefined) writeFrameHeader(frame, FrameType.MESSAGE, frame.length - 4);
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
  #admit: ((length: number) => Error | undefined) | undefined;

  /**
   * Creates a reader.
   *
   * @param maxLength The largest payload accepted (at most 2^24).
   * @param admit Asked of every header within `maxLength`: an error refuses
   * the frame before its payload is read (a router's connection before its
   * session joined takes less), and is what {@linkcode FrameReader.push}
   * throws.
   */
  constructor(maxLength: number, admit?: (length: number) => Error | undefined) {
    this.maxLength = Math.min(maxLength, MAX_FRAME_LENGTH);
    this.#admit = admit;
  }

  /**
   * Takes the next chunk of the stream and yields every frame it
   * completes. Consume the iterator fully (or stop and drop the reader).
   *
   * @param chunk The next bytes; only read while iterating.
   * @returns The frames completed by this chunk, in order.
   * @throws {ProtocolViolationError} On a bad header or an oversize length;
   * frames before it are yielded first. (Or the error `admit` refused a
   * header with.)
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
    const refused = this.#admit?.(length);
    if (refused !== undefined) throw this.#failed = refused;
    this.#type = type as FrameTypeCode;
    return length;
  }
}

function hex(octet: number): string {
  return octet.toString(16).padStart(2, "0");
}
