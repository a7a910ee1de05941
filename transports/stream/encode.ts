/**
 * Messages to bytes for byte-stream transports, once per message and
 * serializer: a fan-out to N subscribers on the same serializer encodes
 * (and UTF-8 encodes, for JSON) one time.
 *
 * @module
 */

import {
  MessageType,
  messageTypeName,
  type Serializer,
  type SerializerName,
  type WampMessage,
} from "../../wamp/mod.ts";

const utf8 = new TextEncoder();
const last = new Map<
  SerializerName,
  { msg: WampMessage; bytes: Uint8Array; error?: never } | {
    msg: WampMessage;
    error: unknown;
  }
>();

/**
 * Encodes a message to bytes. Encoding the same message object again with
 * the same serializer returns the same bytes (do not modify them), or
 * throws the same error without trying again.
 *
 * @param serializer The connection's serializer.
 * @param msg The message.
 * @returns Its serialized bytes (UTF-8 for JSON).
 * @throws {Error} When the message cannot be encoded.
 *
 * @example
 * ```ts
 * import { encodeBytes } from "./encode.ts";
 * import { MessageType, serializers } from "../../wamp/mod.ts";
 * import { equal } from "node:assert/strict";
 *
 * const msg = { type: MessageType.PUBLISHED, request: 1, publication: 2 } as const;
 * const bytes = encodeBytes(serializers.json, msg);
 * equal(new TextDecoder().decode(bytes), "[17,1,2]");
 * equal(encodeBytes(serializers.json, msg), bytes);
 * ```
 */
export function encodeBytes(serializer: Serializer, msg: WampMessage): Uint8Array {
  const cached = last.get(serializer.name);
  if (cached !== undefined && cached.msg === msg) {
    if ("bytes" in cached) return cached.bytes;
    throw cached.error;
  }
  let bytes: Uint8Array;
  try {
    const frame = serializer.encode(msg);
    bytes = typeof frame === "string" ? utf8.encode(frame) : frame;
  } catch (error) {
    last.set(serializer.name, { msg, error });
    throw error;
  }
  last.set(serializer.name, { msg, bytes });
  return bytes;
}

/** What a transport does with a message it cannot encode: {@linkcode encodeFailure}. */
export interface EncodeFailure {
  /** Drop the message for this recipient (an EVENT) rather than close. */
  readonly drop: boolean;
  /** The log line. */
  readonly message: string;
}

/**
 * Decides what a transport does with a message it cannot encode. An EVENT
 * is dropped for that recipient only (its publisher and the other
 * subscribers are not to blame on this one); anything else closes the
 * connection, since dropping a RESULT, INVOCATION or ERROR would leave a
 * peer waiting forever.
 *
 * @param msg The message.
 * @param error What the serializer threw.
 * @returns Whether to drop it, and the line to log.
 *
 * @example
 * ```ts
 * import { encodeFailure } from "./encode.ts";
 * import { MessageType } from "../../wamp/mod.ts";
 * import { equal } from "node:assert/strict";
 *
 * const event = { type: MessageType.EVENT, subscription: 1, publication: 2, details: {} } as const;
 * equal(encodeFailure(event, new RangeError("too deep")).drop, true);
 * const result = { type: MessageType.RESULT, request: 1, details: {} } as const;
 * equal(encodeFailure(result, new RangeError("too deep")).drop, false);
 * ```
 */
export function encodeFailure(msg: WampMessage, error: unknown): EncodeFailure {
  const drop = msg.type === MessageType.EVENT;
  const what = messageTypeName(msg.type);
  return {
    drop,
    message: `cannot encode ${what}: ${error}: ${drop ? "dropped for this recipient" : "closing"}`,
  };
}
