/**
 * The RawSocket opening handshake as pure functions, no I/O: the 4-octet
 * request, reply and error reply, and the message size limits they
 * announce. All integers are big-endian.
 *
 * Spec: https://wamp-proto.org/wamp_latest_ietf.html#name-rawsocket-transport
 * (`transport_rawsocket.md`).
 *
 * @module
 */

import { MAX_FRAME_LENGTH } from "./framing.ts";

/** The first octet of every RawSocket handshake (request and reply). */
export const RAWSOCKET_MAGIC = 0x7f;

/** Handshake error codes, sent by the router in the `EEEE` nibble. */
export const HandshakeError = {
  /** The serializer is illegal (0), reserved or not offered. */
  SERIALIZER_UNSUPPORTED: 1,
  /** The client's maximum message length is unacceptable. */
  MAX_LENGTH_UNACCEPTABLE: 2,
  /** The reserved octets were not zero. */
  RESERVED_BITS: 3,
  /** The router is at its connection limit. */
  CONNECTION_LIMIT: 4,
} as const;

/** A handshake error code (1 to 4). */
export type HandshakeErrorCode = typeof HandshakeError[keyof typeof HandshakeError];

/** What each handshake error code means, for messages. */
export const HANDSHAKE_ERROR_TEXT: Readonly<Record<number, string>> = {
  0: "illegal error code 0",
  1: "serializer unsupported",
  2: "maximum message length unacceptable",
  3: "use of reserved bits",
  4: "maximum connection count reached",
};

/** The variable part of a successful handshake (request or reply). */
export interface Handshake {
  /**
   * `LLLL`: the sender's receive limit is 2^(9 + lengthExponent) octets
   * (0 → 512 B … 15 → 16 MiB).
   */
  readonly lengthExponent: number;
  /** `SSSS`: the serializer ID (1 JSON, 2 MessagePack, 3 CBOR, …). */
  readonly serializer: number;
}

/** A handshake request as a router reads it: usable, or answered with an error. */
export type HandshakeRequest = Handshake | { readonly error: HandshakeErrorCode };

/** A handshake reply as a client reads it: accepted, or refused with a code. */
export type HandshakeReply = Handshake | { readonly error: number };

/**
 * The message size a length exponent stands for: 2^(9 + exponent).
 *
 * @param exponent `LLLL`, 0 to 15.
 * @returns The size in octets, 512 to 16 MiB.
 * @throws {RangeError} When the exponent is not an integer from 0 to 15.
 *
 * @example
 * ```ts
 * import { maxLength } from "./handshake.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(maxLength(0), 512);
 * equal(maxLength(15), 16 * 1024 * 1024);
 * ```
 */
export function maxLength(exponent: number): number {
  if (!Number.isInteger(exponent) || exponent < 0 || exponent > 15) {
    throw new RangeError(`Cannot use length exponent ${exponent}: must be an integer from 0 to 15`);
  }
  return 2 ** (9 + exponent);
}

/**
 * The length exponent to announce for a receive limit: the largest one
 * whose size is at most `maxBytes`, clamped to 0..15 (so a limit under
 * 512 octets still announces 512).
 *
 * @param maxBytes The largest message we accept, in octets.
 * @returns `LLLL`, 0 to 15.
 *
 * @example
 * ```ts
 * import { lengthExponent } from "./handshake.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(lengthExponent(16 * 1024 * 1024), 15);
 * equal(lengthExponent(1_000_000), 10); // 512 KiB
 * equal(lengthExponent(100), 0);
 * ```
 */
export function lengthExponent(maxBytes: number): number {
  let exponent = 0;
  while (exponent < 15 && 2 ** (10 + exponent) <= maxBytes) exponent++;
  return exponent;
}

/**
 * The largest payload we enforce for a configured maximum: the configured
 * size, at least the 512 octets the handshake announces, at most 2^24.
 *
 * @param maxMessageSize The configured maximum.
 * @returns The enforced limit.
 */
export function receiveLimit(maxMessageSize = 16 * 1024 * 1024): number {
  return Math.max(512, Math.min(maxMessageSize, MAX_FRAME_LENGTH));
}

/**
 * The largest payload to send to a peer that announced `exponent`. A
 * message of exactly 2^24 octets needs the X bit, which older peers take
 * for a reserved bit, so 16 MiB announcements are capped at 2^24 − 1.
 *
 * @param exponent The peer's `LLLL`.
 * @returns The limit in octets.
 */
export function sendLimit(exponent: number): number {
  return Math.min(maxLength(exponent), MAX_FRAME_LENGTH - 1);
}

