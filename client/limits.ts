/**
 * The client's own limits against a router that sends too much: how many
 * invocations run at once, how many input chunks and EVENTs wait unread,
 * how long a request waits for its reply. Set in `JoinOptions`.
 *
 * @module
 */

/** The limits' options, part of `JoinOptions`. */
export interface ClientLimitOptions {
  /**
   * How many invocations the session's endpoints run at once (an endpoint
   * that answers synchronously is answered at once and never counts). An
   * INVOCATION past it gets ERROR `wamp.error.unavailable` at once (the
   * spec's "callee cannot take this call now", on which a dealer that
   * supports call re-routing tries another callee) and runs nothing.
   * @default {1000}
   */
  maxInvocations?: number;
  /**
   * How many input chunks of one progressive invocation may wait unread
   * in `invocation.chunks`. One more gets ERROR
   * `cloverleaf.error.limit_exceeded` and aborts the invocation.
   * @default {1000}
   */
  maxInputChunks?: number;
  /**
   * How many EVENTs an iterated subscription (`for await`) holds unread.
   * Past it the oldest are dropped and counted in `subscription.dropped`.
   * @default {10000}
   */
  maxQueuedEvents?: number;
  /**
   * Milliseconds a request (SUBSCRIBE, REGISTER, their withdrawals, an
   * acknowledged PUBLISH) waits for its reply before it rejects with
   * `ApplicationError` `wamp.error.timeout` (0: wait for ever). Calls have
   * their own `timeout` option.
   * @default {60000}
   */
  requestTimeout?: number;
  /**
   * Bytes that may wait to be sent, not yet read by the router. Past it, a
   * request the application makes (CALL, PUBLISH, SUBSCRIBE, REGISTER;
   * withdrawals always go) rejects with `ApplicationError`
   * `cloverleaf.error.limit_exceeded`, and an answer to an INVOCATION ends
   * the session with that reason: the router is not reading what it asked
   * for (`outbound.ts`; a `Connection` reconnects).
   * @default {67108864}
   */
  maxSendBacklog?: number;
}

/** The limits in force: every option with its default. */
export type ClientLimits = Readonly<Required<ClientLimitOptions>>;

/** The callee's answer to an INVOCATION past `maxInvocations` (spec "Call Re-Routing"). */
export const UNAVAILABLE = "wamp.error.unavailable";

/** The longest timer setTimeout keeps (2^31-1 ms, about 24.8 days); longer fire at once. */
export const MAX_TIMER = 2 ** 31 - 1;

/**
 * The limits for a session's options.
 *
 * @param options The session's options.
 * @returns Each limit, the default where not set.
 * @throws {RangeError} When a limit is not a non-negative number (a count not positive).
 */
export function clientLimits(options: ClientLimitOptions): ClientLimits {
  const limits = {
    maxInvocations: options.maxInvocations ?? 1000,
    maxInputChunks: options.maxInputChunks ?? 1000,
    maxQueuedEvents: options.maxQueuedEvents ?? 10_000,
    requestTimeout: options.requestTimeout ?? 60_000,
    maxSendBacklog: options.maxSendBacklog ?? 64 * 1024 * 1024,
  };
  for (const [key, value] of Object.entries(limits)) {
    const least = key === "requestTimeout" ? 0 : 1;
    if (typeof value !== "number" || !(value >= least)) {
      throw new RangeError(`${key} must be a number of at least ${least}, not ${value}`);
    }
  }
  return limits;
}
