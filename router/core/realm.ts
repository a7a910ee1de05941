/**
 * A realm: a routing namespace with its own sessions, broker and dealer. Every entry
 * point takes values (a session, a message) and returns an {@linkcode Output}: the
 * messages to deliver, addressed to sessions, and the effects the shell runs (timers,
 * dynamic authorizers, closing a killed session). The realm never calls a session.
 *
 * @module
 */

import { type CallMessage, type Dict, MetaProcedure } from "../../wamp/mod.ts";
import type { Authenticator } from "./auth/authenticator.ts";
import { realmAuthenticators } from "./auth/methods.ts";
import { Authorizer, type AuthorizerCall } from "./authorizer.ts";
import { Broker } from "./broker/broker.ts";
import type { ResolvedRealmOptions } from "./realm_options.ts";
import { Dealer } from "./dealer/dealer.ts";
import { getEventsProcedure } from "./broker/event_history.ts";
import {
  InternalCaller,
  internalSession,
  ROUTER_CALL_TIMEOUT,
  type RouterCallDone,
} from "./internal_session.ts";
import { MetaEvents } from "./meta/events.ts";
import { registrationEvents, registrationProcedures } from "./meta/registration_meta.ts";
import { subscriptionEvents, subscriptionProcedures } from "./meta/subscription_meta.ts";
import type { RealmContext } from "./realm_context.ts";
import { Members } from "./realm_members.ts";
import type { SessionCluster, SessionClusterHooks } from "./meta/cluster_sessions.ts";
import { ProcedureCatalog, procedureReflection } from "./dealer/procedure_reflection.ts";
import { listedTopics, topicReflection } from "./broker/topic_reflection.ts";
import { SortedUris } from "./sorted_uris.ts";
import { messagesOnly, NOTHING, type Output, type SharedTestament } from "./output.ts";
import type { PermissionCheck, RouterProcedure } from "./procedures.ts";
import { type RealmRequest, Requests } from "./requests.ts";
import { answer } from "./router_procedure.ts";
import { completed } from "./realm_output.ts";
import type { RealmMember, SessionInfo } from "./types.ts";

