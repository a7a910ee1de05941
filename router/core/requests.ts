/**
 * A joined session's requests to its realm (PUBLISH, SUBSCRIBE,
 * UNSUBSCRIBE, REGISTER, UNREGISTER, CALL, CANCEL, YIELD, ERROR): each is
 * authorized when the realm has rules, then handed to the broker, the
 * dealer or a router procedure. While a dynamic authorizer decides, the
 * session's later requests wait in order (at most {@linkcode MAX_HELD}
 * messages, {@linkcode MAX_HELD_BYTES} estimated bytes: past that the
 * session has committed a protocol violation; the HTTP bridge's sessions,
 * which carry many clients' requests, get the one request past it refused
 * with `cloverleaf.error.limit_exceeded` instead).
 *
 * @module
 */

import {
  type CallMessage,
  type CancelMessage,
  type Dict,
  type ErrorMessage,
  ErrorUri,
  isReservedUri,
  MAX_URI_LENGTH,
  MessageType,
  messageTypeName,
  ProtocolViolationError,
  type PublishMessage,
  type RegisterMessage,
  type SubscribeMessage,
  type UnregisterMessage,
  type UnsubscribeMessage,
  type YieldMessage,
} from "../../wamp/mod.ts";
import type { Action, Authorizer, Decision } from "./authorizer.ts";
import type { Broker } from "./broker/broker.ts";
import type { Dealer } from "./dealer/dealer.ts";
import { errorReply } from "./errors.ts";
import { keptPayloadSize } from "./limits.ts";
import { MAX_QUEUED_BYTES } from "./meta/events.ts";
import { append, messagesOnly, NOTHING, type Output, output } from "./output.ts";
import type { SessionInfo } from "./types.ts";

/** How many messages may wait behind a pending authorization. */
export const MAX_HELD = 4096;
/** How many bytes (estimated) they may hold together. */
export const MAX_HELD_BYTES = 16 * 1024 * 1024;

/** A message a joined session sends its realm. */
export type RealmRequest =
  | PublishMessage
  | SubscribeMessage
  | UnsubscribeMessage
  | RegisterMessage
  | UnregisterMessage
  | CallMessage
  | CancelMessage
  | YieldMessage
  | ErrorMessage;

/** What requests need from their realm. */
export interface RequestRealm {
  /** The realm's broker. */
  readonly broker: Broker;
  /** The realm's dealer. */
  readonly dealer: Dealer;
  /** The realm's authorization rules. */
  readonly authorizer: Authorizer;
  /** Routes a CALL: to a router procedure, or the dealer. */
  call(session: SessionInfo, msg: CallMessage, fresh: boolean, disclose: boolean): Output;
  /** A session's details, for a dynamic authorizer. */
  details(sessionId: number): Dict;
  /** Completes an output produced later (meta events, router calls' replies). */
  finish(out: Output): Output;
  /** Counts a request refused as not authorized (`RealmContext.denied`). */
  denied(): void;
  /**
   * Whether the realm's meta events waiting for later turns are over their
   * bound (`meta/events.ts`): a subscription or registration would add to
   * them when its session leaves, so new ones are refused meanwhile.
   */
  congested(): boolean;
}

/** A request that needs authorization. */
type Authorized = PublishMessage | SubscribeMessage | RegisterMessage | CallMessage;

/** Whether a request is one the realm authorizes (and so one that can be refused with ERROR). */
function isAuthorized(msg: RealmRequest): msg is Authorized {
  return msg.type === MessageType.PUBLISH || msg.type === MessageType.SUBSCRIBE ||
    msg.type === MessageType.REGISTER || msg.type === MessageType.CALL;
}

const PLAIN = Object.freeze({ disclose: false });
const DISCLOSE = Object.freeze({ disclose: true });

/** A request waiting behind an authorization. */
interface Held {
  readonly msg: RealmRequest;
  readonly fresh: boolean;
  /** Its estimated size, counted in its queue's bytes. */
  readonly size: number;
}

/** The requests waiting behind a pending authorization, per session. */
interface Queue {
  readonly info: SessionInfo;
  readonly held: Held[];
  bytes: number;
}

