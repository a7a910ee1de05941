/**
 * Every `wamp.*` URI Cloverleaf uses, in one place: error URIs, close
 * reasons, the meta API's topics and procedures, and the reflection
 * procedures. One doc line per URI.
 *
 * @module
 */

/**
 * Error URIs the spec predefines (`uri_reference.md`, `advanced/uris.md`)
 * plus the few that every implementation uses.
 *
 * @example
 * ```ts
 * import { ErrorUri } from "@cloverleaf/wamp";
 * import { equal } from "node:assert/strict";
 *
 * equal(ErrorUri.NO_SUCH_PROCEDURE, "wamp.error.no_such_procedure");
 * ```
 */
export const ErrorUri = {
  /** A URI field (topic, procedure, realm, error) is malformed. */
  INVALID_URI: "wamp.error.invalid_uri",
  /** CALL to a procedure nobody registered. */
  NO_SUCH_PROCEDURE: "wamp.error.no_such_procedure",
  /** REGISTER for a procedure that is already registered. */
  PROCEDURE_ALREADY_EXISTS: "wamp.error.procedure_already_exists",
  /** UNREGISTER of an unknown or inactive registration. */
  NO_SUCH_REGISTRATION: "wamp.error.no_such_registration",
  /** UNSUBSCRIBE of an unknown or inactive subscription. */
  NO_SUCH_SUBSCRIPTION: "wamp.error.no_such_subscription",
  /** A meta procedure named a session that does not exist. */
  NO_SUCH_SESSION: "wamp.error.no_such_session",
  /** Payload rejected by the callee or by router-side validation. */
  INVALID_ARGUMENT: "wamp.error.invalid_argument",
  /** The call was canceled, or its callee left. */
  CANCELED: "wamp.error.canceled",
  /** The call timed out. */
  TIMEOUT: "wamp.error.timeout",
  /**
   * No callee can take the call now: in Cloverleaf, the callee is not
   * reading what it is sent (its outbound backlog is over the limit), so
   * the CALL is refused rather than the callee closed.
   */
  NO_AVAILABLE_CALLEE: "wamp.error.no_available_callee",
  /** A message is too large for the transport. */
  PAYLOAD_SIZE_EXCEEDED: "wamp.error.payload_size_exceeded",
  /** The peer broke the protocol; sent in ABORT. */
  PROTOCOL_VIOLATION: "wamp.error.protocol_violation",
  /** The action is not permitted for this session. */
  NOT_AUTHORIZED: "wamp.error.not_authorized",
  /** HELLO named a realm that does not exist. */
  NO_SUCH_REALM: "wamp.error.no_such_realm",
  /**
   * The realm holds as many sessions as it may (realm option
   * `maxSessions`). Cloverleaf's own URI: the spec has none for this.
   */
  REALM_FULL: "cloverleaf.error.realm_full",
  /**
   * A per-session or per-realm resource limit (realm option `limits`)
   * refuses the request; the first argument names the limit
   * (`Cannot call: limit "callsPerSession" (1000) exceeded`). Cloverleaf's
   * own URI: the spec has none for this.
   */
  LIMIT_EXCEEDED: "cloverleaf.error.limit_exceeded",
  /**
   * In cluster mode, an acknowledged publication reached this node's
   * subscribers but NATS did not accept it in time (the node is
   * partitioned), or a testament could not be stored in the cluster.
   * Cloverleaf's own URI.
   */
  CLUSTER_UNAVAILABLE: "cloverleaf.error.cluster_unavailable",
  /** Authenticated, but the role does not exist. */
  NO_SUCH_ROLE: "wamp.error.no_such_role",
  /** None of the client's authmethods is acceptable (spec name). */
  NO_MATCHING_AUTH_METHOD: "wamp.error.no_matching_auth_method",
  /**
   * None of the client's authmethods fits. Crossbar, nexus and Autobahn use
   * this name; the spec's is {@linkcode ErrorUri.NO_MATCHING_AUTH_METHOD}.
   */
  NO_AUTH_METHOD: "wamp.error.no_auth_method",
  /** Authentication failed. */
  AUTHENTICATION_FAILED: "wamp.error.authentication_failed",
  /** The router forbids an option the client used. */
  OPTION_NOT_ALLOWED: "wamp.error.option_not_allowed",
  /** The router refuses to disclose the caller or publisher (`disclose_me`). */
  OPTION_DISALLOWED_DISCLOSE_ME: "wamp.error.option_disallowed.disclose_me",
  /** The callee or subscriber cannot handle a requested feature. */
  FEATURE_NOT_SUPPORTED: "wamp.error.feature_not_supported",
  /** A callee endpoint failed with something other than an application error. */
  RUNTIME_ERROR: "wamp.error.runtime_error",
  /**
   * The ABORT reason a client sends when it cannot answer a CHALLENGE (no
   * credentials for the method, a malformed or unacceptable challenge, or an
   * `onChallenge` handler that threw). Not in the spec's URI list;
   * Autobahn|JS, Autobahn|Python, WampSharp and Wampy.js all send it.
   */
  CANNOT_AUTHENTICATE: "wamp.error.cannot_authenticate",
} as const;

