/**
 * The scan of long JSON text before `JSON.parse`: the JSON counterpart of
 * the MessagePack and CBOR pre-scans in `prescan.ts`, for the two things
 * `JSON.parse` takes super-linear time on, and the counts that bound its
 * time.
 *
 * @module
 */

import { MAX_NESTING_DEPTH } from "../payload.ts";
import {
  CONTAINER_WEIGHT,
  MAX_BYTE_STRINGS,
  MAX_DICT_KEYS,
  MAX_VALUES,
  TOO_MANY_BYTE_STRINGS,
  TOO_MANY_KEYS,
  TOO_MANY_VALUES,
} from "./decode_limits.ts";

const TOO_DEEP = `nesting deeper than ${MAX_NESTING_DEPTH} levels`;

/**
 * Frames longer than this (in UTF-16 units) get {@linkcode jsonFault}
 * before `JSON.parse`; shorter ones cannot nest deep enough to cost more
 * than about a millisecond to parse (the walk after parsing refuses them),
 * nor hold more than {@linkcode MAX_DICT_KEYS} keys (each takes 5 characters).
 */
export const JSON_SCAN_THRESHOLD = 64 * 1024;

/**
 * What is wrong with JSON text that `JSON.parse` would take too long on:
 * lists and dicts nested deeper than {@linkcode MAX_NESTING_DEPTH} levels,
 * more than {@linkcode MAX_DICT_KEYS} dict keys (each `:` outside a
 * string is one), {@linkcode MAX_BYTE_STRINGS} byte strings (strings that
 * start with `\u0000`), or about {@linkcode MAX_VALUES} values (each `,`
 * and `:` outside a string one more, each `[` and `{` as the binary scans
 * count a list or dict and its first element). One pass skipping string
 * contents, stopping at the first fault. `JSON.parse` takes 80 to 170 ns per character on deeply nested text
 * (over a second for a 16 MiB frame of `[`), about 40 times its cost on
 * ordinary text; this scan takes about 2 ns.
 *
 * @param text JSON text (it need not be valid: `JSON.parse` still decides).
 * @returns What is wrong, or `undefined`.
 *
 * @example
 * ```ts
 * import { jsonFault } from "./json_scan.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(jsonFault('[16,1,{},"t",[["[[[["]]]'), undefined);
 * equal(jsonFault("[".repeat(65)), "nesting deeper than 64 levels");
 * ```
 */
export function jsonFault(text: string): string | undefined {
  let depth = 0;
  let keys = 0;
  let values = 0;
  let binaries = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) { // '"': skip to the closing quote, past escapes
      // A string starting with U+0000 is a byte string (base64): counted as the binary scans do.
      if (text.startsWith("\\u0000", i + 1) && ++binaries > MAX_BYTE_STRINGS) {
        return TOO_MANY_BYTE_STRINGS;
      }
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x2c) { // ',': one more value in a list (or entry in a dict)
      if (++values > MAX_VALUES) return TOO_MANY_VALUES;
    } else if (c === 0x3a) { // ':': a key, which the binary scans count as a value too
      if (++keys > MAX_DICT_KEYS) return TOO_MANY_KEYS;
      if (++values > MAX_VALUES) return TOO_MANY_VALUES;
    } else if (c === 0x5b || c === 0x7b) { // '[' '{'
      if (++depth > MAX_NESTING_DEPTH) return TOO_DEEP;
      // The container and its first element (no comma before it).
      if ((values += CONTAINER_WEIGHT + 1) > MAX_VALUES) return TOO_MANY_VALUES;
    } else if (c === 0x5d || c === 0x7d) { // ']' '}'
      depth--;
    }
  }
  return undefined;
}
