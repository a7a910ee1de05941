/**
 * A value as a short text for an error message or a log line, made in time
 * and memory bounded by the text's length, whatever the value: a peer's
 * 16 MiB string is not copied, nor its bytes spelled out as JSON
 * (`JSON.stringify` writes a `Uint8Array` as an object, about twelve
 * characters a byte, before any cut).
 *
 * @module
 */

/**
 * A value as JSON-like text of at most `max` characters, then `...` if
 * there was more: strings quoted, byte arrays as `<N bytes>`, lists and
 * dicts item by item until the text is long enough.
 *
 * @param value Any value.
 * @param max The characters to stop at.
 * @returns The text.
 *
 * @example
 * ```ts
 * import { preview } from "./preview.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(preview("a.b"), '"a.b"');
 * equal(preview([1, new Uint8Array(1 << 20)]), "[1,<1048576 bytes>]");
 * equal(preview("x".repeat(100), 10), '"xxxxxxxxx...');
 * ```
 */
export function preview(value: unknown, max = 40): string {
  const parts: string[] = [];
  let length = 0;
  const put = (text: string): boolean => {
    parts.push(text);
    length += text.length;
    return length < max;
  };
  const walk = (v: unknown, depth: number): boolean => {
    if (typeof v === "string") {
      const quoted = JSON.stringify(v.slice(0, max - length));
      return put(v.length > max - length ? quoted.slice(0, -1) : quoted);
    }
    if (typeof v !== "object" || v === null) return put(String(v));
    if (v instanceof Uint8Array || v instanceof ArrayBuffer) return put(`<${v.byteLength} bytes>`);
    if (depth > 8) return put(Array.isArray(v) ? "[...]" : "{...}");
    if (Array.isArray(v)) {
      if (!put("[")) return false;
      for (let i = 0; i < v.length; i++) {
        if ((i > 0 && !put(",")) || !walk(v[i], depth + 1)) return false;
      }
      return put("]");
    }
    if (!put("{")) return false;
    let first = true;
    for (const key in v) {
      if (!first && !put(",")) return false;
      first = false;
      if (!walk(key, depth + 1) || !put(":")) return false;
      if (!walk((v as Record<string, unknown>)[key], depth + 1)) return false;
    }
    return put("}");
  };
  if (walk(value, 0)) return parts.join("");
  return `${parts.join("").slice(0, max)}...`;
}

/**
 * A text cut to `max` characters (then `…`), as a string of its own: in
 * V8 a `slice` of a long string keeps all of it alive, so 50 kept cuts of
 * megabyte texts held 200 MiB.
 *
 * @param text The text.
 * @param max The characters to keep.
 * @returns `text` itself when it is short enough, else a copy of its start.
 *
 * @example
 * ```ts
 * import { cut } from "./preview.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(cut("a.b", 10), "a.b");
 * equal(cut("x".repeat(100), 3), "xxx…");
 * ```
 */
export function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  return JSON.parse(JSON.stringify(`${text.slice(0, max)}…`)) as string;
}
