/**
 * Typed helpers for `wamp.session.*` (spec "Session Meta API", "Session
 * Testament"): counting, finding and killing sessions, their details,
 * testaments, and the join and leave events.
 *
 * @module
 */

import { type Dict, MetaProcedure, MetaTopic } from "../../wamp/mod.ts";
import type { Arguments } from "../context.ts";
import type { Event, Subscription } from "../subscription.ts";
import {
  first,
  type KillOptions,
  type MetaPeer,
  type SessionDetails,
  type TestamentOptions,
  type TestamentScope,
} from "./types.ts";

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
