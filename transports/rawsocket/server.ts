/**
 * RawSocket transport (TCP, TLS or a Unix socket), server side: reads a
 * client's 4-octet handshake, answers it, and attaches the connection (a
 * {@linkcode RawSocketConnection}, `link.ts`) to a router.
 *
 * Spec: https://wamp-proto.org/wamp_latest_ietf.html#name-rawsocket-transport
 *
 * @module
 */

import type { Socket } from "node:net";
import {
  type AttachOptions,
  DEFAULT_OUTBOUND,
  type PeerAcceptor,
  type PeerHandler,
  type Serializer,
  type SerializerName,
  serializers as allSerializers,
  type TransportLog,
} from "../../wamp/mod.ts";
import {
  decodeHandshakeRequest,
  encodeHandshake,
  encodeHandshakeError,
  HandshakeError,
  type HandshakeErrorCode,
  lengthExponent,
  RAWSOCKET_MAGIC,
  receiveLimit,
  sendLimit,
} from "./handshake.ts";
import { RawSocketConnection, transportInfo } from "./link.ts";
import { concat } from "../stream/bytes.ts";
import { remoteAddress, Wire } from "../stream/wire.ts";

/** Options of a RawSocket listener (the server side). */
export interface RawSocketOptions {
  /**
   * Serializers accepted; a client asking for another one gets handshake
   * error 1.
   * @default {["json", "msgpack", "cbor"]}
   */
  serializers?: SerializerName[];
  /**
   * The largest incoming message, in bytes (512 to 16 MiB); a larger frame
   * closes the connection. Announced in the handshake as the largest
   * power of two not above it.
   * @default {16777216}
   */
  maxMessageSize?: number;
  /**
   * Milliseconds between checks for silence: at each check a PING goes out
   * if nothing arrived since the previous one. 0 turns PINGs off.
   * @default {30000}
   */
  pingInterval?: number;
  /**
   * Milliseconds to wait for anything (normally the PONG) after a PING
   * before closing the connection.
   * @default {10000}
   */
  pingTimeout?: number;
  /**
   * Milliseconds a new connection may take to send its 4-octet handshake.
   * @default {10000}
   */
  handshakeTimeout?: number;
}

/** Options of {@linkcode acceptRawSocket}: a listener's plus one connection's. */
export interface AcceptRawSocketOptions extends RawSocketOptions {
  /** How the router treats the connection (outbound limits, hello timeout). */
  attach?: AttachOptions;
  /** The remote address for session details. @default {from the socket} */
  peer?: string;
  /** The listener is at its connection limit: refuse with handshake error 4. */
  full?: boolean;
  /** Where connection-level events are logged. @default {nowhere} */
  log?: TransportLog;
}

/**
 * Runs the server side of a RawSocket connection whose first octet (0x7F)
 * a listener has already read: reads the rest of the 4-octet handshake,
 * answers it, and attaches the connection to `acceptor` (a router).
 *
 * A handshake asking for an unsupported serializer is answered with error
 * 1, one with non-zero reserved octets with error 3, and any connection
 * with error 4 when `options.full`; the connection then closes. After the
 * handshake, an undecodable message goes to the session as a protocol
 * violation; a bad frame header or a frame over our limit closes the
 * connection; a PING is answered at once with a PONG echoing it; a
 * message over the client's limit is never sent (the connection closes
 * with a warning instead).
 *
 * @param wire The connection.
 * @param first What the listener read so far (any length; bytes after
 * the handshake are frames).
 * @param acceptor What the connection attaches to.
 * @param options Serializers, limits, PING timing, attach options.
 */
