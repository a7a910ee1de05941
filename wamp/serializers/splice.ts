/**
 * Payloads that pass through the router unchanged: a PUBLISH's, CALL's or
 * YIELD's Arguments and ArgumentsKw become the EVENT's, INVOCATION's or
 * RESULT's as they are (the same array and dict objects). A serializer
 * that decoded such a message keeps the serialized bytes of its payload
 * ({@linkcode keepPayload}), and when the forwarded message is encoded
 * with that same serializer the bytes are spliced in behind its freshly
 * encoded head ({@linkcode keptPayload}) instead of encoding the payload
 * again. Only the last such message is kept per serializer (the router
 * forwards in the turn it decodes); any other message, and any message
 * whose payload objects are not the decoded ones, is encoded as usual.
 * A payload is only ever sent on as part of a message that was decoded
 * whole and passed every check, since only such a message reaches the
 * router and holds the payload objects; and only in the turn it was
 * decoded in, before in-process code could change those objects.
 *
 * @module
 */

import { MessageType } from "../message_type.ts";
import type { Dict } from "../options.ts";

// The last payload each codec kept: the router forwards a message in the same turn as it
// decodes it (a fan-out encodes one EVENT object for every subscriber), so one slot per
// codec catches the hot path with no per-message allocation or weak table. Strong
// references, bounded: one message per codec.

/** Where one codec keeps its last payload: get it once, with {@linkcode payloadSlot}. */
export interface PayloadSlot {
  /** The decoded Arguments (undefined: nothing kept). */
  args: unknown[] | undefined;
  /** The decoded ArgumentsKw. */
  kwargs: unknown;
  /** What the codec kept. */
  payload: string | Uint8Array;
  /** The index of Arguments in the decoded wire array. */
  at: number;
  /** What the codec worked out from `payload` once, for every message it splices it into. */
  derived: string | undefined;
}

/** What a serializer kept of a decoded message: see {@linkcode keepPayload}. */
export type Kept = Pick<PayloadSlot, "payload" | "at" | "derived">;

const slots: PayloadSlot[] = [];
let forgetting = false;

/** Drops every kept payload (at the end of the turn that kept them). */
function forget(): void {
  forgetting = false;
  for (const slot of slots) {
    slot.args = undefined;
    slot.kwargs = undefined;
    slot.payload = "";
    slot.derived = undefined;
  }
}

/**
 * A codec's slot for the payload it keeps; ask once, when the codec is
 * defined.
 *
 * @returns A new slot, emptied at the end of every turn that fills it.
 */
export function payloadSlot(): PayloadSlot {
  const slot: PayloadSlot = {
    args: undefined,
    kwargs: undefined,
    payload: "",
    at: 0,
    derived: undefined,
  };
  slots.push(slot);
  return slot;
}

/**
 * Where Arguments stand in a wire array whose payload the router forwards
 * unchanged (PUBLISH, CALL, YIELD), or -1.
 *
 * @param wire A decoded wire array.
 * @returns The index of Arguments, or -1 for other messages.
 */
export function payloadIndex(wire: unknown[]): number {
  const type = wire[0];
  return type === MessageType.PUBLISH || type === MessageType.CALL
    ? 4
    : type === MessageType.YIELD
    ? 3
    : -1;
}

/**
 * Whether the payload of `wire`, from index `at`, is exactly what
 * `toWire` writes for the same Arguments and ArgumentsKw: a non-empty
 * list alone, or a list and a non-empty dict. Anything else (a null
 * Arguments, an empty trailing element, Autobahn's opaque payload) is
 * encoded afresh.
 *
 * @param wire A decoded wire array.
 * @param at The index of Arguments.
 * @returns Whether its payload bytes may be spliced as they are.
 */
export function spliceable(wire: unknown[], at: number): boolean {
  const args = wire[at];
  if (!Array.isArray(args)) return false;
  if (wire.length === at + 1) return args.length > 0;
  if (wire.length !== at + 2) return false;
  const kwargs = wire[at + 1];
  if (typeof kwargs !== "object" || kwargs === null || Array.isArray(kwargs)) return false;
  for (const _ in kwargs) return true;
  return false;
}

