/**
 * One outstanding call as the caller role keeps it: its promise, whether
 * it was canceled, and the timer that gives up on a router that says
 * nothing.
 *
 * @module
 */

import { MAX_TIMER } from "./limits.ts";

/** One outstanding call of the caller role, settling with a `Result`. Internal. */
export class PendingCall<Result> {
  /** The CALL request ID, 0 until the first CALL went out. */
  request = 0;
  /** CANCEL `kill` was sent: chunks stop, the callee's answer still counts. */
  canceled = false;
  /** Resolved or rejected: nothing settles it again. */
  settled = false;
  /** What `Session.call()` returns. */
  readonly promise: Promise<Result>;
  /** Resolves when the call settles or is canceled: streaming stops then. */
  readonly stopped: Promise<undefined>;
  /** Gets each progressive result. */
  readonly onProgress: ((progress: Result) => void) | undefined;
  #resolve!: (result: Result) => void;
  #reject!: (error: unknown) => void;
  #stop!: (value: undefined) => void;
  #onSettled: () => void;
  /** A call the client gives up on when the router says nothing for `#wait` ms. */
  #silence: ReturnType<typeof setTimeout> | undefined;
  #silent: (() => void) | undefined;
  #wait = 0;

  /**
   * @param onProgress Gets each progressive result.
   * @param onSettled Runs once when it settles (the caller forgets it).
   */
  constructor(onProgress: ((progress: Result) => void) | undefined, onSettled: () => void) {
    this.onProgress = onProgress;
    this.#onSettled = onSettled;
    this.promise = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.stopped = new Promise((resolve) => this.#stop = resolve);
  }

  /** Settles it with its final result (once). */
  resolve(result: Result): void {
    if (this.#settle()) this.#resolve(result);
  }

  /** Settles it with an error (once). */
  reject(error: unknown): void {
    if (this.#settle()) this.#reject(error);
  }

  /** CANCEL `kill` went out: chunks stop; the callee's answer still settles it. */
  cancel(): void {
    this.canceled = true;
    this.#stop(undefined);
  }

  /** Whether {@linkcode PendingCall.watch} waits for the call. */
  get watching(): boolean {
    return this.#silent !== undefined;
  }

  /** Runs `silent` unless something arrives for the call within `ms` (each arrival restarts it). */
  watch(ms: number, silent: () => void): void {
    if (ms <= 0 || ms > MAX_TIMER) return;
    this.#wait = ms;
    this.#silent = silent;
    this.heard();
  }

  /** Something arrived for the call (a progressive result): its {@linkcode PendingCall.watch} restarts. */
  heard(): void {
    if (this.#silent === undefined || this.settled) return;
    clearTimeout(this.#silence);
    this.#silence = setTimeout(this.#silent, this.#wait);
  }

  #settle(): boolean {
    if (this.settled) return false;
    this.settled = true;
    clearTimeout(this.#silence);
    this.#stop(undefined);
    this.#onSettled();
    return true;
  }
}
