/**
 * What an incoming WebSocket message's payload reads as: inflated when
 * compressed, UTF-8 text for JSON or a text frame, split into a batch's
 * parts on a batched subprotocol; or the close code and reason when it
 * cannot be read. And frames kept for the inbox's next turn.
 *
 * @module
 */

import { utf8Text } from "../../wamp/bytes.ts";
import { splitBatch, splitTextBatch } from "../stream/batched.ts";
import type { Inbox } from "../stream/inbox.ts";
import { CloseCode, type FrameHandler } from "./framing.ts";
import { inflatedLimit, inflateMessage, MAX_INFLATE_RATIO } from "./permessage_deflate.ts";
import { PRE_JOIN_SIZE } from "../stream/arrival.ts";

/** Why a message cannot be read: the connection closes with this code. */
export interface Unreadable {
  /** The close code. */
  readonly code: number;
  /** The close reason. */
  readonly reason: string;
}

/** How the link reads its messages. */
export interface Reading {
  /** Whether the serializer reads bytes (else text). */
  readonly binary: boolean;
  /** Whether the subprotocol is batched: the message holds parts. */
  readonly batched: boolean;
}

/** Why a payload that is not UTF-8 cannot be read as text. */
export const NOT_UTF8: Unreadable = {
  code: CloseCode.INVALID_PAYLOAD,
  reason: "message is not UTF-8",
};

/**
 * An uncompressed payload as the serializer reads it: UTF-8 text for a
 * text serializer or a text frame, else the bytes.
 *
 * @param text Whether it came in a text frame.
 * @param payload The payload.
 * @param binary Whether the serializer reads bytes.
 * @returns The text or bytes, or undefined when text is not UTF-8
 * ({@linkcode NOT_UTF8}).
 *
 * @example
 * ```ts
 * import { payloadData } from "./incoming.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(payloadData(false, new TextEncoder().encode("[1]"), false), "[1]");
 * equal(payloadData(true, Uint8Array.of(0xc3), true), undefined);
 * ```
 */
export function payloadData(
  text: boolean,
  payload: Uint8Array,
  binary: boolean,
): string | Uint8Array | undefined {
  if (!text && binary) return payload;
  try {
    return utf8Text(payload);
  } catch {
    return undefined;
  }
}

/**
 * Reads a message's payload as the serializer's input: one part, or a
 * batch's parts.
 *
 * @param text Whether it came in a text frame.
 * @param payload The payload, still compressed when `inflateTo` is given.
 * @param inflateTo The most it may inflate to, when it is compressed.
 * @param reading How the link reads.
 * @returns The parts, or why it cannot be read.
 *
 * @example
 * ```ts
 * import { messageParts } from "./incoming.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const payload = new TextEncoder().encode("[6,{},\"wamp.close.normal\"]");
 * deepEqual(messageParts(true, payload, undefined, { binary: false, batched: false }), [
 *   "[6,{},\"wamp.close.normal\"]",
 * ]);
 * ```
 */
export function messageParts(
  text: boolean,
  payload: Uint8Array,
  inflateTo: number | undefined,
  reading: Reading,
): (string | Uint8Array)[] | Unreadable {
  if (inflateTo !== undefined) {
    try {
      payload = inflateMessage(payload, inflateTo);
    } catch (error) {
      return error instanceof RangeError
        ? { code: CloseCode.TOO_BIG, reason: `message inflates to over ${inflateTo} bytes` }
        : { code: CloseCode.INVALID_PAYLOAD, reason: "bad compressed data" };
    }
  }
  const data = payloadData(text, payload, reading.binary);
  if (data === undefined) return NOT_UTF8;
  if (!reading.batched) return [data];
  if (reading.binary && typeof data === "string") {
    return { code: CloseCode.UNSUPPORTED_DATA, reason: "text message on a binary subprotocol" };
  }
  try {
    return typeof data === "string" ? splitTextBatch(data) : splitBatch(data);
  } catch (error) {
    return { code: CloseCode.PROTOCOL_ERROR, reason: (error as Error).message };
  }
}

/**
 * How far a compressed message may inflate, in bytes.
 *
 * @param size Its compressed size.
 * @param max The link's `maxMessageSize`.
 * @param side A client takes what its router sends, up to `max` (other
 * routers compress past our ratio); a router bounds what a peer's
 * compressed byte may cost it ({@linkcode inflatedLimit}), and takes at most
 * {@linkcode PRE_JOIN_SIZE} while the session joins.
 * @returns The limit.
 */
export function inflateLimit(
  size: number,
  max: number,
  side: "client" | "router" | "joining",
): number {
  if (side === "client") return max;
  return inflatedLimit(size, side === "joining" ? Math.min(max, PRE_JOIN_SIZE) : max);
}

/**
 * A parser's handler that hands frames on at once, or, past the inbox's
 * turn, keeps them for its next one, in order (copied: a payload may be a
 * view of the chunk being parsed). Control frames and fragments count
 * against the turn as messages do.
 *
 * @param inbox The connection's inbox.
 * @param handler What frames go to.
 * @returns The handler to give the parser.
 */
export function inTurn(inbox: Inbox, handler: FrameHandler): FrameHandler {
  return {
    message(text, payload, compressed) {
      // A compressed message costs what it may inflate to (a 63 KB frame: a 15 MB CALL).
      const size = compressed ? payload.length * MAX_INFLATE_RATIO : payload.length;
      if (!inbox.waitsFor(size)) return handler.message(text, payload, compressed);
      const own = payload.slice();
      inbox.defer(() => handler.message(text, own, compressed));
    },
    control(opcode, payload) {
      if (inbox.waiting) {
        const own = payload.slice();
        return inbox.defer(() => handler.control(opcode, own));
      }
      handler.control(opcode, payload);
      inbox.worked(); // a flood of pings ends its turn as messages do
    },
    fragment() {
      // Kept by the parser whatever the turn; counted, so that a flood of fragments stops reading.
      inbox.worked();
    },
    error(code, reason, refusal) {
      if (!inbox.waiting) return handler.error(code, reason, refusal);
      inbox.defer(() => handler.error(code, reason, refusal));
    },
  };
}
