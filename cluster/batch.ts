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
  const out: Uint8Array[] = [];
  const cursor = new BatchCursor(data);
  for (let one = cursor.next(); one !== undefined; one = cursor.next()) out.push(one);
  return out;
}

/**
 * The messages in what NATS delivered, read one at a time, so that reading
 * can stop between two and go on later ({@linkcode unbatch} reads them all).
 *
 * @example
 * ```ts
 * import { BatchCursor } from "./batch.ts";
 * import { deepEqual, equal } from "node:assert/strict";
 *
 * const cursor = new BatchCursor(new Uint8Array([0xc1, 0, 0, 0, 1, 7, 0, 0, 0, 1, 8]));
 * deepEqual(cursor.next(), new Uint8Array([7]));
 * cursor.detach();
 * equal(cursor.bytes, 6);
 * deepEqual(cursor.next(), new Uint8Array([8]));
 * equal(cursor.next(), undefined);
 * ```
 */
export class BatchCursor {
  #data: Uint8Array;
  /** Where the next message's length is (a batch); 0: one message, not read yet. */
  #at: number;

  /** @param data A NATS message's payload. */
  constructor(data: Uint8Array) {
    this.#data = data;
    this.#at = data[0] === BATCH ? 1 : 0;
  }

  /**
   * Reads the next message.
   *
   * @returns It, or undefined after the last (or where a batch is truncated: not from a node).
   */
  next(): Uint8Array | undefined {
    const data = this.#data;
    const at = this.#at;
    if (at === 0) {
      this.#at = data.length + 1;
      return data;
    }
    if (at + 4 > data.length) return undefined;
    const end = at + 4 +
      ((data[at]! << 24 | data[at + 1]! << 16 | data[at + 2]! << 8 | data[at + 3]!) >>> 0);
    if (end > data.length) {
      this.#at = data.length + 1;
      return undefined;
    }
    this.#at = end;
    return data.subarray(at + 4, end);
  }

  /** Whether every message was read. */
  get done(): boolean {
    return this.#at !== 0 && this.#at + 4 > this.#data.length;
  }

  /** The bytes not read yet (those a {@linkcode BatchCursor.detach} copies). */
  get bytes(): number {
    return this.#at === 0 ? this.#data.length : Math.max(0, this.#data.length - this.#at + 1);
  }

  /**
   * Keeps the messages not read yet in a copy of their own: what NATS
   * delivers is a view of its read buffer, which would stay in memory
   * whole as long as any view of it does.
   */
  detach(): void {
    if (this.#at === 0) {
      this.#data = this.#data.slice();
      return;
    }
    const rest = new Uint8Array(this.bytes);
    rest[0] = BATCH;
    if (this.#at < this.#data.length) rest.set(this.#data.subarray(this.#at), 1);
    this.#data = rest;
    this.#at = 1;
  }
}

/** What the NATS client knows of its server: its `max_payload` (nothing before it connected). */
export type ServerInfo = () => { readonly max_payload: number } | undefined;

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
  #info: ServerInfo;

  /**
   * Creates the holder.
   *
   * @param publish Hands one NATS message to the client (may throw: too big).
   * @param log Where a message NATS refused is logged.
   * @param info The server's `max_payload`, as the client knows it now.
   */
  constructor(
    publish: (subject: string, data: Uint8Array) => void,
    log: Logger,
    info: ServerInfo = () => undefined,
  ) {
    this.#publish = publish;
    this.#log = log;
    this.#info = info;
  }

  /**
   * Holds a message until the turn ends, or, `lazy`, up to
   * {@linkcode LAZY_MS} (sooner when anything else is sent): for what may
   * lag a little, such as session broadcasts, so that a node under many
   * joins writes to NATS a few hundred times a second rather than twice
   * per session. One of {@linkcode BATCH_BYTES} or the server's
   * `max_payload` goes at once, after what is held, so that one NATS
   * refuses throws here, to its sender, instead of being lost later.
   *
   * @param subject The subject.
   * @param data The bytes (MessagePack: never starting with `0xc1`).
   * @param lazy Whether it may wait up to {@linkcode LAZY_MS}.
   * @throws {Error} From `publish`, for a message NATS refuses (too big).
   */
  add(subject: string, data: Uint8Array, lazy = false): void {
    const max = this.#info()?.max_payload ?? Infinity;
    const cap = Math.min(BATCH_BYTES, max);
    if (data.length + 4 >= cap) {
      this.send();
      return this.#publish(subject, data);
    }
    const last = this.#queue.at(-1);
    // Joins the last batch while it is under the cap, and as long as the whole fits NATS.
    if (
      last !== undefined && last.subject === subject && last.bytes < cap &&
      1 + last.bytes + data.length + 4 <= max
    ) {
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
