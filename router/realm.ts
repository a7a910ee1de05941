/**
 * A realm: a routing namespace with its own sessions, broker and dealer.
 *
 * @module
 */

import type { IdGenerator } from "../wamp/mod.ts";
import { Broker } from "./broker.ts";
import type { ResolvedRealmOptions } from "./config.ts";
import { Dealer } from "./dealer.ts";
import type { Outbound, SessionInfo } from "./types.ts";

/** What a realm needs from a joined session. */
export interface RealmMember {
  /** The session's identity. */
  readonly info: SessionInfo;
  /** Delivers a message to the session (subject to its outbound policy). */
  send(msg: Outbound["msg"]): void;
}

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
