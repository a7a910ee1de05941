/**
 * Typed helpers for the WAMP Meta API (spec "Session Meta API",
 * "Registration Meta API", "Subscription Meta API", "Session Testament"):
 * the procedures and topics the router serves in every realm, as methods
 * with typed arguments and results. Everything here is an ordinary
 * `call()` or `subscribe()` on the session underneath.
 *
 * @module
 */

import {
  type Dict,
  type InvocationPolicy,
  type MatchPolicy,
  MetaProcedure,
  MetaTopic,
  type PublishOptions,
  type TransportInfo,
} from "../wamp/mod.ts";
import type { Result } from "./caller.ts";
import type { Arguments } from "./context.ts";
import type { Session } from "./session.ts";
import type { Event, Subscription } from "./subscription.ts";

/**
 * A session as `wamp.session.get` and `wamp.session.on_join` describe it.
 * Keys added with `wamp.session.modify_details` appear beside these.
 */
export interface SessionDetails {
  /** The session ID. */
  session: number;
  /** The authenticated identity. */
  authid: string;
  /** The authenticated role. */
  authrole: string;
  /** How the session authenticated (`anonymous`, `ticket`, …). */
  authmethod: string;
  /** Who authenticated it. */
  authprovider: string;
  /** The realm joined. */
  realm: string;
  /** The transport under the session. */
  transport: TransportInfo;
  /** Keys added by `wamp.session.modify_details`. */
  [key: string]: unknown;
}

/** A registration as `wamp.registration.get` and `on_create` describe it. */
export interface RegistrationDetails {
  /** The registration ID. */
  id: number;
  /** When it was created, as an ISO 8601 string. */
  created: string;
  /** The procedure URI or pattern. */
  uri: string;
  /** How `uri` matches. */
  match: MatchPolicy;
  /** The shared-registration invocation policy. */
  invoke: InvocationPolicy;
}

/** A subscription as `wamp.subscription.get` and `on_create` describe it. */
export interface SubscriptionDetails {
  /** The subscription ID. */
  id: number;
  /** When it was created, as an ISO 8601 string. */
  created: string;
  /** The topic URI or pattern. */
  uri: string;
  /** How `uri` matches. */
  match: MatchPolicy;
}

/** Registration or subscription IDs per match policy (`….list`). */
export interface MatchLists {
  /** IDs of exact registrations or subscriptions. */
  exact: number[];
  /** IDs of prefix ones. */
  prefix: number[];
  /** IDs of wildcard ones. */
  wildcard: number[];
}

/** Keyword arguments of the `wamp.session.kill*` procedures. */
export interface KillOptions {
  /**
   * The GOODBYE reason the killed sessions get.
   * @default {"wamp.close.killed"}
   */
  reason?: string;
  /** A message for them, sent as GOODBYE.Details.message. */
  message?: string;
}

/** Which testament bucket: published on detach, or on destruction. */
export type TestamentScope = "destroyed" | "detached";

/** Keyword arguments of `wamp.session.add_testament`. */
export interface TestamentOptions {
  /** PUBLISH.Options for the testament (`acknowledge` is ignored). */
  publish_options?: PublishOptions;
  /**
   * The bucket.
   * @default {"destroyed"}
   */
  scope?: TestamentScope;
}

/** What the meta helpers need from a session: `call()` and `subscribe()`. */
export type MetaPeer = Pick<Session, "call" | "subscribe">;

/** The first result argument. */
function first<T>(result: Result): T {
  return result.args[0] as T;
}

/** Only the keys whose values are defined, for a wire dictionary. */
function defined(dict: Dict): Dict {
  return Object.fromEntries(Object.entries(dict).filter(([, v]) => v !== undefined));
}

/** Wraps `wamp.session.*`: counting, finding and killing sessions, testaments. */
export class SessionMetaApi {
  #peer: MetaPeer;

