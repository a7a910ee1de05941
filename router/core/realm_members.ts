/**
 * The sessions joined to a realm: who they are (the session meta API and
 * its events), what they leave behind (testaments), and what leaving or
 * being killed takes with it (subscriptions, registrations, calls, held
 * requests).
 *
 * @module
 */

import type { Dict } from "../../wamp/mod.ts";
import type { Authorizer } from "./authorizer.ts";
import type { CookieStore } from "./auth/cookie.ts";
import type { Broker } from "./broker/broker.ts";
import type { Dealer } from "./dealer/dealer.ts";
import type { MetaEvents } from "./meta/events.ts";
import { SessionMeta } from "./meta/session_meta.ts";
import type { SessionCluster, SessionClusterHooks } from "./meta/cluster_sessions.ts";
import { Testaments } from "./meta/testament.ts";
import { departed } from "./meta/testament_queue.ts";
import { append, NOTHING, type Output, output, type SharedTestament } from "./output.ts";
import type { PermissionCheck, RouterProcedures } from "./procedures.ts";
import type { ResolvedRealmOptions } from "./realm_options.ts";
import type { Requests } from "./requests.ts";
import type { RealmMember, SessionInfo } from "./types.ts";

/** What the members need from their realm. */
export interface MembersRealm {
  /** The realm's options. */
  readonly options: ResolvedRealmOptions;
  /** The realm's broker. */
  readonly broker: Broker;
  /** The realm's dealer. */
  readonly dealer: Dealer;
  /** The realm's authorization rules. */
  readonly authorizer: Authorizer;
  /** The realm's requests (held ones are dropped when their session leaves). */
  readonly requests: Requests;
  /** Where meta events and testaments go. */
  readonly events: MetaEvents;
  /** Asks the realm's authorizer (testaments need publish permission). */
  readonly check: PermissionCheck;
  /** The router's cookie store (cookie authentication). */
  readonly cookies?: CookieStore;
  /** Whether the realm is closing with its router (leaving sessions fire nothing). */
  closing(): boolean;
  /** Completes an output produced outside an entry point (a timer's): meta events, cluster effects. */
  finish(out: Output): Output;
}

/** The joined sessions of one realm. */
export class Members {
  #realm: MembersRealm;
  #members = new Map<number, RealmMember>();
  #sessionMeta: SessionMeta;
  #testaments: Testaments;

