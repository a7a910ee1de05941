/**
 * CBOR serializer (`wamp.2.cbor`, binary frames), on the pure-JS
 * `cbor-x/encode` entry (no permissions needed). Byte arrays map to CBOR
 * byte strings, without typed-array tags. Frames are pre-scanned
 * ({@linkcode cborFault}) before cbor-x sees them: no tags (cbor-x decodes a
 * tag-2 bignum in quadratic time, tags 28/29 into cycles), no nesting deeper
 * than `MAX_NESTING_DEPTH`, valid UTF-8 only.
 *
 * @module
 */

import { Encoder } from "cbor-x/encode";
import { cborFault } from "./prescan.ts";
import { createSerializer, type Serializer } from "./serializer.ts";

const codec = new Encoder({
  useRecords: false,
  mapsAsObjects: true,
  tagUint8Array: false,
});

/**
 * The CBOR serializer.
 *
 * @example
 * ```ts
 * import { cbor, MessageType } from "@cloverleaf/wamp/wamp";
 * import { deepEqual } from "node:assert/strict";
 *
 * const msg = { type: MessageType.PUBLISHED, request: 1, publication: 2 } as const;
 * deepEqual(cbor.decode(cbor.encode(msg)), msg);
 * ```
 */
export const cbor: Serializer = createSerializer(
  { name: "cbor", subprotocol: "wamp.2.cbor", binary: true, rawSocketId: 3 },
  {
    prechecked: true,
    encode: (wire) => codec.encode(wideIntsToBigInt(wire)),
    decode: (frame, strict) => {
      if (typeof frame === "string") throw new TypeError("text frame");
      const fault = cborFault(frame, strict);
      if (fault !== undefined) throw new TypeError(fault);
      // Byte strings decode as views into the frame: what keeps them past the turn copies them
      // (`keptPayloadSize` in router/core/limits.ts), not every decode.
      return bigIntsToNumbers(codec.decode(frame));
    },
  },
);

// cbor-x writes integers outside the 32-bit range as float64 (0xfb), so an ID
// such as 9129137332 would reach other peers as a float, and it decodes
// 64-bit integers (0x1b/0x3b) as BigInt, which fails ID checks. BigInt in
// makes it write 0x1b/0x3b; BigInt out is turned back into number.
const WIDE = 2 ** 32;

function isPlain(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function wideIntsToBigInt(value: unknown): unknown {
  if (typeof value === "number") {
    return Number.isInteger(value) && (value >= WIDE || value < -WIDE) &&
        Math.abs(value) <= 2 ** 53
      ? BigInt(value)
      : value;
  }
  if (typeof value !== "object" || value === null) return value;
  // Index loops for arrays: `for…in` over an array is several times slower.
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      const conv = wideIntsToBigInt(item);
      if (conv !== item) {
        out ??= value.slice();
        out[i] = conv;
      }
    }
    return out ?? value;
  }
  if (!isPlain(value)) return value;
  let out: Record<string, unknown> | undefined;
  const record = value as Record<string, unknown>;
  for (const key in record) {
    const item = record[key];
    const conv = wideIntsToBigInt(item);
    if (conv !== item) {
      out ??= { ...record };
      out[key] = conv;
    }
  }
  return out ?? value;
}

function bigIntsToNumbers(value: unknown): unknown {
  if (typeof value === "bigint") return Number(value);
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = bigIntsToNumbers(value[i]);
    return value;
  }
  if (!isPlain(value)) return value;
  const record = value as Record<string, unknown>;
  for (const key in record) record[key] = bigIntsToNumbers(record[key]);
  return value;
}