  /**
   * Usually reached as `session.meta.sessions`.
   *
   * @param peer The session that makes the calls.
   */
  constructor(peer: MetaPeer) {
    this.#peer = peer;
  }

  /**
   * Counts the sessions of the realm (`wamp.session.count`).
   *
   * @param authroles Count only sessions with one of these authroles.
   * @returns The number of sessions.
   * @throws {ApplicationError} When the router refuses.
   */
  async count(authroles?: string[]): Promise<number> {
    const args = authroles === undefined ? [] : [authroles];
    return first(await this.#peer.call(MetaProcedure.SESSION_COUNT, { args }));
  }

  /**
   * Lists the session IDs of the realm (`wamp.session.list`), in no
   * particular order.
   *
   * @param authroles List only sessions with one of these authroles.
   * @returns The session IDs.
   * @throws {ApplicationError} When the router refuses.
   */
  async list(authroles?: string[]): Promise<number[]> {
    const args = authroles === undefined ? [] : [authroles];
    return first(await this.#peer.call(MetaProcedure.SESSION_LIST, { args }));
  }

  /**
   * Describes a session (`wamp.session.get`).
   *
   * @param session The session ID.
   * @returns Its details.
   * @throws {ApplicationError} `wamp.error.no_such_session` when unknown.
   */
  async get(session: number): Promise<SessionDetails> {
    return first(await this.#peer.call(MetaProcedure.SESSION_GET, { args: [session] }));
  }

  /**
   * Closes another session with GOODBYE (`wamp.session.kill`).
   *
   * @param session The session ID; never the caller's own.
   * @param options GOODBYE reason and message.
   * @throws {ApplicationError} `wamp.error.no_such_session` when unknown
   * (or the caller's own), `wamp.error.invalid_uri` for a bad reason,
   * `wamp.error.no_such_procedure` when the realm does not allow killing.
   */
  async kill(session: number, options: KillOptions = {}): Promise<void> {
    await this.#peer.call(MetaProcedure.SESSION_KILL, {
      args: [session],
      kwargs: defined({ ...options }),
    });
  }

  /**
   * Closes every other session with this authid
   * (`wamp.session.kill_by_authid`).
   *
   * @param authid The authid.
   * @param options GOODBYE reason and message.
   * @returns The IDs of the sessions killed.
   * @throws {ApplicationError} As {@linkcode SessionMetaApi.kill}.
   */
  async killByAuthid(authid: string, options: KillOptions = {}): Promise<number[]> {
    const result = await this.#peer.call(MetaProcedure.SESSION_KILL_BY_AUTHID, {
      args: [authid],
      kwargs: defined({ ...options }),
    });
    return first(result);
  }

  /**
   * Closes every other session with this authrole
   * (`wamp.session.kill_by_authrole`).
   *
   * @param authrole The authrole.
   * @param options GOODBYE reason and message.
   * @returns How many sessions were killed.
   * @throws {ApplicationError} As {@linkcode SessionMetaApi.kill}.
   */
  async killByAuthrole(authrole: string, options: KillOptions = {}): Promise<number> {
    const result = await this.#peer.call(MetaProcedure.SESSION_KILL_BY_AUTHROLE, {
      args: [authrole],
      kwargs: defined({ ...options }),
    });
    return first(result);
  }

  /**
   * Closes every other session of the realm (`wamp.session.kill_all`). No
   * meta or testament events are published for them.
   *
   * @param options GOODBYE reason and message.
   * @returns How many sessions were killed.
   * @throws {ApplicationError} As {@linkcode SessionMetaApi.kill}.
   */
  async killAll(options: KillOptions = {}): Promise<number> {
    const result = await this.#peer.call(MetaProcedure.SESSION_KILL_ALL, {
      kwargs: defined({ ...options }),
    });
    return first(result);
  }

  /**
   * Changes a session's details (`wamp.session.modify_details`, nexus's
   * extension): keys set to `null` are removed. Identity keys (`session`,
   * `authid`, `authrole`, `authmethod`, `authprovider`, `realm`,
   * `transport`, `authextra`) cannot be changed.
   *
   * @param session The session ID.
   * @param delta Keys to set, or to remove with `null`.
   * @throws {ApplicationError} `wamp.error.invalid_argument` for an
   * identity key, `wamp.error.no_such_session` when unknown,
   * `wamp.error.no_such_procedure` when the realm does not allow it.
   */
  async modifyDetails(session: number, delta: Dict): Promise<void> {
    await this.#peer.call(MetaProcedure.SESSION_MODIFY_DETAILS, { args: [session, delta] });
  }

  /**
   * Leaves a testament (`wamp.session.add_testament`, feature
   * `testament_meta_api`): an event the router publishes for this session
   * when it leaves, by GOODBYE or a lost transport. Testaments publish in
   * the order added, `detached` ones before `destroyed` ones.
   *
   * @param topic The topic to publish on.
   * @param payload The event's arguments and keyword arguments.
   * @param options PUBLISH options and scope.
   * @throws {ApplicationError} `wamp.error.invalid_uri` for a bad topic,
   * `wamp.error.invalid_argument` for bad options.
   */
  async addTestament(
    topic: string,
    payload: Arguments = {},
    options: TestamentOptions = {},
  ): Promise<void> {
    await this.#peer.call(MetaProcedure.SESSION_ADD_TESTAMENT, {
      args: [topic, payload.args ?? [], payload.kwargs ?? {}],
      kwargs: defined({ ...options }),
    });
  }

  /**
   * Drops this session's testaments of one scope
   * (`wamp.session.flush_testaments`).
   *
   * @param options The scope, `destroyed` by default.
   * @throws {ApplicationError} `wamp.error.invalid_argument` for a bad scope.
   */
  async flushTestaments(options: { scope?: TestamentScope } = {}): Promise<void> {
    await this.#peer.call(MetaProcedure.SESSION_FLUSH_TESTAMENTS, {
      kwargs: defined({ ...options }),
    });
  }

  /**
   * Subscribes to `wamp.session.on_join`.
   *
   * @param handler Gets the new session's details, then the EVENT.
   * @returns The subscription.
   * @throws {ApplicationError} When the router refuses.
   */
  onJoin(
    handler: (details: SessionDetails, event: Event) => void | Promise<void>,
  ): Promise<Subscription> {
    return this.#peer.subscribe(
      MetaTopic.SESSION_ON_JOIN,
      (e) => handler(e.args[0] as SessionDetails, e),
    );
  }

  /**
   * Subscribes to `wamp.session.on_leave`.
   *
   * @param handler Gets the session ID, authid and authrole of the session
   * that left, then the EVENT.
   * @returns The subscription.
   * @throws {ApplicationError} When the router refuses.
   */
  onLeave(
    handler: (session: number, authid: string, authrole: string, event: Event) =>
      | void
      | Promise<void>,
  ): Promise<Subscription> {
    return this.#peer.subscribe(
      MetaTopic.SESSION_ON_LEAVE,
      (e) => handler(e.args[0] as number, e.args[1] as string, e.args[2] as string, e),
    );
  }
}

