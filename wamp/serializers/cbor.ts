/**
 * CBOR serializer (`wamp.2.cbor`, binary frames), on the pure-JS
 * `cbor-x/encode` entry (no permissions needed). Byte arrays map to CBOR
 * byte strings, without typed-array tags.
 *
 * @module
 */

import { Encoder } from "cbor-x/encode";
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
 * import { cbor, MessageType } from "@cloverleaf/wamp";
 * import { deepEqual } from "node:assert/strict";
 *
 * const msg = { type: MessageType.PUBLISHED, request: 1, publication: 2 } as const;
 * deepEqual(cbor.decode(cbor.encode(msg)), msg);
 * ```
 */
export const cbor: Serializer = createSerializer(
  { name: "cbor", subprotocol: "wamp.2.cbor", binary: true, rawSocketId: 3 },
  {
    encode: (wire) => codec.encode(wire),
    decode: (frame) => {
      if (typeof frame === "string") throw new TypeError("text frame");
      return codec.decode(frame);
    },
  },
);
