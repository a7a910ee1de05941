/**
 * The callee role: REGISTER/UNREGISTER, INVOCATION → endpoint → YIELD or
 * ERROR, progressive results and input chunks, INTERRUPT, callee-side
 * timeouts and registration revocation.
 *
 * @module
 */

import {
  type CancelMode,
  type Dict,
  ErrorUri,
  type InterruptMessage,
  type InvocationMessage,
  MessageType,
  type RegisterOptions,
  type UnregisteredMessage,
} from "../wamp/mod.ts";
import { type Arguments, argumentsOf, payloadOf, type SessionContext } from "./context.ts";
import { ApplicationError } from "./errors.ts";

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

/** The 4th argument of an {@linkcode Endpoint}: one running invocation. */
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
   * after the chunk without `progress`. Chunks not yet read are buffered.
   * Iterating throws `signal.reason` once the invocation is aborted.
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
   */
  progress(payload?: YieldArguments): boolean;
}

/**
 * A procedure implementation. Return `{ args, kwargs }` (or nothing); throw
 * {@linkcode ApplicationError} to send a specific error. Any other throw
 * sends `wamp.error.runtime_error` with the error's message. The 4th
 * argument, the {@linkcode Invocation}, gives the progressive-results
 * channel, the input chunks and an `AbortSignal`.
 */
export type Endpoint = (
  args: unknown[],
  kwargs: Dict,
  details: Dict,
  invocation: Invocation,
) => YieldArguments | void | Promise<YieldArguments | void>;

/** Options for `Session.register()`: REGISTER.Options plus `onRevoked`. */
export interface RegisterRequestOptions extends RegisterOptions {
  /**
   * Called when the router revokes the registration (spec "Registration
   * Revocation": UNREGISTERED with request 0), with the router's reason.
   * The registration is inactive by then.
   */
  onRevoked?: (reason: string | undefined) => void;
}

/**
 * A registered procedure. Dispose it (`await using`) or call
 * {@linkcode Registration.unregister} to withdraw it.
 */
export class Registration implements AsyncDisposable {
  /** The router's registration ID. */
  readonly id: number;
  /** The procedure URI or pattern registered. */
  readonly procedure: string;
  #active = true;
  #unregister: () => Promise<void>;

  /**
   * Created by the session; not meant to be constructed directly.
   *
   * @param id The registration ID.
   * @param procedure The procedure URI or pattern.
   * @param unregister How to unregister.
   */
  constructor(id: number, procedure: string, unregister: () => Promise<void>) {
    this.id = id;
    this.procedure = procedure;
    this.#unregister = unregister;
  }

  /** False once unregistered, revoked, or the session ended. */
  get active(): boolean {
    return this.#active;
  }

  /** Marks the registration ended (called by the session). */
  end(): void {
    this.#active = false;
  }

  /** Withdraws the registration (nothing to do once inactive). */
  async unregister(): Promise<void> {
    if (!this.#active) return;
    this.#active = false;
    await this.#unregister();
  }

  /** Unregisters (for `await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.unregister();
  }
}

interface Registered {
  readonly registration: Registration;
  readonly endpoint: Endpoint;
  readonly onRevoked: ((reason: string | undefined) => void) | undefined;
}

/** Why an unanswered invocation is dropped or answered by the client. */
function interruptError(uri: string, mode: CancelMode | undefined): ApplicationError {
  return new ApplicationError(uri, { details: mode === undefined ? {} : { mode } });
}

/** One running invocation: its chunks, signal, timer and answer state. */
class RunningInvocation implements Invocation {
  readonly request: number;
  readonly registration: number;
  readonly procedure: string;
  readonly details: Dict;
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
    this.procedure = typeof msg.details.procedure === "string" ? msg.details.procedure : procedure;
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
    } else {
      this.#queue.push(chunk);
    }
  }

  progress(payload: YieldArguments = {}): boolean {
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
    if (typeof timeout !== "number" || timeout <= 0 || this.answered) return;
    this.#stopTimer();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.fail(ErrorUri.TIMEOUT);
      this.abort(interruptError(ErrorUri.TIMEOUT, undefined), true);
    }, timeout);
  }

  #stopTimer(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/** How many finished invocations with unfinished input to remember. */
const FINISHED_INPUTS = 1024;

/** The callee half of a session. Internal: the session delegates to it. */
export class Callee {
  #ctx: SessionContext;
  #registrations = new Map<number, Registered>();
  #invocations = new Map<number, RunningInvocation>();
  /** Answered invocations whose caller may still send input chunks. */
  #finishedInputs = new Set<number>();

  /**
   * @param ctx The session.
   */
  constructor(ctx: SessionContext) {
    this.#ctx = ctx;
  }

