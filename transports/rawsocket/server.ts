/**
 * RawSocket transport (TCP, TLS or a Unix socket), server side, and the
 * connection both sides share: frames in and out, PING/PONG, and the two
 * message size limits (ours on what arrives, the peer's on what we send).
 * The framing itself is pure functions in `rawsocket_framing.ts`; the
 * client side is `rawsocket_client.ts`.
 *
 * Spec: https://wamp-proto.org/wamp_latest_ietf.html#name-rawsocket-transport
 *
 * @module
 */

import type { Socket } from "node:net";
import { TLSSocket } from "node:tls";
import {
  type AttachOptions,
  type Link,
  messageTypeName,
  type PeerAcceptor,
  type PeerHandler,
  ProtocolViolationError,
  type Serializer,
  type SerializerName,
  serializers as allSerializers,
  type TransportInfo,
  type TransportLog,
  type WampMessage,
} from "../../wamp/mod.ts";
import { encodeBytes, encodeFailure } from "../stream/encode.ts";
import {
  decodeHandshakeRequest,
  encodeFrame,
  encodeHandshake,
  encodeHandshakeError,
  type Frame,
  FrameReader,
  FrameType,
  HandshakeError,
  type HandshakeErrorCode,
  lengthExponent,
  RAWSOCKET_MAGIC,
  receiveLimit,
  sendLimit,
} from "./framing.ts";
import { tlsInfo } from "../stream/tls_info.ts";
import { concat } from "../stream/bytes.ts";
import { Inbox, Keepalive } from "../stream/keepalive.ts";
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

/** What {@linkcode RawSocketConnection} is built from. */
export interface RawSocketConnectionOptions {
  /** Transport details for session details. */
  info: TransportInfo;
  /** The negotiated serializer. */
  serializer: Serializer;
  /** The largest payload we accept. */
  receiveLimit: number;
  /** The largest payload the peer accepts (from its handshake). */
  sendLimit: number;
  /** Milliseconds between silence checks; 0 for no PINGs. */
  pingInterval: number;
  /** Milliseconds to wait for an answer to a PING. */
  pingTimeout: number;
  /** Where connection-level events are logged. */
  log?: TransportLog;
  /**
   * Called instead of sending a message over the peer's limit.
   * @default {logs a warning and closes the connection}
   */
  oversize?: (connection: RawSocketConnection, msg: WampMessage, size: number) => void;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
const ascii = new TextEncoder();
/** The last framed message per serializer: a fan-out frames it once. */
const lastFramed = new Map<SerializerName, { msg: WampMessage; frame: Uint8Array }>();

/**
 * One open RawSocket connection, after the handshake, on either side: a
 * {@linkcode Link} whose messages travel as frames over a {@linkcode Wire}.
 * Messages that arrive before {@linkcode RawSocketConnection.bind} wait.
 */
export class RawSocketConnection implements Link {
  /** Transport details. */
  readonly info: TransportInfo;
  #wire: Wire;
  #options: RawSocketConnectionOptions;
  #reader: FrameReader;
  #inbox = new Inbox();
  #keepalive: Keepalive;
  #closed = false;
  #pings = 0;

  /**
   * Wraps a wire whose handshake is done; call
   * {@linkcode RawSocketConnection.start} to begin reading.
   *
   * @param wire The stream.
   * @param options Serializer, limits, PING timing.
   */
  constructor(wire: Wire, options: RawSocketConnectionOptions) {
    this.#wire = wire;
    this.#options = options;
    this.info = options.info;
    this.#reader = new FrameReader(options.receiveLimit);
    this.#keepalive = new Keepalive({
      interval: options.pingInterval,
      timeout: options.pingTimeout,
      ping: () => {
        if (this.#wire.closed) return false;
        this.#wire.write(encodeFrame(FrameType.PING, ascii.encode(`ping ${++this.#pings}`)));
        return true;
      },
      dead: () => {
        this.#log("info", `no answer to PING in ${options.pingTimeout} ms: closing`);
        this.#wire.destroy();
      },
    });
  }

