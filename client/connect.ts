/**
 * Opening client sessions: over a URL, or in-process to an embedded router.
 *
 * @module
 */

import { linkedPeers } from "../transports/local.ts";
import { connectWebSocket, type ConnectWebSocketOptions } from "../transports/websocket_client.ts";
import { type PeerAcceptor, TransportError } from "../wamp/mod.ts";
import { type JoinOptions, Session } from "./session.ts";

/** Options for {@linkcode connect}. */
export interface ConnectOptions extends JoinOptions, ConnectWebSocketOptions {}

/**
 * Connects to a WAMP router by URL (`ws://` or `wss://`) and joins a realm.
 *
 * @param url The router's URL.
 * @param options Realm, serializers, authentication.
 * @returns The joined session.
 * @throws {TransportError} When the connection fails.
 * @throws {SessionClosedError} When the router refuses the session.
 *
 * @example
 * ```ts
 * import { connect, Router, serveWebSocket } from "@cloverleaf/wamp";
 * import { deepEqual } from "node:assert/strict";
 *
 * const router = new Router({ realms: [{ name: "realm1" }] });
 * const listener = serveWebSocket(router, { port: 0 });
 * const session = await connect(listener.url, { realm: "realm1", serializers: ["cbor"] });
 * await session.register("com.example.echo", (args) => ({ args }));
 * deepEqual((await session.call("com.example.echo", { args: ["hi"] })).args, ["hi"]);
 * await session.close();
 * await router.close();
 * await listener.close();
 * ```
 */
export async function connect(url: string, options: ConnectOptions): Promise<Session> {
  const scheme = new URL(url).protocol;
  if (scheme !== "ws:" && scheme !== "wss:") {
    throw new TransportError(`Cannot connect to ${url}: unsupported scheme "${scheme}"`);
  }
  const link = await connectWebSocket(url, options);
  return await Session.join(link, options);
}

/**
 * Joins a realm of an embedded router over an in-process link: no socket,
 * no serialization.
 *
 * @param router The router (anything transports can attach to).
 * @param realm The realm to join.
 * @param options Authentication and timeout.
 * @returns The joined session.
 * @throws {SessionClosedError} When the router refuses the session.
 *
 * @example
 * ```ts
 * import { connectLocal, Router } from "@cloverleaf/wamp";
 * import { equal } from "node:assert/strict";
 *
 * const router = new Router({ realms: [{ name: "realm1" }] });
 * const session = await connectLocal(router, "realm1");
 * equal(session.details.authrole, "anonymous");
 * await session.close();
 * await router.close();
 * ```
 */
export async function connectLocal(
  router: PeerAcceptor,
  realm: string,
  options: Omit<JoinOptions, "realm"> = {},
): Promise<Session> {
  const [routerEnd, clientEnd] = linkedPeers();
  routerEnd.bind(router.attach(routerEnd));
  return await Session.join(clientEnd, { ...options, realm });
}