  /**
   * Registers a procedure; see `Session.register()`.
   *
   * @param procedure The procedure URI or pattern.
   * @param endpoint Its implementation.
   * @param options REGISTER options plus `onRevoked`.
   * @returns The registration.
   */
  async register(
    procedure: string,
    endpoint: Endpoint,
    options: RegisterRequestOptions = {},
  ): Promise<Registration> {
    const { onRevoked, ...wire } = options;
    const reply = await this.#ctx.request((request) => ({
      type: MessageType.REGISTER,
      request,
      options: wire,
      procedure,
    }));
    const id = (reply as { registration: number }).registration;
    const registration = new Registration(id, procedure, async () => {
      if (!this.#registrations.delete(id) || !this.#ctx.isOpen()) return;
      await this.#ctx.request((request) => ({
        type: MessageType.UNREGISTER,
        request,
        registration: id,
      }));
    });
    this.#registrations.set(id, { registration, endpoint, onRevoked });
    return registration;
  }

  /**
   * Handles INVOCATION: starts the endpoint, or feeds a running
   * progressive invocation its next chunk.
   *
   * @param msg The INVOCATION.
   */
  onInvocation(msg: InvocationMessage): void {
    const running = this.#invocations.get(msg.request);
    if (running !== undefined) return running.push(msg);
    if (this.#finishedInputs.has(msg.request)) {
      // A continuation of an invocation already answered: ignored.
      if (msg.details.progress !== true) this.#finishedInputs.delete(msg.request);
      return;
    }
    const reg = this.#registrations.get(msg.registration);
    const invocation = new RunningInvocation(
      this.#ctx,
      msg,
      reg?.registration.procedure ?? "",
    );
    if (reg === undefined) {
      invocation.fail(ErrorUri.NO_SUCH_REGISTRATION, { args: ["registration withdrawn"] });
      return this.#done(invocation);
    }
    this.#invocations.set(msg.request, invocation);
    void this.#run(reg.endpoint, invocation, msg);
  }

  /**
   * Handles INTERRUPT (spec "Call Canceling"): aborts the invocation's
   * signal. With `kill` the client answers ERROR at once (the INTERRUPT's
   * reason, `wamp.error.canceled` by default); with `killnowait` it never
   * answers. INTERRUPTs for unknown or answered invocations are ignored.
   *
   * @param msg The INTERRUPT.
   */
  onInterrupt(msg: InterruptMessage): void {
    const invocation = this.#invocations.get(msg.request);
    if (invocation === undefined || invocation.answered) return;
    const mode = (msg.options.mode as CancelMode | undefined) ?? "killnowait";
    const uri = typeof msg.options.reason === "string" ? msg.options.reason : ErrorUri.CANCELED;
    if (mode === "kill") invocation.fail(uri);
    invocation.abort(interruptError(uri, mode), true);
  }

  /**
   * Handles UNREGISTERED with request 0: the router revoked a registration.
   *
   * @param msg The UNREGISTERED.
   */
  onRevoked(msg: UnregisteredMessage): void {
    const id = msg.details?.registration;
    const reg = typeof id === "number" ? this.#registrations.get(id) : undefined;
    if (reg === undefined) return;
    this.#registrations.delete(reg.registration.id);
    reg.registration.end();
    const reason = msg.details?.reason;
    try {
      reg.onRevoked?.(typeof reason === "string" ? reason : undefined);
    } catch (error) {
      console.error("onRevoked handler failed:", error);
    }
  }

  /**
   * Ends every registration and aborts every running invocation, without
   * answering (the session ended).
   *
   * @param error The abort reason.
   */
  close(error: Error): void {
    for (const reg of this.#registrations.values()) reg.registration.end();
    this.#registrations.clear();
    for (const invocation of this.#invocations.values()) invocation.abort(error, true);
    this.#invocations.clear();
    this.#finishedInputs.clear();
  }

  async #run(endpoint: Endpoint, invocation: RunningInvocation, msg: InvocationMessage) {
    try {
      const { args, kwargs } = argumentsOf(msg);
      invocation.yield(await endpoint(args, kwargs, msg.details, invocation));
    } catch (error) {
      if (error instanceof ApplicationError) {
        invocation.fail(error.uri, { args: error.args, kwargs: error.kwargs });
      } else {
        const message = error instanceof Error ? error.message : String(error);
        invocation.fail(ErrorUri.RUNTIME_ERROR, { args: [message] });
      }
    } finally {
      this.#done(invocation);
    }
  }

  #done(invocation: RunningInvocation): void {
    invocation.finish();
    if (this.#invocations.get(invocation.request) === invocation) {
      this.#invocations.delete(invocation.request);
    }
    if (!invocation.inputDone) {
      this.#finishedInputs.add(invocation.request);
      if (this.#finishedInputs.size > FINISHED_INPUTS) {
        const oldest = this.#finishedInputs.values().next().value;
        if (oldest !== undefined) this.#finishedInputs.delete(oldest);
      }
    }
  }
}
