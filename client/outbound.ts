/**
 * Everything a client session sends goes out here, within two limits: the
 * router's message size, and what may wait to be sent (`maxSendBacklog`).
 *
 * A router that stops reading while it sends INVOCATIONs (or anything the
 * client answers) would make the client queue its answers without end.
 * Past `maxSendBacklog` bytes waiting, a request the application makes
 * (CALL, PUBLISH, SUBSCRIBE, REGISTER) is refused with
 * `cloverleaf.error.limit_exceeded` before it takes a request ID (the
 * roles ask {@linkcode Outbound.refusal} first), so the application can
 * slow down, and an answer the router asked for (YIELD, ERROR to an
 * INVOCATION) ends the session: the router is not reading (a `Connection`
 * reconnects, as for a lost link). Everything else (HELLO, AUTHENTICATE,
 * UNSUBSCRIBE, UNREGISTER, CANCEL, GOODBYE, ABORT) is small, one per
 * request, subscription or session, and always goes: a withdrawal refused
 * would leave the router's state behind the client's.
 *
 * @module
 */

import {
  ErrorUri,
  type Link,
  MessageTooLargeError,
  MessageType,
  messageTypeName,
  type WampMessage,
} from "../wamp/mod.ts";
import { SendBacklogError } from "./errors.ts";
import { oversizeAnswer } from "./invocation.ts";

/** What the application asks for: refused past the send backlog. */
const REQUESTS: ReadonlySet<number> = new Set([
  MessageType.CALL,
  MessageType.PUBLISH,
  MessageType.SUBSCRIBE,
  MessageType.REGISTER,
]);

/** What the router asked the client for: past the send backlog, the session ends. */
const ANSWERS: ReadonlySet<number> = new Set([MessageType.YIELD, MessageType.ERROR]);

/** How a session ends from here: the reason and a message for the application. */
export type EndSession = (reason: string, message: string) => void;

/** A session's way out, and its limits. */
export class Outbound {
  #link: Link;
  #maxBacklog: number;
  #end: EndSession;

  /**
   * @param link The session's link.
   * @param maxBacklog Bytes that may wait to be sent (`maxSendBacklog`).
   * @param end Ends the session (without sending anything more).
   */
  constructor(link: Link, maxBacklog: number, end: EndSession) {
    this.#link = link;
    this.#maxBacklog = maxBacklog;
    this.#end = end;
  }

  /**
   * Why a request the application makes now is refused: too much waits to
   * be sent.
   *
   * @returns The error to reject it with, or undefined when it may go.
   */
  refusal(): SendBacklogError | undefined {
    return this.blocked ? new SendBacklogError(this.#why(this.#link.backlog())) : undefined;
  }

  /** Whether a request the application makes now would be refused ({@linkcode Outbound.refusal}). */
  get blocked(): boolean {
    return this.#link.backlog() >= this.#maxBacklog;
  }

  /**
   * Sends a message. One over the router's limit is the session's to
   * answer: a callee's answer is replaced ({@linkcode oversizeAnswer}); an
   * ABORT is dropped (the session ends anyway); anything else carries a
   * request ID the router expects in sequence, so the session ends:
   * `payload_size_exceeded`.
   *
   * @param msg The message.
   * @throws {SendBacklogError} `cloverleaf.error.limit_exceeded` for a
   * request the application makes while too much waits to be sent.
   */
  send(msg: WampMessage): void {
    if (REQUESTS.has(msg.type)) {
      const refused = this.refusal();
      if (refused !== undefined) throw refused;
    } else if (ANSWERS.has(msg.type)) {
      const backlog = this.#link.backlog();
      if (backlog >= this.#maxBacklog) {
        return this.#end(ErrorUri.LIMIT_EXCEEDED, this.#why(backlog));
      }
    }
    try {
      this.#link.send(msg);
    } catch (error) {
      if (!(error instanceof MessageTooLargeError)) throw error;
      const why = `${messageTypeName(msg.type)} of ${error.size} bytes is over the router's limit`;
      const answer = oversizeAnswer(msg, why);
      if (answer !== undefined) return this.#link.send(answer);
      if (msg.type !== MessageType.ABORT) this.#end(ErrorUri.PAYLOAD_SIZE_EXCEEDED, why);
    }
  }

  #why(backlog: number): string {
    return `${backlog} bytes wait to be sent: the router is not reading (maxSendBacklog ${this.#maxBacklog})`;
  }
}
