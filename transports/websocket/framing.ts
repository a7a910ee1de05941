/**
 * The RFC 6455 WebSocket frame codec as pure code: an incremental parser
 * that turns stream chunks into messages and control frames, enforcing
 * masking, opcode, fragmentation and size rules; a frame encoder; close
 * frame payloads; and the handshake's accept key.
 *
 * @module
 */

import { builtin } from "../../wamp/builtin.ts";
import { slabBytes, slabUtf8 } from "../../wamp/bytes.ts";

const EMPTY = new Uint8Array(0);

/** Frame opcodes ([RFC 6455 §5.2](https://www.rfc-editor.org/rfc/rfc6455#section-5.2)). */
export const Opcode = {
  /** A continuation of a fragmented message. */
  CONTINUATION: 0x0,
  /** The first frame of a text (UTF-8) message. */
  TEXT: 0x1,
  /** The first frame of a binary message. */
  BINARY: 0x2,
  /** Close (code and reason). */
  CLOSE: 0x8,
  /** Ping: answered by a pong with the same payload. */
  PING: 0x9,
  /** Pong. */
  PONG: 0xa,
} as const;

/** Close status codes ([RFC 6455 §7.4.1](https://www.rfc-editor.org/rfc/rfc6455#section-7.4.1)). */
export const CloseCode = {
  /** Normal closure. */
  NORMAL: 1000,
  /** The endpoint is going away (shutdown, unresponsive peer). */
  GOING_AWAY: 1001,
  /** A protocol error. */
  PROTOCOL_ERROR: 1002,
  /** A data type the endpoint cannot accept. */
  UNSUPPORTED_DATA: 1003,
  /** A close frame without a code (never sent). */
  NO_STATUS: 1005,
  /** The connection dropped without a close frame (never sent). */
  ABNORMAL: 1006,
  /** Data inconsistent with the message type (bad UTF-8, bad compressed data). */
  INVALID_PAYLOAD: 1007,
  /** A policy violation. */
  POLICY_VIOLATION: 1008,
  /** A message too big to process. */
  TOO_BIG: 1009,
  /** An unexpected condition. */
  INTERNAL_ERROR: 1011,
} as const;

/** What a {@linkcode FrameParser} reports. */
export interface FrameHandler {
  /**
   * A whole data message (fragments joined). The payload may be a view
   * into the chunk given to {@linkcode FrameParser.push}.
   *
   * @param text Whether it is a text message (else binary).
   * @param payload Its payload, unmasked, still compressed if `compressed`.
   * @param compressed Whether RSV1 was set (permessage-deflate).
   */
  message(text: boolean, payload: Uint8Array, compressed: boolean): void;
  /**
   * A control frame: close, ping or pong.
   *
   * @param opcode {@linkcode Opcode.CLOSE}, `PING` or `PONG`.
   * @param payload Its payload (at most 125 bytes), unmasked.
   */
  control(opcode: number, payload: Uint8Array): void;
  /** A fragment of a data message was kept, the message not whole yet. */
  fragment?(): void;
  /**
   * The stream broke the protocol; the parser stops. Close with `code`.
   *
   * @param code 1002 (protocol error) or 1009 (too big).
   * @param reason What was wrong.
   * @param refusal The error `admit` refused the message with (code 1009).
   */
  error(code: number, reason: string, refusal?: Error): void;
}

/** Options for {@linkcode FrameParser}. */
export interface FrameParserOptions {
  /**
   * Whether incoming frames must be masked: `true` on the server side,
   * `false` on the client side (a frame the other way is an error).
   */
  masked: boolean;
  /** The largest message accepted, in payload bytes (all fragments). */
  maxMessageSize: number;
  /** Whether RSV1 (a compressed message) is allowed. @default {false} */
  compression?: boolean;
  /**
   * Asked at each data frame's header with the message's bytes so far,
   * when within `maxMessageSize`: an error refuses the message before its
   * payload is read (a router's connection before its session joined
   * takes less), reported through `FrameHandler.error`.
   */
  admit?: (messageBytes: number) => Error | undefined;
}

