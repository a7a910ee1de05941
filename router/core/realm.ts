/**
 * A realm: a routing namespace with its own sessions, broker and dealer.
 *
 * @module
 */

import {
  type CallMessage,
  type Dict,
  ErrorUri,
  type IdGenerator,
  type MatchPolicy,
  MessageType,
  MetaProcedure,
  type Payload,
  type Peer,
  type ResultMessage,
} from "../../wamp/mod.ts";
import type { Authenticator } from "./auth/authenticator.ts";
import type { CookieStore } from "./auth/cookie.ts";
import { realmAuthenticators, type RouterCall } from "./auth/methods.ts";
import { Authorizer, type TrustedRegistrations } from "./authorizer.ts";
import { Broker } from "./broker/broker.ts";
import type { ResolvedRealmOptions } from "./realm_options.ts";
import { Dealer } from "./dealer/dealer.ts";
import { CallError, errorReply } from "./errors.ts";
import { getEventsProcedure } from "./broker/event_history.ts";
import { InternalCaller, internalSession } from "./internal_session.ts";
import { MetaEvents } from "./meta/events.ts";
import { registrationEvents, registrationProcedures } from "./meta/registration_meta.ts";
import { SessionMeta } from "./meta/session_meta.ts";
import { subscriptionEvents, subscriptionProcedures } from "./meta/subscription_meta.ts";
import { Testaments } from "./meta/testament.ts";
import { procedureReflection } from "./dealer/procedure_reflection.ts";
import { topicReflection } from "./broker/topic_reflection.ts";
import type { Outbound, SessionInfo } from "./types.ts";

/** What a realm needs from a joined session. */
export interface RealmMember {
  /** The session's identity. */
  readonly info: SessionInfo;
  /** The transport under the session (its `info` shows in session details). */
  readonly peer: Peer;
  /** Delivers a message to the session (subject to its outbound policy). */
  send(msg: Outbound["msg"]): void;
  /** Closes the session with GOODBYE (`wamp.session.kill`). */
  shutdown(reason: string, message?: string): void;
}

/**
 * A procedure the router serves itself (meta API, reflection). Return the
 * result's payload (or a promise of it); throw or reject with
 * {@linkcode CallError} to answer with ERROR.
 */