  /**
   * Creates the table.
   *
   * @param realm The realm.
   */
  constructor(realm: MembersRealm) {
    this.#realm = realm;
    const { options, events } = realm;
    this.#sessionMeta = new SessionMeta(
      {
        members: () => this.#members.values(),
        member: (id) => this.#members.get(id),
        kill: (id, reason, message, quiet) => this.kill(id, reason, message, quiet),
      },
      { kill: options.meta.kill ?? false, modifyDetails: options.meta.modifyDetails ?? false },
      events,
    );
    this.#testaments = new Testaments(
      events,
      options.strictUris,
      (session, topic, publish, then) => realm.check(session, "publish", topic, publish, then),
      options.limits,
      () => realm.broker.sharing,
      (id) => this.#members.has(id),
      (out) => realm.finish(out),
    );
  }

  /** How many sessions are joined. */
  get size(): number {
    return this.#members.size;
  }

  /** The joined sessions. */
  values(): IterableIterator<RealmMember> {
    return this.#members.values();
  }

  /** A joined session by ID. */
  get(id: number): RealmMember | undefined {
    return this.#members.get(id);
  }

  /** A session's details as the session meta API reports them. */
  details(member: RealmMember): Dict {
    return this.#sessionMeta.details(member);
  }

  /** Cluster mode: see {@linkcode SessionMeta.joinCluster}. */
  joinCluster(hooks: SessionClusterHooks, settle: (out: Output) => Output): SessionCluster {
    const broker = this.#realm.broker;
    return this.#sessionMeta.joinCluster(
      hooks,
      settle,
      () =>
        [...broker.subscriptions()].map(({ id, topic, match, created, subscribers }) => ({
          id,
          topic,
          match,
          created,
          subscribers: [...subscribers],
        })),
    );
  }

  /**
   * Cluster mode: publishes a dead node's session's testaments
   * ({@linkcode Testaments.fireShared}).
   *
   * @param session The session.
   * @param testaments Its testaments.
   * @returns The timer that publishes the ones queued, if any.
   */
  fireShared(session: SessionInfo, testaments: readonly SharedTestament[]): Output {
    const timer = this.#testaments.fireShared(session, testaments);
    return { messages: [], effects: timer === undefined ? [] : [timer] };
  }

  /**
   * The testaments of sessions that left, still queued, published now (see
   * {@linkcode Testaments.drain}).
   *
   * @returns Nothing but the publications, for the realm to complete.
   */
  drainTestaments(): Output {
    this.#testaments.drain();
    return NOTHING;
  }

  /** The session meta and testament procedures. */
  procedures(): RouterProcedures[] {
    return [this.#sessionMeta.procedures(), this.#testaments.procedures()];
  }

  /**
   * Adds a session (`wamp.session.on_join` is queued); with cookie
   * authentication, its connection's cookie now stands for its identity.
   */
  join(member: RealmMember): void {
    this.#members.set(member.info.id, member);
    const cookie = member.peer.info.cookie;
    const { authmethod } = member.info;
    const options = this.#realm.options;
    const maxAge = options.auth.cookie?.maxAge;
    if (
      cookie !== undefined && maxAge !== undefined && authmethod !== "cookie" &&
      authmethod !== "anonymous"
    ) {
      this.#realm.cookies?.remember(cookie, options.name, member.info, maxAge);
    }
    this.#sessionMeta.joined(member);
  }

  /**
   * Removes a session and everything it held; its testaments and
   * `on_leave` are queued unless `quiet` or the realm is closing.
   *
   * @returns What the dealer sends the other sessions, timers to cancel,
   * and the cancellation of authorizer calls still out for it (INTERRUPT to
   * their callee, completed by their realm).
   */
  leave(id: number, quiet = false): Output {
    const member = this.#members.get(id);
    if (member === undefined) return NOTHING;
    this.#members.delete(id);
    const realm = this.#realm;
    const events = realm.events;
    let out: Output = NOTHING;
    const depart = () => {
      realm.broker.removeSession(id);
      out = realm.dealer.removeSession(id);
      // on_leave follows its testaments, which may go out in later turns (by then the connection
      // may carry another session: its identity is taken now, slim, as the queue keeps it).
      const info = departed(member.info);
      const left = () => events.departing(id, () => this.#sessionMeta.left(info, quiet));
      // Sessions that left through one connection take one turn among those waiting.
      const later = this.#testaments.fire(info, left, member.peer);
      if (later !== undefined) out = { messages: out.messages, effects: [...out.effects, later] };
    };
    // Its meta events go to a lane of its own: no other session's message waits behind them.
    const leave = () => events.departing(id, depart);
    if (quiet || realm.closing()) events.muted(leave);
    else leave();
    const stopped = realm.authorizer.forget(id); // decisions it waited for: calls cancelled
    realm.requests.forget(id);
    if (stopped === NOTHING) return out;
    const all = output();
    append(all, out);
    append(all, stopped);
    return all;
  }

  /** `wamp.session.kill*`: the session leaves now; the shell closes it with GOODBYE. */
  kill(id: number, reason: string, message: string | undefined, quiet: boolean): Output {
    if (!this.#members.has(id)) return NOTHING;
    const out = append(output(), this.leave(id, quiet));
    out.effects.push({
      kind: "close",
      session: id,
      reason,
      ...(message === undefined ? {} : { message }),
    });
    return out;
  }
}
