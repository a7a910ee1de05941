/**
 * Messages to bytes and frames, once per message and serializer: the one
 * place that lets a fan-out to N peers on the same serializer encode an
 * EVENT one time ({@linkcode encodeOnce}, {@linkcode encodeBytes}) and
 * frame it one time per framing ({@linkcode frameCache}). Every cache here
 * holds the last message only and compares by identity: a message object
 * is never modified once sent.
 *
 * @module
 */

import { MessageType, messageTypeName, type Serializer, type WampMessage } from "../../wamp/mod.ts";
import { ownBytes, utf8Bytes } from "../../wamp/bytes.ts";
const EMPTY = new Uint8Array(0);

/**
 * A frame shared by every link with the same serializer and framing: the
 * last message framed and its frame. Get one with {@linkcode frameCache}
 * when a link opens; then {@linkcode FrameCache.get} before framing and
 * {@linkcode FrameCache.set} after.
 */
export class FrameCache {
  #msg: WampMessage | undefined;
  #frame: Uint8Array = EMPTY;

  /**
   * The frame of `msg`, when it is the last message framed.
   *
   * @param msg The message.
   * @returns Its frame (do not modify it), or `undefined`.
   */
  get(msg: WampMessage): Uint8Array | undefined {
    return msg === this.#msg ? this.#frame : undefined;
  }

  /**
   * Remembers the frame of `msg` for the links that send it next.
   *
   * @param msg The message.
   * @param frame Its frame, as every link sharing this cache would build it.
   * @returns The frame.
   */
  set(msg: WampMessage, frame: Uint8Array): Uint8Array {
    this.#msg = msg;
    this.#frame = frame;
    return frame;
  }
}

/** The last message a serializer encoded, what it became, and its frames. */
class Encoded {
  msg: WampMessage | undefined;
  /** The serializer's output (empty when it threw). */
  frame: string | Uint8Array = EMPTY;
  /** Whether the serializer threw, and what. */
  failed = false;
  error: unknown;
  /** The frame's bytes (UTF-8 for text), made on first use. */
  bytes: Uint8Array | undefined;
  /** The bytes alone in their buffer (a copy when `bytes` is a view), made on first use. */
  owned: Uint8Array | undefined;
  /** The frame caches of this serializer, by framing. */
  readonly frames = new Map<string, FrameCache>();
}

const encoded = new WeakMap<Serializer, Encoded>();

/** The cache entry of a serializer object. */
function entryOf(serializer: Serializer): Encoded {
  let entry = encoded.get(serializer);
  if (entry === undefined) encoded.set(serializer, entry = new Encoded());
  return entry;
}

/** What `serializer` made of `msg`, encoding it unless it was the last message. */
function encodedFor(serializer: Serializer, msg: WampMessage): Encoded {
  const entry = entryOf(serializer);
  if (entry.msg !== msg) {
    entry.bytes = undefined;
    entry.owned = undefined;
    // A payload passed on to peers of its sender's serializer is spliced in as it was sent.
    const spliced = serializer.splice?.(msg);
    if (spliced !== undefined) {
      entry.frame = spliced;
      entry.failed = false;
      entry.error = undefined;
      entry.msg = msg;
      return entry;
    }
    try {
      entry.frame = serializer.encode(msg);
      entry.failed = false;
      entry.error = undefined;
    } catch (error) {
      entry.frame = EMPTY;
      entry.failed = true;
      entry.error = error;
    }
    entry.msg = msg;
  }
  if (entry.failed) throw entry.error;
  return entry;
}

