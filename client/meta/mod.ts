/**
 * Typed helpers for the WAMP Meta API (spec "Session Meta API",
 * "Registration Meta API", "Subscription Meta API", "Session Testament"):
 * the procedures and topics the router serves in every realm, as methods
 * with typed arguments and results. Everything here is an ordinary
 * `call()` or `subscribe()` on the session underneath.
 *
 * @module
 */

import { RegistrationMetaApi } from "./registrations.ts";
import { SessionMetaApi } from "./sessions.ts";
import { SubscriptionMetaApi } from "./subscriptions.ts";
import type { MetaPeer } from "./types.ts";

export { RegistrationMetaApi } from "./registrations.ts";
export { SessionMetaApi } from "./sessions.ts";
export { SubscriptionMetaApi } from "./subscriptions.ts";
export type {
  KillOptions,
  MatchLists,
  MetaPeer,
  RegistrationDetails,
  SessionDetails,
  SubscriptionDetails,
  TestamentOptions,
  TestamentScope,
} from "./types.ts";

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
