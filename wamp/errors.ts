/**
 * Thrown when a peer breaks the protocol: a malformed message, a message in
 * the wrong session state, a non-sequential request ID. The session that
 * catches it sends ABORT `wamp.error.protocol_violation` and closes.
 *
 * @example
 * ```ts
 * import { ProtocolViolationError } from "@cloverleaf/wamp/wamp";
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
 * import { TransportError } from "@cloverleaf/wamp/wamp";
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

/**
 * A URL no transport here can connect to: not a URL, a scheme no transport
 * serves, a transport this platform lacks. Trying again cannot help, so a
 * client `Connection` stops at once (`onclose` reason `unsupported`).
 *
 * @example
 * ```ts
 * import { TransportError, UnsupportedUrlError } from "@cloverleaf/wamp/wamp";
 * import { equal, ok } from "node:assert/strict";
 *
 * const error = new UnsupportedUrlError("ftp://host", 'unsupported scheme "ftp:"');
 * ok(error instanceof TransportError);
 * equal(error.message, 'Cannot connect to ftp://host: unsupported scheme "ftp:"');
 * ```
 */
export class UnsupportedUrlError extends TransportError {
  /** The URL. */
  readonly url: string;

  /**
   * Creates the error.
   *
   * @param url The URL.
   * @param why What is wrong with it.
   * @param options Standard error options (`cause`).
   */
  constructor(url: string, why: string, options?: ErrorOptions) {
    super(`Cannot connect to ${url}: ${why}`, options);
    this.name = "UnsupportedUrlError";
    this.url = url;
  }
}

/**
 * A link refused to send a message over the remote side's limit (its
 * `sendLimit`, announced in the RawSocket handshake): nothing was sent. The
 * sender decides what happens next; a client session answers an oversize
 * YIELD with ERROR `wamp.error.payload_size_exceeded` and ends itself with
 * that reason otherwise.
 *
 * @example
 * ```ts
 * import { MessageTooLargeError, TransportError } from "@cloverleaf/wamp/wamp";
 * import { equal, ok } from "node:assert/strict";
 *
 * const error = new MessageTooLargeError(2048, 1024);
 * ok(error instanceof TransportError);
 * equal(error.size - error.limit, 1024);
 * ```
 */
export class MessageTooLargeError extends TransportError {
  /** The encoded message's size, in bytes. */
  readonly size: number;
  /** The largest message the remote side accepts, in bytes. */
  readonly limit: number;

  /**
   * Creates the error.
   *
   * @param size The encoded message's size, in bytes.
   * @param limit The remote side's limit, in bytes.
   */
  constructor(size: number, limit: number) {
    super(`Cannot send a message of ${size} bytes: the limit is ${limit}`);
    this.name = "MessageTooLargeError";
    this.size = size;
    this.limit = limit;
  }
}
