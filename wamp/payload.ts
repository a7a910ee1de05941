/**
 * What a message may carry so that the router can re-encode it for every
 * serializer: plain data (null, booleans, numbers, strings, byte arrays,
 * lists, plain dicts) nested at most {@linkcode MAX_NESTING_DEPTH} levels.
 * A message that breaks this is refused from its sender at arrival, instead
 * of failing later when it is encoded for a recipient.
 *
 * @module
 */

/**
 * The deepest a whole message may nest: the message list itself is level 1,
 * its Arguments list level 2, and so on. Well below the 100 levels
 * `@msgpack/msgpack`'s encoder allows, and shallow enough for the recursive
 * walks of cbor-x and `JSON.stringify`.
 *
 * @example
 * ```ts
 * import { MAX_NESTING_DEPTH } from "@cloverleaf/wamp/wamp";
 * import { equal } from "node:assert/strict";
 *
 * equal(MAX_NESTING_DEPTH, 64);
 * ```
 */
export const MAX_NESTING_DEPTH = 64;

/**
 * Finds why a decoded value could not travel through every serializer: a
 * value that is not plain data (a `Date`, `Map`, `Set`, msgpack `ExtData`,
 * cbor-x `Tag`, `bigint`, a function, …), a string or dict key with a lone
 * surrogate (MessagePack and CBOR could only carry it as invalid UTF-8;
 * `isWellFormed()` answers at once for the one-byte strings V8 keeps most
 * text in), a string value that starts with U+0000 (WAMP's JSON reads it
 * as binary; `nulText`), an own `__proto__` key (`JSON.parse` makes one;
 * MessagePack decoders refuse it), or nesting deeper than
 * {@linkcode MAX_NESTING_DEPTH} (which also catches cycles). The walk stops
 * at the limit, so its cost is bounded by the size of the value, whatever
 * the nesting.
 *
 * @param value A decoded message (or any part of one).
 * @param checkStrings Whether to look for lone surrogates (a decoder that
 * cannot produce them, such as JSON text without `\u` escapes, skips it).
 * @param nulText Whether to refuse string values that start with U+0000
 * (the JSON decoder, which reads them as binary next, does not).
 * @param protoKeys Whether to refuse own `__proto__` keys (a client
 * decoding what its router sends does not).
 * @returns What is wrong, or `undefined` when the value is plain data.
 *
 * @example
 * ```ts
 * import { unsafeValue } from "@cloverleaf/wamp/wamp";
 * import { equal } from "node:assert/strict";
 *
 * equal(unsafeValue([16, 1, {}, "a.topic", [new Uint8Array(2), null]]), undefined);
 * equal(unsafeValue([16, 1, {}, "a.topic", [new Date(0)]]), "a Date value");
 * equal(
 *   unsafeValue([16, 1, {}, "a.topic", ["\ud800"]]),
 *   "a string with a lone surrogate (not valid Unicode)",
 * );
 * let deep: unknown = [];
 * for (let i = 0; i < 64; i++) deep = [deep];
 * equal(unsafeValue(deep), "nesting deeper than 64 levels");
 * ```
 */
export function unsafeValue(
  value: unknown,
  checkStrings = true,
  nulText = checkStrings,
  protoKeys = true,
): string | undefined {
  return fault(value, MAX_NESTING_DEPTH, checkStrings, nulText, protoKeys);
}

function fault(
  value: unknown,
  levels: number,
  strings: boolean,
  nul: boolean,
  protoKeys: boolean,
): string | undefined {
  if (typeof value !== "object") {
    const type = typeof value;
    if (type === "string") {
      if (nul && (value as string).charCodeAt(0) === 0) return NUL_TEXT;
      return !strings || (value as string).isWellFormed() ? undefined : LONE_SURROGATE;
    }
    return type === "number" || type === "boolean" || type === "undefined"
      ? undefined
      : `a ${type} value`;
  }
  if (value === null) return undefined;
  if (Array.isArray(value)) {
    if (levels <= 0) return TOO_DEEP;
    // Index loop: `for…of` and `for…in` are slower on arrays.
    for (let i = 0; i < value.length; i++) {
      const found = fault(value[i], levels - 1, strings, nul, protoKeys);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (value instanceof Uint8Array) return undefined;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    return `a ${
      (value as { constructor?: { name?: string } }).constructor?.name ?? "non-plain"
    } value`;
  }
  if (levels <= 0) return TOO_DEEP;
  const record = value as Record<string, unknown>;
  for (const key in record) {
    if (strings && !key.isWellFormed()) return LONE_SURROGATE;
    if (protoKeys && key === "__proto__") return PROTO_KEY;
    const found = fault(record[key], levels - 1, strings, nul, protoKeys);
    if (found !== undefined) return found;
  }
  return undefined;
}

const TOO_DEEP = `nesting deeper than ${MAX_NESTING_DEPTH} levels`;
// JSON's "\ud800" escape (or an in-process string) can hold one; encoded as
// MessagePack or CBOR it would not be valid UTF-8.
const LONE_SURROGATE = "a string with a lone surrogate (not valid Unicode)";
const NUL_TEXT = "a text string that starts with U+0000 (WAMP's JSON reads it as binary)";
const PROTO_KEY = "a __proto__ key (MessagePack decoders refuse it)";
