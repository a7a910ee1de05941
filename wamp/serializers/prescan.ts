/**
 * Structural pre-scans of MessagePack and CBOR frames, run before the
 * decoder sees the bytes. One pass, no allocation, linear in the frame:
 * checks that the frame is exactly one well-formed item, nests at most
 * {@linkcode MAX_NESTING_DEPTH} levels, holds at most {@linkcode MAX_DICT_KEYS}
 * dict keys, {@linkcode MAX_BYTE_STRINGS} byte strings and {@linkcode MAX_VALUES}
 * values (lists and dicts weighing more) in all, holds only plain data (no CBOR tags
 * or simple values other than false/true/null/undefined, no msgpack ext
 * types), keys dicts by strings or integers, and that every string is valid
 * UTF-8. The decoders then never meet input they handle in super-linear
 * time (cbor-x's tag-2 bignums), build cycles from (CBOR tags 28/29), or
 * decode leniently (invalid UTF-8 turned into other characters).
 *
 * @module
 */

import { MAX_NESTING_DEPTH } from "../payload.ts";
import { isUtf8 } from "./utf8.ts";
import {
  CONTAINER_WEIGHT,
  MAX_BYTE_STRINGS,
  MAX_DICT_KEYS,
  MAX_VALUES,
  TOO_MANY_BYTE_STRINGS,
  TOO_MANY_KEYS,
  TOO_MANY_VALUES,
} from "./decode_limits.ts";

export { isUtf8 };

// Items still expected at each open level (index 1..MAX_NESTING_DEPTH), -1
// for a CBOR indefinite-length list or dict, and whether the level is a dict.
// Shared: the scans are synchronous and never re-entered.
const remaining = new Int32Array(MAX_NESTING_DEPTH + 1);
const isDict = new Uint8Array(MAX_NESTING_DEPTH + 1);
const parity = new Uint8Array(MAX_NESTING_DEPTH + 1);

const TOO_DEEP = `nesting deeper than ${MAX_NESTING_DEPTH} levels`;
const TRUNCATED = "truncated frame";
const NOT_UTF8 = "string is not valid UTF-8";
const BAD_KEY = "dict key is not a string or integer";
// WAMP's JSON reads a string that starts with U+0000 as Base64 bytes: such a text value could
// not reach JSON peers as sent (it broke their sessions). Refused when strict (a router's
// ingress); dict keys are not converted, and may.
const NUL_TEXT = "a text string that starts with U+0000 (WAMP's JSON reads it as binary)";

/**
 * Pre-scans a CBOR frame (RFC 8949). Refuses tags (major type 6: WAMP needs
 * none, and cbor-x decodes some of them in quadratic time or into cycles)
 * except tag 64 on a definite-length byte string (a Uint8Array, as
 * Autobahn|JS sends bytes),
 * simple values other than false/true/null/undefined, reserved encodings,
 * nesting deeper than {@linkcode MAX_NESTING_DEPTH}, lengths beyond the
 * frame, invalid UTF-8, text values that start with U+0000 and trailing
 * bytes.
 *
 * @param bytes The frame.
 * @param strict Whether text values that start with U+0000 are refused.
 * @returns What is wrong, or `undefined` when the frame may be decoded.
 *
 * @example
 * ```ts
 * import { cborFault } from "./prescan.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(cborFault(Uint8Array.of(0x83, 0x01, 0x61, 0x72, 0xa0)), undefined); // [1, "r", {}]
 * equal(cborFault(Uint8Array.of(0x82, 0x01, 0xc2, 0x41, 0x01)), "CBOR tag 2 is not allowed");
 * ```
 */
