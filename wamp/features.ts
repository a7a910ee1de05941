/**
 * WAMP role and feature names, and the feature sets Cloverleaf announces.
 * A feature appears here only once it is implemented and tested; WELCOME
 * (router) and HELLO (client) are built from these tables.
 *
 * @module
 */

/** Client roles (HELLO.Details.roles keys). */
export type ClientRole = "publisher" | "subscriber" | "caller" | "callee";
/** Router roles (WELCOME.Details.roles keys). */
export type RouterRole = "broker" | "dealer";

/** Advanced Profile feature names, spelled as the spec spells them. */
export const Feature = {
  PUBLISHER_EXCLUSION: "publisher_exclusion",
  PUBLISHER_IDENTIFICATION: "publisher_identification",
  SUBSCRIBER_BLACKWHITE_LISTING: "subscriber_blackwhite_listing",
  PATTERN_BASED_SUBSCRIPTION: "pattern_based_subscription",
  PUBLICATION_TRUSTLEVELS: "publication_trustlevels",
  EVENT_HISTORY: "event_history",
  EVENT_RETENTION: "event_retention",
  SUBSCRIPTION_REVOCATION: "subscription_revocation",
  PATTERN_BASED_REGISTRATION: "pattern_based_registration",
  SHARED_REGISTRATION: "shared_registration",
  CALLER_IDENTIFICATION: "caller_identification",
  CALL_CANCELING: "call_canceling",
  CALL_TIMEOUT: "call_timeout",
  CALL_TRUSTLEVELS: "call_trustlevels",
  SHARDED_REGISTRATION: "sharded_registration",
  REGISTRATION_REVOCATION: "registration_revocation",
  TESTAMENT_META_API: "testament_meta_api",
  PROGRESSIVE_CALL_RESULTS: "progressive_call_results",
  PROGRESSIVE_CALL_INVOCATIONS: "progressive_call_invocations",
  SESSION_META_API: "session_meta_api",
  REGISTRATION_META_API: "registration_meta_api",
  SUBSCRIPTION_META_API: "subscription_meta_api",
  PAYLOAD_PASSTHRU_MODE: "payload_passthru_mode",
} as const;

/** A feature name from {@linkcode Feature}. */
export type FeatureName = typeof Feature[keyof typeof Feature];

/**
 * Features the router announces per role: only what is implemented and
 * tested (the feature table in docs/features.md names the tests).
 */
export const ROUTER_FEATURES: Readonly<Record<RouterRole, readonly FeatureName[]>> = {
  broker: [
    Feature.PUBLISHER_EXCLUSION,
    Feature.SUBSCRIBER_BLACKWHITE_LISTING,
    Feature.PUBLISHER_IDENTIFICATION,
    Feature.PUBLICATION_TRUSTLEVELS,
    Feature.PATTERN_BASED_SUBSCRIPTION,
    Feature.EVENT_HISTORY,
    Feature.EVENT_RETENTION,
    Feature.SUBSCRIPTION_REVOCATION,
    Feature.PAYLOAD_PASSTHRU_MODE,
    Feature.SESSION_META_API,
    Feature.SUBSCRIPTION_META_API,
  ],
  dealer: [
    Feature.PROGRESSIVE_CALL_RESULTS,
    Feature.PROGRESSIVE_CALL_INVOCATIONS,
    Feature.CALL_TIMEOUT,
    Feature.CALL_CANCELING,
    Feature.CALLER_IDENTIFICATION,
    Feature.CALL_TRUSTLEVELS,
    Feature.PATTERN_BASED_REGISTRATION,
    Feature.SHARED_REGISTRATION,
    Feature.SHARDED_REGISTRATION,
    Feature.REGISTRATION_REVOCATION,
    Feature.PAYLOAD_PASSTHRU_MODE,
    Feature.SESSION_META_API,
    Feature.REGISTRATION_META_API,
    Feature.TESTAMENT_META_API,
  ],
};

/** Features our client announces per role. */
export const CLIENT_FEATURES: Readonly<Record<ClientRole, readonly FeatureName[]>> = {
  publisher: [
    Feature.PUBLISHER_EXCLUSION,
    Feature.SUBSCRIBER_BLACKWHITE_LISTING,
    Feature.PUBLISHER_IDENTIFICATION,
    Feature.PAYLOAD_PASSTHRU_MODE,
  ],
  subscriber: [
    Feature.PATTERN_BASED_SUBSCRIPTION,
    Feature.PUBLISHER_IDENTIFICATION,
    Feature.PUBLICATION_TRUSTLEVELS,
    Feature.SUBSCRIPTION_REVOCATION,
    Feature.PAYLOAD_PASSTHRU_MODE,
  ],
  caller: [
    Feature.PROGRESSIVE_CALL_RESULTS,
    Feature.PROGRESSIVE_CALL_INVOCATIONS,
    Feature.CALL_TIMEOUT,
    Feature.CALL_CANCELING,
    Feature.CALLER_IDENTIFICATION,
    Feature.SHARDED_REGISTRATION,
    Feature.PAYLOAD_PASSTHRU_MODE,
  ],
  callee: [
    Feature.PROGRESSIVE_CALL_RESULTS,
    Feature.PROGRESSIVE_CALL_INVOCATIONS,
    Feature.CALL_TIMEOUT,
    Feature.CALL_CANCELING,
    Feature.CALLER_IDENTIFICATION,
    Feature.CALL_TRUSTLEVELS,
    Feature.PATTERN_BASED_REGISTRATION,
    Feature.SHARED_REGISTRATION,
    Feature.REGISTRATION_REVOCATION,
    Feature.PAYLOAD_PASSTHRU_MODE,
  ],
};

/**
 * Builds a roles dictionary (`{ broker: { features: { … : true } } }`) for
 * WELCOME or HELLO from a feature table.
 *
 * @param table Features per role.
 * @returns The roles dictionary.
 *
 * @example
 * ```ts
 * import { rolesDict } from "@cloverleaf/wamp/wamp";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(rolesDict({ broker: ["publisher_exclusion"] }), {
 *   broker: { features: { publisher_exclusion: true } },
 * });
 * ```
 */
export function rolesDict(
  table: Readonly<Record<string, readonly string[]>>,
): Record<string, { features: Record<string, boolean> }> {
  const roles: Record<string, { features: Record<string, boolean> }> = {};
  for (const [role, features] of Object.entries(table)) {
    roles[role] = { features: Object.fromEntries(features.map((f) => [f, true])) };
  }
  return roles;
}

/**
 * Whether a peer announced a feature for a role in its HELLO/WELCOME roles.
 *
 * @param roles The peer's roles dictionary.
 * @param role The role.
 * @param feature The feature name.
 * @returns True when `roles[role].features[feature] === true`.
 *
 * @example
 * ```ts
 * import { hasFeature } from "@cloverleaf/wamp/wamp";
 * import { equal } from "node:assert/strict";
 *
 * equal(hasFeature({ callee: { features: { call_canceling: true } } }, "callee", "call_canceling"), true);
 * ```
 */
export function hasFeature(
  roles: Readonly<Record<string, unknown>>,
  role: string,
  feature: string,
): boolean {
  const entry = roles[role] as { features?: Record<string, unknown> } | undefined;
  return entry?.features?.[feature] === true;
}
