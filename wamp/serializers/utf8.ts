/**
 * UTF-8 validation for the binary pre-scans (`prescan.ts`): MessagePack
 * and CBOR strings must be valid UTF-8 before a decoder sees them.
 *
 * @module
 */

/**
 * Checks that `bytes[start..end)` is valid UTF-8 (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF).
 *
 * @param bytes The buffer.
 * @param start First byte of the string.
 * @param end One past the last byte.
 * @returns Whether the range is valid UTF-8.
 *
 * @example
 * ```ts
 * import { isUtf8 } from "./utf8.ts";
 * import { equal } from "node:assert/strict";
 *
 * const text = new TextEncoder().encode("héllo €𝄞");
 * equal(isUtf8(text, 0, text.length), true);
 * equal(isUtf8(Uint8Array.of(0xc0, 0xaf), 0, 2), false); // overlong "/"
 * equal(isUtf8(Uint8Array.of(0xed, 0xa0, 0x80), 0, 3), false); // a surrogate
 * ```
 */
export function isUtf8(bytes: Uint8Array, start: number, end: number): boolean {
  let i = start;
  while (i < end) {
    const c = bytes[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let low = 0x80;
    let high = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c === 0xe0) low = 0xa0;
      else if (c === 0xed) high = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c === 0xf0) low = 0x90;
      else if (c === 0xf4) high = 0x8f;
    } else return false;
    if (i + need >= end) return false;
    const c1 = bytes[i + 1]!;
    if (c1 < low || c1 > high) return false;
    for (let k = 2; k <= need; k++) {
      if ((bytes[i + k]! & 0xc0) !== 0x80) return false;
    }
    i += need + 1;
  }
  return true;
}
