/**
 * The callee role: REGISTER/UNREGISTER, INVOCATION → endpoint → YIELD or
 * ERROR, progressive results and input chunks, INTERRUPT, callee-side
 * timeouts and registration revocation.
 *
 * @module
 */

import {
  type Dict,
  ErrorUri,
  type InterruptMessage,
  type InvocationMessage,
  MessageType,
  type RegisterOptions,
  type UnregisteredMessage,
  type WampMessage,
} from "../wamp/mod.ts";
import { argumentsOf, type SessionContext } from "./context.ts";
import { ApplicationError } from "./errors.ts";
import { payloadError } from "./payload.ts";
import { UNAVAILABLE } from "./limits.ts";
import {
  interruptError,
  type Invocation,
  RunningInvocation,
  type YieldArguments,
} from "./invocation.ts";
import { IdTable } from "../wamp/id_table.ts";
import { endRegistration, rebindRegistration, Registration } from "./registration.ts";

/**
 * A procedure implementation. Return `{ args, kwargs }` (or nothing); throw
 * {@linkcode ApplicationError} to send a specific error. Any other throw
 * sends `wamp.error.runtime_error` with the error's message. Returning
 * anything else (a bare value, an array) is a `TypeError` naming the
 * procedure: the caller gets `wamp.error.runtime_error` with its message,
 * and the session reports it (`Session.onUserError`). The 4th
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
   * Revocation": UNREGISTERED with request 0), with the router's reason
   * (`""` without one), as {@linkcode Registration.revoked} then has it.
   * The registration is inactive by then.
   */
  onRevoked?: (reason: string) => void;
}

interface Registered {
  readonly registration: Registration;
  readonly endpoint: Endpoint;
  readonly onRevoked: ((reason: string) => void) | undefined;
}

/** How many finished invocations with unfinished input to remember. */
const FINISHED_INPUTS = 1024;

