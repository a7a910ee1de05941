/**
 * `Promise.withResolvers()` for the platforms that lack it (Node 20, older
 * browsers): the client runs on them, so it uses this instead.
 *
 * @module
 */

/** A promise with its settle functions. */
export interface Deferred<T> {
  /** The promise. */
  readonly promise: Promise<T>;
  /** Fulfils it. */
  readonly resolve: (value: T | PromiseLike<T>) => void;
  /** Rejects it. */
  readonly reject: (reason?: unknown) => void;
}

/**
 * Creates a promise and hands out its settle functions, as
 * `Promise.withResolvers()` does.
 *
 * @returns The promise and its resolve and reject functions.
 *
 * @example
 * ```ts
 * import { deferred } from "./deferred.ts";
 * import { equal } from "node:assert/strict";
 *
 * const { promise, resolve } = deferred<number>();
 * resolve(5);
 * equal(await promise, 5);
 * ```
 */
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T | PromiseLike<T>) => void;
  let reject!: (reason?: unknown) => void;
  const promise = new Promise<T>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
}
