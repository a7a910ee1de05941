/**
 * Meta API URIs (spec "Session Meta API", "Registration Meta API",
 * "Subscription Meta API", "Session Testament"): the topics the router
 * publishes on and the procedures it serves in every realm.
 *
 * @module
 */

/**
 * Topics of meta events, published by the router.
 *
 * @example
 * ```ts
 * import { MetaTopic } from "@cloverleaf/wamp";
 * import { equal } from "node:assert/strict";
 *
 * equal(MetaTopic.SESSION_ON_JOIN, "wamp.session.on_join");
 * ```
 */
export const MetaTopic = {
  /** A session joined: `[details]`. */
  SESSION_ON_JOIN: "wamp.session.on_join",
  /** A session left: `[session, authid, authrole]`. */
  SESSION_ON_LEAVE: "wamp.session.on_leave",
  /** A registration was created: `[session, details]`. */
  REGISTRATION_ON_CREATE: "wamp.registration.on_create",
  /** A callee joined a registration: `[session, registration]`. */
  REGISTRATION_ON_REGISTER: "wamp.registration.on_register",
  /** A callee left a registration: `[session, registration]`. */
  REGISTRATION_ON_UNREGISTER: "wamp.registration.on_unregister",
  /** A registration lost its last callee: `[session, registration]`. */
  REGISTRATION_ON_DELETE: "wamp.registration.on_delete",
  /** A subscription was created: `[session, details]`. */
  SUBSCRIPTION_ON_CREATE: "wamp.subscription.on_create",
  /** A session joined a subscription: `[session, subscription]`. */
  SUBSCRIPTION_ON_SUBSCRIBE: "wamp.subscription.on_subscribe",
  /** A session left a subscription: `[session, subscription]`. */
  SUBSCRIPTION_ON_UNSUBSCRIBE: "wamp.subscription.on_unsubscribe",
  /** A subscription lost its last subscriber: `[session, subscription]`. */
  SUBSCRIPTION_ON_DELETE: "wamp.subscription.on_delete",
} as const;

/**
 * Meta procedures, served by the router.
 *
 * @example
 * ```ts
 * import { MetaProcedure } from "@cloverleaf/wamp";
 * import { equal } from "node:assert/strict";
 *
 * equal(MetaProcedure.SESSION_COUNT, "wamp.session.count");
 * ```
 */
export const MetaProcedure = {
  /** `[authroles?]` → `[count]`. */
  SESSION_COUNT: "wamp.session.count",
  /** `[authroles?]` → `[[session ids]]`. */
  SESSION_LIST: "wamp.session.list",
  /** `[session]` → `[details]`. */
  SESSION_GET: "wamp.session.get",
  /** `[session]`, kwargs `{reason?, message?}` → nothing. */
  SESSION_KILL: "wamp.session.kill",
  /** `[authid]`, kwargs `{reason?, message?}` → `[[session ids]]`. */
  SESSION_KILL_BY_AUTHID: "wamp.session.kill_by_authid",
  /** `[authrole]`, kwargs `{reason?, message?}` → `[count]`. */
  SESSION_KILL_BY_AUTHROLE: "wamp.session.kill_by_authrole",
  /** kwargs `{reason?, message?}` → `[count]`. */
  SESSION_KILL_ALL: "wamp.session.kill_all",
  /** `[session, details]` → nothing (nexus's extension). */
  SESSION_MODIFY_DETAILS: "wamp.session.modify_details",
  /** `[topic, args, kwargs]`, kwargs `{publish_options?, scope?}` → nothing. */
  SESSION_ADD_TESTAMENT: "wamp.session.add_testament",
  /** kwargs `{scope?}` → nothing. */
  SESSION_FLUSH_TESTAMENTS: "wamp.session.flush_testaments",
  /** `[]` → `[{exact, prefix, wildcard}]`. */
  REGISTRATION_LIST: "wamp.registration.list",
  /** `[procedure, options?]` → `[registration | null]`. */
  REGISTRATION_LOOKUP: "wamp.registration.lookup",
  /** `[procedure]` → `[registration | null]`. */
  REGISTRATION_MATCH: "wamp.registration.match",
  /** `[registration]` → `[details]`. */
  REGISTRATION_GET: "wamp.registration.get",
  /** `[registration]` → `[[session ids]]`. */
  REGISTRATION_LIST_CALLEES: "wamp.registration.list_callees",
  /** `[registration]` → `[count]`. */
  REGISTRATION_COUNT_CALLEES: "wamp.registration.count_callees",
  /** `[]` → `[{exact, prefix, wildcard}]`. */
  SUBSCRIPTION_LIST: "wamp.subscription.list",
  /** `[topic, options?]` → `[subscription | null]`. */
  SUBSCRIPTION_LOOKUP: "wamp.subscription.lookup",
  /** `[topic]` → `[[subscription ids] | null]`. */
  SUBSCRIPTION_MATCH: "wamp.subscription.match",
  /** `[subscription]` → `[details]`. */
  SUBSCRIPTION_GET: "wamp.subscription.get",
  /** `[subscription]` → `[[session ids]]`. */
  SUBSCRIPTION_LIST_SUBSCRIBERS: "wamp.subscription.list_subscribers",
  /** `[subscription]` → `[count]`. */
  SUBSCRIPTION_COUNT_SUBSCRIBERS: "wamp.subscription.count_subscribers",
} as const;