export function cborFault(bytes: Uint8Array, strict = true): string | undefined {
  const end = bytes.length;
  let pos = 0;
  let depth = 0;
  let keys = 0;
  let binaries = 0;
  let values = 0;
  do {
    if (pos >= end) return TRUNCATED;
    const initial = bytes[pos++]!;
    if (initial !== 0xff && ++values > MAX_VALUES) return TOO_MANY_VALUES;
    const major = initial >> 5;
    const info = initial & 31;
    const key = depth > 0 && isDict[depth] === 1 && keyNext(depth);
    if (key && major > 1 && major !== 3 && initial !== 0xff) return BAD_KEY;
    if (initial === 0xff) {
      // "break": closes an indefinite-length list or dict.
      if (depth === 0 || remaining[depth] !== -1) return "unexpected CBOR break";
      if (isDict[depth] === 1 && parity[depth] === 1) return "CBOR dict without a value";
      depth--;
    } else {
      let arg = info;
      if (info >= 24) {
        if (info > 27 && info !== 31) return `reserved CBOR additional information ${info}`;
        if (info === 31) {
          if (major < 2 || major === 6 || major === 7) return "invalid indefinite-length CBOR item";
          arg = -1;
        } else {
          const size = 1 << (info - 24);
          if (pos + size > end) return TRUNCATED;
          arg = readUint(bytes, pos, size);
          pos += size;
        }
      }
      switch (major) {
        case 0:
        case 1:
          break;
        case 2:
        case 3: {
          if (major === 2 && ++binaries > MAX_BYTE_STRINGS) return TOO_MANY_BYTE_STRINGS;
          if (arg === -1) {
            const at = scanChunks(bytes, pos, major, strict && !key);
            if (at < 0) {
              if (at === -3) return NUL_TEXT;
              return at === -2 ? NOT_UTF8 : "invalid indefinite-length CBOR string";
            }
            pos = at;
          } else {
            if (arg > end - pos) return TRUNCATED;
            if (major === 3 && !isUtf8(bytes, pos, pos + arg)) return NOT_UTF8;
            if (major === 3 && arg > 0 && bytes[pos] === 0 && strict && !key) return NUL_TEXT;
            pos += arg;
          }
          break;
        }
        case 4:
        case 5: {
          if ((values += CONTAINER_WEIGHT) > MAX_VALUES) return TOO_MANY_VALUES;
          if (arg === 0) break;
          if (depth === MAX_NESTING_DEPTH) return TOO_DEEP;
          const items = arg === -1 ? -1 : major === 5 ? arg * 2 : arg;
          if (items > end - pos) return TRUNCATED;
          if (major === 5 && arg !== -1 && (keys += arg) > MAX_DICT_KEYS) return TOO_MANY_KEYS;
          depth++;
          remaining[depth] = items;
          isDict[depth] = major === 5 ? 1 : 0;
          parity[depth] = 0;
          continue;
        }
        case 6:
          // Tag 64 (RFC 8746: uint8 typed array) on a byte string is what
          // Autobahn|JS's CBOR library writes for a Uint8Array: it is bytes.
          if (arg === 64 && pos < end && bytes[pos]! >> 5 === 2 && bytes[pos] !== 0x5f) continue;
          return `CBOR tag ${arg} is not allowed`;
        default:
          // false, true, null, undefined, and floats (whose bytes are read above).
          if (info < 20 || info === 24) return `CBOR simple value ${arg} is not allowed`;
      }
    }
    // One item done at `depth`: close every definite level it completes.
    while (depth > 0) {
      const left = remaining[depth]!;
      if (left === -1) {
        // An indefinite-length dict counts a key each time one is done.
        if (isDict[depth] === 1 && parity[depth] === 0 && ++keys > MAX_DICT_KEYS) {
          return TOO_MANY_KEYS;
        }
        parity[depth] = 1 - parity[depth]!;
        break;
      }
      remaining[depth] = left - 1;
      if (left > 1) break;
      depth--;
    }
  } while (depth > 0);
  return pos === end ? undefined : "trailing bytes after the CBOR item";
}

function keyNext(depth: number): boolean {
  const left = remaining[depth]!;
  return left === -1 ? parity[depth] === 0 : (left & 1) === 0;
}

function readUint(bytes: Uint8Array, pos: number, size: number): number {
  let value = 0;
  for (let i = 0; i < size; i++) value = value * 256 + bytes[pos + i]!;
  return value;
}

/**
 * Scans the chunks of an indefinite-length CBOR byte or text string up to
 * its break. Returns the position after the break, -1 when malformed, -2
 * for invalid UTF-8, -3 for a text value (`value`) that starts with U+0000.
 */
