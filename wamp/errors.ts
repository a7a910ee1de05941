/**
 * Thrown when a peer breaks the protocol: a malformed message, a message in
 * the wrong session state, a non-sequential request ID. The session that
 * catches it sends ABORT `wamp.error.protocol_violation` and closes.
 *
 * @example
 * ```ts
 * import { ProtocolViolationError } from "@cloverleaf/wamp";
 * import { parseMessage } from "@cloverleaf/wamp/wamp";
 * import { throws } from "node:assert/strict";
 *
 * throws(() => parseMessage([16, 0, {}, "a.topic"]), ProtocolViolationError);
 * ```
 */
export class ProtocolViolationError extends Error {
  /**
   * Creates the error.
   *
   * @param message What was wrong, sent to the peer in ABORT details.
   * @param options Standard error options (`cause`).
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ProtocolViolationError";
  }
}

/**
 * A transport could not be opened or failed: connection refused, no common
 * subprotocol, handshake error.
 *
 * @example
 * ```ts
 * import { TransportError } from "@cloverleaf/wamp";
 * import { equal } from "node:assert/strict";
 *
 * equal(new TransportError("refused").name, "TransportError");
 * ```
 */
export class TransportError extends Error {
  /**
   * Creates the error.
   *
   * @param message What failed.
   * @param options Standard error options (`cause`).
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TransportError";
  }
}
