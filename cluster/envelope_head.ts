/**
 * The head of a publication envelope (`pubsub.ts`), read without decoding
 * the rest: a node that holds a NATS subject wider than its subscriptions
 * (a prefix that ends inside a component) drops what none of them match
 * before paying for the payload.
 *
 * @module
 */

const utf8 = new TextDecoder();

/** The bytes after the tag of a MessagePack number that is not a fixint. */
const NUMBER_SIZES = new Map([
  [0xcc, 1],
  [0xd0, 1],
  [0xcd, 2],
  [0xd1, 2],
  [0xce, 4],
  [0xd2, 4],
  [0xca, 4],
  [0xcf, 8],
  [0xd3, 8],
  [0xcb, 8],
]);

/** The origin node and topic of an envelope. */
export interface EnvelopeHead {
  /** The node that published it. */
  readonly origin: string;
  /** The publication's topic. */
  readonly topic: string;
}

/**
 * Reads the first three elements of a MessagePack envelope
 * `[origin, id, topic, ...]`: an array header, a string, an integer (or
 * float), a string.
 *
 * @param data One encoded envelope.
 * @returns Its origin and topic, or undefined when it does not start so.
 *
 * @example
 * ```ts
 * import { envelopeHead } from "./envelope_head.ts";
 * import { encode } from "@msgpack/msgpack";
 * import { deepEqual, equal } from "node:assert/strict";
 *
 * const data = encode(["n1", 2 ** 53, "com.example.topic", 0, {}, ["x".repeat(1000)]]);
 * deepEqual(envelopeHead(data), { origin: "n1", topic: "com.example.topic" });
 * equal(envelopeHead(encode({ origin: "n1" })), undefined);
 * ```
 */
export function envelopeHead(data: Uint8Array): EnvelopeHead | undefined {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let at = 0;
  const byte = (): number => at < data.length ? data[at++]! : -1;
  const head = byte();
  if (head === 0xdc) at += 2;
  else if (head === 0xdd) at += 4;
  else if ((head & 0xf0) !== 0x90 || head < 0) return undefined;
  const text = (): string | undefined => {
    const tag = byte();
    let length: number;
    if ((tag & 0xe0) === 0xa0) length = tag & 0x1f;
    else if (tag === 0xd9 && at + 1 <= data.length) length = data[at++]!;
    else if (tag === 0xda && at + 2 <= data.length) (length = view.getUint16(at), at += 2);
    else if (tag === 0xdb && at + 4 <= data.length) (length = view.getUint32(at), at += 4);
    else return undefined;
    if (at + length > data.length) return undefined;
    const out = utf8.decode(data.subarray(at, at + length));
    at += length;
    return out;
  };
  const origin = text();
  if (origin === undefined) return undefined;
  const tag = byte(); // the publication ID: an integer, or a float from another encoder
  const size = tag >= 0 && (tag <= 0x7f || tag >= 0xe0) ? 0 : NUMBER_SIZES.get(tag);
  if (size === undefined) return undefined;
  at += size;
  const topic = text();
  return topic === undefined ? undefined : { origin, topic };
}
