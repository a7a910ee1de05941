/**
 * What a realm gets from the router that holds it: ID sources, the clock,
 * and its ways to the router's other parts.
 *
 * @module
 */

import type { Dict, IdGenerator } from "../../wamp/mod.ts";
import type { CookieStore } from "./auth/cookie.ts";
import type { RouterCall } from "./auth/methods.ts";
import type { TrustedRegistrations } from "./authorizer.ts";
import type { RouterCallDone } from "./internal_session.ts";
import type { Output } from "./output.ts";
import type { Logger } from "./types.ts";

/** A realm, as a target of calls made by the router (see `Realm.callAsRouter`). */
export interface RouterCallTarget {
  /** Calls a procedure as the realm's internal session. */
  callAsRouter(
    procedure: string,
    args: unknown[],
    kwargs: Dict,
    timeout: number,
    done: RouterCallDone,
  ): Output;
}

/** ID sources a realm uses. */
export interface RealmIds {
  /** Global-scope IDs (publications). */
  readonly global: IdGenerator;
  /** Router-scope IDs (subscriptions, registrations). */
  readonly router: IdGenerator;
}

/** What a realm gets from the router that holds it. */
export interface RealmContext {
  /** ID generators. */
  readonly ids: RealmIds;
  /** The clock (milliseconds since the epoch): history timestamps, creation times. */
  readonly now: () => number;
  /**
   * How dynamic authenticators call procedures (the shell runs the
   * router call and settles the promise).
   */
  readonly authenticatorCall: RouterCall;
  /**
   * Finds other realms of the router (for an authorizer registered in
   * another realm).
   */
  readonly realms?: (name: string) => RouterCallTarget | undefined;
  /** The router's cookie store (cookie authentication). */
  readonly cookies?: CookieStore;
  /** The key of decoy CHALLENGEs for unknown authids (`RouterOptions.decoySecret`). */
  readonly decoySecret?: string | undefined;
  /**
   * The authenticator and authorizer procedures registered here, and the
   * authrole that may register them.
   */
  readonly trusted?: TrustedRegistrations;
  /**
   * Counts a refusal of the realm's own as not authorized: a request its
   * rules or authorizer denied (an unacknowledged PUBLISH too, which gets
   * no ERROR), or a router procedure answering `wamp.error.not_authorized`
   * (the router's metrics); never a callee's ERROR passed on.
   */
  readonly denied?: () => void;
  /** Where the realm logs what an operator must see (a failing dynamic authorizer). */
  readonly log?: Logger;
  /**
   * Whether a session is not reading what it is sent (past half its
   * outbound limit, or with `whole` past all of it): see `DealerOptions.busy`.
   */
  readonly busy?: (session: number, whole?: boolean) => boolean;
}
