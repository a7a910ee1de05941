/**
 * Batches of NATS messages: what a node sends within one turn of the event
 * loop is handed to the NATS client together at the turn's end, so it
 * leaves in one socket write, and messages to one subject in a row travel
 * as one NATS message: `0xc1`, then each message as a 4-byte big-endian
 * length and its bytes. Receivers split a batch again ({@linkcode unbatch}).
 *
 * @module
 */

import { setImmediate } from "node:timers";
import type { Logger } from "../router/core/types.ts";

/**
 * The first byte of a batch: `0xc1`, which MessagePack never uses, so a
 * batch cannot be mistaken for one message.
 */
const BATCH = 0xc1;
/** A batch is sent once it holds this many bytes. */
export const BATCH_BYTES = 64 * 1024;
/** How long a lazy message ({@linkcode Batches.add}) may wait, in ms. */
export const LAZY_MS = 5;

/**
 * The messages in what NATS delivered: one, or those of a batch.
 *
 * @param data A NATS message's payload.
 * @returns The messages, in the order they were sent.
 *
 * @example
 * ```ts
 * import { unbatch } from "./batch.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(unbatch(new Uint8Array([0x91, 1])), [new Uint8Array([0x91, 1])]);
 * deepEqual(unbatch(new Uint8Array([0xc1, 0, 0, 0, 1, 7, 0, 0, 0, 0])), [
 *   new Uint8Array([7]),
 *   new Uint8Array(0),
 * ]);
 * ```
 */
export function unbatch(data: Uint8Array): Uint8Array[] {
  if (data[0] !== BATCH) return [data];
  const out: Uint8Array[] = [];
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let at = 1;
  while (at + 4 <= data.length) {
    const length = view.getUint32(at);
    at += 4;
    if (at + length > data.length) break; // truncated: not from a node
    out.push(data.subarray(at, at + length));
    at += length;
  }
  return out;
}

/** Messages held for one subject. */
interface Batch {
  subject: string;
  parts: Uint8Array[];
  bytes: number;
}

/** What a node holds to send at the end of the current turn of the event loop. */
export class Batches {
  #publish: (subject: string, data: Uint8Array) => void;
  #log: Logger;
  #queue: Batch[] = [];
  #bytes = 0;
  #queued = false;
  #lazy: ReturnType<typeof setTimeout> | undefined;

  /**
   * Creates the holder.
   *
   * @param publish Hands one NATS message to the client (may throw: too big).
   * @param log Where a message NATS refused is logged.
   */
  constructor(publish: (subject: string, data: Uint8Array) => void, log: Logger) {
    this.#publish = publish;
    this.#log = log;
  }

  /**
   * Holds a message (under {@linkcode BATCH_BYTES}) until the turn ends,
   * or, `lazy`, up to {@linkcode LAZY_MS} (sooner when anything else is
   * sent): for what may lag a little, such as session broadcasts, so that
   * a node under many joins writes to NATS a few hundred times a second
   * rather than twice per session.
   *
   * @param subject The subject.
   * @param data The bytes (MessagePack: never starting with `0xc1`).
   * @param lazy Whether it may wait up to {@linkcode LAZY_MS}.
   */
  add(subject: string, data: Uint8Array, lazy = false): void {
    const last = this.#queue.at(-1);
    if (last !== undefined && last.subject === subject && last.bytes < BATCH_BYTES) {
      last.parts.push(data);
      last.bytes += data.length + 4;
    } else this.#queue.push({ subject, parts: [data], bytes: data.length + 4 });
    this.#bytes += data.length + 4;
    if (this.#bytes >= 16 * BATCH_BYTES) this.send();
    else if (lazy) this.#lazy ??= setTimeout(() => this.send(), LAZY_MS);
    else if (!this.#queued) {
      this.#queued = true;
      setImmediate(() => {
        this.#queued = false;
        this.send();
      });
    }
  }

  /** Hands everything held to the NATS client now, in order. */
  send(): void {
    clearTimeout(this.#lazy);
    this.#lazy = undefined;
    const queue = this.#queue;
    if (queue.length === 0) return;
    this.#queue = [];
    this.#bytes = 0;
    for (const batch of queue) this.#send(batch);
  }

  #send({ subject, parts, bytes }: Batch): void {
    if (parts.length === 1) {
      try {
        return this.#publish(subject, parts[0]!);
      } catch (error) {
        return this.#log("warn", `Cluster: cannot publish on ${subject}: ${error}`);
      }
    }
    const out = new Uint8Array(1 + bytes);
    const view = new DataView(out.buffer);
    out[0] = BATCH;
    let at = 1;
    for (const data of parts) {
      view.setUint32(at, data.length);
      out.set(data, at + 4);
      at += 4 + data.length;
    }
    try {
      this.#publish(subject, out);
    } catch { // over a small max_payload: one at a time
      for (const data of parts) this.#send({ subject, parts: [data], bytes: 0 });
    }
  }
}