/**
 * An incremental frame parser. Sizes are checked from each frame header,
 * before any payload is buffered. A frame that arrives whole in one chunk
 * is unmasked in place and passed on without copying.
 *
 * @example
 * ```ts
 * import { encodeFrame, FrameParser, Opcode } from "./framing.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const got: string[] = [];
 * const parser = new FrameParser({
 *   message: (_text, payload) => got.push(new TextDecoder().decode(payload)),
 *   control: () => {},
 *   error: (code) => got.push(`error ${code}`),
 * }, { masked: true, maxMessageSize: 100 });
 * const frame = encodeFrame(Opcode.TEXT, new TextEncoder().encode("hello"), { mask: true });
 * parser.push(frame.subarray(0, 3)); // a partial header waits
 * parser.push(frame.subarray(3));
 * deepEqual(got, ["hello"]);
 * ```
 */
export class FrameParser {
  #handler: FrameHandler;
  #masked: boolean;
  #max: number;
  #compression: boolean;
  #admit: ((messageBytes: number) => Error | undefined) | undefined;
  #stopped = false;
  // A header split across chunks.
  #head: Uint8Array | undefined;
  #headLength = 0;
  // The frame being read.
  #fin = false;
  #opcode = 0;
  /** The masking key, big-endian. */
  #mask = 0;
  #hasMask = false;
  // Its payload, when it spans chunks.
  #buffer: Uint8Array | undefined;
  #filled = 0;
  #expected = 0;
  // The message being reassembled from fragments: one buffer, grown by
  // doubling (up to the size limit), so memory stays within twice the
  // payload however small the fragments.
  #inMessage = false;
  #text = false;
  #compressed = false;
  #assembling = false;
  #assembled: Uint8Array = EMPTY;
  #assembledLength = 0;
  #messageBytes = 0;

  /**
   * Creates a parser.
   *
   * @param handler Where messages, control frames and errors go.
   * @param options Masking side, size limit, compression.
   */
  constructor(handler: FrameHandler, options: FrameParserOptions) {
    this.#handler = handler;
    this.#masked = options.masked;
    this.#max = options.maxMessageSize;
    this.#compression = options.compression ?? false;
    this.#admit = options.admit;
  }

  /** Ignores everything from now on. */
  stop(): void {
    this.#stopped = true;
    this.#buffer = undefined;
    this.#assembled = EMPTY;
  }

