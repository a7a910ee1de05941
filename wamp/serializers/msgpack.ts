/**
 * MessagePack serializer (`wamp.2.msgpack`, binary frames), on
 * `@msgpack/msgpack` with reused encoder and decoder instances. Byte arrays
 * map to msgpack `bin`. Frames are pre-scanned ({@linkcode msgpackFault}) before
 * they are decoded: no ext types (the timestamp ext included), no nesting
 * deeper than `MAX_NESTING_DEPTH`, valid UTF-8 only.
 *
 * @module
 */

import { Decoder, Encoder, type ExtensionCodecType } from "@msgpack/msgpack";
import { msgpackFault } from "./prescan.ts";
import { createSerializer, type Serializer } from "./serializer.ts";

// No ext type decodes to anything but msgpackr's `undefined` (type 0, one
// zero byte, which wampy sends for absent options): the pre-scan refuses the
// others first, and this codec makes sure the decoder could not build a Date
// or ExtData anyway.
const noExtensions: ExtensionCodecType<undefined> = {
  tryToEncode: () => null,
  decode: (data, type) => {
    if (type === 0 && data.length === 1 && data[0] === 0) return undefined;
    throw new TypeError(`msgpack ext type ${type} is not allowed`);
  },
};

const encoder = new Encoder({ ignoreUndefined: true });
const decoder = new Decoder({ extensionCodec: noExtensions });

/**
 * The MessagePack serializer.
 *
 * @example
 * ```ts
 * import { MessageType, msgpack } from "@cloverleaf/wamp/wamp";
 * import { deepEqual } from "node:assert/strict";
 *
 * const msg = { type: MessageType.PUBLISHED, request: 1, publication: 2 } as const;
 * deepEqual(msgpack.decode(msgpack.encode(msg)), msg);
 * ```
 */
export const msgpack: Serializer = createSerializer(
  { name: "msgpack", subprotocol: "wamp.2.msgpack", binary: true, rawSocketId: 2 },
  {
    prechecked: true,
    encode: (wire) => encoder.encode(wire),
    decode: (frame) => {
      if (typeof frame === "string") throw new TypeError("text frame");
      const fault = msgpackFault(frame);
      if (fault !== undefined) throw new TypeError(fault);
      return decoder.decode(frame);
    },
  },
);
