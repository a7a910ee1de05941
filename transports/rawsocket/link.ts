/**
 * One open RawSocket connection (TCP, TLS or a Unix socket), after the
 * handshake, on either side: frames in and out, PING/PONG, and the two
 * message size limits (ours on what arrives, the peer's on what we send).
 * Frames and handshakes are pure functions (`framing.ts`, `handshake.ts`);
 * the handshakes run in `server.ts` and `client.ts`.
 *
 * Spec: https://wamp-proto.org/wamp_latest_ietf.html#name-rawsocket-transport
 *
 * @module
 */

import { builtin } from "../../wamp/builtin.ts";
import {
  type Link,
  MessageTooLargeError,
  type PeerHandler,
  type Serializer,
  type SerializerName,
  type TransportInfo,
  type TransportLog,
  type WampMessage,
} from "../../wamp/mod.ts";
import {
  encodeBytes,
  encodeFailure,
  encodeOnce,
  type FrameCache,
  frameCache,
} from "../stream/encode.ts";
import { encodeFrame, encodeTextFrame, type Frame, FrameReader, FrameType } from "./framing.ts";
import { tlsInfo } from "../stream/tls_info.ts";
import { Inbox } from "../stream/inbox.ts";
import { preJoinFault, PreJoinSizeError } from "../stream/arrival.ts";
import { Keepalive } from "../stream/keepalive.ts";
import type { Wire } from "../stream/wire.ts";
import { utf8Text } from "../../wamp/bytes.ts";

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
  /** Whether to decode strictly (`Serializer.decode`): a router's side (the default), not a client's. */
  strict?: boolean;
}

const ascii = new TextEncoder();

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
  /** Frames shared with every RawSocket link on this serializer (fan-out frames once). */
  #frames: FrameCache;
  #reader: FrameReader;
  #inbox: Inbox;
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
    this.#inbox = new Inbox(wire.keepsReading ? undefined : wire);
    this.#options = options;
    this.#frames = frameCache(options.serializer, "rawsocket");
    this.info = options.info;
    // Before its session joined, a frame over 64 KiB is refused from its header.
    this.#reader = new FrameReader(options.receiveLimit, (n) => preJoinFault(n, this.#inbox));
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
   * Frames and queues a message. An EVENT that cannot be encoded is
   * dropped with a log line; any other message that cannot be encoded
   * closes the connection.
   *
   * @param msg The message.
   * @throws {MessageTooLargeError} When the message is over the peer's
   * limit: nothing was sent, and the sender decides (the router drops an
   * EVENT, answers for the rest; a client session, see `Session`).
   */
  send(msg: WampMessage): void {
    if (this.#wire.closed) return;
    const { serializer, sendLimit } = this.#options;
    let frame = this.#frames.get(msg);
    if (frame === undefined) {
      let encoded: string | Uint8Array;
      try {
        encoded = encodeOnce(serializer, msg);
      } catch (error) {
        // An EVENT is dropped for this recipient only; anything else closes.
        const failure = encodeFailure(msg, error);
        this.#log("warn", failure.message);
        if (!failure.drop) this.close();
        return;
      }
      // JSON text framed as it is encoded (short text), else its bytes framed.
      frame = typeof encoded === "string" ? encodeTextFrame(encoded) : undefined;
      if (frame === undefined) {
        const bytes = encodeBytes(serializer, msg);
        if (bytes.length > sendLimit) throw new MessageTooLargeError(bytes.length, sendLimit);
        frame = encodeFrame(FrameType.MESSAGE, bytes);
      }
      this.#frames.set(msg, frame);
    }
    if (frame.length - 4 > sendLimit) throw new MessageTooLargeError(frame.length - 4, sendLimit);
    this.#wire.write(frame, 1);
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

  #data(chunk: Uint8Array): void {
    this.#keepalive.heard();
    const frames = this.#reader.push(chunk);
    // Past its turn's time, the inbox waits: the rest of the chunk is kept as frames, in order.
    while (!this.#wire.closed) {
      let next: IteratorResult<Frame, void>;
      try {
        next = frames.next();
      } catch (error) {
        // A frame refused for its size before the session joined gets ABORT, as a message would.
        const broken = error instanceof PreJoinSizeError
          ? () => this.#inbox.fail(error)
          : () => this.#broken(error as Error);
        return this.#inbox.waiting ? this.#inbox.defer(broken) : broken();
      }
      if (next.done) return;
      const frame = next.value;
      if (this.#inbox.waitsFor(frame.payload.length)) this.#inbox.defer(() => this.#frame(frame));
      else {
        this.#frame(frame);
        // A PING answered counts against the turn as a message does: a flood ends its turn.
        if (frame.type !== FrameType.MESSAGE) this.#inbox.worked();
      }
    }
  }

  #frame(frame: Frame): void {
    if (frame.type === FrameType.MESSAGE) this.#message(frame.payload);
    else if (frame.type === FrameType.PING) {
      // Reading stops at the outbound limit; a peer that still gets
      // maxBacklog of PONGs queued past it is closed (Wire.reply).
      this.#wire.reply(encodeFrame(FrameType.PONG, frame.payload));
    }
    // A PONG only proves the peer is alive, which any arrival does.
  }

  #broken(error: Error): void {
    this.#log("info", `${error.message}: closing`);
    this.close();
  }

  #message(payload: Uint8Array): void {
    // Its header was admitted when parsed; the session may have left since (GOODBYE in the same chunk).
    const refused = preJoinFault(payload.length, this.#inbox);
    if (refused !== undefined) return this.#inbox.fail(refused);
    let msg: WampMessage;
    try {
      const { serializer } = this.#options;
      msg = serializer.decode(
        serializer.binary ? payload : utf8Text(payload),
        this.#options.strict,
      );
    } catch (error) {
      return this.#inbox.fail(error);
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
    ...(socket instanceof builtin("node:tls").TLSSocket ? { tls: tlsInfo(socket, side) } : {}),
  };
}
