/**
 * Byte helpers shared by the WAMP authentication methods: strict hex and
 * base64 decoding that reports failure as `undefined` (for input from a
 * peer), XOR, random bytes and a constant-time comparison.
 *
 * @module
 */

import { fromBase64, fromHex } from "../bytes.ts";

const HEX = /^(?:[0-9a-fA-F]{2})*$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Decodes hex text (either case) into bytes.
 *
 * @param text The hex text.
 * @param length The required number of bytes; any length when omitted.
 * @returns The bytes, or `undefined` when `text` is not hex of that length.
 */
export function decodeHex(text: unknown, length?: number): Uint8Array | undefined {
  if (typeof text !== "string" || !HEX.test(text)) return undefined;
  if (length !== undefined && text.length !== 2 * length) return undefined;
  return fromHex(text);
}

/**
 * Decodes standard, padded base64 (RFC 4648 section 4) into bytes.
 *
 * @param text The base64 text.
 * @returns The bytes, or `undefined` when `text` is not padded base64.
 */
export function decodeBase64(text: unknown): Uint8Array | undefined {
  if (typeof text !== "string" || !BASE64.test(text)) return undefined;
  return fromBase64(text);
}

/**
 * XORs two byte arrays of the same length.
 *
 * @param a The first operand.
 * @param b The second operand.
 * @returns A new array with `a[i] ^ b[i]`.
 * @throws {RangeError} If the lengths differ.
 */
export function xorBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length !== b.length) {
    throw new RangeError(`Cannot XOR ${a.length} bytes with ${b.length} bytes: lengths differ`);
  }
  return a.map((byte, i) => byte ^ b[i]!);
}

/**
 * Draws bytes from the platform's cryptographic random source.
 *
 * @param length How many bytes.
 * @returns The random bytes.
 */
export function randomBytes(length: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(length));
}

/**
 * Compares two byte arrays in time that depends only on their length.
 * Strings are compared as their UTF-8 bytes.
 *
 * @param a The first value.
 * @param b The second value.
 * @returns Whether both hold the same bytes.
 */
export function constantTimeEqual(a: Uint8Array | string, b: Uint8Array | string): boolean {
  const left = typeof a === "string" ? new TextEncoder().encode(a) : a;
  const right = typeof b === "string" ? new TextEncoder().encode(b) : b;
  if (left.length !== right.length) return false;
  let difference = 0;
  for (let i = 0; i < left.length; i++) difference |= left[i]! ^ right[i]!;
  return difference === 0;
}