export type RouterProcedure = (
  caller: SessionInfo,
  args: unknown[],
  kwargs: Dict,
) => Payload | Promise<Payload>;

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
  /** The authentication methods the realm offers, by authmethod name. */
  readonly authenticators: ReadonlyMap<string, Authenticator>;
  /** The realm's authorization rules. */
  readonly authorizer: Authorizer;
  #members = new Map<number, RealmMember>();
  #procedures = new Map<string, RouterProcedure>();
  #events: MetaEvents;
  #sessionMeta: SessionMeta;
  #testaments: Testaments;
  /** Sessions being killed by `kill_all`: they leave without events. */
  #quiet = new Set<number>();
  #closing = false;
  #internal: () => SessionInfo;
  #caller: InternalCaller | undefined;
  #cookies: CookieStore | undefined;

  /**
   * Creates a realm.
   *
   * @param options Resolved realm options.
   * @param ids ID generators.
   * @param realms Finds other realms of the router (for an authenticator
   * registered in another realm).
   * @param cookies The router's cookie store (cookie authentication).
   * @param trusted The authenticator and authorizer procedures registered
   * here, and the authrole that may register them.
   */
  constructor(
    options: ResolvedRealmOptions,
    ids: RealmIds,
    realms: (name: string) => Realm | undefined = () => undefined,
    cookies?: CookieStore,
    trusted?: TrustedRegistrations,
  ) {
    this.options = options;
    let internal: SessionInfo | undefined;
    this.#internal = () => internal ??= internalSession(options.name, ids.global());
    this.#events = new MetaEvents(() => this.broker, this.#internal, (out) => this.dispatch(out));
    this.broker = new Broker({
      strictUris: options.strictUris,
      subscriptionIds: ids.router,
      publicationIds: ids.global,
      disclosePublisher: options.disclosePublisher,
      eventHistory: options.eventHistory,
      observer: subscriptionEvents(this.#events),
      limits: options.limits,
    });
    this.provide(
      MetaProcedure.SUBSCRIPTION_GET_EVENTS,
      getEventsProcedure(
        this.broker.history,
        (id) => this.broker.subscription(id),
        (caller, sub) => this.#mayReadHistory(caller, sub.topic, sub.match),
      ),
    );
    for (const [uri, handler] of Object.entries(topicReflection(this.broker))) {
      this.provide(uri, handler);
    }
    this.dealer = new Dealer({
      strictUris: options.strictUris,
      registrationIds: ids.router,
      discloseCaller: options.discloseCaller,
      dispatch: (out) => this.dispatch(out),
      observer: registrationEvents(this.#events),
      limits: options.limits,
    });
    this.#sessionMeta = new SessionMeta(
      {
        members: () => this.#members.values(),
        member: (id) => this.#members.get(id),
        kill: (id, reason, message, quiet) => this.#kill(id, reason, message, quiet),
      },
      { kill: options.meta.kill ?? false, modifyDetails: options.meta.modifyDetails ?? false },
      this.#events,
    );
    this.#testaments = new Testaments(
      this.#events,
      options.strictUris,
      (info, topic, publish) =>
        this.authorizer.authorize(
          info,
          () => {
            const member = this.#members.get(info.id);
            return member === undefined ? {} : this.sessionDetails(member);
          },
          "publish",
          topic,
          publish,
        ),
      options.limits,
    );
    const call: RouterCall = (realm, procedure, args, kwargs) => {
      const target = realm === undefined || realm === options.name ? this : realms(realm);
      if (target === undefined) {
        return Promise.reject(new Error(`realm "${realm}" does not exist`));
      }
      return target.callAsRouter(procedure, args, kwargs);
    };
    this.authenticators = realmAuthenticators(options, call, cookies);
    this.#cookies = cookies;
    this.authorizer = new Authorizer(options.roles, call, trusted);
    for (
      const procedures of [
        procedureReflection(this.dealer),
        registrationProcedures(this.dealer),
        subscriptionProcedures(this.broker),
        this.#sessionMeta.procedures(),
        this.#testaments.procedures(),
      ]
    ) {
      for (const [uri, handler] of Object.entries(procedures)) this.provide(uri, handler);
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

  /** Whether the realm holds as many sessions as `maxSessions` allows. */
  get full(): boolean {
    return this.options.maxSessions > 0 && this.#members.size >= this.options.maxSessions;
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
   * A joined session's details, as the session meta API reports them.
   *
   * @param member The session.
   * @returns `{session, authid, authrole, authmethod, authprovider, realm, transport}`.
   */
  sessionDetails(member: RealmMember): Dict {
    return this.#sessionMeta.details(member);
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
   * @param disclose Disclose the caller to the callee (see {@linkcode Dealer.call}).
   * @returns What to deliver.
   */
  call(session: SessionInfo, msg: CallMessage, fresh = true, disclose = false): Outbound[] {
    const handler = this.#procedures.get(msg.procedure);
    if (handler === undefined || !fresh) return this.dealer.call(session, msg, fresh, disclose);
    const reply = (out: Payload): Outbound[] => {
      const result: ResultMessage = { type: MessageType.RESULT, request: msg.request, details: {} };
      if (out.args !== undefined) result.args = out.args;
      if (out.kwargs !== undefined) result.kwargs = out.kwargs;
      return [{ to: session.id, msg: result }];
    };
    const refuse = (error: unknown): Outbound[] => {
      if (!(error instanceof CallError)) throw error;
      return [errorReply(session.id, msg.type, msg.request, error.uri, error.message)];
    };
    try {
      // Meta events the procedure causes (a kill's on_leave) follow its RESULT.
      const out = this.#events.hold(() => handler(session, msg.args ?? [], msg.kwargs ?? {}));
      if (!(out instanceof Promise)) return reply(out);
      out.then(reply, refuse).then(
        (answer) => this.dispatch(answer),
        (error) => this.dispatch(refuse(new CallError(ErrorUri.RUNTIME_ERROR, `${error}`))),
      );
      return [];
    } catch (error) {
      return refuse(error);
    }
  }

  /** The subscribe permission, applied to reading a subscription's event history. */
  #mayReadHistory(
    caller: SessionInfo,
    topic: string,
    match: MatchPolicy,
  ): boolean | Promise<boolean> {
    if (caller.id === this.#internal().id) return true;
    const member = this.#members.get(caller.id);
    const details = () => member === undefined ? {} : this.sessionDetails(member);
    const decision = this.authorizer.authorize(caller, details, "subscribe", topic, { match });
    return decision instanceof Promise ? decision.then((d) => d.allow) : decision.allow;
  }

  /**
   * Calls a procedure as the realm's internal session (a dynamic
   * authenticator or authorizer registered by a trusted client).
   *
   * @param procedure The procedure URI.
   * @param args Positional arguments.
   * @param kwargs Keyword arguments.
   * @param timeout Milliseconds the callee has (0: no limit).
   * @returns The result's payload.
   * @throws {CallError} With the ERROR's URI (`no_such_procedure`,
   * `timeout`, the callee's error).
   */
  callAsRouter(
    procedure: string,
    args: unknown[],
    kwargs: Dict,
    timeout = 10_000,
  ): Promise<Payload> {
    this.#caller ??= new InternalCaller(
      this.#internal(),
      (info, msg) => this.call(info, msg as CallMessage),
      (out) => this.dispatch(out),
    );
    return this.#caller.call(procedure, args, kwargs, timeout);
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

  /**
   * Adds a session that was just welcomed (`wamp.session.on_join`); with
   * cookie authentication, its connection's cookie now stands for its
   * identity here.
   */
  join(member: RealmMember): void {
    this.#members.set(member.info.id, member);
    const cookie = member.peer.info.cookie;
    const { authmethod } = member.info;
    const maxAge = this.options.auth.cookie?.maxAge;
    if (
      cookie !== undefined && maxAge !== undefined && authmethod !== "cookie" &&
      authmethod !== "anonymous"
    ) {
      this.#cookies?.remember(cookie, this.name, member.info, maxAge);
    }
    this.#sessionMeta.joined(member);
    this.#events.flush();
  }

  /**
   * Removes a session and everything it held: subscriptions, registrations,
   * and the calls it owed (their callers get ERROR at once). Then its
   * testaments and `wamp.session.on_leave` are published, unless
   * `kill_all` removed it or the router is closing.
   */
  leave(sessionId: number): void {
    const member = this.#members.get(sessionId);
    if (member === undefined) return;
    this.#members.delete(sessionId);
    let out: Outbound[] = [];
    const depart = () => {
      this.broker.removeSession(sessionId);
      out = this.dealer.removeSession(sessionId);
      this.#testaments.fire(member.info);
      this.#sessionMeta.left(member.info);
    };
    if (this.#quiet.delete(sessionId) || this.#closing) this.#events.muted(depart);
    else depart();
    this.authorizer.forget(sessionId);
    this.dispatch(out);
  }

  /**
   * Marks the realm as closing with its router: sessions leaving from now
   * on fire no meta events and no testaments (their would-be receivers are
   * closing too).
   */
  close(): void {
    this.#closing = true;
  }

  /** Delivers what the broker or dealer returned, then queued meta events. */
  dispatch(out: readonly Outbound[]): void {
    for (const { to, msg } of out) {
      if (typeof to === "number") {
        const member = this.#members.get(to);
        if (member !== undefined) member.send(msg);
        else if (to === this.#caller?.info.id) this.#caller.receive(msg);
      } else {
        for (const id of to) this.#members.get(id)?.send(msg);
      }
    }
    this.#events.flush();
  }

  #kill(id: number, reason: string, message: string | undefined, quiet: boolean): void {
    if (quiet) this.#quiet.add(id);
    this.#members.get(id)?.shutdown(reason, message);
    this.#quiet.delete(id);
  }
}