/** Handles the requests of a realm's sessions. */
export class Requests {
  #realm: RequestRealm;
  #queues = new Map<number, Queue>();
  /** A session's details for a dynamic authorizer (one function, not one per request). */
  #details: (sessionId: number) => Dict;

  /**
   * Creates the handler.
   *
   * @param realm The realm.
   */
  constructor(realm: RequestRealm) {
    this.#realm = realm;
    this.#details = (sessionId) => realm.details(sessionId);
  }

  /**
   * Whether a session's requests wait for an authorization.
   *
   * @param sessionId The session.
   * @returns True while a dynamic authorizer decides one of its requests.
   */
  holding(sessionId: number): boolean {
    return this.#queues.has(sessionId);
  }

  /**
   * Handles a request, or holds it behind a pending authorization.
   *
   * @param session The session.
   * @param msg The request.
   * @param fresh For CALL: whether its request ID is new (an old one may
   * continue a progressive call).
   * @param queued Whether it may wait behind a pending authorization.
   * @returns What happens.
   * @throws {ProtocolViolationError} For a request the session may not
   * send, or too many held ones.
   */
  receive(session: SessionInfo, msg: RealmRequest, fresh: boolean, queued = true): Output {
    if (this.#queues.size === 0 || !queued) return this.#handle(session, msg, fresh);
    const queue = this.#queues.get(session.id);
    if (queue === undefined) return this.#handle(session, msg, fresh);
    const size = keptPayloadSize([msg], MAX_HELD_BYTES);
    if (queue.held.length >= MAX_HELD || queue.bytes + size > MAX_HELD_BYTES) {
      // The HTTP bridge's session carries many clients' requests: one client's burst is refused
      // alone, rather than aborting the session the others share.
      if (session.transport !== "http") {
        throw new ProtocolViolationError("too many requests awaiting authorization");
      }
      if (isAuthorized(msg)) {
        return this.#refused(session, msg, ErrorUri.LIMIT_EXCEEDED, "too many requests held");
      }
      // An UNSUBSCRIBE, YIELD, CANCEL… waits all the same: bounded by what was let in before it.
    }
    queue.bytes += size;
    queue.held.push({ msg, fresh, size });
    return NOTHING;
  }

  /** Forgets a session that left (its held requests and pending authorization). */
  forget(sessionId: number): void {
    this.#queues.delete(sessionId);
  }

  #handle(info: SessionInfo, msg: RealmRequest, fresh: boolean): Output {
    const realm = this.#realm;
    switch (msg.type) {
      case MessageType.PUBLISH:
        return this.#authorized(info, "publish", msg.topic, msg);
      case MessageType.SUBSCRIBE:
        return this.#authorized(info, "subscribe", msg.topic, msg);
      case MessageType.UNSUBSCRIBE:
        return messagesOnly(realm.broker.unsubscribe(info, msg));
      case MessageType.REGISTER:
        return this.#authorized(info, "register", msg.procedure, msg);
      case MessageType.UNREGISTER:
        return realm.dealer.unregisterRequest(info, msg);
      case MessageType.CALL:
        // An old ID may continue a progressive call; the dealer decides.
        if (!fresh) return realm.call(info, msg, false, false);
        return this.#authorized(info, "call", msg.procedure, msg);
      case MessageType.CANCEL:
        return realm.dealer.cancel(info, msg);
      case MessageType.YIELD:
        return realm.dealer.yield(info, msg);
      case MessageType.ERROR:
        if (msg.requestType !== MessageType.INVOCATION) {
          throw new ProtocolViolationError(
            `ERROR for ${
              messageTypeName(msg.requestType)
            }: clients may only send ERROR for INVOCATION`,
          );
        }
        return realm.dealer.error(info, msg);
    }
  }