/** Gets `[session, X]` events to a `(session, x, event)` handler. */
function pairHandler<T>(
  handler: (session: number, value: T, event: Event) => void | Promise<void>,
): (event: Event) => void | Promise<void> {
  return (e) => handler(e.args[0] as number, e.args[1] as T, e);
}

/** Wraps `wamp.registration.*`: what is registered, and by whom. */
export class RegistrationMetaApi {
  #peer: MetaPeer;

  /**
   * Usually reached as `session.meta.registrations`.
   *
   * @param peer The session that makes the calls.
   */
  constructor(peer: MetaPeer) {
    this.#peer = peer;
  }

  /**
   * Lists the registration IDs per match policy (`wamp.registration.list`).
   *
   * @returns The IDs.
   */
  async list(): Promise<MatchLists> {
    return first(await this.#peer.call(MetaProcedure.REGISTRATION_LIST));
  }

  /**
   * Finds the registration of exactly this URI and match policy
   * (`wamp.registration.lookup`).
   *
   * @param procedure The procedure URI or pattern.
   * @param options The match policy, `exact` by default.
   * @returns The registration ID, or `null` when there is none.
   */
  async lookup(procedure: string, options: { match?: MatchPolicy } = {}): Promise<number | null> {
    const args = options.match === undefined ? [procedure] : [procedure, { match: options.match }];
    return first(await this.#peer.call(MetaProcedure.REGISTRATION_LOOKUP, { args }));
  }

  /**
   * Finds the registration a call to `procedure` would reach
   * (`wamp.registration.match`), under the pattern-based registration
   * rules.
   *
   * @param procedure A concrete procedure URI.
   * @returns The registration ID, or `null` when none matches.
   */
  async match(procedure: string): Promise<number | null> {
    const result = await this.#peer.call(MetaProcedure.REGISTRATION_MATCH, { args: [procedure] });
    return first(result);
  }

  /**
   * Describes a registration (`wamp.registration.get`).
   *
   * @param registration The registration ID.
   * @returns Its details.
   * @throws {ApplicationError} `wamp.error.no_such_registration` when unknown.
   */
  async get(registration: number): Promise<RegistrationDetails> {
    const result = await this.#peer.call(MetaProcedure.REGISTRATION_GET, { args: [registration] });
    return first(result);
  }

  /**
   * Lists the callees of a registration (`wamp.registration.list_callees`).
   *
   * @param registration The registration ID.
   * @returns Their session IDs.
   * @throws {ApplicationError} `wamp.error.no_such_registration` when unknown.
   */
  async listCallees(registration: number): Promise<number[]> {
    const result = await this.#peer.call(MetaProcedure.REGISTRATION_LIST_CALLEES, {
      args: [registration],
    });
    return first(result);
  }

