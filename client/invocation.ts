/**
 * One invocation as an endpoint sees it: its details, abort signal,
 * progressive-results channel and input chunks; and the client's running
 * state behind it (answered or not, callee-side timeout).
 *
 * @module
 */

import {
  type Dict,
  type ErrorMessage,
  ErrorUri,
  type InvocationDetails,
  type InvocationMessage,
  MessageType,
  type WampMessage,
} from "../wamp/mod.ts";
import { type Arguments, argumentsOf, payloadOf, type SessionContext } from "./context.ts";
import { ApplicationError } from "./errors.ts";
import { MAX_TIMER } from "./limits.ts";
import { payloadError } from "./payload.ts";

/** What an endpoint returns, or passes to {@linkcode Invocation.progress}. */
export interface YieldArguments extends Arguments {
  /**
   * Extra YIELD.Options, e.g. `ppt_scheme` for payload passthru mode. The
   * client sets `progress` itself.
   */
  options?: Dict;
}

/** One input chunk of an invocation. */
export interface InvocationChunk {
  /** Positional arguments (empty when none). */
  readonly args: unknown[];
  /** Keyword arguments (empty when none). */
  readonly kwargs: Dict;
  /** INVOCATION.Details of the chunk (`progress: true` while more follow). */
  readonly details: Dict;
}

/** The 4th argument of an endpoint: one running invocation. */
export interface Invocation {
  /** The registration invoked. */
  readonly registration: number;
  /**
   * The procedure called: `details.procedure` for a pattern-based
   * registration, otherwise the registered URI.
   */
  readonly procedure: string;
  /**
   * INVOCATION.Details of the first chunk: `caller`, `caller_authid`,
   * `caller_authrole`, `trustlevel`, `timeout`, `receive_progress`, `ppt_*`, …
   */
  readonly details: Dict;
  /**
   * Aborts when the invocation is interrupted (spec "Call Canceling"), times
   * out (`details.timeout`, registered with `forward_timeout: true`) or the
   * session ends. Its `reason` is an {@linkcode ApplicationError} with the
   * INTERRUPT's reason (`wamp.error.canceled`, `wamp.error.timeout`), or a
   * `SessionClosedError`. By then the client has already answered
   * (`kill`: ERROR with that URI; timeout: ERROR `wamp.error.timeout`) or
   * must stay silent (`killnowait`); whatever the endpoint returns later is
   * dropped.
   */
  readonly signal: AbortSignal;
  /**
   * Whether the caller asked for progressive results and
   * {@linkcode Invocation.progress} sends them.
   */
  readonly receiveProgress: boolean;
  /**
   * The call's input chunks, the first included (the same payload as the
   * endpoint's `args` and `kwargs`). A plain call has one chunk; a caller
   * using progressive call invocations streams more, and iteration ends
   * after the chunk without `progress`. Chunks not yet read are buffered,
   * up to `JoinOptions.maxInputChunks`: one more answers ERROR
   * `cloverleaf.error.limit_exceeded` and aborts the invocation.
   * Iterating throws `signal.reason` once the invocation is aborted.
   *
   * @example Streaming input chunks
   * ```ts
   * import { connectLocal, Router } from "@cloverleaf/wamp";
   * import { deepEqual } from "node:assert/strict";
   *
   * const router = new Router({ realms: [{ name: "realm1" }] });
   * const session = await connectLocal(router, "realm1");
   * await session.register("com.example.sum", async (_args, _kwargs, _details, invocation) => {
   *   let sum = 0;
   *   for await (const chunk of invocation.chunks) sum += chunk.args[0] as number;
   *   return { args: [sum] };
   * });
   * async function* numbers() {
   *   for (const n of [1, 2, 3]) yield { args: [n] };
   * }
   * deepEqual((await session.call("com.example.sum", numbers())).args, [6]);
   * await session.close();
   * await router.close();
   * ```
   */
  readonly chunks: AsyncIterable<InvocationChunk>;
  /**
   * Sends a progressive result: YIELD `{progress: true}` (spec "Progressive
   * Call Results"). It is a no-op returning `false` when the caller did not
   * ask for progress (`receiveProgress` is false), or once the invocation
   * is answered or aborted, so an endpoint may call it unconditionally.
   * With a forwarded timeout, each progressive result restarts the timer.
   *
   * @param payload The progressive result, plus extra YIELD options.
   * @returns Whether a YIELD was sent.
   * @throws {TypeError} When `payload` is not `{ args?, kwargs?, options? }`.
   */
  progress(payload?: YieldArguments): boolean;
}

/**
 * An abort reason: the INTERRUPT's (or the timeout's) URI as an
 * {@linkcode ApplicationError}, with the mode in its details.
 *
 * @param uri The reason URI.
 * @param mode The INTERRUPT mode, if any.
 * @returns The error.
 */
export function interruptError(uri: string, mode: string | undefined): ApplicationError {
  return new ApplicationError(uri, { details: mode === undefined ? {} : { mode } });
}

