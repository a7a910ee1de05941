/**
 * Cloverleaf: a WAMP v2 router and client for Deno.
 *
 * Embed a router, serve it over WebSocket, and talk to it from the same
 * process or over the network with JSON, MessagePack or CBOR.
 *
 * @example A router with an in-process client
 * ```ts
 * import { connectLocal, Router } from "@cloverleaf/wamp";
 * import { deepEqual } from "node:assert/strict";
 *
 * const router = new Router({ realms: [{ name: "realm1" }] });
 * const session = await connectLocal(router, "realm1");
 *
 * const received: unknown[] = [];
 * await session.subscribe("com.example.news", (event) => {
 *   received.push(event.args[0]);
 * });
 * const other = await connectLocal(router, "realm1");
 * await other.publish("com.example.news", { args: ["hello"] }, { acknowledge: true });
 * await new Promise((resolve) => setTimeout(resolve, 10));
 * deepEqual(received, ["hello"]);
 *
 * await other.close();
 * await session.close();
 * await router.close();
 * ```
 *
 * @module
 */

export * from "./wamp/mod.ts";
export {
  type Action,
  anonymousAuthenticator,
  type Authenticator,
  type AuthOptions,
  Authorizer,
  type AuthOutcome,
  type AuthRequest,
  Broker,
  type BrokerLimits,
  type BrokerOptions,
  type CalleeList,
  CallError,
  consoleLogger,
  cookieAuthenticator,
  CookieStore,
  type CraUser,
  cryptosignAuthenticator,
  type CryptosignOptions,
  type CryptosignPrincipal,
  Dealer,
  type DealerLimits,
  type DealerOptions,
  type Decision,
  DEFAULT_LIMITS,
  type Disclosure,
  type DynamicAuthenticator,
  type DynamicAuthorizer,
  type DynamicAuthRequest,
  type DynamicOption,
  type DynamicPrincipal,
  type DynamicSource,
  EventHistory,
  type EventHistoryRule,
  type EventSubscription,
  type HistoryEvent,
  type Identity,
  limitMessage,
  type LimitOptions,
  type Logger,
  type LogLevel,
  MatchIndex,
  MAX_CALL_TIMEOUT,
  type MetaOptions,
  type Outbound,
  passthruProblem,
  payloadSize,
  type Permission,
  pickCallee,
  type ProcedureAuthenticator,
  ProcedureReflectionUri,
  type Publication,
  PublishFilter,
  Realm,
  realmAuthenticators,
  type RealmIds,
  type RealmMember,
  type RealmOptions,
  type Registration as DealerRegistration,
  type RegistrationObserver,
  type ResolvedLimits,
  type ResolvedRealmOptions,
  resolveLimits,
  resolveRealmOptions,
  resolveRole,
  RetainedEvents,
  type RetainedLimits,
  type RoleOptions,
  Router,
  type RouterCall,
  type RouterOptions,
  type RouterProcedure,
  scramAuthenticator,
  type ScramOptions,
  type ScramPasswordUser,
  type ScramUser,
  type SessionInfo,
  shardCallee,
  type Subscription as BrokerSubscription,
  type SubscriptionObserver,
  ticketAuthenticator,
  type TicketOptions,
  type TicketPrincipal,
  type Timers,
  tlsAuthenticator,
  type TlsOptions,
  type TlsPrincipal,
  trustLevelFor,
  type TrustLevelRule,
  wampcraAuthenticator,
  type WampcraOptions,
} from "./router/mod.ts";
export {
  type Address,
  type ListenerType,
  parseAddress,
  type ResolvedListenerOptions,
  resolveListenerOptions,
  toListenOptions,
} from "./transports/config.ts";
export {
  listen,
  type Listener,
  type ListenerTlsOptions,
  type ListenOptions,
} from "./transports/listener.ts";
export type { ClientTlsOptions, DialAddress } from "./transports/stream/dial.ts";
export { linkedPeers, type LinkedPeersOptions } from "./transports/local.ts";
export { type CookieOptions } from "./transports/stream/cookie.ts";
export { type WebSocketOptions } from "./transports/websocket/server.ts";
export {
  type AcceptRawSocketOptions,
  rawSocketHandler,
  type RawSocketOptions,
} from "./transports/rawsocket/server.ts";
export { connectRawSocket, type ConnectRawSocketOptions } from "./transports/rawsocket/client.ts";
export { type LongPollOptions, LongPollService } from "./transports/longpoll/server.ts";
export { connectLongPoll, type ConnectLongPollOptions } from "./transports/longpoll/client.ts";
export {
  negotiateSubprotocol,
  serveWebSocket,
  type ServeWebSocketOptions,
  webSocketHandler,
  type WebSocketHandlerOptions,
  type WebSocketListener,
} from "./transports/websocket/deno_serve.ts";
export { connectWebSocket, type ConnectWebSocketOptions } from "./transports/websocket/client.ts";
export * from "./client/mod.ts";