  /** Runs an authorized request. */
  #run(info: SessionInfo, msg: Authorized, disclose: boolean): Output {
    const realm = this.#realm;
    switch (msg.type) {
      case MessageType.PUBLISH:
        return messagesOnly(realm.broker.publish(info, msg, disclose ? DISCLOSE : PLAIN));
      case MessageType.SUBSCRIBE:
        // Subscriptions to wamp.* topics fire no meta events: a watcher may always subscribe.
        if (realm.congested() && !isReservedUri(msg.topic)) {
          return this.#congested(info, msg);
        }
        return messagesOnly(realm.broker.subscribe(info, msg));
      case MessageType.REGISTER:
        if (realm.congested()) return this.#congested(info, msg);
        return realm.dealer.registerRequest(info, msg);
      case MessageType.CALL:
        return realm.call(info, msg, true, disclose);
    }
  }

  /**
   * Runs a request once the realm's authorizer allows it; a denial is
   * answered with ERROR `not_authorized` (for PUBLISH only when
   * acknowledged). While a dynamic authorizer decides, later requests wait.
   */
  #authorized(info: SessionInfo, action: Action, uri: string, msg: Authorized): Output {
    const authorizer = this.#realm.authorizer;
    if (authorizer.open) return this.#run(info, msg, false);
    // Before any authorizer sees it (a dynamic one's decisions are kept by URI).
    if (uri.length > MAX_URI_LENGTH) {
      return this.#refused(info, msg, ErrorUri.INVALID_URI, "too long");
    }
    const decision = authorizer.authorize(info, this.#details, action, uri, msg.options);
    if ("allow" in decision) return this.#applied(decision, info, action, uri, msg);
    const queue: Queue = { info, held: [], bytes: 0 };
    this.#queues.set(info.id, queue);
    return decision.start((settled) => this.#resume(queue, settled, action, uri, msg));
  }

  /** What a decision leads to: the request runs, or is refused. */
  #applied(
    { allow, disclose }: Decision,
    info: SessionInfo,
    action: Action,
    uri: string,
    msg: Authorized,
  ): Output {
    if (allow) return this.#run(info, msg, disclose === true);
    this.#realm.denied();
    return this.#refused(
      info,
      msg,
      ErrorUri.NOT_AUTHORIZED,
      `${action} on "${uri}" is not allowed`,
    );
  }

  /** ERROR for a refused request (for PUBLISH only when acknowledged). */
  #refused(info: SessionInfo, msg: Authorized, uri: string, why: string): Output {
    if (msg.type === MessageType.PUBLISH && msg.options.acknowledge !== true) return NOTHING;
    return messagesOnly([errorReply(info.id, msg.type, msg.request, uri, why)]);
  }

  /** ERROR `limit_exceeded` for a SUBSCRIBE or REGISTER while the realm's meta events wait. */
  #congested(info: SessionInfo, msg: SubscribeMessage | RegisterMessage): Output {
    const what = msg.type === MessageType.SUBSCRIBE ? "subscribe" : "register";
    return this.#refused(
      info,
      msg,
      ErrorUri.LIMIT_EXCEEDED,
      `Cannot ${what}: the realm's meta events waiting to go out are over ${MAX_QUEUED_BYTES} bytes; try again later`,
    );
  }

  /** A dynamic decision arrived: apply it, then handle the held requests. */
  #resume(
    queue: Queue,
    decision: Decision,
    action: Action,
    uri: string,
    msg: Authorized,
  ): Output {
    const info = queue.info;
    if (this.#queues.get(info.id) !== queue) return NOTHING; // the session left
    const out = output();
    try {
      append(out, this.#realm.finish(this.#applied(decision, info, action, uri, msg)));
      this.#queues.delete(info.id);
      // Handle the held requests, until another one waits for a decision.
      let i = 0;
      for (; i < queue.held.length && !this.#queues.has(info.id); i++) {
        const { msg, fresh, size } = queue.held[i]!;
        queue.bytes -= size;
        append(out, this.#realm.finish(this.#handle(info, msg, fresh)));
      }
      const next = this.#queues.get(info.id);
      if (next !== undefined) {
        // The rest waits, still counted against the limits, behind the new decision.
        next.held.unshift(...queue.held.slice(i));
        next.bytes += queue.bytes;
      }
    } catch (error) {
      this.#queues.delete(info.id);
      const violation = error instanceof ProtocolViolationError;
      out.effects.push({
        kind: "abort",
        session: info.id,
        message: violation ? error.message : "internal router error",
        ...(violation ? {} : { error }),
      });
    }
    return out;
  }
}
