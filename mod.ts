/**
 * Cloverleaf: a WAMP v2 router and client for Deno.
 *
 * Embed a router, serve it over WebSocket, RawSocket or HTTP long-poll, and
 * talk to it from the same process or over the network with JSON,
 * MessagePack or CBOR. This entry is the short list most programs need; the
 * rest lives in the subpath entries: `@cloverleaf/wamp/router` (realm,
 * authentication and authorization options, authenticators),
 * `@cloverleaf/wamp/transports` (listeners, embedding adapters, transport
 * clients), `@cloverleaf/wamp/client` (the whole client, meta API included)
 * and `@cloverleaf/wamp/wamp` (messages, URIs, serializers, IDs).
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

export {
  type AuthOptions,
  CallError,
  consoleLogger,
  type FailedLoginOptions,
  type LimitOptions,
  type LogFields,
  type Logger,
  type LogLevel,
  type Permission,
  type RealmOptions,
  type RoleOptions,
  Router,
  type RouterOptions,
} from "./router/mod.ts";
export { listen, type Listener, type ListenOptions } from "./transports/mod.ts";
export {
  ApplicationError,
  type Arguments,
  type AuthCredentials,
  type CallRequestOptions,
  type ClientLimitOptions,
  type CloseInfo,
  connect,
  Connection,
  type ConnectionOptions,
  connectLocal,
  type ConnectOptions,
  type Endpoint,
  type Event,
  type EventHandler,
  type Invocation,
  type InvocationChunk,
  type JoinOptions,
  NotConnectedError,
  type RegisterRequestOptions,
  Registration,
  type Result,
  Session,
  SessionClosedError,
  Subscription,
  type YieldArguments,
} from "./client/mod.ts";
export {
  CloseUri,
  type Dict,
  ErrorUri,
  ProtocolViolationError,
  type SerializerName,
  TransportError,
} from "./wamp/mod.ts";
