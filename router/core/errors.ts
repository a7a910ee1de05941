/**
 * Helpers that turn refusals into ERROR messages (failed requests are data,
 * not exceptions).
 *
 * @module
 */

import { type Dict, type ErrorMessage, MessageType } from "../../wamp/mod.ts";
import type { Outbound } from "./types.ts";

/**
 * Builds an ERROR reply to one session.
 *
 * @param to The session that made the request.
 * @param requestType The request's message type code.
 * @param request The request ID.
 * @param error The error URI.
 * @param message A human-readable explanation, sent as the only argument.
 * @returns The outbound ERROR.
 */
export function errorReply(
  to: number,
  requestType: number,
  request: number,
  error: string,
  message?: string,
): Outbound {
  const msg: ErrorMessage = {
    type: MessageType.ERROR,
    requestType,
    request,
    details: {},
    error,
  };
  if (message !== undefined) msg.args = [message];
  return { to, msg };
}

/**
 * Thrown by a procedure the router serves itself (meta API, reflection) to
 * answer the CALL with ERROR.
 */
export class CallError extends Error {
  /** The error URI. */
  readonly uri: string;
  /** ERROR.Kwargs, when the error carries details (an HTTP service's status and body). */
  readonly kwargs: Dict | undefined;

  /**
   * Creates the error.
   *
   * @param uri The error URI.
   * @param message A human-readable explanation, sent as the only argument.
   * @param kwargs Details for ERROR.Kwargs.
   */
  constructor(uri: string, message?: string, kwargs?: Dict) {
    super(message ?? uri);
    this.name = "CallError";
    this.uri = uri;
    this.kwargs = kwargs;
  }
}
