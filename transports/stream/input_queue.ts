/**
 * The bytes of HTTP requests received and not yet consumed: where a head
 * ends, and bodies taken by length.
 *
 * @module
 */

const EMPTY = new Uint8Array(0);

/** Small chunks are copied into blocks of this size rather than kept one by one. */
const BLOCK = 16 * 1024;

/**
 * Bytes received and not yet consumed, as a list of chunks: appending is
 * O(1), the search for the end of a head looks at each byte once, and
 * taking n bytes copies them once. Chunks under {@linkcode BLOCK} bytes
 * are copied into shared blocks, so input dripped a byte at a time costs
 * one array per 16 KiB, not one per byte.
 *
 * @example
 * ```ts
 * import { InputQueue } from "./input_queue.ts";
 * import { equal } from "node:assert/strict";
 *
 * const input = new InputQueue();
 * for (const byte of new TextEncoder().encode("GET / HTTP/1.1\r\n\r\nrest")) {
 *   input.push(Uint8Array.of(byte));
 * }
 * equal(input.headLength(1024), 18);
 * equal(new TextDecoder().decode(input.take(18)), "GET / HTTP/1.1\r\n\r\n");
 * equal(input.length, 4);
 * ```
 */
export class InputQueue {
  #chunks: Uint8Array[] = [];
  /** The block small chunks are copied into, and how much of it is used. */
  #block: Uint8Array | undefined;
  #blockUsed = 0;
  /** Index of the first chunk still held. */
  #first = 0;
  /** Bytes held. */
  length = 0;
  #scanChunk = 0;
  #scanOffset = 0;
  #scanned = 0;
  /** How much of `\r\n\r\n` the bytes scanned so far end with. */
  #run = 0;

  /**
   * Appends bytes.
   *
   * @param chunk The bytes (kept as they are when large: do not reuse them).
   */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.length += chunk.length;
    if (chunk.length >= BLOCK) {
      this.#chunks.push(chunk);
      return;
    }
    const block = this.#block;
    const lastIndex = this.#chunks.length - 1;
    const last = this.#chunks[lastIndex];
    if (
      block !== undefined && last !== undefined && lastIndex >= this.#first &&
      last.buffer === block.buffer &&
      last.byteOffset + last.length === block.byteOffset + this.#blockUsed &&
      this.#blockUsed + chunk.length <= block.length
    ) {
      // Grow the last chunk, a view of the block, in place.
      block.set(chunk, this.#blockUsed);
      this.#blockUsed += chunk.length;
      this.#chunks[lastIndex] = new Uint8Array(
        block.buffer,
        last.byteOffset,
        last.length + chunk.length,
      );
      // A head search that had finished this chunk resumes inside it.
      if (this.#scanChunk > lastIndex) {
        this.#scanChunk = lastIndex;
        this.#scanOffset = last.length;
      }
      return;
    }
    const fresh = new Uint8Array(BLOCK);
    fresh.set(chunk);
    this.#block = fresh;
    this.#blockUsed = chunk.length;
    this.#chunks.push(fresh.subarray(0, chunk.length));
  }

  /**
   * The length of the head at the front, through its blank line, once it
   * is all here: -1 while incomplete, -2 when more than `max` bytes came
   * without one.
   */
  headLength(max: number): number {
    if (this.#scanChunk < this.#first) this.#scanChunk = this.#first;
    while (this.#scanChunk < this.#chunks.length) {
      const chunk = this.#chunks[this.#scanChunk]!;
      while (this.#scanOffset < chunk.length) {
        const byte = chunk[this.#scanOffset++]!;
        this.#scanned++;
        if (byte === (this.#run % 2 === 0 ? 13 : 10)) {
          if (++this.#run === 4) return this.#scanned;
        } else this.#run = byte === 13 ? 1 : 0;
        if (this.#scanned > max + 4) return -2;
      }
      this.#scanChunk++;
      this.#scanOffset = 0;
    }
    return -1;
  }

  /** Removes and returns the first `n` bytes (at most what is held). */
  take(n: number): Uint8Array {
    this.#scanChunk = this.#first;
    this.#scanOffset = 0;
    this.#scanned = 0;
    this.#run = 0;
    n = Math.min(n, this.length);
    if (n === 0) return EMPTY;
    this.length -= n;
    const head = this.#chunks[this.#first]!;
    let out: Uint8Array;
    if (head.length >= n) {
      out = head.subarray(0, n);
      this.#advance(head, n);
    } else {
      out = new Uint8Array(n);
      let at = 0;
      while (at < n) {
        const chunk = this.#chunks[this.#first]!;
        const part = Math.min(chunk.length, n - at);
        out.set(chunk.subarray(0, part), at);
        at += part;
        this.#advance(chunk, part);
      }
    }
    this.#scanChunk = this.#first;
    return out;
  }

  /** Drops `n` bytes of the first chunk. */
  #advance(chunk: Uint8Array, n: number): void {
    if (n < chunk.length) {
      this.#chunks[this.#first] = chunk.subarray(n);
      return;
    }
    this.#first++;
    if (this.#first === this.#chunks.length) {
      this.#chunks = [];
      this.#first = 0;
    } else if (this.#first >= 1024) {
      this.#chunks = this.#chunks.slice(this.#first);
      this.#first = 0;
    }
  }
}
