/**
 * The session's outstanding requests: session-scope request IDs (spec
 * "IDs", 1 to 2^53 and around again), and the single reply each request
 * waits for (an ERROR rejects it with an {@linkcode ApplicationError}).
 *
 * @module
 */

import {
  ErrorUri,
  MAX_ID,
  MessageType,
  type MessageTypeCode,
  messageTypeName,
  type WampMessage,
} from "../wamp/mod.ts";
import { ApplicationError, SessionClosedError } from "./errors.ts";
import { MAX_TIMER } from "./limits.ts";
import { IdTable } from "../wamp/id_table.ts";

interface Pending {
  /** The request's message type: what a reply must answer. */
  type: MessageTypeCode;
  /** Settles it with its reply; returns what was wrong with the reply, if anything. */
  resolve(msg: WampMessage): string | void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** How many timed-out SUBSCRIBE and REGISTER request IDs are kept for their late replies. */
const EXPIRED_KEPT = 1024;

/** The reply each request the session numbers here waits for. */
const REPLY: Partial<Record<MessageTypeCode, MessageTypeCode>> = {
  [MessageType.PUBLISH]: MessageType.PUBLISHED,
  [MessageType.SUBSCRIBE]: MessageType.SUBSCRIBED,
  [MessageType.UNSUBSCRIBE]: MessageType.UNSUBSCRIBED,
  [MessageType.REGISTER]: MessageType.REGISTERED,
  [MessageType.UNREGISTER]: MessageType.UNREGISTERED,
};

/** Request IDs and the requests waiting for their reply. Internal to the session. */
export class Requests {
  #last = 0;
  #pending = new IdTable<Pending>();
  /** SUBSCRIBEs and REGISTERs that timed out, by request ID (the latest {@linkcode EXPIRED_KEPT}). */
  #expired = new Map<number, MessageTypeCode>();
  /**
   * Sends what withdraws a subscription or registration the router made
   * after its request timed out (the client never learnt its ID).
   */
  withdraw: ((msg: WampMessage) => void) | undefined;
  /**
   * Milliseconds a request waits for its reply before it rejects with
   * `wamp.error.timeout` (`JoinOptions.requestTimeout`; 0: for ever).
   */
  timeout = 0;

  /**
   * The next session-scope request ID.
   *
   * @returns The ID.
   */
  next(): number {
    this.#last = this.#last >= MAX_ID ? 1 : this.#last + 1;
    return this.#last;
  }

  /**
   * Numbers a request and waits for its reply; `onReply` runs the moment a
   * non-ERROR reply is read, before any later message is handled.
   *
   * @param make Builds the request from its ID.
   * @param onReply Runs on the reply, before the promise resolves; what it
   * returns, when anything, says how the reply breaks the protocol: the
   * request rejects with that, and {@linkcode Requests.settle} returns it.
   * @returns The request to send, and its reply.
   */
  open(
    make: (request: number) => WampMessage,
    onReply?: (reply: WampMessage) => string | void,
  ): { msg: WampMessage; reply: Promise<WampMessage> } {
    const request = this.next();
    const msg = make(request);
    const timeout = this.timeout;
    const reply = new Promise<WampMessage>((resolve, reject) =>
      this.#pending.set(request, {
        type: msg.type,
        resolve: onReply === undefined ? resolve : (msg) => {
          const wrong = onReply(msg);
          if (wrong === undefined) resolve(msg);
          else reject(new SessionClosedError(ErrorUri.PROTOCOL_VIOLATION, wrong, "client"));
          return wrong;
        },
        reject,
        // 0, Infinity or past what a timer takes (it would fire at once): no timeout.
        timer: timeout > 0 && timeout <= MAX_TIMER
          ? setTimeout(() => this.#expire(request), timeout)
          : undefined,
      })
    );
    return { msg, reply };
  }

  /**
   * Settles a request with its reply; replies to nothing pending (e.g. a
   * call aborted locally) are dropped.
   *
   * @param request The request ID.
   * @param msg The reply: an ERROR rejects.
   * @returns `false` when `msg` cannot answer the pending request (a
   * SUBSCRIBED for a PUBLISH, an ERROR for another request type): the
   * request stays pending and the router broke the protocol; what else
   * broke it (a REGISTERED with an ID the session holds), as text.
   */
  settle(request: number, msg: WampMessage): boolean | string {
    const pending = this.#pending.get(request);
    if (pending === undefined) {
      this.#late(request, msg);
      return true;
    }
    const answers = msg.type === MessageType.ERROR
      ? msg.requestType === pending.type
      : REPLY[pending.type] === msg.type;
    if (!answers) return false;
    this.#pending.delete(request);
    clearTimeout(pending.timer);
    if (msg.type === MessageType.ERROR) {
      pending.reject(
        new ApplicationError(msg.error, {
          args: msg.args ?? [],
          kwargs: msg.kwargs ?? {},
          details: msg.details,
        }),
      );
    } else {
      return pending.resolve(msg) ?? true;
    }
    return true;
  }

  /**
   * Rejects every pending request (the session ended).
   *
   * @param error What they reject with.
   */
  close(error: Error): void {
    for (const pending of this.#pending.sortedValues()) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.#pending.clear();
  }

  /** No reply in time: the request rejects; a reply arriving later is dropped. */
  #expire(request: number): void {
    const pending = this.#pending.get(request);
    if (pending === undefined) return;
    this.#pending.delete(request);
    if (pending.type === MessageType.SUBSCRIBE || pending.type === MessageType.REGISTER) {
      this.#expired.set(request, pending.type);
      if (this.#expired.size > EXPIRED_KEPT) {
        this.#expired.delete(this.#expired.keys().next().value!);
      }
    }
    const what = `${messageTypeName(pending.type)} got no reply in ${this.timeout} ms`;
    pending.reject(new ApplicationError(ErrorUri.TIMEOUT, { args: [what] }));
  }

  /** A late SUBSCRIBED or REGISTERED for a request that timed out: withdrawn at once. */
  #late(request: number, msg: WampMessage): void {
    const type = this.#expired.get(request);
    if (type === undefined) return;
    this.#expired.delete(request);
    const next = this.next();
    if (type === MessageType.SUBSCRIBE && msg.type === MessageType.SUBSCRIBED) {
      this.withdraw?.({
        type: MessageType.UNSUBSCRIBE,
        request: next,
        subscription: msg.subscription,
      });
    } else if (type === MessageType.REGISTER && msg.type === MessageType.REGISTERED) {
      this.withdraw?.({
        type: MessageType.UNREGISTER,
        request: next,
        registration: msg.registration,
      });
    }
  }
}
