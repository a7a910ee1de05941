/**
 * Messages to bytes for byte-stream transports, once per message and
 * serializer: a fan-out to N subscribers on the same serializer encodes
 * (and UTF-8 encodes, for JSON) one time.
 *
 * @module
 */

import type { Serializer, SerializerName, WampMessage } from "../wamp/mod.ts";

const utf8 = new TextEncoder();
const last = new Map<SerializerName, { msg: WampMessage; bytes: Uint8Array }>();

/**
 * Encodes a message to bytes. Encoding the same message object again with
 * the same serializer returns the same bytes (do not modify them).
 *
 * @param serializer The connection's serializer.
 * @param msg The message.
 * @returns Its serialized bytes (UTF-8 for JSON).
 * @throws {Error} When the message cannot be encoded.
 *
 * @example
 * ```ts
 * import { encodeBytes } from "./encode.ts";
 * import { MessageType, serializers } from "../wamp/mod.ts";
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
  if (cached !== undefined && cached.msg === msg) return cached.bytes;
  const frame = serializer.encode(msg);
  const bytes = typeof frame === "string" ? utf8.encode(frame) : frame;
  last.set(serializer.name, { msg, bytes });
  return bytes;
}
