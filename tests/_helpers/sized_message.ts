/**
 * Messages of an exact encoded size, for tests at a size limit.
 *
 * @module
 */

import { equal } from "node:assert/strict";
import { type SerializerName, serializers, type WampMessage } from "../../wamp/mod.ts";

/**
 * The message `shape` makes of a string padded so that it encodes to
 * exactly `size` bytes in `name` (UTF-8 bytes for JSON).
 *
 * @param name The serializer.
 * @param size The encoded size wanted, in bytes.
 * @param shape Builds the message around the padding (e.g. as its first argument).
 * @returns The message.
 * @throws {AssertionError} When no padding gives exactly `size` bytes.
 */
export function messageOf(
  name: SerializerName,
  size: number,
  shape: (padding: string) => WampMessage,
): WampMessage {
  const length = (pad: number) => {
    const encoded = serializers[name].encode(shape("x".repeat(pad)));
    return typeof encoded === "string" ? new TextEncoder().encode(encoded).length : encoded.length;
  };
  // Each character adds one byte, and a length header now and then: start just short of it.
  let pad = Math.max(0, size - length(0) - 8);
  while (length(pad) < size) pad++;
  equal(length(pad), size, `a message of ${size} bytes in ${name}`);
  return shape("x".repeat(pad));
}