  /**
   * Counts the callees of a registration
   * (`wamp.registration.count_callees`).
   *
   * @param registration The registration ID.
   * @returns How many callees it has.
   * @throws {ApplicationError} `wamp.error.no_such_registration` when unknown.
   */
  async countCallees(registration: number): Promise<number> {
    const result = await this.#peer.call(MetaProcedure.REGISTRATION_COUNT_CALLEES, {
      args: [registration],
    });
    return first(result);
  }

  /**
   * Subscribes to `wamp.registration.on_create`: a registration with a new
   * URI and match policy (always followed by `on_register`).
   *
   * @param handler Gets the registering session's ID and the details.
   * @returns The subscription.
   */
  onCreate(
    handler: (session: number, details: RegistrationDetails, event: Event) => void | Promise<void>,
  ): Promise<Subscription> {
    return this.#peer.subscribe(MetaTopic.REGISTRATION_ON_CREATE, pairHandler(handler));
  }

  /**
   * Subscribes to `wamp.registration.on_register`: a callee was added.
   *
   * @param handler Gets the callee's session ID and the registration ID.
   * @returns The subscription.
   */
  onRegister(
    handler: (session: number, registration: number, event: Event) => void | Promise<void>,
  ): Promise<Subscription> {
    return this.#peer.subscribe(MetaTopic.REGISTRATION_ON_REGISTER, pairHandler(handler));
  }

  /**
   * Subscribes to `wamp.registration.on_unregister`: a callee was removed
   * (unregistered, or its session left).
   *
   * @param handler Gets the callee's session ID and the registration ID.
   * @returns The subscription.
   */
  onUnregister(
    handler: (session: number, registration: number, event: Event) => void | Promise<void>,
  ): Promise<Subscription> {
    return this.#peer.subscribe(MetaTopic.REGISTRATION_ON_UNREGISTER, pairHandler(handler));
  }

  /**
   * Subscribes to `wamp.registration.on_delete`: the last callee is gone
   * (always preceded by `on_unregister`).
   *
   * @param handler Gets the last callee's session ID and the registration ID.
   * @returns The subscription.
   */
  onDelete(
    handler: (session: number, registration: number, event: Event) => void | Promise<void>,
  ): Promise<Subscription> {
    return this.#peer.subscribe(MetaTopic.REGISTRATION_ON_DELETE, pairHandler(handler));
  }
}