function scanChunks(bytes: Uint8Array, pos: number, major: number, value: boolean): number {
  const end = bytes.length;
  let first = major === 3 && value;
  while (pos < end) {
    const initial = bytes[pos++]!;
    if (initial === 0xff) return pos;
    if (initial >> 5 !== major) return -1;
    const info = initial & 31;
    let length = info;
    if (info >= 24) {
      if (info > 27) return -1;
      const size = 1 << (info - 24);
      if (pos + size > end) return -1;
      length = readUint(bytes, pos, size);
      pos += size;
    }
    if (length > end - pos) return -1;
    if (major === 3 && !isUtf8(bytes, pos, pos + length)) return -2;
    if (first && length > 0) {
      if (bytes[pos] === 0) return -3;
      first = false;
    }
    pos += length;
  }
  return -1;
}

/**
 * Pre-scans a MessagePack frame. Refuses ext types (the timestamp ext
 * included: WAMP has no dates), the never-used byte 0xc1, nesting deeper than
 * {@linkcode MAX_NESTING_DEPTH}, lengths beyond the frame, dict keys other
 * than strings and integers, invalid UTF-8, text values that start with
 * U+0000 and trailing bytes.
 *
 * @param bytes The frame.
 * @param strict Whether text values that start with U+0000 are refused.
 * @returns What is wrong, or `undefined` when the frame may be decoded.
 *
 * @example
 * ```ts
 * import { msgpackFault } from "./prescan.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(msgpackFault(Uint8Array.of(0x93, 0x01, 0xa1, 0x72, 0x80)), undefined); // [1, "r", {}]
 * equal(msgpackFault(Uint8Array.of(0x91, 0xd4, 0x05, 0x00)), "msgpack ext type 5 is not allowed");
 * ```
 */
export function msgpackFault(bytes: Uint8Array, strict = true): string | undefined {
  const end = bytes.length;
  let pos = 0;
  let depth = 0;
  let top = 0; // items in the outermost list
  let keys = 0;
  let binaries = 0;
  let values = 0;
  topUndefined = false;
  topLength = -1;
  do {
    if (pos >= end) return TRUNCATED;
    if (++values > MAX_VALUES) return TOO_MANY_VALUES;
    if (depth === 1) {
      const index = top - remaining[1]!;
      if (index < topStarts.length) topStarts[index] = pos;
    }
    const b = bytes[pos++]!;
    const key = depth > 0 && isDict[depth] === 1 && (remaining[depth]! & 1) === 0;
    let str = -1;
    let container = -1;
    let dict = false;
    if (b <= 0x7f || b >= 0xe0) {
      // fixint
    } else if (b <= 0x8f) {
      container = b & 0x0f;
      dict = true;
    } else if (b <= 0x9f) container = b & 0x0f;
    else if (b <= 0xbf) str = b & 0x1f;
    else {
      const size = FIXED[b - 0xc0]!;
      if (b === 0xd4 && bytes[pos] === 0 && bytes[pos + 1] === 0) {
        // msgpackr's `undefined` (fixext 1, type 0, data 0): wampy sends it
        // for absent options; the decoder reads it as undefined.
        if (key) return BAD_KEY;
        pos += 2;
        topUndefined = true;
      } else if (size === BAD) {
        return b === 0xc1 ? "msgpack byte 0xc1 is never used" : extFault(bytes, pos, b);
      } else if (size > 0) {
        // bin/str/array/map lengths and fixed-size numbers.
        if (pos + size > end) return TRUNCATED;
        if (b >= 0xc4 && b <= 0xc6) {
          const length = readUint(bytes, pos, size);
          pos += size;
          if (length > end - pos) return TRUNCATED;
          pos += length;
          if (key) return BAD_KEY;
          if (++binaries > MAX_BYTE_STRINGS) return TOO_MANY_BYTE_STRINGS;
        } else if (b >= 0xd9 && b <= 0xdb) {
          str = readUint(bytes, pos, size);
          pos += size;
        } else if (b >= 0xdc) {
          container = readUint(bytes, pos, size);
          pos += size;
          dict = b >= 0xde;
        } else {
          // floats and integers: only integers may key a dict.
          pos += size;
          if (key && b <= 0xcb) return BAD_KEY;
        }
      } else if (key) return BAD_KEY; // nil, false, true
    }
    if (str >= 0) {
      if (str > end - pos) return TRUNCATED;
      if (!isUtf8(bytes, pos, pos + str)) return NOT_UTF8;
      if (str > 0 && bytes[pos] === 0 && strict && !key) return NUL_TEXT;
      pos += str;
    } else if (container >= 0) {
      if (key) return BAD_KEY;
      if ((values += CONTAINER_WEIGHT) > MAX_VALUES) return TOO_MANY_VALUES;
      if (container > 0) {
        if (depth === MAX_NESTING_DEPTH) return TOO_DEEP;
        const items = dict ? container * 2 : container;
        if (items > end - pos) return TRUNCATED;
        if (dict && (keys += container) > MAX_DICT_KEYS) return TOO_MANY_KEYS;
        if (depth === 0) top = items;
        depth++;
        remaining[depth] = items;
        isDict[depth] = dict ? 1 : 0;
        continue;
      }
    }
    while (depth > 0) {
      const left = remaining[depth]!;
      remaining[depth] = left - 1;
      if (left > 1) break;
      depth--;
    }
  } while (depth > 0);
  if (pos !== end) return "trailing bytes after the msgpack item";
  topLength = top;
  return undefined;
}