/** One running invocation: its chunks, signal, timer and answer state. */
export class RunningInvocation implements Invocation {
  readonly request: number;
  readonly registration: number;
  readonly procedure: string;
  readonly details: InvocationDetails;
  readonly receiveProgress: boolean;
  readonly chunks: AsyncIterable<InvocationChunk>;
  /** YIELD/ERROR sent, or must not be (killnowait): nothing more goes out. */
  answered = false;
  /** The chunk without `progress` has arrived. */
  inputDone = false;
  #controller = new AbortController();
  #queue: InvocationChunk[] = [];
  #waiting:
    | { resolve(r: IteratorResult<InvocationChunk>): void; reject(e: unknown): void }
    | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #ctx: SessionContext;

  constructor(ctx: SessionContext, msg: InvocationMessage, procedure: string) {
    this.#ctx = ctx;
    this.request = msg.request;
    this.registration = msg.registration;
    this.details = msg.details;
    this.procedure = msg.details.procedure ?? procedure;
    this.receiveProgress = msg.details.receive_progress === true;
    this.chunks = { [Symbol.asyncIterator]: () => ({ next: () => this.#next() }) };
    this.push(msg);
    this.#armTimer();
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Queues an input chunk (the first INVOCATION or a continuation). */
  push(msg: InvocationMessage): void {
    if (this.inputDone || this.signal.aborted) return;
    const chunk: InvocationChunk = { ...argumentsOf(msg), details: msg.details };
    this.inputDone = msg.details.progress !== true;
    if (this.#waiting !== undefined) {
      const waiting = this.#waiting;
      this.#waiting = undefined;
      waiting.resolve({ value: chunk, done: false });
    } else if (this.#queue.length < this.#ctx.limits.maxInputChunks) {
      this.#queue.push(chunk);
    } else {
      const why = `limit "maxInputChunks" (${this.#ctx.limits.maxInputChunks}) exceeded`;
      this.#queue.length = 0; // answered: the endpoint gets no stale chunks
      this.fail(ErrorUri.LIMIT_EXCEEDED, { args: [why] });
      this.abort(new ApplicationError(ErrorUri.LIMIT_EXCEEDED, { args: [why] }), true);
    }
  }

  progress(payload: YieldArguments = {}): boolean {
    const wrong = payloadError(payload, `invocation.progress() of ${this.procedure}`);
    if (wrong !== undefined) throw wrong;
    if (!this.receiveProgress || this.answered || !this.#ctx.isOpen()) return false;
    this.#ctx.send({
      type: MessageType.YIELD,
      request: this.request,
      options: { ...payload.options, progress: true },
      ...payloadOf(payload),
    });
    this.#armTimer();
    return true;
  }

  /** Sends the final YIELD, unless answered already. */
  yield(payload: YieldArguments | void): void {
    if (this.#answer()) {
      this.#ctx.send({
        type: MessageType.YIELD,
        request: this.request,
        options: { ...payload?.options },
        ...payloadOf(payload ?? undefined),
      });
    }
  }

  /** Sends ERROR, unless answered already. */
  fail(error: string, payload: Arguments = {}): void {
    if (this.#answer()) {
      this.#ctx.send({
        type: MessageType.ERROR,
        requestType: MessageType.INVOCATION,
        request: this.request,
        details: {},
        error,
        ...payloadOf(payload),
      });
    }
  }

  /** Aborts the signal and the chunk iterator; `silent` stops any answer. */
  abort(reason: unknown, silent: boolean): void {
    if (silent) this.answered = true;
    this.#stopTimer();
    if (this.signal.aborted) return;
    this.#controller.abort(reason);
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.reject(reason);
  }

  /** Stops the timer (the endpoint returned). */
  finish(): void {
    this.#stopTimer();
  }

  #answer(): boolean {
    if (this.answered) return false;
    this.answered = true;
    this.#stopTimer();
    return this.#ctx.isOpen();
  }

  #next(): Promise<IteratorResult<InvocationChunk>> {
    const chunk = this.#queue.shift();
    if (chunk !== undefined) return Promise.resolve({ value: chunk, done: false });
    if (this.signal.aborted) return Promise.reject(this.signal.reason);
    if (this.inputDone) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => this.#waiting = { resolve, reject });
  }

  /** Callee-side timeout (spec "Call Timeout", `details.timeout`). */
  #armTimer(): void {
    const timeout = this.details.timeout;
    if (timeout === undefined || timeout <= 0 || this.answered) return;
    this.#stopTimer();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.fail(ErrorUri.TIMEOUT);
      this.abort(interruptError(ErrorUri.TIMEOUT, undefined), true);
    }, Math.min(timeout, MAX_TIMER)); // longer would fire at once
  }

  #stopTimer(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/**
 * What the callee sends instead of an answer the link refused as over the
 * router's limit: a YIELD (or an invocation's ERROR) becomes ERROR
 * `wamp.error.payload_size_exceeded` under the router's own request ID,
 * so the caller learns why and the session stays open.
 *
 * @param msg The refused message.
 * @param why What was refused, for the caller.
 * @returns The ERROR to send, or `undefined` when `msg` is no answer to an INVOCATION.
 */
export function oversizeAnswer(msg: WampMessage, why: string): ErrorMessage | undefined {
  const answer = msg.type === MessageType.YIELD ||
    (msg.type === MessageType.ERROR && msg.requestType === MessageType.INVOCATION);
  if (!answer) return undefined;
  return {
    type: MessageType.ERROR,
    requestType: MessageType.INVOCATION,
    request: msg.request,
    details: {},
    error: ErrorUri.PAYLOAD_SIZE_EXCEEDED,
    args: [why],
  };
}
