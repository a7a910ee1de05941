/**
 * The serializer interface: WAMP messages to frames and back.
 *
 * @module
 */

import { ProtocolViolationError } from "../errors.ts";
import { parseMessage, toWire, type WampMessage } from "../messages.ts";

/** Serializer names, as in the subprotocol `wamp.2.<name>`. */
export type SerializerName = "json" | "msgpack" | "cbor";

/** Encodes and decodes whole WAMP messages for one wire format. */
export interface Serializer {
  /** The serializer's name. */
  readonly name: SerializerName;
  /** WebSocket subprotocol, e.g. `wamp.2.json`. */
  readonly subprotocol: string;
  /** Whether frames are binary (msgpack, cbor) or text (json). */
  readonly binary: boolean;
  /** The RawSocket serializer ID (1 json, 2 msgpack, 3 cbor). */
  readonly rawSocketId: number;
  /**
   * Encodes a message, afresh on every call (transports encode a fan-out
   * once per serializer through `encodeOnce` in `transports/stream/encode.ts`).
   */
  encode(msg: WampMessage): string | Uint8Array;
  /**
   * Decodes and validates one frame.
   * @param frame The frame.
   * @param strict Whether to refuse, besides, what another serializer could
   * not carry as it came: a text value that starts with U+0000 (WAMP's JSON
   * reads it as binary) and an own `__proto__` key (MessagePack decoders
   * refuse it). A router's ingress (the default): what it lets in reaches
   * every peer. Clients pass false, and take what their router sends.
   * @throws {ProtocolViolationError} On undecodable or invalid input.
   */
  decode(frame: string | Uint8Array, strict?: boolean): WampMessage;
  /**
   * Encodes a message whose Arguments and ArgumentsKw are the objects this
   * serializer decoded in this turn, reusing what it kept of them (see
   * `wamp/serializers/splice.ts`); undefined for any other message, which
   * `encode` then takes. Same meaning as `encode`; binary output may be a
   * view into memory shared with other messages (`slabBytes` in
   * `wamp/bytes.ts`): frame or copy it before the turn ends, never keep it.
   */
  splice?(msg: WampMessage): string | Uint8Array | undefined;
}

/** The two halves a concrete serializer provides. */
export interface Codec {
  /** Wire array to frame. */
  encode(wire: unknown[]): string | Uint8Array;
  /** Frame to wire value (`strict`: see {@linkcode Serializer.decode}). */
  decode(frame: string | Uint8Array, strict: boolean): unknown;
  /**
   * Whether `decode` itself refuses nesting deeper than `MAX_NESTING_DEPTH`
   * and anything but plain data (then parsing skips its own walk).
   * @default {false}
   */
  readonly prechecked?: boolean;
  /** The serializer's {@linkcode Serializer.splice}, if it keeps payloads. */
  splice?(msg: WampMessage): string | Uint8Array | undefined;
}

/**
 * Builds a {@linkcode Serializer} from a codec: adds message validation
 * and error wrapping.
 *
 * @param info Name, subprotocol, frame kind, RawSocket ID.
 * @param codec The array codec.
 * @returns The serializer.
 *
 * @example
 * ```ts
 * import { createSerializer, MessageType } from "@cloverleaf/wamp/wamp";
 * import { equal } from "node:assert/strict";
 *
 * const s = createSerializer(
 *   { name: "json", subprotocol: "wamp.2.json", binary: false, rawSocketId: 1 },
 *   { encode: (w) => JSON.stringify(w), decode: (f) => JSON.parse(f as string) },
 * );
 * equal(s.encode({ type: MessageType.PUBLISHED, request: 1, publication: 2 }), "[17,1,2]");
 * ```
 */
export function createSerializer(
  info: Pick<Serializer, "name" | "subprotocol" | "binary" | "rawSocketId">,
  codec: Codec,
): Serializer {
  const prechecked = { prechecked: codec.prechecked === true };
  return {
    ...info,
    ...(codec.splice === undefined ? {} : { splice: codec.splice }),
    encode(msg: WampMessage): string | Uint8Array {
      return codec.encode(toWire(msg));
    },
    decode(frame: string | Uint8Array, strict = true): WampMessage {
      let wire: unknown;
      try {
        wire = codec.decode(frame, strict);
      } catch (cause) {
        throw new ProtocolViolationError(
          `Cannot decode ${info.name} message: ${(cause as Error).message}`,
          { cause },
        );
      }
      return parseMessage(wire, prechecked);
    },
  };
}
