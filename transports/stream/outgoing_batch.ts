/**
 * One batch being gathered for a batched transport (the WebSocket link,
 * either side; the long-poll client's `send` and the long-poll server's
 * `receive` answer): what it holds, and whether one more message joins it
 * or the batch must go first. A batch stays within a byte limit, the
 * framing of each message included, and within
 * {@linkcode MAX_BATCH_MESSAGES}; only a message alone may be larger
 * (bounded by the sender's `sendLimit`, where it has one).
 *
 * @module
 */

import { batchFraming, joinBatch, MAX_BATCH_MESSAGES } from "./batched.ts";

/**
 * Encoded messages gathered into one batch, within a byte limit, framing
 * included. On a link that does not batch, a batch holds one message.
 *
 * @example
 * ```ts
 * import { OutgoingBatch } from "./outgoing_batch.ts";
 * import { equal } from "node:assert/strict";
 *
 * const batch = new OutgoingBatch({ binary: false, batched: true }, 10);
 * batch.add(new Uint8Array(4)); // 5 bytes with its 0x1E
 * equal(batch.fits(4), true); // 10
 * equal(batch.fits(5), false); // 11: send the batch first
 * batch.add(new Uint8Array(4));
 * equal(batch.take().length, 10);
 * equal(batch.length, 0);
 * equal(batch.fits(100), true); // alone, any size
 * ```
 */
export class OutgoingBatch {
  /** Whether the link batches: if not, a batch holds one message, sent as it is. */
  readonly batched: boolean;
  #messages: Uint8Array[] = [];
  #bytes = 0;
  readonly #binary: boolean;
  readonly #framing: number;
  readonly #limit: number;

  /**
   * An empty batch.
   *
   * @param link Whether the serializer is binary, and whether the link batches.
   * @param limit The largest batch, in bytes, framing included (the
   * receiver's `maxMessageSize`).
   */
  constructor(link: { readonly binary: boolean; readonly batched: boolean }, limit: number) {
    this.#binary = link.binary;
    this.batched = link.batched;
    this.#framing = batchFraming(link);
    this.#limit = limit;
  }

  /** How many messages it holds. */
  get length(): number {
    return this.#messages.length;
  }

  /** Their bytes, framing not included. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Whether a message of `size` bytes joins the batch: always when it is
   * empty; else when the link batches and, with the message, the batch
   * still holds at most {@linkcode MAX_BATCH_MESSAGES} and at most the
   * limit's bytes, framing included.
   *
   * @param size The encoded message's bytes.
   * @returns Whether to add it; if not, send the batch first.
   */
  fits(size: number): boolean {
    return this.#fitsAfter(0, this.#bytes, size);
  }

  /**
   * Adds a message ({@linkcode OutgoingBatch.fits} said so).
   *
   * @param bytes The encoded message, kept until {@linkcode OutgoingBatch.take}.
   */
  add(bytes: Uint8Array): void {
    this.#messages.push(bytes);
    this.#bytes += bytes.byteLength;
  }

  /**
   * Moves the first messages of `queue` that fit into the batch (at least
   * one, when there is one).
   *
   * @param queue Encoded messages, oldest first; those taken are removed.
   */
  addFrom(queue: Uint8Array[]): void {
    let count = 0;
    let bytes = this.#bytes;
    while (count < queue.length && this.#fitsAfter(count, bytes, queue[count]!.byteLength)) {
      bytes += queue[count++]!.byteLength;
    }
    for (const m of queue.splice(0, count)) this.add(m);
  }

  /** {@linkcode OutgoingBatch.fits}, once `added` more messages of `bytes` in all are in. */
  #fitsAfter(added: number, bytes: number, size: number): boolean {
    const n = this.#messages.length + added;
    if (n === 0) return true;
    if (!this.batched || n === MAX_BATCH_MESSAGES) return false;
    return bytes + size + (n + 1) * this.#framing <= this.#limit;
  }

  /**
   * Empties the batch.
   *
   * @returns Its payload: the messages joined on a link that batches, the
   * message itself on one that does not (empty for an empty batch).
   */
  take(): Uint8Array {
    const messages = this.#messages;
    this.clear();
    if (!this.batched) return messages[0] ?? new Uint8Array(0);
    return joinBatch(messages, this.#binary);
  }

  /** Drops what it holds. */
  clear(): void {
    this.#messages = [];
    this.#bytes = 0;
  }
}
