/**
 * The sans-I/O router core.
 *
 * @module
 */

export * from "./core/auth/mod.ts";
export {
  type Action,
  Authorizer,
  type Decision,
  type DynamicAuthorizer,
  patternAllowed,
  type Permission,
  resolveRole,
  type RoleOptions,
  type TrustedRegistrations,
} from "./core/authorizer.ts";
export {
  Broker,
  type BrokerLimits,
  type BrokerOptions,
  type Subscription,
  type SubscriptionObserver,
} from "./core/broker/broker.ts";
export {
  type Disclosure,
  type MetaOptions,
  type RealmOptions,
  type ResolvedRealmOptions,
  resolveRealmOptions,
  trustLevelFor,
  type TrustLevelRule,
} from "./core/realm_options.ts";
export {
  Dealer,
  type DealerLimits,
  type DealerOptions,
  MAX_CALL_TIMEOUT,
  type Registration,
  type RegistrationObserver,
  type Timers,
} from "./core/dealer/dealer.ts";
export { CallError, errorReply } from "./core/errors.ts";
export {
  EventHistory,
  type EventHistoryRule,
  GET_EVENTS,
  getEventsProcedure,
  type HistoryEvent,
} from "./core/broker/event_history.ts";
export { type CalleeList, pickCallee, shardCallee } from "./core/dealer/invocation_policy.ts";
export {
  DEFAULT_LIMITS,
  limitMessage,
  type LimitOptions,
  payloadSize,
  type ResolvedLimits,
  resolveLimits,
} from "./core/limits.ts";
export { MatchIndex } from "./core/match_index.ts";
export { copyPassthru, passthruProblem, PPT_KEYS, usesPassthru } from "./core/passthru.ts";
export { procedureReflection, ProcedureReflectionUri } from "./core/dealer/procedure_reflection.ts";
export { eventFor, type EventSubscription, type Publication } from "./core/broker/publication.ts";
export { PublishFilter } from "./core/broker/publish_filter.ts";
export { Realm, type RealmIds, type RealmMember, type RouterProcedure } from "./core/realm.ts";
export { RetainedEvents, type RetainedLimits } from "./core/broker/retained.ts";
export { consoleLogger, Router, type RouterOptions } from "./router.ts";
export { scrambledIdGenerator } from "./scrambled_ids.ts";
export { TOPIC_DESCRIBE, TOPIC_LIST, topicReflection } from "./core/broker/topic_reflection.ts";
export type { Logger, LogLevel, Outbound, SessionInfo } from "./core/types.ts";
