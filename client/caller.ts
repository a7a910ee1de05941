/**
 * The caller role: CALL and its answers, progressive call results,
 * progressive call invocations (input streamed in chunks), cancellation
 * with an `AbortSignal`, and the wire options of the Advanced Profile.
 *
 * @module
 */

import {
  type CallOptions,
  type CancelMode,
  type Dict,
  type ErrorMessage,
  ErrorUri,
  Feature,
  hasFeature,
  isCancelMode,
  MessageType,
  type ResultMessage,
} from "../wamp/mod.ts";
import { type Arguments, argumentsOf, payloadOf, type SessionContext } from "./context.ts";
import { ApplicationError } from "./errors.ts";
import { payloadError } from "./payload.ts";
import { IdTable } from "../wamp/id_table.ts";
import { PendingCall } from "./pending_call.ts";

/**
 * How long past a call's `timeout` the client waits for the router's
 * answer (its ERROR `wamp.error.timeout`, or a result) before it gives up
 * on its own: a router that enforces no timeout leaves nothing hanging.
 */
const CALL_TIMEOUT_GRACE = 1000;

/** A call's result: always carries `args` and `kwargs`. */
export interface Result {
  /** Positional results (empty when none). */
  readonly args: unknown[];
  /** Keyword results (empty when none). */
  readonly kwargs: Dict;
  /** RESULT.Details (`progress: true` on a progressive result). */
  readonly details: Dict;
}

/**
 * Options for `Session.call()`: the CALL.Options keys, passed through
 * untranslated (`timeout`, `receive_progress`, `disclose_me`, `runmode`,
 * `rkey`, `ppt_scheme`, …), plus three that never go on the wire. `progress`
 * is the client's own (see `Session.call()` with input chunks) and is ignored
 * here.
 *
 * @example Canceling with an AbortSignal
 * ```ts
 * import { connectLocal, Router } from "@cloverleaf/wamp";
 * import { equal, rejects } from "node:assert/strict";
 *
 * const router = new Router({ realms: [{ name: "realm1" }] });
 * const session = await connectLocal(router, "realm1");
 * let interrupted = false;
 * await session.register("com.example.slow", (_args, _kwargs, _details, invocation) =>
 *   new Promise((_resolve, reject) => {
 *     invocation.signal.addEventListener("abort", () => {
 *       interrupted = true;
 *       reject(invocation.signal.reason);
 *     });
 *   }));
 * const controller = new AbortController();
 * const pending = session.call("com.example.slow", {}, { signal: controller.signal });
 * await new Promise((resolve) => setTimeout(resolve, 10));
 * controller.abort(new Error("no longer needed"));
 * await rejects(pending, /no longer needed/);
 * await new Promise((resolve) => setTimeout(resolve, 10));
 * equal(interrupted, true);
 * await session.close();
 * await router.close();
 * ```
 */
export interface CallRequestOptions extends CallOptions {
  /**
   * Cancels the call when aborted (spec "Call Canceling"): the client sends
   * CANCEL with {@linkcode CallRequestOptions.cancelMode}. With `skip` and
   * `killnowait` the call rejects at once with `signal.reason`; with `kill`
   * it settles with the router's answer: usually an
   * {@linkcode ApplicationError} `wamp.error.canceled` from the callee, or
   * the result when the callee finished first. When the router does not
   * announce `call_canceling`, or before the first CALL of a streamed call
   * went out, the call rejects with `signal.reason` and nothing is sent.
   */
  signal?: AbortSignal;
  /**
   * The CANCEL mode used when `signal` aborts.
   * @default {"killnowait"}
   */
  cancelMode?: CancelMode;
  /**
   * Receives each progressive result (spec "Progressive Call Results");
   * setting it sets `receive_progress: true`. If it throws, the call is
   * canceled (`killnowait`) and rejects with what it threw.
   *
   * @example Progressive results
   * ```ts
   * import { connectLocal, Router } from "@cloverleaf/wamp";
   * import { deepEqual } from "node:assert/strict";
   *
   * const router = new Router({ realms: [{ name: "realm1" }] });
   * const session = await connectLocal(router, "realm1");
   * await session.register("com.example.count", (args, _kwargs, _details, invocation) => {
   *   const n = args[0] as number;
   *   for (let i = 1; i < n; i++) invocation.progress({ args: [i] });
   *   return { args: [n] };
   * });
   * const seen: unknown[] = [];
   * const result = await session.call("com.example.count", { args: [3] }, {
   *   onProgress: (progress) => seen.push(progress.args[0]),
   * });
   * deepEqual([...seen, result.args[0]], [1, 2, 3]);
   * await session.close();
   * await router.close();
   * ```
   */
  onProgress?: (progress: Result) => void;
}

