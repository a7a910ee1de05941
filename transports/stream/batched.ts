/**
 * The batched WebSocket subprotocols (`wamp.2.json.batched`,
 * `wamp.2.msgpack.batched`, `wamp.2.cbor.batched`) as pure functions: one
 * WebSocket message carries several WAMP messages. JSON messages are each
 * followed by the byte `0x1E`; MessagePack and CBOR messages are each
 * preceded by their length as a big-endian uint32. See
 * [transport_batched_websocket](https://wamp-proto.org/wamp_latest_ietf.html#name-batched-websocket-transport).
 *
 * @module
 */

import { ProtocolViolationError, type Serializer } from "../../wamp/mod.ts";
import { utf8Text } from "../../wamp/bytes.ts";

/** What a batched subprotocol adds to its serializer's subprotocol. */
export const BATCHED_SUFFIX = ".batched";

/**
 * The most WAMP messages one batch may carry. A batch is handed to the
 * router in one synchronous loop, so 850,000 messages in one 16 MB batch
 * held every other session for seconds; past this the batch is refused as
 * a protocol violation. Our own senders (the WebSocket link, the long-poll
 * server and client) never join more than this into one batch.
 */
export const MAX_BATCH_MESSAGES = 1024;

const TOO_MANY = `Cannot split batch: more than ${MAX_BATCH_MESSAGES} messages`;

/** The JSON record separator. */
const RS = 0x1e;

/**
 * The batched subprotocol of a serializer.
 *
 * @param serializer The serializer.
 * @returns E.g. `wamp.2.json.batched`.
 *
 * @example
 * ```ts
 * import { batchedSubprotocol } from "./batched.ts";
 * import { json } from "../../wamp/mod.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(batchedSubprotocol(json), "wamp.2.json.batched");
 * ```
 */
export function batchedSubprotocol(serializer: Serializer): string {
  return serializer.subprotocol + BATCHED_SUFFIX;
}

/**
 * What a batch adds to each message: its 4-byte length before it
 * (MessagePack, CBOR) or a `0x1E` after it (JSON). A link that batches
 * sends messages of at most its limit less this, so that one message
 * alone, the least a batch holds, still fits.
 *
 * @param link Whether the serializer is binary, and whether the link batches at all (0 when not).
 * @returns The bytes added per message.
 *
 * @example
 * ```ts
 * import { batchFraming } from "./batched.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(batchFraming({ binary: true, batched: true }), 4);
 * equal(batchFraming({ binary: false, batched: true }), 1);
 * equal(batchFraming({ binary: true, batched: false }), 0);
 * ```
 */
export function batchFraming(
  link: { readonly binary: boolean; readonly batched: boolean },
): number {
  return link.batched ? (link.binary ? 4 : 1) : 0;
}

/**
 * Joins encoded messages into one batch.
 *
 * @param messages The encoded messages (UTF-8 for JSON).
 * @param binary Length prefixes (MessagePack, CBOR) rather than `0x1E`
 * separators (JSON).
 * @returns The WebSocket message payload.
 *
 * @example
 * ```ts
 * import { joinBatch } from "./batched.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(joinBatch([new Uint8Array([0x93, 0x11, 0x01, 0x02])], true),
 *   new Uint8Array([0, 0, 0, 4, 0x93, 0x11, 0x01, 0x02]));
 * ```
 */
export function joinBatch(messages: readonly Uint8Array[], binary: boolean): Uint8Array {
  let length = 0;
  for (const m of messages) length += m.length;
  const out = new Uint8Array(length + messages.length * batchFraming({ binary, batched: true }));
  let at = 0;
  for (const m of messages) {
    if (binary) {
      const n = m.length;
      out[at] = n >>> 24;
      out[at + 1] = (n >>> 16) & 0xff;
      out[at + 2] = (n >>> 8) & 0xff;
      out[at + 3] = n & 0xff;
      at += 4;
    }
    out.set(m, at);
    at += m.length;
    if (!binary) out[at++] = RS;
  }
  return out;
}

/**
 * Splits a length-prefixed batch (MessagePack, CBOR).
 *
 * @param payload The WebSocket message payload.
 * @returns Views of the messages, in order.
 * @throws {ProtocolViolationError} When the batch is empty, holds an
 * empty message or more than {@linkcode MAX_BATCH_MESSAGES}, or a length
 * runs past its end.
 *
 * @example
 * ```ts
 * import { splitBatch } from "./batched.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(splitBatch(new Uint8Array([0, 0, 0, 1, 0xc0, 0, 0, 0, 1, 0xc3])),
 *   [new Uint8Array([0xc0]), new Uint8Array([0xc3])]);
 * ```
 */
export function splitBatch(payload: Uint8Array): Uint8Array[] {
  if (payload.length === 0) throw new ProtocolViolationError("Cannot split batch: it is empty");
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < payload.length) {
    if (payload.length - at < 4) {
      throw new ProtocolViolationError("Cannot split batch: truncated length prefix");
    }
    const n = ((payload[at]! << 24) | (payload[at + 1]! << 16) | (payload[at + 2]! << 8) |
      payload[at + 3]!) >>> 0;
    at += 4;
    if (n === 0) throw new ProtocolViolationError("Cannot split batch: empty message");
    if (n > payload.length - at) {
      throw new ProtocolViolationError(
        `Cannot split batch: message of ${n} bytes runs past the end`,
      );
    }
    if (out.length === MAX_BATCH_MESSAGES) throw new ProtocolViolationError(TOO_MANY);
    out.push(payload.subarray(at, at + n));
    at += n;
  }
  return out;
}

/**
 * Splits a JSON batch: each message is followed by U+001E, the last one
 * too.
 *
 * @param text The WebSocket message, decoded as UTF-8.
 * @returns The messages' texts, in order.
 * @throws {ProtocolViolationError} When the batch is empty, holds an
 * empty message or more than {@linkcode MAX_BATCH_MESSAGES}, or does not
 * end with the separator.
 *
 * @example
 * ```ts
 * import { splitTextBatch } from "./batched.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(splitTextBatch("[17,1,2]\u001e[17,3,4]\u001e"), ["[17,1,2]", "[17,3,4]"]);
 * ```
 */
export function splitTextBatch(text: string): string[] {
  if (text.length === 0) throw new ProtocolViolationError("Cannot split batch: it is empty");
  if (text.charCodeAt(text.length - 1) !== RS) {
    throw new ProtocolViolationError("Cannot split batch: no separator after the last message");
  }
  const out: string[] = [];
  const end = text.length;
  let at = 0;
  while (at < end) {
    const next = text.indexOf("\u001e", at);
    if (next === at) throw new ProtocolViolationError("Cannot split batch: empty message");
    if (out.length === MAX_BATCH_MESSAGES) throw new ProtocolViolationError(TOO_MANY);
    out.push(text.slice(at, next));
    at = next + 1;
  }
  return out;
}

/**
 * Splits a batched body into frames for `serializer.decode`.
 *
 * @param serializer The transport's serializer.
 * @param body A batch as {@linkcode joinBatch} frames it.
 * @returns The frames, in order.
 * @throws {ProtocolViolationError} When the batch is malformed.
 */
export function splitBatchedBody(
  serializer: Serializer,
  body: Uint8Array,
): (string | Uint8Array)[] {
  if (serializer.binary) return splitBatch(body);
  let text: string;
  try {
    text = utf8Text(body);
  } catch (cause) {
    throw new ProtocolViolationError("Cannot split batch: invalid UTF-8", { cause });
  }
  return splitTextBatch(text);
}
