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
    });
    this.dealer = new Dealer({ strictUris: options.strictUris, registrationIds: ids.router });
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
   * @returns What to deliver.
   */
  call(session: SessionInfo, msg: CallMessage): Outbound[] {
    const handler = this.#procedures.get(msg.procedure);
    if (handler === undefined) return this.dealer.call(session, msg);
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