  /**
   * Parses a chunk of the stream. Unmasks in place: the chunk is modified.
   *
   * @param chunk The next bytes.
   */
  push(chunk: Uint8Array): void {
    let at = 0;
    const end = chunk.length;
    while (at < end && !this.#stopped) {
      let buffer = this.#buffer;
      if (buffer !== undefined) {
        const n = Math.min(this.#expected - this.#filled, end - at);
        if (this.#filled + n > buffer.length) {
          // Grown with what arrives (doubling, up to the frame's length), never
          // to a length a header merely promises.
          const grown = new Uint8Array(
            Math.min(this.#expected, Math.max(this.#filled + n, 2 * buffer.length)),
          );
          grown.set(buffer.subarray(0, this.#filled));
          buffer = this.#buffer = grown;
        }
        buffer.set(chunk.subarray(at, at + n), this.#filled);
        if (this.#hasMask) unmask(buffer, this.#filled, n, this.#mask, this.#filled);
        this.#filled += n;
        at += n;
        if (this.#filled === this.#expected) {
          this.#buffer = undefined;
          this.#frame(buffer);
        }
        continue;
      }
      let length: number;
      if (this.#headLength > 0) {
        // Complete the split header from this chunk.
        const before = this.#headLength;
        const head = this.#head!;
        const take = Math.min(14 - before, end - at);
        head.set(chunk.subarray(at, at + take), before);
        this.#headLength += take;
        const size = this.#header(head, 0, this.#headLength);
        if (size === 0) return;
        this.#headLength = 0;
        this.#head = undefined; // rare: not worth keeping on every idle connection
        at += size - before;
        if (size < 0) return;
        length = this.#pendingLength;
      } else {
        const size = this.#header(chunk, at, end - at);
        if (size === 0) {
          this.#head = new Uint8Array(14);
          this.#head.set(chunk.subarray(at, end));
          this.#headLength = end - at;
          return;
        }
        if (size < 0) return;
        at += size;
        length = this.#pendingLength;
      }
      if (end - at >= length) {
        const payload = chunk.subarray(at, at + length);
        if (this.#hasMask) unmask(payload, 0, length, this.#mask, 0);
        at += length;
        this.#frame(payload);
      } else {
        this.#buffer = new Uint8Array(Math.min(length, 64 * 1024));
        this.#expected = length;
        this.#filled = 0;
      }
    }
  }

  #pendingLength = 0;

  /**
   * Reads and checks a header at `bytes[at]`. Returns its size, 0 when
   * more bytes are needed, or -1 after reporting an error.
   */
  #header(bytes: Uint8Array, at: number, available: number): number {
    if (available < 2) return 0;
    const b0 = bytes[at]!;
    const b1 = bytes[at + 1]!;
    const masked = (b1 & 0x80) !== 0;
    let length = b1 & 0x7f;
    const extra = length === 126 ? 2 : length === 127 ? 8 : 0;
    const size = 2 + extra + (masked ? 4 : 0);
    if (available < size) return 0;
    if (length === 126) length = (bytes[at + 2]! << 8) | bytes[at + 3]!;
    else if (length === 127) {
      const high = ((bytes[at + 2]! << 24) | (bytes[at + 3]! << 16) | (bytes[at + 4]! << 8) |
        bytes[at + 5]!) >>> 0;
      const low = ((bytes[at + 6]! << 24) | (bytes[at + 7]! << 16) | (bytes[at + 8]! << 8) |
        bytes[at + 9]!) >>> 0;
      if (high >= 0x80000000) return this.#fail(CloseCode.PROTOCOL_ERROR, "bad frame length");
      length = high * 0x100000000 + low;
    }
    const fin = (b0 & 0x80) !== 0;
    const rsv1 = (b0 & 0x40) !== 0;
    const opcode = b0 & 0x0f;
    if ((b0 & 0x30) !== 0) return this.#fail(CloseCode.PROTOCOL_ERROR, "reserved bits set");
    if (masked !== this.#masked) {
      return this.#fail(
        CloseCode.PROTOCOL_ERROR,
        this.#masked ? "client frames must be masked" : "server frames must not be masked",
      );
    }
    if (opcode >= 0x8) {
      if (opcode > 0xa) return this.#fail(CloseCode.PROTOCOL_ERROR, `reserved opcode ${opcode}`);
      if (!fin) return this.#fail(CloseCode.PROTOCOL_ERROR, "fragmented control frame");
      if (length > 125) return this.#fail(CloseCode.PROTOCOL_ERROR, "control frame too long");
      if (rsv1) return this.#fail(CloseCode.PROTOCOL_ERROR, "compressed control frame");
    } else if (opcode === Opcode.CONTINUATION) {
      if (!this.#inMessage) return this.#fail(CloseCode.PROTOCOL_ERROR, "unexpected continuation");
      if (rsv1) return this.#fail(CloseCode.PROTOCOL_ERROR, "RSV1 set on a continuation");
    } else if (opcode <= Opcode.BINARY) {
      if (this.#inMessage) return this.#fail(CloseCode.PROTOCOL_ERROR, "expected a continuation");
      if (rsv1 && !this.#compression) {
        return this.#fail(CloseCode.PROTOCOL_ERROR, "RSV1 set without compression");
      }
      this.#text = opcode === Opcode.TEXT;
      this.#compressed = rsv1;
      this.#messageBytes = 0;
    } else {
      return this.#fail(CloseCode.PROTOCOL_ERROR, `reserved opcode ${opcode}`);
    }
    if (opcode < 0x8 && this.#messageBytes + length > this.#max) {
      return this.#fail(CloseCode.TOO_BIG, `message over ${this.#max} bytes`);
    }
    const refused = opcode < 0x8 ? this.#admit?.(this.#messageBytes + length) : undefined;
    if (refused !== undefined) return this.#fail(CloseCode.TOO_BIG, refused.message, refused);
    if (masked) {
      const k = at + size - 4;
      this.#mask = ((bytes[k]! << 24) | (bytes[k + 1]! << 16) | (bytes[k + 2]! << 8) |
        bytes[k + 3]!) >>> 0;
    }
    this.#hasMask = masked;
    this.#fin = fin;
    this.#opcode = opcode;
    this.#pendingLength = length;
    if (opcode < 0x8) {
      this.#messageBytes += length;
      this.#inMessage = !fin;
    }
    return size;
  }

  #fail(code: number, reason: string, refusal?: Error): -1 {
    this.stop();
    this.#handler.error(code, reason, refusal);
    return -1;
  }

  /** A whole frame's payload (perhaps a view of the chunk being parsed). */
  #frame(payload: Uint8Array): void {
    if (this.#opcode >= 0x8) {
      this.#handler.control(this.#opcode, payload);
      return;
    }
    if (this.#fin && !this.#assembling) {
      this.#handler.message(this.#text, payload, this.#compressed);
      return;
    }
    this.#append(payload);
    this.#assembling = !this.#fin;
    if (!this.#fin) return this.#handler.fragment?.();
    const whole = this.#assembled.subarray(0, this.#assembledLength);
    this.#assembled = EMPTY;
    this.#assembledLength = 0;
    this.#handler.message(this.#text, whole, this.#compressed);
  }

  /** Copies a fragment's payload to the end of the message being reassembled. */
  #append(payload: Uint8Array): void {
    const length = this.#assembledLength + payload.length;
    if (length > this.#assembled.length) {
      const grown = new Uint8Array(
        Math.max(length, Math.min(2 * this.#assembled.length, this.#max), 1024),
      );
      grown.set(this.#assembled.subarray(0, this.#assembledLength));
      this.#assembled = grown;
    }
    this.#assembled.set(payload, this.#assembledLength);
    this.#assembledLength = length;
  }
}

/** Byte `i` (mod 4) of a big-endian masking key. */
function maskByte(mask: number, i: number): number {
  return (mask >>> (24 - 8 * (i & 3))) & 0xff;
}

/**
 * XORs `bytes[start, start+length)` with the mask (four bytes, big-endian
 * in one number), starting at mask byte `offset`.
 */
function unmask(
  bytes: Uint8Array,
  start: number,
  length: number,
  mask: number,
  offset: number,
): void {
  const m0 = maskByte(mask, offset);
  const m1 = maskByte(mask, offset + 1);
  const m2 = maskByte(mask, offset + 2);
  const m3 = maskByte(mask, offset + 3);
  const end = start + length;
  let i = start;
  for (; i + 3 < end; i += 4) {
    bytes[i] = bytes[i]! ^ m0;
    bytes[i + 1] = bytes[i + 1]! ^ m1;
    bytes[i + 2] = bytes[i + 2]! ^ m2;
    bytes[i + 3] = bytes[i + 3]! ^ m3;
  }
  if (i < end) bytes[i] = bytes[i]! ^ m0;
  if (i + 1 < end) bytes[i + 1] = bytes[i + 1]! ^ m1;
  if (i + 2 < end) bytes[i + 2] = bytes[i + 2]! ^ m2;
}

// Masking keys come from a pool of random bytes, refilled as it runs out.
const keyPool = new Uint8Array(4096);
let keyAt = keyPool.length;

/** Options for {@linkcode encodeFrame}. */
export interface EncodeFrameOptions {
  /** Mask the payload with a random key (client to server). @default {false} */
  mask?: boolean;
  /** Set RSV1: the payload is compressed (first frame only). @default {false} */
  compressed?: boolean;
  /** Whether this is the final frame of its message. @default {true} */
  fin?: boolean;
}

/**
 * Encodes one frame: header and payload in one array of its own bytes
 * (the payload is copied, and masked when asked). A small frame is a view
 * into a shared slab (`slabBytes`): read it, never write to it.
 *
 * @param opcode The opcode ({@linkcode Opcode}).
 * @param payload The payload.
 * @param options Masking, RSV1, FIN.
 * @returns The frame's bytes.
 *
 * @example
 * ```ts
 * import { encodeFrame, Opcode } from "./framing.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(encodeFrame(Opcode.TEXT, new Uint8Array([0x48, 0x69])), new Uint8Array([0x81, 2, 0x48, 0x69]));
 * ```
 */
export function encodeFrame(
  opcode: number,
  payload: Uint8Array,
  options: EncodeFrameOptions = {},
): Uint8Array {
  const length = payload.length;
  const mask = options.mask ?? false;
  const extra = length < 126 ? 0 : length < 65536 ? 2 : 8;
  const size = 2 + extra + (mask ? 4 : 0);
  const frame = slabBytes(size + length);
  frame[0] = (options.fin === false ? 0 : 0x80) | (options.compressed ? 0x40 : 0) | opcode;
  const maskBit = mask ? 0x80 : 0;
  if (extra === 0) frame[1] = maskBit | length;
  else if (extra === 2) {
    frame[1] = maskBit | 126;
    frame[2] = length >>> 8;
    frame[3] = length & 0xff;
  } else {
    frame[1] = maskBit | 127;
    const high = Math.floor(length / 0x100000000);
    frame[2] = high >>> 24;
    frame[3] = (high >>> 16) & 0xff;
    frame[4] = (high >>> 8) & 0xff;
    frame[5] = high & 0xff;
    frame[6] = length >>> 24;
    frame[7] = (length >>> 16) & 0xff;
    frame[8] = (length >>> 8) & 0xff;
    frame[9] = length & 0xff;
  }
  frame.set(payload, size);
  if (mask) {
    if (keyAt + 4 > keyPool.length) {
      crypto.getRandomValues(keyPool);
      keyAt = 0;
    }
    frame.set(keyPool.subarray(keyAt, keyAt + 4), size - 4);
    const key = ((keyPool[keyAt]! << 24) | (keyPool[keyAt + 1]! << 16) |
      (keyPool[keyAt + 2]! << 8) | keyPool[keyAt + 3]!) >>> 0;
    keyAt += 4;
    unmask(frame, size, length, key, 0);
  }
  return frame;
}

/**
 * Encodes an unmasked, unfragmented text frame with the UTF-8 of `text`
 * written in place, in a view of a shared slab (`slabUtf8`: read it, never
 * write to it), with no copy of the payload.
 *
 * @param text The payload.
 * @returns The frame, or undefined for text that takes 2 KiB or more
 * (frame its bytes with {@linkcode encodeFrame}).
 *
 * @example
 * ```ts
 * import { encodeFrame, encodeTextFrame, Opcode } from "./framing.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const text = "[17,1,2]";
 * deepEqual(encodeTextFrame(text), encodeFrame(Opcode.TEXT, new TextEncoder().encode(text)));
 * const long = "é".repeat(100);
 * deepEqual(encodeTextFrame(long), encodeFrame(Opcode.TEXT, new TextEncoder().encode(long)));
 * ```
 */
export function encodeTextFrame(text: string): Uint8Array | undefined {
  const bytes = slabUtf8(text, 4);
  if (bytes === undefined) return undefined;
  const length = bytes.length - 4; // under 2 KiB: a 7-bit or 16-bit length
  if (length < 126) {
    const frame = bytes.subarray(2);
    frame[0] = 0x80 | Opcode.TEXT;
    frame[1] = length;
    return frame;
  }
  bytes[0] = 0x80 | Opcode.TEXT;
  bytes[1] = 126;
  bytes[2] = length >>> 8;
  bytes[3] = length & 0xff;
  return bytes;
}

/**
 * The payload length a frame's header gives (frames of {@linkcode encodeFrame}
 * or {@linkcode encodeTextFrame}: unmasked).
 *
 * @param frame The frame.
 * @returns Its payload's length, in bytes.
 *
 * @example
 * ```ts
 * import { encodeFrame, Opcode, payloadLength } from "./framing.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(payloadLength(encodeFrame(Opcode.BINARY, new Uint8Array(70_000))), 70_000);
 * ```
 */
export function payloadLength(frame: Uint8Array): number {
  const short = frame[1]! & 0x7f;
  if (short < 126) return short;
  if (short === 126) return (frame[2]! << 8) | frame[3]!;
  const view = new DataView(frame.buffer, frame.byteOffset + 2, 8);
  return view.getUint32(0) * 2 ** 32 + view.getUint32(4);
}

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The payload of a close frame: the code, then the UTF-8 reason, cut to
 * fit the 125-byte limit.
 *
 * @param code The close code.
 * @param reason A short reason.
 * @returns The payload.
 *
 * @example
 * ```ts
 * import { closePayload } from "./framing.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(closePayload(1000, "ok"), new Uint8Array([0x03, 0xe8, 0x6f, 0x6b]));
 * ```
 */
export function closePayload(code: number, reason = ""): Uint8Array {
  let text = utf8.encode(reason);
  if (text.length > 123) {
    let cut = 123;
    while (cut > 0 && (text[cut]! & 0xc0) === 0x80) cut--; // not inside a character
    text = text.subarray(0, cut);
  }
  const out = new Uint8Array(2 + text.length);
  out[0] = code >>> 8;
  out[1] = code & 0xff;
  out.set(text, 2);
  return out;
}

/** A parsed close frame, or the code to close with when it is invalid. */
export type ParsedClose =
  | { readonly code: number; readonly reason: string }
  | { readonly error: number; readonly reason: string };

/**
 * Reads a close frame's payload. An empty payload means 1005 (no code).
 *
 * @param payload The close frame's payload.
 * @returns Code and reason, or `error` 1002 (bad length or code) or 1007
 * (reason not UTF-8).
 *
 * @example
 * ```ts
 * import { parseClosePayload } from "./framing.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(parseClosePayload(new Uint8Array([0x03, 0xe9])), { code: 1001, reason: "" });
 * deepEqual(parseClosePayload(new Uint8Array([0x03, 0xed])), {
 *   error: 1002,
 *   reason: "bad close code 1005",
 * });
 * ```
 */
export function parseClosePayload(payload: Uint8Array): ParsedClose {
  if (payload.length === 0) return { code: CloseCode.NO_STATUS, reason: "" };
  if (payload.length === 1) return { error: CloseCode.PROTOCOL_ERROR, reason: "bad close frame" };
  const code = (payload[0]! << 8) | payload[1]!;
  if (!validCloseCode(code)) {
    return { error: CloseCode.PROTOCOL_ERROR, reason: `bad close code ${code}` };
  }
  try {
    return { code, reason: strictUtf8.decode(payload.subarray(2)) };
  } catch {
    return { error: CloseCode.INVALID_PAYLOAD, reason: "close reason is not UTF-8" };
  }
}

/**
 * Whether a code may appear in a close frame.
 *
 * @param code The code.
 * @returns `true` for 1000–1003, 1007–1014 and 3000–4999.
 */
export function validCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
    (code >= 3000 && code <= 4999);
}

/**
 * The `Sec-WebSocket-Accept` value for a `Sec-WebSocket-Key`
 * ([RFC 6455 §4.2.2](https://www.rfc-editor.org/rfc/rfc6455#section-4.2.2)).
 *
 * @param key The client's key.
 * @returns base64(SHA-1(key + the RFC's GUID)).
 *
 * @example
 * ```ts
 * import { acceptKey } from "./framing.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(acceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
 * ```
 */
export function acceptKey(key: string): string {
  return builtin("node:crypto").createHash("sha1").update(
    key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11",
  ).digest(
    "base64",
  );
}