/** Wraps `wamp.subscription.*`: what is subscribed, and by whom. */
export class SubscriptionMetaApi {
  #peer: MetaPeer;

  /**
   * Usually reached as `session.meta.subscriptions`.
   *
   * @param peer The session that makes the calls.
   */
  constructor(peer: MetaPeer) {
    this.#peer = peer;
  }

  /**
   * Lists the subscription IDs per match policy (`wamp.subscription.list`).
   *
   * @returns The IDs.
   */
  async list(): Promise<MatchLists> {
    return first(await this.#peer.call(MetaProcedure.SUBSCRIPTION_LIST));
  }

  /**
   * Finds the subscription of exactly this URI and match policy
   * (`wamp.subscription.lookup`).
   *
   * @param topic The topic URI or pattern.
   * @param options The match policy, `exact` by default.
   * @returns The subscription ID, or `null` when there is none.
   */
  async lookup(topic: string, options: { match?: MatchPolicy } = {}): Promise<number | null> {
    const args = options.match === undefined ? [topic] : [topic, { match: options.match }];
    return first(await this.#peer.call(MetaProcedure.SUBSCRIPTION_LOOKUP, { args }));
  }

  /**
   * Finds every subscription a publication to `topic` would reach
   * (`wamp.subscription.match`).
   *
   * @param topic A concrete topic URI.
   * @returns The subscription IDs; empty when none matches (the router
   * answers `null` then).
   */
  async match(topic: string): Promise<number[]> {
    const result = await this.#peer.call(MetaProcedure.SUBSCRIPTION_MATCH, { args: [topic] });
    return first<number[] | null>(result) ?? [];
  }

  /**
   * Describes a subscription (`wamp.subscription.get`).
   *
   * @param subscription The subscription ID.
   * @returns Its details.
   * @throws {ApplicationError} `wamp.error.no_such_subscription` when unknown.
   */
  async get(subscription: number): Promise<SubscriptionDetails> {
    const result = await this.#peer.call(MetaProcedure.SUBSCRIPTION_GET, { args: [subscription] });
    return first(result);
  }

  /**
   * Lists the subscribers of a subscription
   * (`wamp.subscription.list_subscribers`).
   *
   * @param subscription The subscription ID.
   * @returns Their session IDs.
   * @throws {ApplicationError} `wamp.error.no_such_subscription` when unknown.
   */
  async listSubscribers(subscription: number): Promise<number[]> {
    const result = await this.#peer.call(MetaProcedure.SUBSCRIPTION_LIST_SUBSCRIBERS, {
      args: [subscription],
    });
    return first(result);
  }

