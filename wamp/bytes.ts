/**
 * Binary helpers that run on every platform the client does: base64,
 * hex, and UTF-8 encoding ({@linkcode utf8Bytes}). They use the platform's `Uint8Array.prototype.toBase64` family where
 * it exists (Deno, recent browsers) and a hand-written fallback elsewhere
 * (Node 20, older browsers), chosen once at load time.
 *
 * @module
 */

import { builtin, hasBuiltin } from "./builtin.ts";

interface NativeBytes {
  toBase64(): string;
  toHex(): string;
}

interface NativeBytesConstructor {
  fromBase64(text: string): Uint8Array;
  fromHex(text: string): Uint8Array;
}

const NATIVE = typeof (Uint8Array.prototype as Partial<NativeBytes>).toBase64 === "function" &&
  typeof (Uint8Array as Partial<NativeBytesConstructor>).fromHex === "function";

const textEncoder = new TextEncoder();
// Where there is node:buffer (Deno, Node, Bun), `Buffer.from` encodes short strings in about
// half the time of Deno's TextEncoder (one message each: measured 170 vs 330 ns).
const nodeBuffer = hasBuiltin("node:buffer") ? builtin("node:buffer").Buffer : undefined;

/**
 * The UTF-8 bytes of a string (unpaired surrogates become U+FFFD, as with
 * `TextEncoder`). Small results may share a memory pool with others: read
 * them, never write to them.
 *
 * @param text The string.
 * @returns A plain `Uint8Array` of its UTF-8 bytes.
 *
 * @example
 * ```ts
 * import { utf8Bytes } from "./bytes.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(utf8Bytes("é\ud800"), Uint8Array.of(0xc3, 0xa9, 0xef, 0xbf, 0xbd));
 * ```
 */
