/**
 * Opening client sessions: over a URL, or in-process to an embedded router.
 *
 * @module
 */

import { checkKdfLimits } from "../wamp/auth/kdf_limits.ts";
import { linkedPeers } from "../transports/local.ts";
import { hasBuiltin } from "../wamp/builtin.ts";
import type { ClientTlsOptions } from "../transports/stream/dial.ts";
import {
  type Link,
  type PeerAcceptor,
  type SerializerName,
  UnsupportedUrlError,
} from "../wamp/mod.ts";
import { prepareCredentials } from "./auth/authenticator.ts";
import type { JoinOptions } from "./join.ts";
import { Session } from "./session.ts";

/** Options for {@linkcode connect}: the realm and credentials, and the transport's settings. */
export interface ConnectOptions extends JoinOptions {
  /**
   * Serializers, most preferred first. WebSocket and long-poll offer them
   * all; RawSocket asks for the first.
   * @default {["json", "msgpack", "cbor"]}
   */
  serializers?: SerializerName[];
  /** TLS settings for `wss://`, `tcps://` and `https://` (a private CA, a client certificate). */
  tls?: ClientTlsOptions;
  /** Extra HTTP headers for the WebSocket upgrade request (cookies, auth). */
  headers?: Record<string, string>;
  /**
   * The largest incoming message accepted, in bytes. Batched (WebSocket,
   * long-poll), also the largest batch sent, framing included (a message
   * alone may be larger): set it to the router's when that is smaller.
   * @default {16777216}
   */
  maxMessageSize?: number;
  /** WebSocket: offer permessage-deflate. @default {false} */
  compression?: boolean;
  /** WebSocket and long-poll: offer the batched subprotocols first. @default {false} */
  batched?: boolean;
  /** WebSocket and RawSocket: milliseconds of silence before a ping (0: none). @default {0} */
  pingInterval?: number;
  /**
   * WebSocket and RawSocket: milliseconds for the connection, its TLS
   * handshake and the WebSocket or RawSocket handshake.
   * @default {10000}
   */
  handshakeTimeout?: number;
  /** Aborts the connection attempt. */
  signal?: AbortSignal;
  /**
   * WebSocket: use the platform's global `WebSocket` rather than our own
   * stack over `node:net`. Without `node:net` (browsers) the global one is
   * the only choice; it ignores `tls`, `headers`, `compression`, `batched`
   * and `pingInterval`.
   * @default {true where there is no node:net, else false}
   */
  globalWebSocket?: boolean;
}

/**
 * Opens the transport a URL names: `ws://` and `wss://` (WebSocket),
 * `tcp://`, `tcps://` and `unix:///path` (RawSocket), `http://` and
 * `https://` (HTTP long-poll, the URL of its base path). Each transport
 * is loaded when first used, and reaches `node:net`, `node:tls` and
 * `node:zlib` only when it runs, so the client bundles for a browser.
 * WebSocket goes over our own stack where `node:net` exists (Deno, Node,
 * Bun), else over the global `WebSocket`; RawSocket needs `node:net`.
 *
 * @param url The router's URL.
 * @param options Transport settings.
 * @returns The open link, not yet joined.
 * @throws {UnsupportedUrlError} When the URL is not one of these.
 * @throws {TransportError} When the connection fails.
 */
