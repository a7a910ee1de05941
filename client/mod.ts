/**
 * The WAMP client: {@linkcode connect} over WebSocket, RawSocket or HTTP
 * long-poll, {@linkcode connectLocal} to a router in the same process, and
 * the {@linkcode Session} with its four roles (publisher, subscriber, caller,
 * callee), authentication and meta API. With the wire option types, error
 * classes and URIs a client program writes, so it needs no other entry.
 * Nothing here imports the router.
 *
 * @example Call a procedure over WebSocket
 * ```ts
 * import { connect } from "@cloverleaf/wamp/client";
 * import { listen, Router } from "@cloverleaf/wamp";
 * import { equal } from "node:assert/strict";
 *
 * const router = new Router({ realms: [{ name: "realm1" }] });
 * const listener = await listen(router, { port: 0 });
 * const url = listener.urls.websocket!;
 *
 * const callee = await connect(url, { realm: "realm1" });
 * await callee.register("com.example.add", (args) => ({
 *   args: [Number(args[0]) + Number(args[1])],
 * }));
 * const caller = await connect(url, { realm: "realm1", serializers: ["cbor"] });
 * const result = await caller.call("com.example.add", { args: [2, 3] });
 * equal(result.args[0], 5);
 *
 * await caller.close();
 * await callee.close();
 * await listener.close();
 * await router.close();
 * ```
 *
 * @module
 */

export {
  type AuthCredentials,
  type ChallengeAnswer,
  type ChallengeHandler,
  type CryptosignKey,
} from "./auth/credentials.ts";
export { createCryptosignKeyPair } from "./auth/cryptosign.ts";
export { connect, connectLocal, type ConnectOptions } from "./connect.ts";
export { Connection } from "./connection.ts";
export {
  type ConnectionCloseDetails,
  type ConnectionCloseReason,
  type ConnectionOptions,
} from "./connection_options.ts";
export { type RetryOptions } from "./backoff.ts";
export {
  ApplicationError,
  type ClosedBy,
  CredentialsError,
  NotConnectedError,
  SendBacklogError,
  SessionClosedError,
  type UserErrorHandler,
} from "./errors.ts";
export { type Arguments } from "./context.ts";
export { type CallRequestOptions, type Result } from "./caller.ts";
export { type Endpoint, type RegisterRequestOptions } from "./callee.ts";
export { Registration } from "./registration.ts";
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
export type { ClientLimitOptions } from "./limits.ts";
export { type CloseInfo, Session } from "./session.ts";
export { type Event, type EventHandler, Subscription } from "./subscription.ts";
export type { ClientTlsOptions } from "../transports/stream/dial.ts";
export {
  type CallOptions,
  type CancelMode,
  CloseUri,
  type CryptosignKeyPair,
  cryptosignKeyPair,
  type Dict,
  ErrorUri,
  type InvocationPolicy,
  type KdfLimits,
  type LogFields,
  type Logger,
  type LogLevel,
  type MatchPolicy,
  ProtocolViolationError,
  type PublishOptions,
  type RegisterOptions,
  type SerializerName,
  type SubscribeOptions,
  TransportError,
  UnsupportedUrlError,
} from "../wamp/mod.ts";
