/**
 * JSON serializer (`wamp.2.json`, text frames). Binary values travel as a
 * string of U+0000 followed by base64, in both directions (spec
 * "Binary conversion of JSON strings").
 *
 * @module
 */

import { fromBase64, toBase64, utf8Text } from "../bytes.ts";
import { MAX_NESTING_DEPTH, unsafeValue } from "../payload.ts";
import { JSON_SCAN_THRESHOLD, jsonFault } from "./json_scan.ts";
import { type Codec, createSerializer, type Serializer } from "./serializer.ts";
import { toWire, type WampMessage } from "../messages.ts";
import {
  jsonElementOffset,
  keepPayload,
  keptPayload,
  payloadIndex,
  payloadSlot,
  spliceable,
} from "./splice.ts";

/**
 * Replaces every `Uint8Array` inside `value` by its `"\0" + base64` string.
 * Returns `value` itself when it holds no bytes.
 *
 * @param value Any JSON-able value.
 * @returns The value with binary converted.
 *
 * @example
 * ```ts
 * import { binaryToJson } from "@cloverleaf/wamp/wamp";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(binaryToJson([new Uint8Array([1, 2])]), ["\0AQI="]);
 * ```
 */
export function binaryToJson(value: unknown): unknown {
  // Most values are not objects: settled before any prototype walk.
  if (typeof value !== "object" || value === null) return value;
  if (value instanceof Uint8Array) return "\0" + toBase64(value);
  if (value instanceof ArrayBuffer) return "\0" + toBase64(new Uint8Array(value));
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      const conv = binaryToJson(item);
      if (conv !== item) {
        out ??= value.slice();
        out[i] = conv;
      }
    }
    return out ?? value;
  }
  let out: Record<string, unknown> | undefined;
  const record = value as Record<string, unknown>;
  for (const key in record) {
    const item = record[key];
    const conv = binaryToJson(item);
    if (conv !== item) {
      out ??= { ...record };
      out[key] = conv;
    }
  }
  return out ?? value;
}

/**
 * Replaces every string that starts with U+0000 inside `value` by the bytes
 * its base64 tail encodes. Converts in place and returns `value`.
 *
 * @param value A value produced by `JSON.parse`.
 * @returns The same value with binary strings decoded.
 *
 * @example
 * ```ts
 * import { jsonToBinary } from "@cloverleaf/wamp/wamp";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(jsonToBinary(["\0AQI="]), [new Uint8Array([1, 2])]);
 * ```
 */
export function jsonToBinary(value: unknown): unknown {
  if (typeof value === "string") {
    return value.charCodeAt(0) === 0 ? fromBase64(value.slice(1)) : value;
  }
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = jsonToBinary(value[i]);
    return value;
  }
  const record = value as Record<string, unknown>;
  for (const key in record) record[key] = jsonToBinary(record[key]);
  return value;
}

const codec: Codec = {
  encode(wire) {
    return JSON.stringify(binaryToJson(wire));
  },
  decode(frame, strict) {
    const text = typeof frame === "string" ? frame : utf8Text(frame);
    const scanned = text.length > JSON_SCAN_THRESHOLD;
    if (scanned) {
      const fault = jsonFault(text);
      if (fault !== undefined) throw new TypeError(fault);
    }
    const value = JSON.parse(text);
    // JSON.parse yields plain data only. Lone surrogates can only come from
    // `\u` escapes; the depth is known for text this short (each level takes
    // two brackets) and for scanned text; a `__proto__` key (refused when
    // strict) is spelled out or escaped. Most messages need no walk at all.
    // Strings that start with U+0000 are binary, converted below.
    const escapes = text.includes("\\u");
    if (
      escapes || (!scanned && text.length > 2 * MAX_NESTING_DEPTH) ||
      (strict && text.includes("__proto__"))
    ) {
      const fault = unsafeValue(value, escapes, false, strict);
      if (fault !== undefined) throw new TypeError(fault);
    }
    // U+0000 can only appear escaped in JSON text, so this finds every candidate.
    if (escapes && text.includes("\\u0000")) jsonToBinary(value);
    // Only text without `\u` escapes is passed on as it came: escapes are where a duplicate key
    // could hide what the checks above never saw (a lone surrogate, a NUL string).
    if (!escapes && Array.isArray(value)) keep(text, value);
    return value;
  },
  prechecked: true,
  splice: spliceJson,
};

