/**
 * The head of a publication envelope (`pubsub.ts`), read without decoding
 * the rest: a node that holds a NATS subject wider than its subscriptions
 * (a prefix that ends inside a component) drops what none of them match
 * before paying for the payload.
 *
 * @module
 */

import { msgpackFixedSize } from "../wamp/serializers/prescan.ts";

const utf8 = new TextDecoder();

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
  let at = 0;
  const byte = (): number => at < data.length ? data[at++]! : -1;
  /** Reads the `size`-byte unsigned integer at `at`; -1 when it runs past the end, or `size` is -1. */
  const uint = (size: number): number => {
    if (size < 0 || at + size > data.length) return -1;
    let value = 0;
    for (let i = 0; i < size; i++) value = value * 256 + data[at++]!;
    return value;
  };
  const head = byte();
  const list = (head & 0xf0) === 0x90 ||
    ((head === 0xdc || head === 0xdd) && uint(msgpackFixedSize(head)) >= 0);
  if (!list) return undefined;
  const text = (): string | undefined => {
    const tag = byte();
    const fix = (tag & 0xe0) === 0xa0;
    const length = fix ? tag & 0x1f : tag >= 0xd9 && tag <= 0xdb ? uint(msgpackFixedSize(tag)) : -1;
    if (length < 0 || at + length > data.length) return undefined;
    at += length;
    return utf8.decode(data.subarray(at - length, at));
  };
  const origin = text();
  if (origin === undefined) return undefined;
  // The publication ID: a fixint, or an integer or float of the formats 0xca..0xd3.
  const tag = byte();
  const number = tag >= 0xca && tag <= 0xd3;
  if (tag < 0 || !(tag <= 0x7f || tag >= 0xe0 || number)) return undefined;
  if (number && uint(msgpackFixedSize(tag)) < 0) return undefined;
  const topic = text();
  return topic === undefined ? undefined : { origin, topic };
}