  /**
   * Takes over the wire and reads the bytes that followed the handshake.
   *
   * @param rest Bytes already read after the handshake (frames).
   */
  start(rest: Uint8Array): void {
    this.#wire.bind({ data: (chunk) => this.#data(chunk), closed: () => this.#gone() });
    if (this.#closed) return;
    this.#keepalive.start();
    if (rest.length > 0) this.#data(rest);
  }

  /**
   * Sets the handler and hands it what arrived before.
   *
   * @param handler Where messages and closure go.
   */
  bind(handler: PeerHandler): void {
    this.#inbox.bind(handler, this.#closed);
  }

  /** The largest message the peer accepts, in bytes (from its handshake). */
  get sendLimit(): number {
    return this.#options.sendLimit;
  }

  /**
   * Frames and queues a message. A message over the peer's limit is not
   * sent: see {@linkcode RawSocketConnectionOptions.oversize}. An EVENT
   * that cannot be encoded is dropped with a log line; any other message
   * that cannot be encoded closes the connection.
   *
   * @param msg The message.
   */
  send(msg: WampMessage): void {
    if (this.#wire.closed) return;
    const { serializer, sendLimit } = this.#options;
    let cached = lastFramed.get(serializer.name);
    if (cached?.msg !== msg) {
      let bytes: Uint8Array;
      try {
        bytes = encodeBytes(serializer, msg);
      } catch (error) {
        // An EVENT is dropped for this recipient only; anything else closes.
        const failure = encodeFailure(msg, error);
        this.#log("warn", failure.message);
        if (!failure.drop) this.close();
        return;
      }
      if (bytes.length > sendLimit) return this.#oversize(msg, bytes.length);
      cached = { msg, frame: encodeFrame(FrameType.MESSAGE, bytes) };
      lastFramed.set(serializer.name, cached);
    }
    if (cached.frame.length - 4 > sendLimit) return this.#oversize(msg, cached.frame.length - 4);
    this.#wire.write(cached.frame, 1);
  }

  /**
   * Hands a message to the handler as if it had arrived (on a later
   * microtask, as arrivals do).
   *
   * @param msg The message.
   */
  deliver(msg: WampMessage): void {
    queueMicrotask(() => {
      if (!this.#closed) this.#inbox.deliver(msg);
    });
  }

  /**
   * Bytes queued and not yet handed to the kernel.
   *
   * @returns The byte count.
   */
  backlog(): number {
    return this.#wire.queuedBytes();
  }

  /**
   * Messages queued as messages, not yet handed to the socket (then they
   * are bytes, counted by {@linkcode RawSocketConnection.backlog}).
   *
   * @returns The message count.
   */
  queued(): number {
    return this.#wire.queuedMessages();
  }

  /** Flushes what is queued, then closes. Idempotent. */
  close(): void {
    this.#keepalive.stop();
    this.#wire.end();
  }

  #oversize(msg: WampMessage, size: number): void {
    if (this.#options.oversize !== undefined) {
      this.#options.oversize(this, msg, size);
      return;
    }
    this.#log(
      "warn",
      `${
        messageTypeName(msg.type)
      } of ${size} bytes is over the peer's limit of ${this.#options.sendLimit}: closing`,
    );
    this.close();
  }

  #data(chunk: Uint8Array): void {
    this.#keepalive.heard();
    const frames = this.#reader.push(chunk);
    while (!this.#wire.closed) {
      let next: IteratorResult<Frame, void>;
      try {
        next = frames.next();
      } catch (error) {
        this.#log("info", `${(error as Error).message}: closing`);
        return this.close();
      }
      if (next.done) return;
      const frame = next.value;
      if (frame.type === FrameType.MESSAGE) this.#message(frame.payload);
      else if (frame.type === FrameType.PING) {
        // Reading stops at the outbound limit; a peer that still gets
        // maxBacklog of PONGs queued past it is closed (Wire.reply).
        this.#wire.reply(encodeFrame(FrameType.PONG, frame.payload));
      }
      // A PONG only proves the peer is alive, which any arrival does.
    }
  }

  #message(payload: Uint8Array): void {
    let msg: WampMessage | ProtocolViolationError;
    try {
      const { serializer } = this.#options;
      msg = serializer.decode(serializer.binary ? payload : utf8.decode(payload));
    } catch (error) {
      msg = error instanceof ProtocolViolationError
        ? error
        : new ProtocolViolationError(`Cannot decode message: ${error}`, { cause: error });
    }
    this.#inbox.deliver(msg);
  }

  #gone(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#keepalive.stop();
    this.#inbox.closed();
  }

  #log(level: "info" | "warn", message: string): void {
    this.#options.log?.(level, `RawSocket ${this.info.peer ?? ""}: ${message}`);
  }
}

/**
 * The transport details of a RawSocket connection, with the TLS details
 * when the socket is a `node:tls` one.
 *
 * @param wire The connection.
 * @param serializer The negotiated serializer.
 * @param peer The remote address (the server side) or URL (the client side).
 * @param side Which end this is.
 * @returns The details for {@linkcode RawSocketConnection.info}.
 */
export function transportInfo(
  wire: Wire,
  serializer: SerializerName,
  peer: string,
  side: "server" | "client",
): TransportInfo {
  const socket = wire.socket;
  return {
    type: "rawsocket",
    serializer,
    peer,
    ...(socket instanceof TLSSocket ? { tls: tlsInfo(socket, side) } : {}),
  };
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
  const maxBacklog = options.attach?.maxBacklog ?? 1024 * 1024;
  return (socket) =>
    acceptRawSocket(new Wire(socket, { maxBacklog }), new Uint8Array(), acceptor, options);
}
