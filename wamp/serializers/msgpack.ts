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
import { msgpackElementOffset, msgpackFault } from "./prescan.ts";
import { createSerializer, type Serializer } from "./serializer.ts";
import { toWire, type WampMessage } from "../messages.ts";
import { keepPayload, keptPayload, payloadIndex, payloadSlot, spliceable } from "./splice.ts";
import { slabBytes } from "../bytes.ts";

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
    decode: (frame, strict) => {
      if (typeof frame === "string") throw new TypeError("text frame");
      const fault = msgpackFault(frame, strict);
      if (fault !== undefined) throw new TypeError(fault);
      // `bin` values decode as views into the frame: what keeps them past the turn copies them
      // (`keptPayloadSize` in router/core/limits.ts), not every decode.
      const value = decoder.decode(frame);
      if (Array.isArray(value)) keep(frame, value);
      return value;
    },
    splice: spliceMsgpack,
  },
);

const slot = payloadSlot();

/** Keeps the payload bytes of a PUBLISH, CALL or YIELD for {@linkcode spliceMsgpack}. */
function keep(frame: Uint8Array, wire: unknown[]): void {
  const at = payloadIndex(wire);
  if (at < 0 || !spliceable(wire, at)) return;
  const offset = msgpackElementOffset(at);
  // A view, not a copy: it is read only while the message that carried it is handled, in the
  // same synchronous dispatch (kept payloads are forgotten at the end of the turn, before the
  // next read can reuse a transport's buffer).
  if (offset > 0) keepPayload(slot, wire, at, frame.subarray(offset));
}

/**
 * Encodes a message as MessagePack by splicing in the payload bytes the
 * MessagePack serializer kept when it decoded the message the payload came
 * from (an EVENT's from its PUBLISH, an INVOCATION's from its CALL, a
 * RESULT's from its YIELD): only the head is encoded.
 *
 * @param msg The message.
 * @returns Its bytes, or undefined when it carries no kept payload.
 *
 * @example
 * ```ts
 * import { MessageType, msgpack } from "@cloverleaf/wamp/wamp";
 * import { spliceMsgpack } from "./msgpack.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const call = msgpack.decode(msgpack.encode({
 *   type: MessageType.CALL, request: 7, options: {}, procedure: "a.proc", args: [1, "x"],
 * }));
 * if (call.type !== MessageType.CALL || call.args === undefined) throw new Error();
 * const invocation = {
 *   type: MessageType.INVOCATION,
 *   request: 9,
 *   registration: 3,
 *   details: {},
 *   args: call.args,
 * } as const;
 * deepEqual(spliceMsgpack(invocation), msgpack.encode(invocation));
 * ```
 */
export function spliceMsgpack(msg: WampMessage): Uint8Array | undefined {
  const tail = keptPayload(slot, msg as { args?: unknown[] })?.payload;
  if (tail === undefined || typeof tail === "string") return undefined;
  // A view into the encoder's buffer, copied into `out` before the encoder runs again.
  const head = encoder.encodeSharedRef(toWire(msg, false));
  const items = (head[0]! & 0x0f) + ((msg as { kwargs?: unknown }).kwargs === undefined ? 1 : 2);
  // Framed (copied) by the transport before the turn ends: carved, not allocated.
  const out = slabBytes(head.length + tail.length);
  out.set(head);
  out[0] = 0x90 | items; // a WAMP message's list has at most 7 elements: a fixarray
  out.set(tail, head.length);
  return out;
}