/** Why the client-only call options are wrong (a CANCEL must not carry a mode the router refuses). */
function optionsError(
  cancelMode: unknown,
  onProgress: unknown,
  where: string,
): TypeError | undefined {
  if (!isCancelMode(cancelMode)) {
    return new TypeError(`${where}: cancelMode must be "skip", "kill" or "killnowait"`);
  }
  if (onProgress !== undefined && typeof onProgress !== "function") {
    return new TypeError(`${where}: onProgress must be a function`);
  }
  return undefined;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<Arguments> {
  return typeof value === "object" && value !== null && Symbol.asyncIterator in value;
}

/** The caller half of a session. Internal: the session delegates to it. */
export class Caller {
  #ctx: SessionContext;
  #calls = new Set<PendingCall<Result>>();
  #byRequest = new IdTable<PendingCall<Result>>();

  /**
   * @param ctx The session.
   */
  constructor(ctx: SessionContext) {
    this.#ctx = ctx;
  }

  /**
   * Calls a procedure; see `Session.call()`.
   *
   * @param procedure The procedure URI.
   * @param payload Arguments, or an async iterable of input chunks.
   * @param options CALL options plus `signal`, `cancelMode`, `onProgress`.
   * @returns The final result.
   */
  call(
    procedure: string,
    payload: Arguments | AsyncIterable<Arguments> = {},
    options: CallRequestOptions = {},
  ): Promise<Result> {
    const { signal, cancelMode = "killnowait", onProgress, progress: _, ...wire } = options;
    const streamed = isAsyncIterable(payload);
    const where = `Session.call(${procedure})`;
    const wrong = (streamed ? undefined : payloadError(payload, where)) ??
      optionsError(cancelMode, onProgress, where);
    if (wrong !== undefined) return Promise.reject(wrong);
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (!this.#ctx.isOpen()) return Promise.reject(this.#ctx.notOpen());
    if (onProgress !== undefined) wire.receive_progress = true;
    const call: PendingCall<Result> = new PendingCall(onProgress, () => {
      this.#calls.delete(call);
      this.#byRequest.delete(call.request);
      signal?.removeEventListener("abort", onAbort);
    });
    const onAbort = () => this.#cancel(call, cancelMode, signal!.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    this.#calls.add(call);
    if (streamed) {
      void this.#stream(call, procedure, payload, wire);
    } else {
      this.#send(call, { options: wire, procedure, ...payloadOf(payload) });
    }
    return call.promise;
  }

  /**
   * Handles RESULT: a progressive one goes to `onProgress`, the final one
   * settles the call. Results for calls no longer pending are dropped.
   *
   * @param msg The RESULT.
   */
  onResult(msg: ResultMessage): void {
    const call = this.#byRequest.get(msg.request);
    if (call === undefined) return;
    const result: Result = { ...argumentsOf(msg), details: msg.details };
    if (msg.details.progress !== true) return call.resolve(result);
    call.heard();
    if (call.onProgress === undefined) return;
    try {
      call.onProgress(result);
    } catch (error) {
      this.#cancel(call, "killnowait", error);
    }
  }

  /**
   * Handles ERROR for a CALL: the call rejects with an
   * {@linkcode ApplicationError}.
   *
   * @param msg The ERROR.
   */
  onError(msg: ErrorMessage): void {
    this.#byRequest.get(msg.request)?.reject(
      new ApplicationError(msg.error, { ...argumentsOf(msg), details: msg.details }),
    );
  }

  /**
   * Rejects every outstanding call (the session ended).
   *
   * @param error What they reject with.
   */
  close(error: Error): void {
    for (const call of [...this.#calls]) call.reject(error);
  }

  /** Sends a CALL for `call`, numbering it on its first CALL. */
  #send(call: PendingCall<Result>, msg: { options: Dict; procedure: string } & Arguments): void {
    try {
      if (call.request === 0) {
        call.request = this.#ctx.nextRequest();
        this.#byRequest.set(call.request, call);
        this.#watch(call, msg);
      }
      this.#ctx.send({ type: MessageType.CALL, request: call.request, ...msg });
    } catch (error) {
      // A later chunk refused: the router has the call's start, so it is canceled there too.
      if (call.request !== 0 && this.#byRequest.get(call.request) === call) {
        this.#cancel(call, "killnowait", error);
      } else call.reject(error);
    }
  }

  /**
   * A call with a `timeout`, from its first CALL on: given up
   * {@linkcode CALL_TIMEOUT_GRACE} ms past it when the router says nothing
   * (each progressive result restarts the wait).
   */
  #watch(
    call: PendingCall<Result>,
    { options, procedure }: { options: Dict; procedure: string },
  ): void {
    const timeout = options.timeout;
    if (typeof timeout !== "number" || timeout <= 0) return;
    call.watch(timeout + CALL_TIMEOUT_GRACE, () => {
      const late =
        `Session.call(${procedure}): no answer ${CALL_TIMEOUT_GRACE} ms past its timeout`;
      const error = new ApplicationError(ErrorUri.TIMEOUT, { args: [late] });
      // Cancelled with kill already, it waited for the callee's answer: that wait is over too.
      if (call.canceled) call.reject(error);
      else this.#cancel(call, "killnowait", error);
    });
  }

  /**
   * Cancels a call (spec "Call Canceling"). `skip`/`killnowait` reject at
   * once, before CANCEL goes out, so the router's `canceled` answer finds
   * nothing pending; `kill` waits for the answer.
   */
  #cancel(call: PendingCall<Result>, mode: CancelMode, reason: unknown): void {
    if (call.settled || call.canceled) return;
    const request = call.request;
    const canCancel = request !== 0 && this.#ctx.isOpen() &&
      hasFeature(this.#ctx.routerRoles(), "dealer", Feature.CALL_CANCELING);
    if (mode === "kill" && canCancel) {
      call.cancel();
      // The callee's answer still counts, for requestTimeout (or what the timeout leaves of it):
      // then the call rejects with `reason`.
      if (!call.watching) call.watch(this.#ctx.limits.requestTimeout, () => call.reject(reason));
    } else {
      call.reject(reason);
    }
    if (canCancel) this.#ctx.send({ type: MessageType.CANCEL, request, options: { mode } });
  }

  /**
   * Streams input chunks as one call (spec "Progressive Call
   * Invocations"): every chunk but the last goes out as CALL
   * `{progress: true}` under the same request ID, the last one without
   * `progress`. A chunk goes out once the next one is known (or the
   * iterable ends); only the first CALL carries the options. A lone chunk
   * is an ordinary CALL.
   */
  async #stream(
    call: PendingCall<Result>,
    procedure: string,
    chunks: AsyncIterable<Arguments>,
    wire: Dict,
  ): Promise<void> {
    const iterator = chunks[Symbol.asyncIterator]();
    let exhausted = false;
    const next = async (): Promise<IteratorResult<Arguments> | undefined> => {
      const step = iterator.next();
      step.catch(() => {}); // lost the race to `stopped`: nobody awaits it
      const result = await Promise.race([step, call.stopped]);
      if (result?.done === true) exhausted = true;
      return result;
    };
    try {
      let current = await next();
      if (current === undefined) return;
      if (current.done === true) current = { done: false, value: {} };
      for (let first = true;; first = false) {
        const following = await next();
        if (following === undefined) return;
        const last = following.done === true;
        if (
          first && !last &&
          !hasFeature(this.#ctx.routerRoles(), "dealer", Feature.PROGRESSIVE_CALL_INVOCATIONS)
        ) {
          return call.reject(
            new ApplicationError(ErrorUri.FEATURE_NOT_SUPPORTED, {
              args: ["the router does not announce progressive_call_invocations"],
            }),
          );
        }
        const wrong = payloadError(current.value, `Session.call(${procedure}) input chunk`);
        if (wrong !== undefined) throw wrong;
        const options: Dict = first ? { ...wire } : {};
        if (!last) options.progress = true;
        this.#send(call, { options, procedure, ...payloadOf(current.value) });
        if (last || call.settled) return;
        current = following;
      }
    } catch (error) {
      exhausted = true; // the iterable threw: it is finished
      this.#cancel(call, "killnowait", error);
    } finally {
      if (!exhausted) iterator.return?.()?.catch(() => {});
    }
  }
}