// Where the last frame msgpackFault accepted starts each of its outermost list's first
// elements, how many that list holds (-1: not a list, or refused), and whether it holds
// msgpackr's `undefined` anywhere.
const topStarts = new Int32Array(8);
let topLength = -1;
let topUndefined = false;

/**
 * Where element `at` of the outermost list starts in the last frame
 * {@linkcode msgpackFault} accepted, when that frame holds no msgpackr
 * `undefined` (which other MessagePack peers may not read): for splicing a
 * payload on as it came. Read it right after the scan.
 *
 * @param at The element's index.
 * @returns Its byte offset, or -1.
 *
 * @example
 * ```ts
 * import { msgpackElementOffset, msgpackFault } from "./prescan.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(msgpackFault(Uint8Array.of(0x93, 0x01, 0xa1, 0x72, 0x91, 0x05)), undefined); // [1, "r", [5]]
 * equal(msgpackElementOffset(2), 4);
 * equal(msgpackElementOffset(3), -1);
 * ```
 */
export function msgpackElementOffset(at: number): number {
  return !topUndefined && at < topLength && at < topStarts.length ? topStarts[at]! : -1;
}

/**
 * The bytes after a MessagePack format byte of 0xc0..0xdf: the length
 * field of a bin, ext, str, array or map, the value of a number, 0 for
 * nil and booleans; -1 for a format refused here (ext, 0xc1) or a byte
 * outside that range.
 *
 * @param b The format byte.
 * @returns The count, or -1.
 *
 * @example
 * ```ts
 * import { msgpackFixedSize } from "./prescan.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(msgpackFixedSize(0xcf), 8); // uint 64
 * equal(msgpackFixedSize(0xda), 2); // str 16
 * equal(msgpackFixedSize(0x90), -1);
 * ```
 */
export function msgpackFixedSize(b: number): number {
  return b >= 0xc0 && b <= 0xdf ? FIXED[b - 0xc0]! : BAD;
}

const BAD = -1;
// Bytes after the first byte of the formats 0xc0..0xdf: nil, (never used),
// false, true, bin 8/16/32, ext 8/16/32, float 32/64, uint 8..64, int 8..64,
// fixext 1..16, str 8/16/32, array 16/32, map 16/32. BAD marks what we refuse.
// deno-fmt-ignore
const FIXED: readonly number[] = [
  0, BAD, 0, 0, 1, 2, 4, BAD, BAD, BAD, 4, 8, 1, 2, 4, 8,
  1, 2, 4, 8, BAD, BAD, BAD, BAD, BAD, 1, 2, 4, 2, 4, 2, 4,
];

function extFault(bytes: Uint8Array, pos: number, b: number): string {
  // fixext 1..16 (0xd4..0xd8): the type follows; ext 8/16/32: after the length.
  const at = b >= 0xd4 ? pos : pos + (b === 0xc7 ? 1 : b === 0xc8 ? 2 : 4);
  const type = bytes[at];
  return type === undefined
    ? "msgpack ext types are not allowed"
    : `msgpack ext type ${(type << 24) >> 24} is not allowed`;
}
