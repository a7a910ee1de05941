/**
 * A promise with its resolve and reject: `Promise.withResolvers()`, which
 * Node 20 lacks, written out so the client runs there too.
 *
 * @module
 */

/** A promise and the functions that settle it. */
export interface Deferred<T> {
  /** The promise. */
  readonly promise: Promise<T>;
  /** Resolves it. */
  readonly resolve: (value: T) => void;
  /** Rejects it. */
  readonly reject: (reason: unknown) => void;
}

/**
 * Makes a promise settled from outside.
 *
 * @returns The promise and its resolve and reject.
 */
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
}
