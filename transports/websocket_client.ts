/**
 * WebSocket transport, client side. Deno's WebSocket does not check the
 * subprotocol the server picked, so this does.
 *
 * @module
 */

import {
  type Link,
  type PeerHandler,
  type SerializerName,
  serializers as allSerializers,
  TransportError,
  type TransportInfo,
  type WampMessage,
} from "../wamp/mod.ts";
import { pumpWebSocket } from "./websocket.ts";

/** Options for {@linkcode connectWebSocket}. */
export interface ConnectWebSocketOptions {
  /**
   * Serializers to offer, most preferred first.
   * @default {["json", "msgpack", "cbor"]}
   */
  serializers?: SerializerName[];
  /** Extra HTTP headers for the upgrade request (cookies, auth). */
  headers?: Record<string, string>;
  /**
   * The largest incoming message accepted, in bytes.
   * @default {16777216}
   */
  maxMessageSize?: number;
  /** Aborts the connection attempt. */
  signal?: AbortSignal;
}

/**
 * Opens a WebSocket to a WAMP router and checks the negotiated subprotocol.
 *
 * @param url A `ws://` or `wss://` URL.
 * @param options Serializers, headers, limits.
 * @returns The open link.
 * @throws {TransportError} When the connection fails or the server picked
 * a subprotocol we did not offer.
 */
export function connectWebSocket(
  url: string,
  options: ConnectWebSocketOptions = {},
): Promise<Link> {
  const offered = (options.serializers ?? ["json", "msgpack", "cbor"]).map((n) =>
    allSerializers[n]
  );
  const init: { protocols: string[]; headers?: Record<string, string> } = {
    protocols: offered.map((s) => s.subprotocol),
  };
  if (options.headers !== undefined) init.headers = options.headers;
  // Deno's WebSocket accepts an options object with protocols and headers.
  const socket = new WebSocket(url, init as unknown as string[]);
  socket.binaryType = "arraybuffer";
  return new Promise<Link>((resolve, reject) => {
    const onAbort = () => {
      socket.close();
      reject(new TransportError(`Connection to ${url} aborted`));
    };
    options.signal?.addEventListener("abort", onAbort, { once: true });
    socket.onerror = (e) => {
      options.signal?.removeEventListener("abort", onAbort);
      const message = (e as ErrorEvent).message ?? "connection failed";
      reject(new TransportError(`Cannot connect to ${url}: ${message}`));
    };
    socket.onopen = () => {
      options.signal?.removeEventListener("abort", onAbort);
      const serializer = offered.find((s) => s.subprotocol === socket.protocol);
      if (serializer === undefined) {
        socket.close(1002, "no WAMP subprotocol negotiated");
        reject(
          new TransportError(
            `Cannot connect to ${url}: server chose subprotocol "${socket.protocol}"`,
          ),
        );
        return;
      }
      resolve(new WebSocketLink(socket, serializer.name, options.maxMessageSize));
    };
  });
}

class WebSocketLink implements Link {
  readonly info: TransportInfo;
  #socket: WebSocket;
  #maxMessageSize: number;

  constructor(socket: WebSocket, serializer: SerializerName, maxMessageSize?: number) {
    this.#socket = socket;
    this.#maxMessageSize = maxMessageSize ?? 16 * 1024 * 1024;
    this.info = { type: "websocket", serializer, peer: socket.url };
    // Until bind(), keep what arrives.
    const early: MessageEvent[] = [];
    let closed = false;
    socket.onmessage = (e) => early.push(e);
    socket.onclose = () => closed = true;
    this.bind = (handler: PeerHandler) => {
      pumpWebSocket(socket, allSerializers[serializer], handler, this.#maxMessageSize);
      for (const e of early) socket.onmessage?.(e);
      if (closed) handler.closed();
    };
  }

  bind: (handler: PeerHandler) => void;

  send(msg: WampMessage): void {
    if (this.#socket.readyState !== WebSocket.OPEN) return;
    this.#socket.send(allSerializers[this.info.serializer as SerializerName].encode(msg));
  }

  backlog(): number {
    return this.#socket.bufferedAmount;
  }

  queued(): number {
    return 0; // Deno's WebSocket counts bytes only
  }

  close(): void {
    if (this.#socket.readyState <= WebSocket.OPEN) this.#socket.close(1000);
  }
}