/**
 * Keeps the serialized payload of a decoded message for
 * {@linkcode keptPayload}. Call it only after the message passed every
 * check, with a wire array for which {@linkcode spliceable} holds.
 *
 * @param slot The codec's slot.
 * @param wire The decoded wire array.
 * @param at The index of Arguments.
 * @param payload What the serializer needs to splice the payload later: the whole JSON text
 * (Arguments is its element `at`), or MessagePack bytes from Arguments to the end (bytes
 * not written to again within this turn).
 */
export function keepPayload(
  slot: PayloadSlot,
  wire: unknown[],
  at: number,
  payload: string | Uint8Array,
): void {
  // Kept for this turn only: the router forwards what it decoded before the turn ends, while
  // in-process code (a local callee or subscriber, run from a later microtask) may change the
  // payload objects before it sends them on.
  if (!forgetting) {
    forgetting = true;
    queueMicrotask(forget);
  }
  slot.args = wire[at] as unknown[];
  slot.kwargs = wire[at + 1];
  slot.payload = payload;
  slot.at = at;
  slot.derived = undefined;
}

/**
 * The payload a codec kept for a message's Arguments and ArgumentsKw,
 * when both are the objects it decoded together, in the last message it
 * decoded with a payload to pass through.
 *
 * @param slot The codec's slot.
 * @param msg The payload of a message about to be encoded.
 * @returns What it kept (given to {@linkcode keepPayload}), or undefined.
 */
export function keptPayload(
  slot: PayloadSlot,
  msg: { args?: unknown[]; kwargs?: Dict; payload?: unknown },
): Kept | undefined {
  const args = msg.args;
  if (args === undefined || msg.payload !== undefined) return undefined;
  return slot.args === args && slot.kwargs === msg.kwargs ? slot : undefined;
}

/**
 * The offset of the element at index `at` in a JSON text that `JSON.parse`
 * accepted as a list: skips the opening bracket and `at` elements, each
 * with its comma. Linear in the bytes skipped; only the head of the
 * message (type, IDs, options, URI) is walked.
 *
 * @param b The JSON text.
 * @param at How many elements to skip.
 * @returns The offset of element `at`, or -1 when the text is not shaped so.
 *
 * @example
 * ```ts
 * import { jsonElementOffset } from "./splice.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(jsonElementOffset('[16, 1, {"a": "]"}, "t", [1]]', 4), 25);
 * equal(jsonElementOffset('[16, 1, {"a": "\\"]"}, "t", [1]]', 4), 27);
 * ```
 */
export function jsonElementOffset(b: string, at: number): number {
  let i = space(b, 0);
  if (b.charCodeAt(i) !== 0x5b) return -1; // [
  i++;
  for (let k = 0; k < at; k++) {
    i = skip(b, space(b, i));
    if (i < 0) return -1;
    i = space(b, i);
    if (b.charCodeAt(i) !== 0x2c) return -1; // ,
    i++;
  }
  return space(b, i);
}

function space(b: string, i: number): number {
  while (i < b.length) {
    const c = b.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    i++;
  }
  return i;
}

/** One past the end of the JSON value at `i`, or -1. */
function skip(b: string, i: number): number {
  const c = b.charCodeAt(i);
  if (c === 0x22) return string(b, i);
  if (c === 0x5b || c === 0x7b) {
    let depth = 0;
    while (i < b.length) {
      const d = b.charCodeAt(i);
      if (d === 0x22) {
        i = string(b, i);
        if (i < 0) return -1;
        continue;
      }
      if (d === 0x5b || d === 0x7b) depth++;
      else if (d === 0x5d || d === 0x7d) {
        if (--depth === 0) return i + 1;
      }
      i++;
    }
    return -1;
  }
  // A number, true, false or null.
  while (i < b.length) {
    const d = b.charCodeAt(i);
    if (d === 0x2c || d === 0x5d || d === 0x7d || d === 0x20 || d <= 0x0d) break;
    i++;
  }
  return i;
}

/** One past the closing quote of the string at `i`, or -1. */
function string(b: string, i: number): number {
  for (i++; i < b.length; i++) {
    const c = b.charCodeAt(i);
    if (c === 0x5c) i++;
    else if (c === 0x22) return i + 1;
  }
  return -1;
}