export type { RealmContext, RealmIds, RouterCallTarget } from "./realm_context.ts";
export type { RealmMember } from "./types.ts";
export type { RouterProcedure } from "./procedures.ts";
export type { RealmRequest } from "./requests.ts";

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
  #members: Members;
  #procedures = new Map<string, RouterProcedure>();
  #events: MetaEvents;
  #requests: Requests;
  #closing = false;
  #internal: () => SessionInfo;
  #caller: InternalCaller | undefined;
  #sessions: SessionCluster | undefined;
  /** Counts a refusal as not authorized (`RealmContext.denied`). */
  #denied: () => void;

  /**
   * Creates a realm.
   *
   * @param options Resolved realm options.
   * @param context IDs, clock, and what the realm needs from its router.
   */
  constructor(options: ResolvedRealmOptions, context: RealmContext) {
    this.options = options;
    const { ids, realms = () => undefined, cookies, trusted } = context;
    this.#denied = context.denied ?? (() => {});
    let internal: SessionInfo | undefined;
    this.#internal = () => internal ??= internalSession(options.name, ids.global());
    this.#events = new MetaEvents(() => this.broker, this.#internal, () => this.#finish(NOTHING));
    const topics = new SortedUris();
    this.broker = new Broker({
      strictUris: options.strictUris,
      subscriptionIds: ids.router,
      publicationIds: ids.global,
      disclosePublisher: options.disclosePublisher,
      eventHistory: options.eventHistory,
      now: context.now,
      observer: listedTopics(topics, subscriptionEvents(this.#events)),
      limits: options.limits,
    });
    const check: PermissionCheck = (...args) => this.#check(...args);
    this.provide(
      MetaProcedure.SUBSCRIPTION_GET_EVENTS,
      getEventsProcedure(
        this.broker.history,
        (id) => this.broker.subscription(id),
        (caller, sub, then) =>
          caller.id === this.#internal().id
            ? then(true)
            : check(caller, "subscribe", sub.topic, { match: sub.match }, (d) => then(d.allow)),
      ),
    );
    const reflection = topicReflection(this.broker, topics, () => this.#sessions?.remote);
    for (const [uri, handler] of Object.entries(reflection)) this.provide(uri, handler);
    const catalog = new ProcedureCatalog(options.limits);
    this.dealer = new Dealer({
      strictUris: options.strictUris,
      registrationIds: ids.router,
      now: context.now,
      discloseCaller: options.discloseCaller,
      settle: (out) => this.#finish(out),
      observer: catalog.watching(registrationEvents(this.#events)),
      limits: options.limits,
      busy: context.busy ?? (() => false),
      untrusted: (session, uri, match) => { // true refuses not_authorized: a denial to count
        const refused = this.authorizer.reachesTrusted(session, "register", uri, { match });
        if (refused) this.#denied();
        return refused;
      },
    });
    const call: AuthorizerCall = (realm, procedure, args, kwargs, done, started) => {
      const target = realm === undefined || realm === options.name ? this : realms(realm);
      if (target === undefined) {
        return done({ ok: false, error: new Error(`realm "${realm}" does not exist`) });
      }
      return target.callAsRouter(procedure, args, kwargs, ROUTER_CALL_TIMEOUT, done, started);
    };
    this.authenticators = realmAuthenticators(options, context);
    this.authorizer = new Authorizer(options.roles, call, trusted, context.log);
    this.#requests = new Requests({
      broker: this.broker,
      dealer: this.dealer,
      authorizer: this.authorizer,
      call: (session, msg, fresh, disclose) => this.call(session, msg, fresh, disclose),
      details: (id) => this.#details(id),
      finish: (out) => this.#finish(out),
      denied: this.#denied,
      congested: () => this.#events.congested,
    });
    this.#members = new Members({
      options,
      broker: this.broker,
      dealer: this.dealer,
      authorizer: this.authorizer,
      requests: this.#requests,
      events: this.#events,
      check,
      ...(cookies === undefined ? {} : { cookies }),
      closing: () => this.#closing,
      finish: (out) => this.#finish(out),
    });
    for (
      const procedures of [
        procedureReflection(this.dealer, catalog, () => this.broker.sharing),
        registrationProcedures(this.dealer),
        subscriptionProcedures(this.broker, this.#events),
        ...this.#members.procedures(),
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

  /** The joined sessions (the objects given to {@linkcode Realm.join}). */
  members(): IterableIterator<RealmMember> {
    return this.#members.values();
  }

  /** A joined session by ID (the object given to {@linkcode Realm.join}). */
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
    return this.#members.details(member);
  }

  /**
   * Serves a procedure from the router itself (before any registration).
   *
   * @param procedure The procedure URI.
   * @param handler Its implementation.
   */
  provide(procedure: string, handler: RouterProcedure): void {
    this.#procedures.set(procedure, handler);
  }

  /**
   * Handles a joined session's request: authorization (static, or a
   * dynamic authorizer as effects, the session's later requests waiting in
   * order meanwhile), then the broker, the dealer or a router procedure.
   * Request-ID sequencing and role checks are the session's.
   *
   * @param session The session.
   * @param msg PUBLISH, SUBSCRIBE, UNSUBSCRIBE, REGISTER, UNREGISTER, CALL,
   * CANCEL, YIELD, or ERROR for an INVOCATION.
   * @param fresh For CALL: whether its request ID is new in the session's
   * sequence (an old one only continues a progressive call).
   * @param queued Whether it waits behind requests held for an
   * authorization (false for what the router answers for a session).
   * @returns What happens.
   * @throws {ProtocolViolationError} For a request the session may not
   * make (an unannounced feature, an unknown INVOCATION, too many requests
   * waiting for an authorization).
   */
  receive(session: SessionInfo, msg: RealmRequest, fresh = true, queued = true): Output {
    this.#events.paying++; // the meta events it causes go out now: its turn pays for them
    let out: Output;
    try {
      out = this.#requests.receive(session, msg, fresh, queued);
    } finally {
      this.#events.paying--;
    }
    return this.#finish(out);
  }

  /**
   * Whether a session's requests wait for a dynamic authorization (its
   * other messages, GOODBYE included, keep their order behind them).
   *
   * @param sessionId The session.
   * @returns True while they wait.
   */
  holding(sessionId: number): boolean {
    return this.#requests.holding(sessionId);
  }

  /**
   * Handles CALL without authorization: a procedure the router serves
   * answers; anything else goes to the dealer.
   *
   * @param session The caller.
   * @param msg The CALL message.
   * @param fresh Whether the request ID is new (see {@linkcode Dealer.call}).
   * @param disclose Disclose the caller to the callee (see {@linkcode Dealer.call}).
   * @returns What happens.
   */
  call(session: SessionInfo, msg: CallMessage, fresh = true, disclose = false): Output {
    const handler = this.#procedures.get(msg.procedure);
    if (handler === undefined || !fresh) return this.dealer.call(session, msg, fresh, disclose);
    return answer(handler, session, msg, this.#denied);
  }

  /**
   * Calls a procedure as the realm's internal session (a dynamic
   * authenticator or authorizer registered by a trusted client).
   *
   * @param procedure The procedure URI.
   * @param args Positional arguments.
   * @param kwargs Keyword arguments.
   * @param timeout Milliseconds the callee has (0: no limit).
   * @param done Continues with the result's payload, or a `CallError`
   * with the ERROR's URI (`no_such_procedure`, `timeout`, the callee's
   * error).
   * @param started Given, once the call is out, what cancels it (`killnowait`; `done` never runs).
   * @returns What happens now.
   */
  callAsRouter(
    procedure: string,
    args: unknown[],
    kwargs: Dict,
    timeout: number,
    done: RouterCallDone,
    started?: (cancel: () => Output) => void,
  ): Output {
    const caller = this.#caller ??= new InternalCaller(
      this.#internal(),
      (info, msg) => this.call(info, msg),
      (info, msg) => this.dealer.cancel(info, msg),
    );
    const cancelling = started && ((id: number) => started(() => this.#finish(caller.cancel(id))));
    return this.#finish(caller.call(procedure, args, kwargs, timeout, done, cancelling));
  }

  /**
   * Revokes a registration (or one callee's part of a shared one): its
   * callees are told if they announced registration_revocation.
   *
   * @param id The registration ID.
   * @param reason Why, for the callee.
   * @param callee Only this callee's part.
   * @returns What to deliver, or `undefined` when there is no such
   * registration.
   */
  revokeRegistration(id: number, reason?: string, callee?: number): Output | undefined {
    if (this.dealer.registration(id) === undefined) return undefined;
    return this.#finish(this.dealer.revokeRequest(id, reason, callee));
  }

  /**
   * Revokes a subscription (`subscription_revocation`): every subscriber
   * is removed; those that announced the feature get UNSUBSCRIBED with
   * request 0, `details.subscription` and `details.reason`.
   *
   * @param id The subscription ID.
   * @param reason Why, for the subscribers.
   * @returns What to deliver, or `undefined` when there is no such
   * subscription.
   */
  revokeSubscription(id: number, reason?: string): Output | undefined {
    const out = this.broker.revoke(id, reason);
    return out === undefined ? undefined : this.#finish(messagesOnly(out));
  }

  /**
   * Adds a session that was just welcomed (`wamp.session.on_join`); with cookie
   * authentication, its connection's cookie now stands for its identity here.
   *
   * @param member The session (kept: {@linkcode Realm.members} returns it).
   * @returns The meta events to deliver.
   */
  join(member: RealmMember): Output {
    this.#events.paid(() => this.#members.join(member));
    return this.#finish(NOTHING);
  }

  /**
   * Removes a session and everything it held: subscriptions, registrations, requests waiting
   * for an authorization, and the calls it owed (their callers get ERROR at once). Then its
   * testaments and `wamp.session.on_leave` are published, unless the router is closing.
   *
   * @param sessionId The session.
   * @returns What to deliver, and the timers to cancel.
   */
  leave(sessionId: number): Output {
    return this.#finish(this.#members.leave(sessionId));
  }

  /** Cluster mode: the session meta API across nodes (`meta/cluster_sessions.ts`). */
  shareSessions(hooks: SessionClusterHooks): SessionCluster {
    return this.#sessions = this.#members.joinCluster(hooks, (out) => this.#finish(out));
  }

  /** Cluster mode: a session of a node that is down leaves its testaments here (in rotation). */
  fireTestaments(session: SessionInfo, testaments: readonly SharedTestament[]): Output {
    return this.#finish(this.#members.fireShared(session, testaments));
  }

  /**
   * Closing with its router: sessions leaving from now on fire no meta events and no testaments;
   * the queued ones of sessions that left before go out now (shared with the cluster too).
   */
  close(): Output {
    this.#closing = this.#events.closing = true;
    return this.#finish(this.#members.drainTestaments());
  }

  /** A joined session's details (empty once it left). */
  #details(sessionId: number): Dict {
    const member = this.#members.get(sessionId);
    return member === undefined ? {} : this.sessionDetails(member);
  }

  /** The realm's permission, for a router procedure's check. */
  #check(
    session: SessionInfo,
    action: Parameters<PermissionCheck>[1],
    uri: string,
    options: Dict,
    then: Parameters<PermissionCheck>[4],
  ): Output {
    const decision = this.authorizer.authorize(
      session,
      () => this.#details(session.id),
      action,
      uri,
      options,
    );
    if ("allow" in decision) return then(decision);
    return decision.start((settled) => this.#finish(then(settled)));
  }

  /** Completes an output (`realm_output.ts`): meta events, cluster shares, router-call answers. */
  #finish(out: Output): Output {
    return completed(out, this.#events, this.#caller, this.broker.sharing, this.#sessions);
  }
}
