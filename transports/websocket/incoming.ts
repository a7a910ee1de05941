/**
 * What an incoming WebSocket message's payload reads as: inflated when
 * compressed, UTF-8 text for JSON or a text frame, split into a batch's
 * parts on a batched subprotocol; or the close code and reason when it
 * cannot be read.
 *
 * @module
 */

import { utf8Text } from "../../wamp/bytes.ts";
import { splitBatch, splitTextBatch } from "../stream/batched.ts";
import { CloseCode } from "./framing.ts";
import { inflateMessage } from "./permessage_deflate.ts";

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
  let data: string | Uint8Array = payload;
  if (text || !reading.binary) {
    try {
      data = utf8Text(payload);
    } catch {
      return { code: CloseCode.INVALID_PAYLOAD, reason: "message is not UTF-8" };
    }
  }
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
