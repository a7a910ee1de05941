/**
 * The one logger interface of router, service and client: a function taking
 * a level, a message and structured fields. Implementations decide the
 * format (text or JSON lines) and read the clock; callers only describe.
 *
 * @module
 */

/** Levels for {@linkcode Logger}, lowest first in {@linkcode LOG_LEVELS}. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** The log levels, lowest first. */
export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

/**
 * Structured fields of a log line. The named ones are the router's
 * vocabulary; others may be added. A field that is `undefined` is left out.
 * Never put a secret (ticket, password, signature) in a field.
 */
export interface LogFields {
  /** The realm's name. */
  realm?: string | undefined;
  /** The WAMP session ID. */
  session?: number | undefined;
  /** The session's authid. */
  authid?: string | undefined;
  /** The session's authrole. */
  authrole?: string | undefined;
  /** The transport type (`websocket`, `rawsocket`, `longpoll`, …). */
  transport?: string | undefined;
  /** The remote address. */
  peer?: string | undefined;
  /** Why (an error URI or a short explanation). */
  reason?: string | undefined;
  /** The authentication method. */
  method?: string | undefined;
  /**
   * The kind of a line a client can cause at will (`authentication_failed`,
   * `protocol_violation`): the router writes a few of a kind, then counts.
   */
  event?: string | undefined;
  /** Anything else. */
  [key: string]: string | number | boolean | undefined;
}

/**
 * Where log lines go: a level, a human-readable message, and optional
 * structured fields (see {@linkcode LogFields}).
 */
export type Logger = (level: LogLevel, message: string, fields?: LogFields) => void;

/** A logger that writes nothing. */
export const quietLogger: Logger = () => {};
