/**
 * How an open session's requests reach its realm today: authorization
 * (a dynamic authorizer's decision may come later; the connection's later
 * messages wait for it, in order), then the broker or dealer, whose
 * output the realm delivers. The one function the session state machine
 * calls for requests ({@linkcode RealmRequests.request}); a realm that
 * takes requests itself (`Realm.receive`) replaces this file.
 *
 * @module
 */

import {
  type CallMessage,
  ErrorUri,
  MessageType,
  ProtocolViolationError,
  type PublishMessage,
  type RegisterMessage,
  type SubscribeMessage,
  type WampMessage,
} from "../wamp/mod.ts";
import type { Action, Decision } from "./core/authorizer.ts";
import { errorReply } from "./core/errors.ts";
import { payloadSize } from "./core/limits.ts";
import { NOTHING, type Output } from "./core/output.ts";
import type { Realm, RealmMember } from "./core/realm.ts";
import type { SessionRequests } from "./core/session_state.ts";
import type { Logger, Outbound, SessionInfo } from "./core/types.ts";

/** How many messages may wait behind a pending authorization. */
const MAX_HELD = 4096;
/** How many bytes (estimated) they may hold together. */
const MAX_HELD_BYTES = 16 * 1024 * 1024;

/** What the requests of one connection need from its router. */
export interface RequestsRouter {
  /** Where log lines go. */
  readonly log: Logger;
}

/** What the requests of one connection need from it. */
export interface RequestsConnection {
  /** Whether a session is open on it. */
  readonly joined: boolean;
  /** The open session's identity. */
  readonly info: SessionInfo;
  /** Whether it is closed. */
  readonly ended: boolean;
  /** Takes a message (one that waited is fed back). */
  receive(msg: WampMessage): void;
  /** Ends the session with ABORT `protocol_violation`. */
  fail(error: ProtocolViolationError): void;
}

/** One connection's requests to its realm, and those waiting for an authorization. */
export class RealmRequests implements SessionRequests<Realm> {
  #router: RequestsRouter;
  #member: RealmMember;
  #connection: RequestsConnection;
  /** Messages that arrived while an authorization was pending, in order. */
  #held: WampMessage[] | undefined;
  /** Their estimated size, in bytes. */
  #heldBytes = 0;

  /**
   * Creates the requests of a connection.
   *
   * @param router The router.
   * @param member The connection as a realm member (for the authorizer's
   * session details).
   * @param connection The connection.
   */
  constructor(router: RequestsRouter, member: RealmMember, connection: RequestsConnection) {
    this.#router = router;
    this.#member = member;
    this.#connection = connection;
  }

  /** Whether messages wait for an authorization. */
  get holding(): boolean {
    return this.#held !== undefined;
  }

  /**
   * Keeps a message until the pending authorization is decided.
   *
   * @param msg The message.
   * @returns false when too many wait (the session must end).
   */
  hold(msg: WampMessage): boolean {
    const held = this.#held!;
    this.#heldBytes += payloadSize([msg], MAX_HELD_BYTES);
    return held.push(msg) <= MAX_HELD && this.#heldBytes <= MAX_HELD_BYTES;
  }

  /**
   * Hands a request to the realm (see `SessionHost.request`).
   *
   * @param realm The session's realm.
   * @param info The session.
   * @param msg The request.
   * @param fresh Whether its request ID is new.
   * @returns Nothing to deliver: the realm delivered it.
   */
  request(realm: Realm, info: SessionInfo, msg: WampMessage, fresh: boolean): Output {
    switch (msg.type) {
      case MessageType.PUBLISH:
        this.#authorized(
          realm,
          info,
          "publish",
          msg.topic,
          msg,
          (disclose) => realm.broker.publish(info, msg, { disclose }),
        );
        break;
      case MessageType.SUBSCRIBE:
        this.#authorized(
          realm,
          info,
          "subscribe",
          msg.topic,
          msg,
          () => realm.broker.subscribe(info, msg),
        );
        break;
      case MessageType.UNSUBSCRIBE:
        realm.dispatch(realm.broker.unsubscribe(info, msg));
        break;
      case MessageType.REGISTER:
        this.#authorized(
          realm,
          info,
          "register",
          msg.procedure,
          msg,
          () => realm.dealer.register(info, msg),
        );
        break;
      case MessageType.UNREGISTER:
        realm.dispatch(realm.dealer.unregister(info, msg));
        break;
      case MessageType.CALL:
        if (!fresh) realm.dispatch(realm.call(info, msg, false));
        else {
          this.#authorized(
            realm,
            info,
            "call",
            msg.procedure,
            msg,
            (disclose) => realm.call(info, msg, true, disclose),
          );
        }
        break;
      case MessageType.CANCEL:
        realm.dispatch(realm.dealer.cancel(info, msg));
        break;
      case MessageType.YIELD:
        realm.dispatch(realm.dealer.yield(info, msg));
        break;
      case MessageType.ERROR:
        realm.dispatch(realm.dealer.error(info, msg));
        break;
    }
    return NOTHING;
  }

  /**
   * Runs a request once the realm's authorizer allows it; a denial is
   * answered with ERROR `not_authorized` (for PUBLISH only when
   * acknowledged). While a dynamic authorizer decides, later messages wait.
   */
  #authorized(
    realm: Realm,
    info: SessionInfo,
    action: Action,
    uri: string,
    msg: PublishMessage | SubscribeMessage | RegisterMessage | CallMessage,
    run: (disclose: boolean) => Outbound[],
  ): void {
    const authorizer = realm.authorizer;
    if (authorizer.open) return realm.dispatch(run(false));
    const member = this.#member;
    const decision = authorizer.authorize(
      info,
      () => realm.sessionDetails(member),
      action,
      uri,
      msg.options,
    );
    const apply = ({ allow, disclose }: Decision) => {
      if (allow) return realm.dispatch(run(disclose === true));
      if (msg.type === MessageType.PUBLISH && msg.options.acknowledge !== true) return;
      realm.dispatch([
        errorReply(
          info.id,
          msg.type,
          msg.request,
          ErrorUri.NOT_AUTHORIZED,
          `${action} on "${uri}" is not allowed`,
        ),
      ]);
    };
    if (!(decision instanceof Promise)) return apply(decision);
    this.#held = [];
    const connection = this.#connection;
    decision.then((settled) => {
      if (!connection.joined || connection.info !== info) return;
      try {
        apply(settled);
      } catch (error) {
        this.#router.log("error", `Session ${info.id}: internal error: ${error}`);
        return connection.fail(new ProtocolViolationError("internal router error"));
      }
      this.#release();
    });
  }

  /** Handles the messages held during an authorization, until another one holds. */
  #release(): void {
    const held = this.#held ?? [];
    this.#held = undefined;
    this.#heldBytes = 0;
    while (held.length > 0 && this.#held === undefined && !this.#connection.ended) {
      this.#connection.receive(held.shift()!);
    }
    if (this.#held !== undefined) (this.#held as WampMessage[]).unshift(...held);
  }
}
