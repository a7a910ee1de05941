/**
 * WebSocket through the platform's global `WebSocket` (browsers, Bun, Node
 * >= 22, Deno): the client's transport where it has no sockets of its own.
 * Where `node:net` exists the client uses our own stack instead (Nagle
 * off, permessage-deflate, batching, custom headers, TLS options), see
 * `connect.ts`. A global `WebSocket` offers none of those, so this link
 * ignores them.
 *
 * @module
 */

import { Inbox } from "../../transports/stream/inbox.ts";
import {
  ErrorUri,
  type Link,
  type PeerHandler,
  ProtocolViolationError,
  type Serializer,
  type SerializerName,
  serializers as allSerializers,
  TransportError,
  type TransportInfo,
  UnsupportedUrlError,
  type WampMessage,
} from "../../wamp/mod.ts";

/** Options for {@linkcode connectGlobalWebSocket}. */
export interface GlobalWebSocketOptions {
  /**
   * Serializers to offer, most preferred first.
   * @default {["json", "msgpack", "cbor"]}
   */
  serializers?: SerializerName[];
  /**
   * The largest incoming message, in bytes; a larger one closes the
   * connection with 1009.
   * @default {16777216}
   */
  maxMessageSize?: number;
  /** Aborts the connection attempt. */
  signal?: AbortSignal;
  /**
   * Milliseconds the socket may take to open (connection, TLS, upgrade):
   * a server that accepts and never answers fails the attempt.
   * @default {10000}
   */
  handshakeTimeout?: number;
}

/** What the client needs of a WHATWG `WebSocket`. */
type Socket = WebSocket;

/**
 * Opens a WebSocket with the platform's global `WebSocket`, offering
 * `wamp.2.<serializer>` subprotocols, and waits for it to open.
 *
 * @param url A `ws://` or `wss://` URL.
 * @param options Serializers, the message size limit, an abort signal, a timeout.
 * @returns The open link.
 * @throws {TransportError} When there is no global `WebSocket`, the
 * connection fails, or the router picks no offered subprotocol.
 */
export async function connectGlobalWebSocket(
  url: string,
  options: GlobalWebSocketOptions = {},
): Promise<Link> {
  const Platform = (globalThis as { WebSocket?: typeof WebSocket }).WebSocket;
  if (Platform === undefined) {
    throw new UnsupportedUrlError(url, "this platform has no WebSocket");
  }
  const offered = (options.serializers ?? ["json", "msgpack", "cbor"]).map((name) =>
    allSerializers[name]
  );
  const socket = new Platform(url, offered.map((s) => s.subprotocol));
  socket.binaryType = "arraybuffer";
  await opened(socket, url, options.signal, options.handshakeTimeout ?? 10_000);
  const serializer = offered.find((s) => s.subprotocol === socket.protocol);
  if (serializer === undefined) {
    socket.close(1000, "no WAMP subprotocol"); // a global WebSocket may not send 1002
    throw new TransportError(
      `Cannot connect to ${url}: the router chose subprotocol "${socket.protocol}", not one offered`,
    );
  }
  return new GlobalWebSocketLink(socket, serializer, url, options.maxMessageSize ?? 16 * 1024 ** 2);
}

function opened(
  socket: Socket,
  url: string,
  signal: AbortSignal | undefined,
  timeout: number,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => done(new TransportError(`Cannot connect to ${url}: not open in ${timeout} ms`)),
      timeout,
    );
    const done = (error?: TransportError) => {
      clearTimeout(timer);
      socket.removeEventListener("open", onOpen);
      socket.removeEventListener("error", onError);
      socket.removeEventListener("close", onClose);
      signal?.removeEventListener("abort", onAbort);
      if (error === undefined) return resolve();
      socket.close();
      reject(error);
    };
    const onOpen = () => done();
    const onError = () => done(new TransportError(`Cannot connect to ${url}: connection failed`));
    const onClose = (event: CloseEvent) =>
      done(new TransportError(`Cannot connect to ${url}: closed (${event.code})`));
    const onAbort = () => done(new TransportError(`Cannot connect to ${url}: aborted`));
    if (signal?.aborted) return onAbort();
    socket.addEventListener("open", onOpen);
    socket.addEventListener("error", onError);
    socket.addEventListener("close", onClose);
    signal?.addEventListener("abort", onAbort);
  });
}

/**
 * A {@linkcode Link} over an open global `WebSocket`. A frame that does not
 * decode (or is over the size limit, or of the wrong kind) goes to the
 * handler as a `ProtocolViolationError`, the last thing it gets, and the
 * socket closes with that reason. A global `WebSocket` may close only with
 * 1000 or 3000-4999, so the code is 1000 and the reason says what was wrong.
 */
class GlobalWebSocketLink implements Link {
  readonly info: TransportInfo;
  #socket: Socket;
  #serializer: Serializer;
  #maxMessageSize: number;
  #inbox = new Inbox();
  #closed = false;

  constructor(socket: Socket, serializer: Serializer, url: string, maxMessageSize: number) {
    this.#socket = socket;
    this.#serializer = serializer;
    this.#maxMessageSize = maxMessageSize;
    this.info = { type: "websocket", serializer: serializer.name, peer: url };
    socket.addEventListener("message", (event) => this.#receive(event.data));
    socket.addEventListener("close", () => this.#gone());
  }

  bind(handler: PeerHandler): void {
    this.#inbox.bind(handler, this.#closed);
    if (this.#inbox.failed) this.close(); // the handler had its say (an ABORT)
  }

  send(msg: WampMessage): void {
    if (this.#closed || this.#socket.readyState !== 1) return;
    this.#socket.send(this.#serializer.encode(msg) as string | Uint8Array<ArrayBuffer>);
  }

  backlog(): number {
    return this.#socket.bufferedAmount;
  }

  queued(): number {
    return 0;
  }

  close(): void {
    if (this.#socket.readyState > 1) return;
    if (this.#inbox.failed) this.#socket.close(1000, ErrorUri.PROTOCOL_VIOLATION);
    else this.#socket.close(1000);
  }

  #receive(data: unknown): void {
    if (this.#closed || this.#inbox.failed) return;
    const frame = typeof data === "string" ? data : new Uint8Array(data as ArrayBuffer);
    const size = typeof frame === "string" ? frame.length : frame.byteLength;
    let msg: WampMessage;
    try {
      if (size > this.#maxMessageSize) {
        throw new ProtocolViolationError(`message over ${this.#maxMessageSize} bytes`);
      }
      if (typeof frame === "string" === this.#serializer.binary) {
        throw new ProtocolViolationError("text/binary frame does not match the serializer");
      }
      msg = this.#serializer.decode(frame, false); // a client takes what its router sends
    } catch (error) {
      this.#inbox.fail(error);
      if (this.#inbox.bound) this.close(); // the handler had its say (an ABORT)
      return;
    }
    this.#inbox.deliver(msg);
  }

  #gone(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#inbox.closed();
  }
}
