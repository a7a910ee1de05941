/**
 * A `Connection`'s options and what its `onclose` learns, and how a
 * failure is classified: `lost`, `unreachable`, `closed`, `unsupported`.
 *
 * @module
 */

import { CloseUri, ErrorUri, UnsupportedUrlError } from "../wamp/mod.ts";
import type { RetryOptions } from "./backoff.ts";
import type { ConnectOptions } from "./connect.ts";
import { checkKdfLimits } from "../wamp/auth/kdf_limits.ts";
import { CredentialsError, SessionClosedError, type UserErrorHandler } from "./errors.ts";
import { clientLimits } from "./limits.ts";
import type { CloseInfo, Session } from "./session.ts";

/**
 * Why a connection's session ended or could not start: `lost` (an open
 * session's transport died, or the router shut down), `unreachable` (no
 * transport or no WELCOME), `unsupported` (the URL's scheme), `closed`
 * (by the application, or the router ended or refused the session, or
 * the client's credentials cannot be used).
 */
export type ConnectionCloseReason = "lost" | "unreachable" | "closed" | "unsupported";

/** What `onclose` learns besides the reason. */
export interface ConnectionCloseDetails {
  /** The WAMP reason URI (GOODBYE, ABORT, `wamp.close.transport_lost`), when there is one. */
  readonly reason?: string;
  /** What happened, for humans: the router's message or the transport's error. */
  readonly message?: string;
  /** Retries made since the retries last started over (see `stableAfter`), this one included. */
  readonly retryCount: number;
  /** Milliseconds until the next attempt, when `willRetry`. */
  readonly retryDelay?: number;
  /** Whether the connection tries again (`false`: it has stopped). */
  readonly willRetry: boolean;
}

/** Options for a {@linkcode Connection}: `connect()`'s, plus how to retry and the callbacks. */
export interface ConnectionOptions extends ConnectOptions, RetryOptions {
  /**
   * What a request does while there is no open session: `"fail"` rejects at
   * once with a {@linkcode NotConnectedError}; `"wait"` waits for the next
   * session (and rejects if the connection stops first).
   * @default {"fail"}
   */
  whileDisconnected?: "fail" | "wait";
  /**
   * WebSocket and RawSocket: milliseconds of silence before a ping (0:
   * none). A connection pings by default, unlike `connect()`: a router
   * that went silent (a half-open TCP connection, a hung process) is lost
   * after this plus `pingTimeout` (10 s) and the connection retries,
   * instead of holding a session that never answers.
   * @default {30000}
   */
  pingInterval?: number;
  /**
   * Called on each join, after the subscriptions and registrations are
   * restored. A failure goes to `onUserError`.
   */
  onopen?: (session: Session) => void | Promise<void>;
  /**
   * Called each time a session ends or an attempt fails, before the retry
   * delay. Return `true` to stop retrying.
   */
  onclose?: (reason: ConnectionCloseReason, details: ConnectionCloseDetails) => boolean | void;
  /** Each session's `onUserError` (see `Session.onUserError`). */
  onUserError?: UserErrorHandler;
}

/** A connection's default `pingInterval`, in ms. */
const CONNECTION_PING_INTERVAL = 30_000;

/** Router GOODBYE/ABORT reasons after which the router is expected back: `lost`, not `closed`. */
export const COMING_BACK = new Set<string>([CloseUri.SYSTEM_SHUTDOWN]);

/**
 * Why an attempt to connect and join failed, by the error's class: an
 * {@linkcode UnsupportedUrlError} (`unsupported`), the router's refusal
 * (`closed`: ABORT on HELLO, no retry), credentials that cannot be used
 * (`closed`, `wamp.error.cannot_authenticate`: a {@linkcode CredentialsError},
 * found before connecting), or anything else (`unreachable`: refused, no
 * WELCOME in time).
 *
 * @param error What the attempt threw.
 * @returns The reason, and the WAMP reason URI and message for `onclose`.
 */
export function attemptFailure(
  error: unknown,
): [ConnectionCloseReason, { reason?: string; message?: string }] {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof SessionClosedError) {
    // ABORT on HELLO (no such realm, not authorized): retrying changes nothing.
    // No WELCOME in time: the router is there but not answering.
    const reason = error.reason === CloseUri.TIMEOUT ? "unreachable" : "closed";
    return [reason, { reason: error.reason, message }];
  }
  if (error instanceof UnsupportedUrlError) return ["unsupported", { message }];
  if (error instanceof CredentialsError) {
    return ["closed", { reason: ErrorUri.CANNOT_AUTHENTICATE, message }];
  }
  return ["unreachable", { message }];
}

/**
 * A connection's options, checked now (else every attempt would refuse
 * them), with its own defaults (`pingInterval`).
 *
 * @param options The connection's options.
 * @returns The options, with the defaults.
 * @throws {RangeError} When `kdfLimits` or a client limit is out of range (it names it).
 */
export function connectionOptions(options: ConnectionOptions): ConnectionOptions {
  if (options.kdfLimits !== undefined) checkKdfLimits(options.kdfLimits);
  clientLimits(options);
  return { pingInterval: CONNECTION_PING_INTERVAL, ...options };
}

/**
 * Why an open session ended, as a connection sees it: `lost` when the
 * transport died, the router shut down or stopped answering (the
 * connection closed the session with `wamp.close.timeout` when restoring
 * got no reply), otherwise `closed`.
 *
 * @param info How the session ended.
 * @param stalled Whether restoring got no reply in time (the connection
 * closed the session): `lost`, reason `wamp.close.timeout`.
 * @returns The reason, and the WAMP reason URI and message for `onclose`.
 */
export function sessionEnd(
  info: CloseInfo,
  stalled = false,
): [ConnectionCloseReason, { reason: string; message?: string }] {
  if (stalled) return ["lost", { reason: CloseUri.TIMEOUT, message: "restoring got no reply" }];
  const lost = info.by === "transport" || (info.by === "router" && COMING_BACK.has(info.reason)) ||
    // The client ended it: the router did not read its answers (outbound.ts), as a link lost.
    (info.by === "client" && info.reason === ErrorUri.LIMIT_EXCEEDED);
  const message = typeof info.details.message === "string" ? info.details.message : undefined;
  return [lost ? "lost" : "closed", {
    reason: info.reason,
    ...(message === undefined ? {} : { message }),
  }];
}
