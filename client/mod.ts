/**
 * The WAMP client.
 *
 * @module
 */

export {
  type AuthCredentials,
  CANNOT_AUTHENTICATE,
  type ChallengeAnswer,
  type ChallengeHandler,
  type CryptosignKey,
} from "./auth/credentials.ts";
export { connect, connectLocal, type ConnectOptions } from "./connect.ts";
export { ApplicationError, SessionClosedError } from "./errors.ts";
export { type Arguments } from "./context.ts";
export { type CallRequestOptions, type Result } from "./caller.ts";
export { type Endpoint, type RegisterRequestOptions, Registration } from "./callee.ts";
export { type Invocation, type InvocationChunk, type YieldArguments } from "./invocation.ts";
export {
  type KillOptions,
  type MatchLists,
  MetaApi,
  type MetaPeer,
  type RegistrationDetails,
  RegistrationMetaApi,
  type SessionDetails,
  SessionMetaApi,
  type SubscriptionDetails,
  SubscriptionMetaApi,
  type TestamentOptions,
  type TestamentScope,
} from "./meta/mod.ts";
export { type JoinOptions } from "./join.ts";
export { type CloseInfo, Session } from "./session.ts";
export { type Event, type EventHandler, Subscription } from "./subscription.ts";