  /**
   * Counts the subscribers of a subscription
   * (`wamp.subscription.count_subscribers`).
   *
   * @param subscription The subscription ID.
   * @returns How many subscribers it has.
   * @throws {ApplicationError} `wamp.error.no_such_subscription` when unknown.
   */
  async countSubscribers(subscription: number): Promise<number> {
    const result = await this.#peer.call(MetaProcedure.SUBSCRIPTION_COUNT_SUBSCRIBERS, {
      args: [subscription],
    });
    return first(result);
  }

  /**
   * Subscribes to `wamp.subscription.on_create`: a subscription with a new
   * URI and match policy (always followed by `on_subscribe`).
   *
   * @param handler Gets the subscribing session's ID and the details.
   * @returns The subscription.
   */
  onCreate(
    handler: (session: number, details: SubscriptionDetails, event: Event) => void | Promise<void>,
  ): Promise<Subscription> {
    return this.#peer.subscribe(MetaTopic.SUBSCRIPTION_ON_CREATE, pairHandler(handler));
  }

  /**
   * Subscribes to `wamp.subscription.on_subscribe`: a subscriber was added.
   *
   * @param handler Gets the subscriber's session ID and the subscription ID.
   * @returns The subscription.
   */
  onSubscribe(
    handler: (session: number, subscription: number, event: Event) => void | Promise<void>,
  ): Promise<Subscription> {
    return this.#peer.subscribe(MetaTopic.SUBSCRIPTION_ON_SUBSCRIBE, pairHandler(handler));
  }

  /**
   * Subscribes to `wamp.subscription.on_unsubscribe`: a subscriber was
   * removed (unsubscribed, or its session left).
   *
   * @param handler Gets the subscriber's session ID and the subscription ID.
   * @returns The subscription.
   */
  onUnsubscribe(
    handler: (session: number, subscription: number, event: Event) => void | Promise<void>,
  ): Promise<Subscription> {
    return this.#peer.subscribe(MetaTopic.SUBSCRIPTION_ON_UNSUBSCRIBE, pairHandler(handler));
  }

  /**
   * Subscribes to `wamp.subscription.on_delete`: the last subscriber is
   * gone (always preceded by `on_unsubscribe`).
   *
   * @param handler Gets the last subscriber's session ID and the
   * subscription ID.
   * @returns The subscription.
   */
  onDelete(
    handler: (session: number, subscription: number, event: Event) => void | Promise<void>,
  ): Promise<Subscription> {
    return this.#peer.subscribe(MetaTopic.SUBSCRIPTION_ON_DELETE, pairHandler(handler));
  }
}

/**
 * The WAMP Meta API of a session's realm, typed: `sessions`
 * (`wamp.session.*`, including testaments), `registrations`
 * (`wamp.registration.*`) and `subscriptions` (`wamp.subscription.*`).
 * Reach it as `session.meta`. The router decides who may call what: the
 * kill procedures and `modify_details` are off unless the realm's `meta`
 * options enable them.
 *
 * @example Watching sessions join and asking about them
 * ```ts
 * import { connectLocal, Router } from "@cloverleaf/wamp";
 * import { deepEqual, equal } from "node:assert/strict";
 *
 * const router = new Router({ realms: [{ name: "realm1" }] });
 * const admin = await connectLocal(router, "realm1");
 * const joined = Promise.withResolvers<number>();
 * await admin.meta.sessions.onJoin((details) => joined.resolve(details.session));
 *
 * const other = await connectLocal(router, "realm1");
 * equal(await joined.promise, other.id);
 * equal(await admin.meta.sessions.count(), 2);
 * equal((await admin.meta.sessions.get(other.id)).authrole, "anonymous");
 *
 * await other.register("com.example.add", (args) => ({ args: [(args[0] as number) + 1] }));
 * const id = await admin.meta.registrations.lookup("com.example.add");
 * deepEqual(await admin.meta.registrations.listCallees(id!), [other.id]);
 *
 * await other.close();
 * await admin.close();
 * await router.close();
 * ```
 */
export class MetaApi {
  /** `wamp.session.*`: sessions, kills, details, testaments. */
  readonly sessions: SessionMetaApi;
  /** `wamp.registration.*`: registrations and their callees. */
  readonly registrations: RegistrationMetaApi;
  /** `wamp.subscription.*`: subscriptions and their subscribers. */
  readonly subscriptions: SubscriptionMetaApi;

  /**
   * Usually reached as `session.meta`.
   *
   * @param peer The session that makes the calls and subscriptions.
   */
  constructor(peer: MetaPeer) {
    this.sessions = new SessionMetaApi(peer);
    this.registrations = new RegistrationMetaApi(peer);
    this.subscriptions = new SubscriptionMetaApi(peer);
  }
}
