/**
 * The transports: {@linkcode listen} for the router's own listeners
 * (WebSocket, RawSocket and HTTP long-poll on one port, plain or TLS), the
 * adapters that embed the router in a `Deno.serve` or `node:net` server,
 * the client side of each transport, and {@linkcode linkedPeers}, an
 * in-memory pair of links.
 *
 * @example Serve a router over WebSocket and connect to it
 * ```ts
 * import { Router } from "@cloverleaf/wamp/router";
 * import { listen } from "@cloverleaf/wamp/transports";
 * import { connect } from "@cloverleaf/wamp/client";
 * import { equal } from "node:assert/strict";
 *
 * const router = new Router({ realms: [{ name: "realm1" }] });
 * const listener = await listen(router, { port: 0 });
 * const session = await connect(listener.urls.websocket!, { realm: "realm1" });
 * equal(session.realm, "realm1");
 * await session.close();
 * await listener.close();
 * await router.close();
 * ```
 *
 * @module
 */

export {
  type Admitted,
  type HttpAdmission,
  type HttpMount,
  listen,
  type Listener,
  type ListenerStats,
  type ListenerTlsOptions,
  type ListenOptions,
} from "./listener.ts";
export type { ClientTlsOptions, DialAddress } from "./stream/dial.ts";
export type { HttpRequestHead } from "./stream/http.ts";
export { linkedPeers, type LinkedPeersOptions, type LocalLink } from "./local.ts";
export { type CookieOptions } from "./stream/cookie.ts";
export { type WebSocketOptions } from "./websocket/server.ts";
export {
  type AcceptRawSocketOptions,
  rawSocketHandler,
  type RawSocketOptions,
} from "./rawsocket/server.ts";
export { connectRawSocket, type ConnectRawSocketOptions } from "./rawsocket/client.ts";
export {
  type LongPollOptions,
  type LongPollRequestOptions,
  LongPollService,
} from "./longpoll/server.ts";
export { connectLongPoll, type ConnectLongPollOptions } from "./longpoll/client.ts";
export {
  type ForwardOptions,
  LongPollRelay,
  type LongPollRelayOptions,
  type RelayTarget,
} from "./longpoll/relay.ts";
export {
  serveWebSocket,
  type ServeWebSocketOptions,
  webSocketHandler,
  type WebSocketHandlerOptions,
  type WebSocketListener,
} from "./websocket/deno_serve.ts";
export { connectWebSocket, type ConnectWebSocketOptions } from "./websocket/client.ts";
export { tcpPeer } from "./stream/wire.ts";
export type { SerializerName } from "../wamp/mod.ts";
