/**
 * What arrives on a connection for its session: a decoded message, or the
 * failure a frame that could not be decoded becomes; and how an inbox
 * stops its connection's reading.
 *
 * @module
 */

import { ProtocolViolationError, type WampMessage } from "../../wamp/mod.ts";

/** What arrives on a connection: a message, or a frame that could not be decoded. */
export type Arrival = WampMessage | ProtocolViolationError;

/**
 * How an inbox (`inbox.ts`) stops its connection's reading: a `Wire` is
 * one. What it keeps counts as unread: it goes on only once the connection
 * would read again.
 */
export interface InboxReading {
  /** Stops (`true`) or restarts (`false`) reading, for the inbox's own reasons. */
  hold(held: boolean): void;
  /** Resolves once the connection's outbound backlog no longer stops reading. */
  drained(): Promise<void>;
}

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

/**
 * The largest message a router's link decodes before the session over it
 * joined (HELLO, AUTHENTICATE), in bytes (characters for WebSocket text).
 */
export const PRE_JOIN_SIZE = 64 * 1024;

/**
 * A message refused for its size alone before its session joined: from the
 * frame header where the transport has one (RawSocket, WebSocket), so the
 * payload is never buffered, else before it is decoded.
 */
export class PreJoinSizeError extends ProtocolViolationError {
  /**
   * Creates the error.
   *
   * @param size The message's size (announced or read), or what is known
   * of it ("a larger body").
   */
  constructor(size: number | string) {
    const what = typeof size === "number" ? `${size} bytes` : size;
    super(
      `Cannot decode message before the session joined: ${what} (at most ${PRE_JOIN_SIZE} bytes)`,
    );
    this.name = "PreJoinSizeError";
  }
}

/**
 * Why a message is refused before it is decoded: it is over
 * {@linkcode PRE_JOIN_SIZE} and no session has joined over the connection
 * yet (`PeerHandler.joined` is `false`). Asked of every message (and of
 * every frame header): the size is compared first, so a small one costs
 * one comparison.
 *
 * @param size The message's size.
 * @param handler The connection's handler (or its inbox, which asks it).
 * @returns The failure to deliver, or undefined when it may be decoded.
 */
export function preJoinFault(
  size: number,
  handler: { readonly joined?: boolean | undefined },
): PreJoinSizeError | undefined {
  if (size <= PRE_JOIN_SIZE || handler.joined !== false) return undefined;
  return new PreJoinSizeError(size);
}
