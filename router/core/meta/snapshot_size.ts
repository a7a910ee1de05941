/**
 * How large a piece of a cluster snapshot is, bounded from above, for
 * splitting snapshots into parts below NATS's `max_payload`.
 *
 * @module
 */

import type { Dict } from "../../../wamp/mod.ts";

/**
 * A bound on a value's MessagePack size (what the shell sends), walked
 * without building any text: JSON.stringify spelled a session's binary
 * authextra out at about twelve characters a byte. Strings count their
 * UTF-8 bytes, byte arrays their length, and each string, container and
 * scalar 9 more.
 *
 * @param value A session's details, a subscription: plain data.
 * @returns The bound, in bytes.
 */
export function sizeOf(value: unknown): number {
  let size = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === "string") size += 9 + utf8Length(v);
    else if (v instanceof Uint8Array) size += 9 + v.byteLength;
    else if (Array.isArray(v)) {
      size += 9;
      for (let i = 0; i < v.length; i++) stack.push(v[i]);
    } else if (typeof v === "object" && v !== null) {
      size += 9;
      for (const key in v) {
        size += 9 + utf8Length(key);
        stack.push((v as Dict)[key]);
      }
    } else size += 9;
  }
  return size;
}

/**
 * How many bytes a string takes in UTF-8, at most: a surrogate counts 3,
 * as a lone one is written (U+FFFD); a pair takes 4 of those 6.
 */
function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x80) bytes += code < 0x800 ? 1 : 2;
  }
  return bytes;
}
