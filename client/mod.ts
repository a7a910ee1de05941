/**
 * The WAMP client.
 *
 * @module
 */

export { connect, connectLocal, type ConnectOptions } from "./connect.ts";
export { ApplicationError, SessionClosedError } from "./errors.ts";
export {
  type Arguments,
  type CallRequestOptions,
  type CloseInfo,
  type Endpoint,
  type JoinOptions,
  type Registration,
  type Result,
  Session,
} from "./session.ts";
export { type Event, type EventHandler, Subscription } from "./subscription.ts";
