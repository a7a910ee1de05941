/**
 * The sans-I/O router core.
 *
 * @module
 */

export * from "./auth/mod.ts";
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
} from "./authorizer.ts";
export {
  Broker,
  type BrokerLimits,
  type BrokerOptions,
  type Subscription,
  type SubscriptionObserver,
} from "./broker.ts";
export {
  type Disclosure,
  type MetaOptions,
  type RealmOptions,
  type ResolvedRealmOptions,
  resolveRealmOptions,
  trustLevelFor,
  type TrustLevelRule,
} from "./config.ts";
export {
  Dealer,
  type DealerLimits,
  type DealerOptions,
  MAX_CALL_TIMEOUT,
  type Registration,
  type RegistrationObserver,
  type Timers,
} from "./dealer.ts";
export { CallError, errorReply } from "./errors.ts";
export {
  EventHistory,
  type EventHistoryRule,
  GET_EVENTS,
  getEventsProcedure,
  type HistoryEvent,
} from "./event_history.ts";
export { type CalleeList, pickCallee, shardCallee } from "./invocation_policy.ts";
export {
  DEFAULT_LIMITS,
  limitMessage,
  type LimitOptions,
  payloadSize,
  type ResolvedLimits,
  resolveLimits,
} from "./limits.ts";
export { MatchIndex } from "./match_index.ts";
export { copyPassthru, passthruProblem, PPT_KEYS, usesPassthru } from "./passthru.ts";
export { procedureReflection, ProcedureReflectionUri } from "./procedure_reflection.ts";
export { eventFor, type EventSubscription, type Publication } from "./publication.ts";
export { PublishFilter } from "./publish_filter.ts";
export { Realm, type RealmIds, type RealmMember, type RouterProcedure } from "./realm.ts";
export { RetainedEvents, type RetainedLimits } from "./retained.ts";
export { consoleLogger, Router, type RouterOptions } from "./router.ts";
export { scrambledIdGenerator } from "./scrambled_ids.ts";
export { Session, type SessionHost } from "./session.ts";
export { TOPIC_DESCRIBE, TOPIC_LIST, topicReflection } from "./topic_reflection.ts";
export type { Logger, LogLevel, Outbound, SessionInfo } from "./types.ts";
