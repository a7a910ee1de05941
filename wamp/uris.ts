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
} as const;