export async function openLink(
  url: string,
  options: Omit<ConnectOptions, "realm"> = {},
): Promise<Link> {
  let scheme: string;
  try {
    scheme = new URL(url).protocol;
  } catch {
    throw new UnsupportedUrlError(url, "not a URL");
  }
  const { serializers, tls, headers, maxMessageSize, compression, batched, pingInterval, signal } =
    options;
  const { handshakeTimeout } = options;
  const handshake = handshakeTimeout === undefined ? {} : { handshakeTimeout };
  const common = {
    ...(serializers === undefined ? {} : { serializers }),
    ...(maxMessageSize === undefined ? {} : { maxMessageSize }),
    ...(signal === undefined ? {} : { signal }),
  };
  switch (scheme) {
    case "ws:":
    case "wss:": {
      if (options.globalWebSocket ?? !hasBuiltin("node:net")) {
        const { connectGlobalWebSocket } = await import("./links/web_socket.ts");
        return await connectGlobalWebSocket(url, { ...common, ...handshake });
      }
      const { connectWebSocket } = await import("../transports/websocket/client.ts");
      return await connectWebSocket(url, {
        ...common,
        ...handshake,
        ...(tls === undefined ? {} : { tls }),
        ...(headers === undefined ? {} : { headers }),
        ...(compression === undefined ? {} : { compression }),
        ...(batched === undefined ? {} : { batched }),
        ...(pingInterval === undefined ? {} : { pingInterval }),
      });
    }
    case "tcp:":
    case "tcps:":
    case "unix:": {
      if (!hasBuiltin("node:net")) {
        throw new UnsupportedUrlError(url, "RawSocket needs node:net (Deno, Node, Bun)");
      }
      const { connectRawSocket } = await import("../transports/rawsocket/client.ts");
      return await connectRawSocket(url, {
        ...common,
        ...handshake,
        ...(tls === undefined ? {} : { tls }),
        ...(pingInterval === undefined ? {} : { pingInterval }),
      });
    }
    case "http:":
    case "https:": {
      const { connectLongPoll } = await import("../transports/longpoll/client.ts");
      return await connectLongPoll(url, {
        ...common,
        ...handshake,
        ...(tls?.caCerts === undefined ? {} : { caCerts: tls.caCerts }),
        ...(batched === undefined ? {} : { batched }),
      });
    }
    default:
      throw new UnsupportedUrlError(url, `unsupported scheme "${scheme}"`);
  }
}

/**
 * What every join over a URL starts with: the credentials are checked
 * (the cryptosign key derived, once per key) before the link is opened,
 * so a key that cannot be used fails at once, with no connection made.
 *
 * @param url The router's URL.
 * @param options Credentials and transport settings.
 * @returns The open link, not yet joined.
 * @throws {CredentialsError} When the credentials cannot be used.
 * @throws {UnsupportedUrlError} When the URL is not one `openLink()` takes.
 * @throws {TransportError} When the connection fails.
 */
export async function dial(url: string, options: ConnectOptions): Promise<Link> {
  if (options.kdfLimits !== undefined) checkKdfLimits(options.kdfLimits); // before any I/O
  await prepareCredentials(options);
  return await openLink(url, options);
}

/**
 * Connects to a WAMP router by URL and joins a realm: `ws://`/`wss://`
 * (WebSocket), `tcp://`/`tcps://`/`unix:///path` (RawSocket) or
 * `http://`/`https://` (long-poll). The session API is the same on each.
 *
 * @param url The router's URL.
 * @param options Realm, authentication, transport settings.
 * @returns The joined session.
 * @throws {CredentialsError} When the credentials cannot be used (before connecting).
 * @throws {TransportError} When the connection fails.
 * @throws {SessionClosedError} When the router refuses the session.
 *
 * @example
 * ```ts
 * import { connect, listen, Router } from "@cloverleaf/wamp";
 * import { deepEqual } from "node:assert/strict";
 *
 * const router = new Router({ realms: [{ name: "realm1" }] });
 * const listener = await listen(router, { port: 0 });
 * for (const url of [listener.urls.websocket!, listener.urls.rawsocket!]) {
 *   const session = await connect(url, { realm: "realm1", serializers: ["cbor"] });
 *   await session.register("com.example.echo", (args) => ({ args }));
 *   deepEqual((await session.call("com.example.echo", { args: ["hi"] })).args, ["hi"]);
 *   await session.close();
 * }
 * await router.close();
 * await listener.close();
 * ```
 */
export async function connect(url: string, options: ConnectOptions): Promise<Session> {
  return await Session.join(await dial(url, options), options);
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
  const [routerEnd, clientEnd] = linkedPeers({ validate: true });
  routerEnd.bind(router.attach(routerEnd));
  return await Session.join(clientEnd, { ...options, realm });
}