/** The callee half of a session. Internal: the session delegates to it. */
export class Callee {
  #ctx: SessionContext;
  #registrations = new Map<number, Registered>();
  #invocations = new IdTable<RunningInvocation>();
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
   * @param durable Whether the registration outlives the session (a `Connection`'s).
   * @returns The registration.
   */
  async register(
    procedure: string,
    endpoint: Endpoint,
    options: RegisterRequestOptions = {},
    durable = false,
  ): Promise<Registration> {
    let registration: Registration | undefined;
    await this.#request(procedure, endpoint, options, (id, unregister) => {
      registration = new Registration(id, procedure, unregister, durable);
      return registration;
    });
    return registration!;
  }

  /**
   * Registers a durable registration again, on this session: the same
   * object and endpoint, a new registration ID. Unregistered meanwhile, it
   * is unregistered from the router at once.
   *
   * @param registration The registration, made on an earlier session.
   * @param endpoint Its endpoint.
   * @param options Its REGISTER options plus `onRevoked`.
   * @returns When registered.
   * @throws {ApplicationError} When the router refuses.
   */
  async reregister(
    registration: Registration,
    endpoint: Endpoint,
    options: RegisterRequestOptions,
  ): Promise<void> {
    let unregister = (): Promise<void> => Promise.resolve();
    await this.#request(registration.procedure, endpoint, options, (id, withdraw) => {
      rebindRegistration(registration, id, unregister = withdraw);
      return registration;
    });
    if (!registration.active) await unregister();
  }

  /** REGISTER, and the registration attached the moment REGISTERED is read. */
  async #request(
    procedure: string,
    endpoint: Endpoint,
    options: RegisterRequestOptions,
    make: (id: number, unregister: () => Promise<void>) => Registration,
  ): Promise<void> {
    const { onRevoked, ...wire } = options;
    // Attached the moment REGISTERED is read, so an INVOCATION right behind
    // it (in the same read) finds its endpoint.
    const attach = (reply: WampMessage): string | void => {
      const id = (reply as { registration: number }).registration;
      // One registration per ID: another would take this one's invocations.
      if (this.#registrations.has(id)) return `REGISTERED with registration ${id}, held already`;
      const registration = make(id, async () => {
        if (!this.#registrations.delete(id) || !this.#ctx.isOpen()) return;
        await this.#ctx.withdraw((request) => ({
          type: MessageType.UNREGISTER,
          request,
          registration: id,
        }));
      });
      this.#registrations.set(id, { registration, endpoint, onRevoked });
    };
    await this.#ctx.request((request) => ({
      type: MessageType.REGISTER,
      request,
      options: wire,
      procedure,
    }), attach);
  }

  /**
   * Handles INVOCATION: starts the endpoint, or feeds a running
   * progressive invocation its next chunk.
   *
   * @param msg The INVOCATION.
   * @returns How it breaks the protocol: a running invocation's request ID
   * with another registration.
   */
  onInvocation(msg: InvocationMessage): string | void {
    const running = this.#invocations.get(msg.request);
    if (running?.registration === msg.registration) return void running.push(msg);
    if (running !== undefined) {
      return `INVOCATION ${msg.request} for registration ${msg.registration}, running for another`;
    }
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
    const max = this.#ctx.limits.maxInvocations;
    if (this.#invocations.size >= max) {
      invocation.fail(UNAVAILABLE, { args: [`${max} invocations running (maxInvocations)`] });
      return this.#done(invocation);
    }
    this.#invocations.set(msg.request, invocation);
    this.#run(reg.endpoint, invocation, msg);
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
    const mode = msg.options.mode ?? "killnowait";
    const uri = msg.options.reason ?? ErrorUri.CANCELED;
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
    const reason = typeof msg.details?.reason === "string" ? msg.details.reason : "";
    endRegistration(reg.registration, reason);
    try {
      reg.onRevoked?.(reason);
    } catch (error) {
      this.#ctx.report(error, `onRevoked of ${reg.registration.procedure}`);
    }
  }

  /**
   * Ends every registration but the durable ones (a `Connection` restores
   * them) and aborts every running invocation (not one an earlier abort
   * ended), without answering (the session ended).
   *
   * @param error The abort reason.
   */
  close(error: Error): void {
    for (const reg of this.#registrations.values()) {
      if (!reg.registration.durable) endRegistration(reg.registration);
    }
    this.#registrations.clear();
    const running = this.#invocations;
    for (const i of running.sortedValues()) if (running.get(i.request) === i) i.abort(error, true);
    this.#invocations.clear();
    this.#finishedInputs.clear();
  }

  /** Runs an endpoint; one that answers synchronously is answered at once, never counted running. */
  #run(endpoint: Endpoint, invocation: RunningInvocation, msg: InvocationMessage): void {
    let answer: unknown;
    try {
      const { args, kwargs } = argumentsOf(msg);
      answer = endpoint(args, kwargs, msg.details, invocation);
      if (typeof (answer as PromiseLike<unknown> | undefined)?.then !== "function") {
        return this.#answer(invocation, answer as YieldArguments);
      }
    } catch (error) {
      return this.#fail(invocation, error);
    }
    // An answer that cannot be sent (it does not encode) fails the invocation too.
    Promise.resolve(answer).then((a) => this.#answer(invocation, a as YieldArguments))
      .catch((error) => this.#fail(invocation, error));
  }

  #answer(invocation: RunningInvocation, answer: YieldArguments | void): void {
    const wrong = payloadError(answer, `the endpoint of ${invocation.procedure}`);
    if (wrong === undefined) invocation.yield(answer);
    else {
      this.#ctx.report(wrong, `endpoint of ${invocation.procedure}`);
      invocation.fail(ErrorUri.RUNTIME_ERROR, { args: [wrong.message] });
    }
    this.#done(invocation);
  }

  /** Answers ERROR for what the endpoint threw; never throws (the invocation is done). */
  #fail(invocation: RunningInvocation, error: unknown): void {
    try {
      if (error instanceof ApplicationError) {
        invocation.fail(error.uri, { args: error.args, kwargs: error.kwargs });
      } else {
        const message = error instanceof Error ? error.message : String(error);
        invocation.fail(ErrorUri.RUNTIME_ERROR, { args: [message] });
      }
    } catch {
      // not sent either: the link is failing, and the session with it
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