const slot = payloadSlot();

/**
 * Keeps the text of a PUBLISH, CALL or YIELD for {@linkcode spliceJson}:
 * where its payload starts is only looked for when it is spliced.
 */
function keep(text: string, wire: unknown[]): void {
  const at = payloadIndex(wire);
  if (at >= 0 && spliceable(wire, at)) keepPayload(slot, wire, at, text);
}

/**
 * Below this many characters of kept text, the payload is encoded again
 * with the head (not walked for binary: text with no escape holds none)
 * instead of found in the text and spliced: finding it cost about 110 ns
 * per decoded message, more than splicing saved on small payloads
 * (`--cpu-prof` of `load:compare` rpc json); from 1 KiB, splicing wins
 * (`deno bench -A bench/serializers_bench.ts`, groups "splice json").
 */
const SPLICE_MIN_CHARS = 1024;

/**
 * Encodes a message as JSON bytes by splicing in the payload text the
 * JSON serializer kept when it decoded the message the payload came from
 * (an EVENT's from its PUBLISH, an INVOCATION's from its CALL, a RESULT's
 * from its YIELD): only the head is encoded. Same meaning as
 * `json.encode`; a spliced payload keeps the publisher's spelling of it.
 * Short messages are encoded whole instead, without looking for binary
 * in the payload (text with no `\u` escape holds none).
 *
 * @param msg The message.
 * @returns Its JSON text, or undefined when it carries no kept payload.
 *
 * @example
 * ```ts
 * import { json, MessageType } from "@cloverleaf/wamp/wamp";
 * import { spliceJson } from "./json.ts";
 * import { equal } from "node:assert/strict";
 *
 * const long = "x".repeat(1024);
 * const call = json.decode(`[48,7,{},"a.proc",[1, "${long}"]]`);
 * if (call.type !== MessageType.CALL || call.args === undefined) throw new Error();
 * const invocation = {
 *   type: MessageType.INVOCATION,
 *   request: 9,
 *   registration: 3,
 *   details: {},
 *   args: call.args,
 * } as const;
 * equal(spliceJson(invocation), `[68,9,3,{},[1, "${long}"]]`);
 * ```
 */
export function spliceJson(msg: WampMessage): string | undefined {
  const kept = keptPayload(slot, msg as { args?: unknown[] });
  if (kept === undefined || typeof kept.payload !== "string") return undefined;
  const text = kept.payload;
  const head = binaryToJson(toWire(msg, false)) as unknown[];
  if (text.length < SPLICE_MIN_CHARS) {
    // The payload objects as decoded from text with no `\u` escape: no binary to convert.
    // Numbers are written as JSON.parse read them (doubles, as RFC 8259 advises peers).
    const { args, kwargs } = msg as { args: unknown[]; kwargs?: unknown };
    if (kwargs === undefined) head.push(args);
    else head.push(args, kwargs);
    return JSON.stringify(head);
  }
  // Found once per decoded message, however many EVENTs (one per subscription) carry it.
  if (kept.derived === undefined) {
    const offset = jsonElementOffset(text, kept.at);
    kept.derived = offset > 0 ? text.slice(offset) : "";
  }
  if (kept.derived === "") return undefined;
  // The head without its closing bracket, a comma, then the kept payload (which closes the list).
  return JSON.stringify(head).slice(0, -1) + "," + kept.derived;
}

/**
 * The JSON serializer.
 *
 * @example
 * ```ts
 * import { json, MessageType } from "@cloverleaf/wamp/wamp";
 * import { deepEqual } from "node:assert/strict";
 *
 * const msg = json.decode('[36,1,2,{},["\\u0000AQI="]]');
 * deepEqual(msg, {
 *   type: MessageType.EVENT,
 *   subscription: 1,
 *   publication: 2,
 *   details: {},
 *   args: [new Uint8Array([1, 2])],
 * });
 * ```
 */
export const json: Serializer = createSerializer(
  { name: "json", subprotocol: "wamp.2.json", binary: false, rawSocketId: 1 },
  codec,
);