/**
 * Close reasons for GOODBYE and ABORT.
 *
 * @example
 * ```ts
 * import { CloseUri } from "@cloverleaf/wamp";
 * import { equal } from "node:assert/strict";
 *
 * equal(CloseUri.GOODBYE_AND_OUT, "wamp.close.goodbye_and_out");
 * ```
 */
export const CloseUri = {
  /** The peer is shutting down (router SIGTERM). */
  SYSTEM_SHUTDOWN: "wamp.close.system_shutdown",
  /** The peer leaves the realm. */
  CLOSE_REALM: "wamp.close.close_realm",
  /** The reply to a GOODBYE. */
  GOODBYE_AND_OUT: "wamp.close.goodbye_and_out",
  /** The session was killed through the meta API. */
  KILLED: "wamp.close.killed",
  /** A plain close; not in the spec's list but used by every implementation. */
  NORMAL: "wamp.close.normal",
  /**
   * The client's reason when the transport closed under an open session
   * (never sent: there is nobody to send it to).
   */
  TRANSPORT_LOST: "wamp.close.transport_lost",
  /** The client's reason when no WELCOME came in time (never sent). */
  TIMEOUT: "wamp.close.timeout",
} as const;

/**
 * Topics of meta events, published by the router.
 *
 * @example
 * ```ts
 * import { MetaTopic } from "@cloverleaf/wamp/wamp";
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
 * import { MetaProcedure } from "@cloverleaf/wamp/wamp";
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
  /**
   * `[subscription]`, kwargs `{limit?, from_time?, until_time?, …}` → the
   * subscription's history, one event per argument (spec "Event History").
   */
  SUBSCRIPTION_GET_EVENTS: "wamp.subscription.get_events",
} as const;

/**
 * Reflection procedures (spec "Interface Reflection", a sketch that names
 * the procedures but defines no payloads), served by the router.
 *
 * @example
 * ```ts
 * import { ReflectionUri } from "@cloverleaf/wamp/wamp";
 * import { equal } from "node:assert/strict";
 *
 * equal(ReflectionUri.PROCEDURE_LIST, "wamp.reflection.procedure.list");
 * ```
 */
export const ReflectionUri = {
  /** `[]` → `[[topics]]`: every topic or pattern with a subscription or a retained event. */
  TOPIC_LIST: "wamp.reflection.topic.list",
  /** `[topic]` → kwargs `{topic, subscriptions, retained}`. */
  TOPIC_DESCRIBE: "wamp.reflection.topic.describe",
  /** `[]` → `[[procedures]]`: registered procedures and patterns, sorted. */
  PROCEDURE_LIST: "wamp.reflection.procedure.list",
  /** `[procedure]`, kwargs `{match?}` → kwargs describing the registration. */
  PROCEDURE_DESCRIBE: "wamp.reflection.procedure.describe",
  /** `[procedure, description]`, kwargs `{match?}` → nothing: describes a procedure the caller serves. */
  DEFINE: "wamp.reflect.define",
} as const;
