/**
 * Byte-array helpers shared by the framings and the socket code (one
 * `concat`, in `wamp/bytes.ts`, for the client and the router alike), and
 * the one bounded read of an HTTP body, a request's or a response's.
 *
 * @module
 */

import { concat } from "../../wamp/bytes.ts";

export { concat };

/** What {@linkcode readBounded} reads: a `Request` or a `Response`. */
export interface BodySource {
  /** Its headers (`Content-Length`, when declared). */
  readonly headers: Headers;
  /** Its body. */
  readonly body: ReadableStream<Uint8Array> | null;
}

/** How {@linkcode readBounded} reads. */
export interface ReadBoundedOptions {
  /** Stops the read (its body canceled), which then throws its reason. */
  signal?: AbortSignal | undefined;
}

/**
 * Reads a request's or a response's body, at most `limit` bytes: past it
 * the read is canceled, so a peer cannot make us hold more than we take,
 * whether it declared the size (`Content-Length`) or not (chunked).
 *
 * @param message The request or response.
 * @param limit The most bytes taken.
 * @param options A signal that stops the read (a deadline).
 * @returns The body, or `undefined` when it is longer (declared or sent).
 * @throws {Error} When the body cannot be read to its end (its peer gone),
 * or the signal's reason once it aborts first.
 *
 * @example
 * ```ts
 * import { readBounded } from "./bytes.ts";
 * import { equal } from "node:assert/strict";
 *
 * const post = (body: string) => new Request("http://localhost/", { method: "POST", body });
 * equal((await readBounded(post("four"), 4))?.length, 4);
 * equal(await readBounded(post("five!"), 4), undefined);
 * ```
 */
export async function readBounded(
  message: BodySource,
  limit: number,
  options: ReadBoundedOptions = {},
): Promise<Uint8Array | undefined> {
  if (Number(message.headers.get("content-length") ?? 0) > limit) {
    await message.body?.cancel().catch(() => {});
    return undefined;
  }
  const reader = message.body?.getReader();
  if (reader === undefined) return new Uint8Array(0);
  // Stopped: the read waiting ends (as if done) and the body's source is canceled.
  const { signal } = options;
  const stop = () => void reader.cancel().catch(() => {});
  if (signal?.aborted) stop();
  signal?.addEventListener("abort", stop);
  try {
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      signal?.throwIfAborted();
      if (done) return concat(chunks);
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel().catch(() => {});
        return undefined;
      }
      chunks.push(value);
    }
  } finally {
    signal?.removeEventListener("abort", stop);
  }
}

/**
 * How long a request's body may take to arrive (ms): a listener's default
 * `bodyTimeout`, and the deadline of a body that a program's own server
 * hands to a service (the long-poll service's and the HTTP bridge's
 * `handle()`), which nothing else times.
 */
export const BODY_TIMEOUT = 60_000;

/**
 * {@linkcode readBounded} with a deadline: a body that has not arrived
 * whole within `ms` is canceled and read as `"late"` (for a 408).
 *
 * @param message The request or response.
 * @param limit The most bytes taken.
 * @param ms The deadline in milliseconds; 0 for none.
 * @returns The body, `undefined` when it is longer than `limit`, or
 * `"late"`.
 * @throws {Error} When the body cannot be read to its end (its peer gone).
 *
 * @example
 * ```ts
 * import { readWithin } from "./bytes.ts";
 * import { equal } from "node:assert/strict";
 *
 * const slow = new Request("http://localhost/", {
 *   method: "POST",
 *   body: new ReadableStream({ pull: () => new Promise(() => {}) }),
 * });
 * equal(await readWithin(slow, 100, 10), "late");
 * ```
 */
export async function readWithin(
  message: BodySource,
  limit: number,
  ms: number,
): Promise<Uint8Array | undefined | "late"> {
  const deadline = new AbortController();
  const timer = ms > 0 ? setTimeout(() => deadline.abort(), ms) : undefined;
  try {
    return await readBounded(message, limit, { signal: deadline.signal });
  } catch (e) {
    if (deadline.signal.aborted) return "late";
    throw e;
  } finally {
    clearTimeout(timer);
  }
}
