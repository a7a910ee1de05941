/**
 * A byte stream under a transport (TCP, TLS or a Unix socket) with writes
 * batched per turn of the event loop: everything written while one turn
 * runs goes to the socket as one write. Counts what waits, in bytes and in
 * messages, for the slow-consumer policy.
 *
 * @module
 */

import type { Socket } from "node:net";
import { concat } from "./bytes.ts";

/** What the owner of a {@linkcode Wire} is told. */
export interface WireHandler {
  /** Bytes arrived. The chunk is only valid during the call. */
  data(chunk: Uint8Array): void;
  /** The stream is gone, cleanly or not. Called once. */
  closed(): void;
}

/**
 * A socket with batched writes and an outbound count. The first handler is
 * set with {@linkcode Wire.bind}; a protocol handing the stream over (the
 * listener sniffing the first byte, an HTTP upgrade) binds again.
 */
export class Wire {
  /** The underlying socket (a `net.Socket` or `tls.TLSSocket`). */
  readonly socket: Socket;
  #handler: WireHandler | undefined;
  #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  #queuedMessages = 0;
  /** Messages handed to the socket whose write has not completed. */
  #writingMessages = 0;
  #scheduled = false;
  #ending = false;
  #closed = false;
  /** Bytes written since the wire opened. */
  bytesWritten = 0;
  /** Bytes read since the wire opened. */
  bytesRead = 0;

  /**
   * Wraps a connected socket: turns Nagle off and starts reading.
   *
   * @param socket A connected socket.
   */
  constructor(socket: Socket) {
    this.socket = socket;
    if (typeof socket.setNoDelay === "function") socket.setNoDelay(true);
    socket.on("data", (chunk: Uint8Array) => {
      this.bytesRead += chunk.byteLength;
      this.#handler?.data(chunk);
    });
    socket.on("error", () => {}); // always followed by close
    socket.on("close", () => this.#gone());
  }

  /** Sets who gets the incoming bytes and the closure. */
  bind(handler: WireHandler): void {
    this.#handler = handler;
    if (this.#closed) handler.closed();
  }

  /** Whether the stream is closed or closing. */
  get closed(): boolean {
    return this.#closed || this.#ending;
  }

  /**
   * Queues bytes; they go out at the end of this turn of the event loop,
   * together with everything else queued in it.
   *
   * @param bytes The bytes (not copied: do not reuse the buffer).
   * @param messages How many messages they carry, for {@linkcode Wire.queuedMessages}.
   */
  write(bytes: Uint8Array, messages = 0): void {
    if (this.#closed || this.#ending) return;
    this.#queue.push(bytes);
    this.#queuedBytes += bytes.byteLength;
    this.#queuedMessages += messages;
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  /** Writes what is queued now, as one write. */
  flush(): void {
    this.#scheduled = false;
    if (this.#queue.length === 0 || this.#closed) return;
    const chunk = this.#queue.length === 1 ? this.#queue[0]! : concat(this.#queue);
    const messages = this.#queuedMessages;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#queuedMessages = 0;
    this.#writingMessages += messages;
    this.bytesWritten += chunk.byteLength;
    this.socket.write(chunk, () => {
      this.#writingMessages -= messages;
    });
  }

  /** Bytes queued here or in the socket and not yet handed to the kernel. */
  queuedBytes(): number {
    return this.#queuedBytes + this.socket.writableLength;
  }

  /** Messages queued here or in the socket, as counted by {@linkcode Wire.write}. */
  queuedMessages(): number {
    return this.#queuedMessages + this.#writingMessages;
  }

  /** Flushes what is queued, then closes the stream. Idempotent. */
  end(): void {
    if (this.#closed || this.#ending) return;
    this.flush();
    this.#ending = true;
    this.socket.end();
    // A peer that never reads cannot hold the socket open forever.
    const timer = setTimeout(() => this.destroy(), 2000);
    this.socket.once("close", () => clearTimeout(timer));
  }

  /** Closes the stream at once, dropping what is queued. Idempotent. */
  destroy(): void {
    if (this.#closed) return;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#queuedMessages = 0;
    this.socket.destroy();
  }

  #gone(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#queuedMessages = 0;
    this.#writingMessages = 0;
    this.#handler?.closed();
  }
}

/**
 * The remote address of a socket, as session details show it.
 *
 * @param socket A connected socket.
 * @returns `tcp4:1.2.3.4:5678`, `tcp6:[::1]:5678` or `unix`.
 */
export function remoteAddress(socket: Socket): string {
  const address = socket.remoteAddress;
  if (address === undefined) return "unix";
  return socket.remoteFamily === "IPv6"
    ? `tcp6:[${address}]:${socket.remotePort}`
    : `tcp4:${address}:${socket.remotePort}`;
}