export function utf8Bytes(text: string): Uint8Array {
  if (nodeBuffer === undefined) return textEncoder.encode(text);
  const b = nodeBuffer.from(text, "utf8");
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

const looseDecoder = new TextDecoder();
const fatalDecoder = new TextDecoder("utf-8", { fatal: true });

/**
 * The text of UTF-8 bytes, refusing invalid UTF-8 (as a `fatal` decoder
 * does, and at the cost of a lenient one: Deno's fatal `TextDecoder`
 * takes 2.6x as long on a 100-byte message, 4x on 1 KiB). Valid UTF-8
 * never decodes to U+FFFD unless it spells U+FFFD, so only text holding
 * one is decoded again, strictly. A leading BOM is dropped, as by both.
 *
 * @param bytes The bytes.
 * @returns The text.
 * @throws {TypeError} When the bytes are not valid UTF-8.
 *
 * @example
 * ```ts
 * import { utf8Text } from "./bytes.ts";
 * import { equal, throws } from "node:assert/strict";
 *
 * equal(utf8Text(Uint8Array.of(0xc3, 0xa9, 0xef, 0xbf, 0xbd)), "é\ufffd");
 * throws(() => utf8Text(Uint8Array.of(0xc3)), TypeError);
 * ```
 */
export function utf8Text(bytes: Uint8Array): string {
  const text = looseDecoder.decode(bytes);
  return text.includes("\ufffd") ? fatalDecoder.decode(bytes) : text;
}

/**
 * Slab size. The few slabs that are in use when a young collection runs
 * (the current one, those that writes in flight still hold) end up in the
 * old generation, about ten a second at 34,000 calls/s, and their memory
 * counts toward V8's limit until a mark-compact frees it. With 32 KiB slabs
 * that brought a mark-compact (5-17 ms of the main thread's time here)
 * every 30 s; with 8 KiB, one in 100 s, the one every process has soon
 * after it starts. Saturating throughput is the same
 * (`bench/results/s29-slab.txt`).
 */
const SLAB_SIZE = 8 * 1024;
/** Arrays from this size up are allocated alone. */
const SLAB_MAX = 2048;
let slab = new Uint8Array(SLAB_SIZE);
let slabAt = 0;

/**
 * `n` fresh zeroed bytes for an outgoing frame or message, carved from a
 * shared 8 KiB slab when small (a new array from 2 KiB up). Deno takes
 * about 9x as long to allocate a 120-byte `Uint8Array` of its own as to
 * carve one, and every such array is one more object for the collector to
 * track. The views of one slab share its `ArrayBuffer`: never use
 * `.buffer` as if the bytes were alone in it, and hand them on only where
 * they are let go soon (a socket write, a frame cache for one message):
 * one view kept alive keeps the whole slab.
 *
 * @param n How many bytes.
 * @returns A view of `n` zeroed bytes that no one else holds.
 *
 * @example
 * ```ts
 * import { slabBytes } from "./bytes.ts";
 * import { equal } from "node:assert/strict";
 *
 * const a = slabBytes(10);
 * const b = slabBytes(10);
 * a.fill(1);
 * equal(b[0], 0);
 * equal(slabBytes(4096).buffer.byteLength, 4096);
 * ```
 */
export function slabBytes(n: number): Uint8Array {
  if (n >= SLAB_MAX) return new Uint8Array(n);
  if (slabAt + n > SLAB_SIZE) {
    slab = new Uint8Array(SLAB_SIZE);
    slabAt = 0;
  }
  const view = slab.subarray(slabAt, slabAt + n);
  slabAt += n;
  return view;
}

/**
 * `head` zeroed bytes then the UTF-8 of `text`, in one view carved from
 * the slab of {@linkcode slabBytes} (same rules): a frame header and its
 * text payload encoded in place, with no array of its own for either.
 * Room for the longest encoding (up to 2 KiB) is reserved and the rest
 * given back.
 *
 * @param text The text.
 * @param head Bytes to leave before it.
 * @returns The view, or undefined when `text` takes 2 KiB or more.
 *
 * @example
 * ```ts
 * import { slabUtf8 } from "./bytes.ts";
 * import { deepEqual, equal } from "node:assert/strict";
 *
 * deepEqual(slabUtf8("é", 2), Uint8Array.of(0, 0, 0xc3, 0xa9));
 * equal(slabUtf8("x".repeat(2000), 0)?.length, 2000);
 * equal(slabUtf8("é".repeat(1500), 0), undefined);
 * ```
 */
export function slabUtf8(text: string, head: number): Uint8Array | undefined {
  if (head + text.length >= SLAB_MAX) return undefined;
  const room = Math.min(head + 3 * text.length, SLAB_MAX - 1);
  if (slabAt + room > SLAB_SIZE) {
    slab = new Uint8Array(SLAB_SIZE);
    slabAt = 0;
  }
  const start = slabAt;
  const into = slab.subarray(start + head, start + room);
  const { read, written } = textEncoder.encodeInto(text, into);
  if (read < text.length) { // over 2 KiB of UTF-8: leave the slab as it was (zeroed)
    into.fill(0, 0, written);
    return undefined;
  }
  slabAt = start + head + written;
  return slab.subarray(start, slabAt);
}

/**
 * Bytes that are alone in their `ArrayBuffer`: `bytes` itself, or a copy
 * when it is a view into shared memory (a slab of {@linkcode slabBytes}, a
 * pool). For a queue that keeps bytes longer than a turn: a kept view
 * would keep all the memory it shares.
 *
 * @param bytes The bytes.
 * @returns Bytes of their own, with the same content.
 *
 * @example
 * ```ts
 * import { ownBytes, slabBytes } from "./bytes.ts";
 * import { equal, notEqual } from "node:assert/strict";
 *
 * const shared = slabBytes(4);
 * notEqual(ownBytes(shared), shared);
 * equal(ownBytes(shared).buffer.byteLength, 4);
 * const alone = new Uint8Array(4);
 * equal(ownBytes(alone), alone);
 * const { Buffer } = await import("node:buffer");
 * const pooled = Buffer.from("short");
 * equal(ownBytes(pooled).buffer.byteLength, 5);
 * ```
 */
export function ownBytes(bytes: Uint8Array): Uint8Array {
  // `new Uint8Array(view)` copies (a Node Buffer's `slice()` would not).
  return bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes);
}

