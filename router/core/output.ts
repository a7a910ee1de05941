/**
 * What the pure core returns from every entry point: the messages to
 * deliver, addressed to sessions, and the effects the shell runs for it.
 * The core never arms a timer, reads the clock or awaits: it asks the
 * shell to, and the shell feeds the outcome back by calling the
 * continuation the effect carries.
 *
 * @module
 */

import type { Outbound } from "./types.ts";

/**
 * Arm a timer (re-arming one with the same `key` replaces it); when it
 * fires, the shell calls `fire()` and handles what it returns.
 */
export interface ArmTimer {
  /** The effect's kind. */
  readonly kind: "arm";
  /** Identifies the timer for {@linkcode CancelTimer} (compared by identity). */
  readonly key: unknown;
  /** Milliseconds until it fires. */
  readonly ms: number;
  /** What happens when it fires. */
  fire(): Output;
}

/** Cancel a timer armed by {@linkcode ArmTimer} (nothing if it already fired). */
export interface CancelTimer {
  /** The effect's kind. */
  readonly kind: "cancel";
  /** The timer's key. */
  readonly key: unknown;
}

/** How asynchronous work ended. */
export type Settled<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: unknown };

/**
 * Run work that may finish later (a dynamic authenticator or authorizer,
 * a router procedure, a call made by the router itself): the shell calls
 * `run()`, waits for its value if it is a promise, and feeds the outcome to
 * `resume`, whose output it handles like any other.
 */
export interface RunTask<T = unknown> {
  /** The effect's kind. */
  readonly kind: "task";
  /** Starts the work (user code: may return a promise). */
  run(): T | PromiseLike<T>;
  /** Continues with the outcome. */
  resume(result: Settled<T>): Output;
}

/** An effect the shell runs for the core. */
// deno-lint-ignore no-explicit-any
export type Effect = ArmTimer | CancelTimer | RunTask<any>;

/** Messages to deliver, then effects to run, in order. */
export interface Output {
  /** Messages addressed to sessions. */
  readonly messages: readonly Outbound[];
  /** Effects for the shell. */
  readonly effects: readonly Effect[];
}

/** The output with nothing in it (shared: do not modify). */
export const NOTHING: Output = Object.freeze({ messages: [], effects: [] }) as Output;