/**
 * Encodes a message with a serializer. Encoding the same message object
 * again with the same serializer returns the same frame (do not modify
 * it), or throws the same error, without encoding again.
 *
 * @param serializer The connection's serializer.
 * @param msg The message.
 * @returns The serializer's frame (a string for JSON).
 * @throws {Error} When the message cannot be encoded.
 *
 * @example
 * ```ts
 * import { encodeOnce } from "./encode.ts";
 * import { MessageType, serializers } from "../../wamp/mod.ts";
 * import { equal } from "node:assert/strict";
 *
 * const msg = { type: MessageType.PUBLISHED, request: 1, publication: 2 } as const;
 * const frame = encodeOnce(serializers.cbor, msg);
 * equal(encodeOnce(serializers.cbor, msg), frame);
 * equal(encodeOnce(serializers.json, msg), "[17,1,2]");
 * ```
 */
export function encodeOnce(serializer: Serializer, msg: WampMessage): string | Uint8Array {
  const entry = encodedFor(serializer, msg);
  return entry.frame;
}

/**
 * Encodes a message to bytes, as {@linkcode encodeOnce} does: the same
 * message object with the same serializer gives the same bytes (do not
 * modify them), or the same error. The bytes may be a view into memory
 * shared with other messages: frame them or send them in this turn, or
 * keep `ownBytes` of them (`wamp/bytes.ts`).
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
  return bytesOf(encodedFor(serializer, msg));
}

/** An entry's frame as bytes, made once. */
function bytesOf(entry: Encoded): Uint8Array {
  return entry.bytes ??= typeof entry.frame === "string" ? utf8Bytes(entry.frame) : entry.frame;
}

/**
 * Encodes a message to bytes alone in their buffer, as
 * {@linkcode encodeBytes} does but never a view of shared memory: for a
 * queue that keeps them past this turn. Every queue that asks for the same
 * message gets the same bytes (do not modify them): a fan-out to N such
 * queues copies the message once, not N times.
 *
 * @param serializer The connection's serializer.
 * @param msg The message.
 * @returns Its serialized bytes, in a buffer of their own.
 * @throws {Error} When the message cannot be encoded.
 *
 * @example
 * ```ts
 * import { encodeOwnedBytes } from "./encode.ts";
 * import { MessageType, serializers } from "../../wamp/mod.ts";
 * import { equal } from "node:assert/strict";
 *
 * const msg = { type: MessageType.PUBLISHED, request: 1, publication: 2 } as const;
 * const bytes = encodeOwnedBytes(serializers.msgpack, msg);
 * equal(bytes.byteLength, bytes.buffer.byteLength);
 * equal(encodeOwnedBytes(serializers.msgpack, msg), bytes);
 * ```
 */
export function encodeOwnedBytes(serializer: Serializer, msg: WampMessage): Uint8Array {
  const entry = encodedFor(serializer, msg);
  if (entry.owned !== undefined) return entry.owned;
  const bytes = bytesOf(entry);
  return entry.owned = ownBytes(bytes);
}

/**
 * The frame cache that every link with this serializer and framing
 * shares, so that a fan-out frames a message once for all of them. Ask for
 * it once per link, not per message.
 *
 * @param serializer The link's serializer.
 * @param framing Names the framing and every setting that changes a frame
 * (e.g. `"rawsocket"`, `"websocket/deflate/6/15"`): links whose frames
 * could differ must use different names.
 * @returns The shared cache.
 *
 * @example
 * ```ts
 * import { encodeBytes, frameCache } from "./encode.ts";
 * import { MessageType, serializers } from "../../wamp/mod.ts";
 * import { equal } from "node:assert/strict";
 *
 * const msg = { type: MessageType.PUBLISHED, request: 1, publication: 2 } as const;
 * const cache = frameCache(serializers.json, "example");
 * equal(cache.get(msg), undefined);
 * const frame = cache.set(msg, new Uint8Array([0, 0, 0, 8, ...encodeBytes(serializers.json, msg)]));
 * equal(frameCache(serializers.json, "example").get(msg), frame);
 * equal(frameCache(serializers.cbor, "example").get(msg), undefined);
 * ```
 */
export function frameCache(serializer: Serializer, framing: string): FrameCache {
  const frames = entryOf(serializer).frames;
  let cache = frames.get(framing);
  if (cache === undefined) frames.set(framing, cache = new FrameCache());
  return cache;
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
