/**
 * What arrives on a connection for its session: a decoded message, or the
 * failure a frame that could not be decoded becomes.
 *
 * @module
 */

import { ProtocolViolationError, type WampMessage } from "../../wamp/mod.ts";

/** What arrives on a connection: a message, or a frame that could not be decoded. */
export type Arrival = WampMessage | ProtocolViolationError;

/**
 * What a frame that could not be decoded (or split, or read as UTF-8)
 * becomes: the `ProtocolViolationError` the session answers with ABORT.
 *
 * @param error What decoding threw.
 * @returns It, when it is one already; else one wrapping it.
 */
export function asProtocolViolation(error: unknown): ProtocolViolationError {
  if (error instanceof ProtocolViolationError) return error;
  const why = error instanceof Error ? error.message : String(error);
  return new ProtocolViolationError(`Cannot decode message: ${why}`, { cause: error });
}
