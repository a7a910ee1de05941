/**
 * The three WAMP serializers and lookup by name or subprotocol.
 *
 * @module
 */

import { cbor } from "./cbor.ts";
import { json } from "./json.ts";
import { msgpack } from "./msgpack.ts";
import type { Serializer, SerializerName } from "./serializer.ts";

export { cbor, json, msgpack };
export { binaryToJson, jsonToBinary } from "./json.ts";
export {
  type Codec,
  createSerializer,
  type Serializer,
  type SerializerName,
} from "./serializer.ts";

/** Every serializer, in the order a client offers them by default. */
export const serializers: Readonly<Record<SerializerName, Serializer>> = {
  json,
  msgpack,
  cbor,
};

/**
 * Finds a serializer by its WebSocket subprotocol.
 *
 * @param subprotocol E.g. `wamp.2.cbor`.
 * @returns The serializer, or `undefined`.
 *
 * @example
 * ```ts
 * import { serializerForSubprotocol } from "@cloverleaf/wamp/wamp";
 * import { equal } from "node:assert/strict";
 *
 * equal(serializerForSubprotocol("wamp.2.cbor")?.name, "cbor");
 * ```
 */
export function serializerForSubprotocol(subprotocol: string): Serializer | undefined {
  return Object.values(serializers).find((s) => s.subprotocol === subprotocol);
}
