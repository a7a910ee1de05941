/**
 * A realm: a routing namespace with its own sessions, broker and dealer.
 *
 * @module
 */

import {
  type CallMessage,
  type Dict,
  type IdGenerator,
  MessageType,
  type Payload,
  type ResultMessage,
} from "../wamp/mod.ts";
import { Broker } from "./broker.ts";
import type { ResolvedRealmOptions } from "./config.ts";
import { Dealer } from "./dealer.ts";
import { CallError, errorReply } from "./errors.ts";
import { GET_EVENTS, getEventsProcedure } from "./event_history.ts";
import { procedureReflection } from "./procedure_reflection.ts";
import { topicReflection } from "./topic_reflection.ts";
import type { Outbound, SessionInfo } from "./types.ts";

/** What a realm needs from a joined session. */
export interface RealmMember {
  /** The session's identity. */
  readonly info: SessionInfo;
  /** Delivers a message to the session (subject to its outbound policy). */
  send(msg: Outbound["msg"]): void;
}

/**
 * A procedure the router serves itself (meta API, reflection). Return the
 * result's payload; throw {@linkcode CallError} to answer with ERROR.
 */
export type RouterProcedure = (
  caller: SessionInfo,
  args: unknown[],
  kwargs: Dict,
) => Payload;

/** ID sources a realm uses. */
export interface RealmIds {
  /** Global-scope IDs (publications). */
  readonly global: IdGenerator;
  /** Router-scope IDs (subscriptions, registrations). */
  readonly router: IdGenerator;
}

/** One realm of a router. */
export class Realm {
  /** The realm's resolved options. */
  readonly options: ResolvedRealmOptions;
  /** The realm's broker. */
  readonly broker: Broker;
  /** The realm's dealer. */
  readonly dealer: Dealer;
  #members = new Map<number, RealmMember>();
  #procedures = new Map<string, RouterProcedure>();

  /**
   * Creates a realm.
   *
   * @param options Resolved realm options.
   * @param ids ID generators.
   */
  constructor(options: ResolvedRealmOptions, ids: RealmIds) {
    this.options = options;
    this.broker = new Broker({
      strictUris: options.strictUris,
      subscriptionIds: ids.router,
      publicationIds: ids.global,
      disclosePublisher: options.disclosePublisher,
      eventHistory: options.eventHistory,
    });
    this.provide(
      GET_EVENTS,
      getEventsProcedure(this.broker.history, (id) => this.broker.subscription(id)),
    );
    for (const [uri, handler] of Object.entries(topicReflection(this.broker))) {
      this.provide(uri, handler);
    }
    this.dealer = new Dealer({
      strictUris: options.strictUris,
      registrationIds: ids.router,
      discloseCaller: options.discloseCaller,
      dispatch: (out) => this.dispatch(out),
    });
    for (const [uri, handler] of Object.entries(procedureReflection(this.dealer))) {
      this.provide(uri, handler);
    }
  }

  /** The realm's name. */
  get name(): string {
    return this.options.name;
  }

  /** How many sessions are joined. */
  get size(): number {
    return this.#members.size;
  }

  /** The joined sessions. */
  members(): IterableIterator<RealmMember> {
    return this.#members.values();
  }

  /** A joined session by ID. */
  member(id: number): RealmMember | undefined {
    return this.#members.get(id);
  }

  /**
   * Serves a procedure from the router itself. Such procedures take
   * precedence over registrations (which cannot use `wamp.` URIs anyway).
   *
   * @param procedure The procedure URI.
   * @param handler Its implementation.
   */
  provide(procedure: string, handler: RouterProcedure): void {
    this.#procedures.set(procedure, handler);
  }

  /**
   * Handles CALL: a procedure the router serves answers at once; anything
   * else goes to the dealer.
   *
   * @param session The caller.
   * @param msg The CALL message.
   * @param fresh Whether the request ID is new (see {@linkcode Dealer.call}).
   * @returns What to deliver.
   */
  call(session: SessionInfo, msg: CallMessage, fresh = true): Outbound[] {
    const handler = this.#procedures.get(msg.procedure);
    if (handler === undefined || !fresh) return this.dealer.call(session, msg, fresh);
    try {
      const out = handler(session, msg.args ?? [], msg.kwargs ?? {});
      const result: ResultMessage = { type: MessageType.RESULT, request: msg.request, details: {} };
      if (out.args !== undefined) result.args = out.args;
      if (out.kwargs !== undefined) result.kwargs = out.kwargs;
      return [{ to: session.id, msg: result }];
    } catch (error) {
      if (!(error instanceof CallError)) throw error;
      return [errorReply(session.id, msg.type, msg.request, error.uri, error.message)];
    }
  }

  /**
   * Revokes a registration (or one callee's part of a shared one): its
   * callees are told if they announced registration_revocation.
   *
   * @param id The registration ID.
   * @param reason Why, for the callee.
   * @param callee Only this callee's part.
   * @returns Whether there was such a registration.
   */
  revokeRegistration(id: number, reason?: string, callee?: number): boolean {
    if (this.dealer.registration(id) === undefined) return false;
    this.dispatch(this.dealer.revoke(id, reason, callee));
    return true;
  }

  /**
   * Revokes a subscription (`subscription_revocation`): every subscriber
   * is removed; those that announced the feature get UNSUBSCRIBED with
   * request 0, `details.subscription` and `details.reason`.
   *
   * @param id The subscription ID.
   * @param reason Why, for the subscribers.
   * @returns Whether there was such a subscription.
   */
  revokeSubscription(id: number, reason?: string): boolean {
    const out = this.broker.revoke(id, reason);
    if (out === undefined) return false;
    this.dispatch(out);
    return true;
  }

  /** Adds a session that was just welcomed. */
  join(member: RealmMember): void {
    this.#members.set(member.info.id, member);
  }

  /**
   * Removes a session and everything it held: subscriptions, registrations,
   * and the calls it owed (their callers get ERROR at once).
   */
  leave(sessionId: number): void {
    if (!this.#members.delete(sessionId)) return;
    this.broker.removeSession(sessionId);
    this.dispatch(this.dealer.removeSession(sessionId));
  }

  /** Delivers what the broker or dealer returned. */
  dispatch(out: readonly Outbound[]): void {
    for (const { to, msg } of out) {
      if (typeof to === "number") {
        this.#members.get(to)?.send(msg);
      } else {
        for (const id of to) this.#members.get(id)?.send(msg);
      }
    }
  }
}