export function acceptRawSocket(
  wire: Wire,
  first: Uint8Array,
  acceptor: PeerAcceptor,
  options: AcceptRawSocketOptions = {},
): void {
  const log = options.log ?? (() => {});
  const peer = options.peer ?? remoteAddress(wire.socket);
  const refuse = (error: HandshakeErrorCode, why: string) => {
    log("info", `RawSocket ${peer}: handshake refused (${why})`);
    wire.write(encodeHandshakeError(error));
    wire.end();
  };
  if (options.full) return refuse(HandshakeError.CONNECTION_LIMIT, "connection limit reached");
  let buffered: Uint8Array = new Uint8Array(first);
  /** Handles the handshake once it is in; returns false while waiting. */
  const step = (): boolean => {
    if (buffered.length > 0 && buffered[0] !== RAWSOCKET_MAGIC) {
      log("info", `RawSocket ${peer}: not a RawSocket handshake: closing`);
      wire.destroy();
      return true;
    }
    if (buffered.length < 4) return false;
    const request = decodeHandshakeRequest(buffered);
    if ("error" in request) {
      refuse(request.error, `handshake 0x${buffered.subarray(0, 4).toHex()}`);
      return true;
    }
    const serializer = (options.serializers ?? ["json", "msgpack", "cbor"])
      .map((n) => allSerializers[n])
      .find((s) => s.rawSocketId === request.serializer);
    if (serializer === undefined) {
      refuse(HandshakeError.SERIALIZER_UNSUPPORTED, `serializer ${request.serializer}`);
      return true;
    }
    open(wire, buffered.subarray(4), serializer, request.lengthExponent, acceptor, {
      ...options,
      peer,
      log,
    });
    return true;
  };
  if (step()) return;
  const timeout = options.handshakeTimeout ?? 10_000;
  const timer = setTimeout(() => {
    log("info", `RawSocket ${peer}: no handshake in ${timeout} ms: closing`);
    wire.destroy();
  }, timeout);
  wire.bind({
    data(chunk) {
      buffered = concat([buffered, chunk]);
      if (step()) clearTimeout(timer);
    },
    closed: () => clearTimeout(timer),
  });
}

/** Answers an accepted handshake and attaches the connection. */
function open(
  wire: Wire,
  rest: Uint8Array,
  serializer: Serializer,
  clientExponent: number,
  acceptor: PeerAcceptor,
  options: AcceptRawSocketOptions & { peer: string; log: TransportLog },
): void {
  const { peer, log } = options;
  const limit = receiveLimit(options.maxMessageSize);
  wire.write(
    encodeHandshake({ lengthExponent: lengthExponent(limit), serializer: serializer.rawSocketId }),
  );
  const connection = new RawSocketConnection(wire, {
    info: transportInfo(wire, serializer.name, peer, "server"),
    serializer,
    receiveLimit: limit,
    sendLimit: sendLimit(clientExponent),
    pingInterval: options.pingInterval ?? 30_000,
    pingTimeout: options.pingTimeout ?? 10_000,
    log,
  });
  let handler: PeerHandler;
  try {
    handler = acceptor.attach(connection, options.attach);
  } catch (error) {
    log("info", `RawSocket ${peer}: ${(error as Error).message}: closing`);
    connection.close();
    return;
  }
  connection.bind(handler);
  connection.start(rest);
}

/**
 * A connection listener for `net.createServer` or `tls.createServer` that
 * serves RawSocket only, through {@linkcode acceptRawSocket}: a connection
 * that does not send a handshake within `handshakeTimeout`, or whose first
 * octet is not 0x7F, is closed.
 *
 * @param acceptor What connections attach to (a router).
 * @param options Serializers, limits, PING timing, attach options.
 * @returns The listener for the server's `connection` (or
 * `secureConnection`) event.
 *
 * @example
 * ```ts
 * import net from "node:net";
 * import { Router } from "../../router/mod.ts";
 * import { rawSocketHandler } from "./server.ts";
 * import { connectRawSocket } from "./client.ts";
 * import { Session } from "../../client/session.ts";
 * import { equal } from "node:assert/strict";
 *
 * const router = new Router({ realms: [{ name: "realm1" }] });
 * const server = net.createServer(rawSocketHandler(router));
 * await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
 * const { port } = server.address() as net.AddressInfo;
 * const link = await connectRawSocket(`tcp://127.0.0.1:${port}`, { serializers: ["cbor"] });
 * const session = await Session.join(link, { realm: "realm1" });
 * equal(session.realm, "realm1");
 * await session.close();
 * await router.close();
 * await new Promise((resolve) => server.close(resolve));
 * ```
 */
export function rawSocketHandler(
  acceptor: PeerAcceptor,
  options: Omit<AcceptRawSocketOptions, "peer"> = {},
): (socket: Socket) => void {
  const maxBacklog = options.attach?.maxBacklog ?? DEFAULT_OUTBOUND.maxBacklog;
  return (socket) =>
    acceptRawSocket(new Wire(socket, { maxBacklog }), new Uint8Array(), acceptor, options);
}