/**
 * Encodes a handshake: a client's request, or a router's accepting reply
 * (its own limit, the serializer echoed).
 *
 * @param handshake Length exponent and serializer ID.
 * @returns The 4 octets `7F LS 00 00`.
 * @throws {RangeError} When a field does not fit its nibble or the
 * serializer is 0.
 *
 * @example
 * ```ts
 * import { encodeHandshake } from "./handshake.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(encodeHandshake({ lengthExponent: 15, serializer: 1 }), new Uint8Array([0x7f, 0xf1, 0, 0]));
 * ```
 */
export function encodeHandshake(handshake: Handshake): Uint8Array {
  const { lengthExponent: l, serializer: s } = handshake;
  maxLength(l);
  if (!Number.isInteger(s) || s < 1 || s > 15) {
    throw new RangeError(`Cannot use serializer ID ${s}: must be an integer from 1 to 15`);
  }
  return new Uint8Array([RAWSOCKET_MAGIC, (l << 4) | s, 0, 0]);
}

/**
 * Encodes a router's error reply.
 *
 * @param error The error code (see {@linkcode HandshakeError}).
 * @returns The 4 octets `7F E0 00 00`.
 *
 * @example
 * ```ts
 * import { encodeHandshakeError, HandshakeError } from "./handshake.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(encodeHandshakeError(HandshakeError.SERIALIZER_UNSUPPORTED), new Uint8Array([0x7f, 0x10, 0, 0]));
 * ```
 */
export function encodeHandshakeError(error: HandshakeErrorCode): Uint8Array {
  return new Uint8Array([RAWSOCKET_MAGIC, error << 4, 0, 0]);
}

/** Checks the magic octet and the length of a handshake. */
function checkHandshake(bytes: Uint8Array): void {
  if (bytes.length < 4) {
    throw new RangeError(`Cannot decode handshake: ${bytes.length} of 4 octets`);
  }
  if (bytes[0] !== RAWSOCKET_MAGIC) {
    throw new RangeError(`Cannot decode handshake: first octet is 0x${hex(bytes[0]!)}, not 0x7f`);
  }
}

/**
 * Decodes a client's handshake request, as a router does. Non-zero
 * reserved octets give error 3, serializer 0 gives error 1; whether the
 * serializer is one we support is for the caller to decide.
 *
 * @param bytes At least 4 octets; only the first 4 are read.
 * @returns The request, or the error to answer with.
 * @throws {RangeError} When there are fewer than 4 octets or the first is
 * not 0x7F (not a RawSocket at all: fail the connection).
 *
 * @example
 * ```ts
 * import { decodeHandshakeRequest } from "./handshake.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(decodeHandshakeRequest(new Uint8Array([0x7f, 0x92, 0, 0])), { lengthExponent: 9, serializer: 2 });
 * deepEqual(decodeHandshakeRequest(new Uint8Array([0x7f, 0xf1, 0, 1])), { error: 3 });
 * ```
 */
export function decodeHandshakeRequest(bytes: Uint8Array): HandshakeRequest {
  checkHandshake(bytes);
  if (bytes[2] !== 0 || bytes[3] !== 0) return { error: HandshakeError.RESERVED_BITS };
  const serializer = bytes[1]! & 0x0f;
  if (serializer === 0) return { error: HandshakeError.SERIALIZER_UNSUPPORTED };
  return { lengthExponent: bytes[1]! >> 4, serializer };
}

/**
 * Decodes a router's handshake reply, as a client does. A zero serializer
 * nibble means an error whose code is in the high nibble.
 *
 * @param bytes At least 4 octets; only the first 4 are read.
 * @returns The accepted handshake, or the router's error code.
 * @throws {RangeError} When there are fewer than 4 octets, the first is not
 * 0x7F, or the reserved octets are not zero.
 *
 * @example
 * ```ts
 * import { decodeHandshakeReply } from "./handshake.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(decodeHandshakeReply(new Uint8Array([0x7f, 0xf3, 0, 0])), { lengthExponent: 15, serializer: 3 });
 * deepEqual(decodeHandshakeReply(new Uint8Array([0x7f, 0x40, 0, 0])), { error: 4 });
 * ```
 */
export function decodeHandshakeReply(bytes: Uint8Array): HandshakeReply {
  checkHandshake(bytes);
  if (bytes[2] !== 0 || bytes[3] !== 0) {
    throw new RangeError(
      `Cannot decode handshake reply: reserved octets are 0x${hex(bytes[2]!)}${hex(bytes[3]!)}`,
    );
  }
  const serializer = bytes[1]! & 0x0f;
  if (serializer === 0) return { error: bytes[1]! >> 4 };
  return { lengthExponent: bytes[1]! >> 4, serializer };
}

function hex(octet: number): string {
  return octet.toString(16).padStart(2, "0");
}
