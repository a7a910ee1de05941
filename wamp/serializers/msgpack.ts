/**
 * MessagePack serializer (`wamp.2.msgpack`, binary frames), on
 * `@msgpack/msgpack` with reused encoder and decoder instances. Byte arrays
 * map to msgpack `bin`.
 *
 * @module
 */

import { Decoder, Encoder } from "@msgpack/msgpack";
import { createSerializer, type Serializer } from "./serializer.ts";

const encoder = new Encoder({ ignoreUndefined: true });
const decoder = new Decoder();

/**
 * The MessagePack serializer.
 *
 * @example
 * ```ts
 * import { MessageType, msgpack } from "@cloverleaf/wamp";
 * import { deepEqual } from "node:assert/strict";
 *
 * const msg = { type: MessageType.PUBLISHED, request: 1, publication: 2 } as const;
 * deepEqual(msgpack.decode(msgpack.encode(msg)), msg);
 * ```
 */
export const msgpack: Serializer = createSerializer(
  { name: "msgpack", subprotocol: "wamp.2.msgpack", binary: true, rawSocketId: 2 },
  {
    encode: (wire) => encoder.encode(wire),
    decode: (frame) => {
      if (typeof frame === "string") throw new TypeError("text frame");
      return decoder.decode(frame);
    },
  },
);