/**
 * Bytes that keep no more memory alive than twice their size: `bytes`
 * itself, or a copy when it is a view into a buffer over twice its size
 * (a byte string the MessagePack and CBOR decoders return as a view into
 * its frame, or into the read chunk that frame was in). For what is kept
 * past the turn (a retained event, a testament, a held call: see
 * `keptPayloadSize` in `router/core/limits.ts`): a 1-byte view would keep
 * a whole 16 MiB frame alive. Unlike {@linkcode ownBytes}, a view covering
 * at least half its buffer is not copied.
 *
 * @param bytes The bytes.
 * @returns `bytes`, or a copy of its own.
 *
 * @example
 * ```ts
 * import { unpinnedBytes } from "./bytes.ts";
 * import { equal } from "node:assert/strict";
 *
 * const frame = new Uint8Array(1024);
 * equal(unpinnedBytes(frame.subarray(3, 4)).buffer.byteLength, 1);
 * equal(unpinnedBytes(frame.subarray(0, 1000)).buffer, frame.buffer);
 * ```
 */
export function unpinnedBytes(bytes: Uint8Array): Uint8Array {
  // `new Uint8Array(view)` copies (a Node Buffer's `slice()` would not).
  return bytes.byteLength * 2 >= bytes.buffer.byteLength ? bytes : new Uint8Array(bytes);
}

const HEX_DIGITS = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/**
 * Encodes bytes as standard, padded base64 (RFC 4648 section 4).
 *
 * @param bytes The bytes.
 * @returns The base64 text.
 *
 * @example
 * ```ts
 * import { toBase64 } from "./bytes.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(toBase64(new Uint8Array([0xfb, 0xff])), "+/8=");
 * ```
 */
export function toBase64(bytes: Uint8Array): string {
  if (NATIVE) return (bytes as unknown as NativeBytes).toBase64();
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/**
 * Decodes standard base64 into bytes. Check untrusted text first
 * (`decodeBase64` in `auth/util.ts` does).
 *
 * @param text The base64 text.
 * @returns The bytes.
 * @throws {SyntaxError} When `text` is not base64.
 */
export function fromBase64(text: string): Uint8Array {
  if (NATIVE) return (Uint8Array as unknown as NativeBytesConstructor).fromBase64(text);
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    throw new SyntaxError("Cannot decode base64: not base64");
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * Encodes bytes as lowercase hex.
 *
 * @param bytes The bytes.
 * @returns The hex text, two characters a byte.
 */
export function toHex(bytes: Uint8Array): string {
  if (NATIVE) return (bytes as unknown as NativeBytes).toHex();
  let text = "";
  for (const byte of bytes) text += HEX_DIGITS[byte];
  return text;
}

/**
 * Decodes hex text (either case) into bytes.
 *
 * @param text The hex text, an even number of hex digits.
 * @returns The bytes.
 * @throws {SyntaxError} When `text` is not hex.
 */
export function fromHex(text: string): Uint8Array {
  if (NATIVE) return (Uint8Array as unknown as NativeBytesConstructor).fromHex(text);
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) {
    throw new SyntaxError("Cannot decode hex: not hex");
  }
  const bytes = new Uint8Array(text.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

/**
 * Concatenates byte arrays.
 *
 * @param parts The arrays.
 * @returns One new array with all their bytes.
 */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  return concat(parts);
}

/**
 * Joins byte chunks into one new array.
 *
 * @param chunks The chunks, in order.
 * @returns Their bytes, copied into one array.
 */
export function concat(chunks: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  let length = 0;
  for (const c of chunks) length += c.byteLength;
  const out = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
