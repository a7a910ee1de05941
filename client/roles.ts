/**
 * The four roles of a client session (publisher, subscriber, caller,
 * callee) and which of them each arriving message goes to: an event or an
 * invocation to its role, a reply to the request it answers. The session
 * keeps its own messages (WELCOME, CHALLENGE, GOODBYE, ABORT) and hands
 * everything else here.
 *
 * @module
 */

import { MessageType, messageTypeName, type WampMessage } from "../wamp/mod.ts";
import { Callee } from "./callee.ts";
import { Caller } from "./caller.ts";
import type { SessionContext } from "./context.ts";
import { Publisher } from "./publisher.ts";
import type { Requests } from "./requests.ts";
import { Subscriber } from "./subscriber.ts";

/** A session's roles. Internal: the session owns one. */
export class Roles {
  /** PUBLISH. */
  readonly publisher: Publisher;
  /** SUBSCRIBE, EVENT, revocation. */
  readonly subscriber: Subscriber;
  /** CALL, RESULT, CANCEL. */
  readonly caller: Caller;
  /** REGISTER, INVOCATION, YIELD, INTERRUPT, revocation. */
  readonly callee: Callee;
  /** Whether a request made now would be refused: too much waits to be sent (`maxSendBacklog`). */
  readonly sendBlocked: () => boolean;
  #requests: Requests;
  #ctx: SessionContext;

  /**
   * @param ctx The session as the roles see it.
   * @param requests The session's requests, which replies settle.
   */
  constructor(ctx: SessionContext, requests: Requests) {
    this.publisher = new Publisher(ctx);
    this.subscriber = new Subscriber(ctx);
    this.caller = new Caller(ctx);
    this.callee = new Callee(ctx);
    this.sendBlocked = () => ctx.sendBlocked();
    this.#requests = requests;
    this.#ctx = ctx;
    requests.timeout = ctx.limits.requestTimeout;
    requests.withdraw = (msg) => {
      try {
        ctx.send(msg);
      } catch { /* the session closed: nothing left to withdraw */ }
    };
  }

  /**
   * Hands an arriving message to the role it is for. A message no role
   * expects, or one that breaks the protocol (a reply that names an ID the
   * session holds already), ends the session.
   *
   * @param msg The message.
   */
  receive(msg: WampMessage): void {
    const taken = this.#route(msg);
    if (taken !== true) this.#ctx.violation(taken || `unexpected ${messageTypeName(msg.type)}`);
  }

  /** Hands it on: whether a role took it, or how it breaks the protocol. */
  #route(msg: WampMessage): boolean | string {
    switch (msg.type) {
      case MessageType.EVENT:
        this.subscriber.onEvent(msg);
        break;
      case MessageType.INVOCATION:
        return this.callee.onInvocation(msg) ?? true;
      case MessageType.INTERRUPT:
        this.callee.onInterrupt(msg);
        break;
      case MessageType.RESULT:
        this.caller.onResult(msg);
        break;
      case MessageType.UNREGISTERED:
        if (msg.request === 0) this.callee.onRevoked(msg);
        else return this.#requests.settle(msg.request, msg);
        break;
      case MessageType.UNSUBSCRIBED:
        if (msg.request === 0) this.subscriber.onRevoked(msg);
        else return this.#requests.settle(msg.request, msg);
        break;
      case MessageType.ERROR:
        if (msg.requestType === MessageType.CALL) this.caller.onError(msg);
        else return this.#requests.settle(msg.request, msg);
        break;
      case MessageType.SUBSCRIBED:
      case MessageType.PUBLISHED:
      case MessageType.REGISTERED:
        return this.#requests.settle(msg.request, msg);
      default:
        return false;
    }
    return true;
  }

  /**
   * Ends every subscription and registration and rejects every call (the
   * session ended).
   *
   * @param error What calls reject with and invocations abort with.
   */
  close(error: Error): void {
    this.subscriber.close();
    this.caller.close(error);
    this.callee.close(error);
  }
}
