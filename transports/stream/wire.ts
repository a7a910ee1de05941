/**
 * A byte stream under a transport (TCP, TLS or a Unix socket) with writes
 * batched per turn of the event loop: everything written while one turn
 * runs goes to the socket as one write (or one per 64 KiB). Counts what
 * waits, in bytes and in messages, for the slow-consumer policy, and stops
 * reading from a peer whose own outbound queue is over its limit (read
 * backpressure): a peer that sends PINGs or pipelines HTTP requests and
 * never reads the answers cannot make the router queue without bound.
 *
 * @module
 */

import type { Socket } from "node:net";
import { concat } from "./bytes.ts";
import { ownBytes } from "../../wamp/bytes.ts";

/** What the owner of a {@linkcode Wire} is told. */
export interface WireHandler {
  /** Bytes arrived. The chunk is only valid during the call. */
  data(chunk: Uint8Array): void;
  /** The stream is gone, cleanly or not. Called once. */
  closed(): void;
}

/** Read backpressure of a {@linkcode Wire}. */
export interface WireOptions {
  /**
   * The connection's outbound limit. Once more than half of it waits to
   * go out (in the wire and in the socket) the wire stops reading from the
   * socket, and reads again once that is handed to the kernel: a peer that
   * sends requests without reading their replies is paused well before its
   * replies reach the limit, where the router would close it. Replies the
   * wire's own protocol writes ({@linkcode Wire.reply}: PONGs, HTTP
   * responses) while that is so, past this much again (at least 64 KiB),
   * close the connection instead.
   * @default {Infinity} (always read: the client side)
   */
  maxBacklog?: number;
  /**
   * Read on while congested: only the replies are bounded. The client
   * side: a router stops reading a client that does not keep up, so a
   * client that stopped too would deadlock with it.
   * @default {false}
   */
  keepReading?: boolean;
}

/** Bytes queued in one turn beyond which the wire writes at once, not at the end of the turn. */
export const FLUSH_BYTES = 64 * 1024;

/**
 * A socket with batched writes, an outbound count and read backpressure. The first handler is
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
  #scheduled = false;
  #maxBacklog: number;
  #keepReading: boolean;
  /** Half of #maxBacklog: reading stops while more than this waits to go out. */
  #pauseAt: number;
  /**
   * Queued bytes that go out at once: 64 KiB, or a quarter of `maxBacklog`
   * when that is less (EVENTs stop at half: a turn's burst must reach the
   * socket before it looks like a backlog).
   */
  #flushAt: number;
  /** Reading stops while more than #pauseAt bytes wait to go out. */
  #congested = false;
  /** Bytes of replies queued since the wire became congested. */
  #congestedReplies = 0;
  /** Reading stops while the owner holds it (an HTTP request being answered). */
  #held = false;
  #reading = true;
  #drainWaiters: (() => void)[] = [];
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
   * @param options Read backpressure.
   */
  constructor(socket: Socket, options: WireOptions = {}) {
    this.socket = socket;
    this.#maxBacklog = options.maxBacklog ?? Infinity;
    this.#keepReading = options.keepReading === true;
    this.#pauseAt = this.#maxBacklog / 2;
    this.#flushAt = Math.min(FLUSH_BYTES, this.#pauseAt / 2);
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

  /** Whether more than half the wire's `maxBacklog` waits to go out (reading is stopped). */
  get congested(): boolean {
    return this.#congested;
  }

  /**
   * Resolves once the wire is no longer congested, or closed.
   *
   * @returns A promise that never rejects.
   */
  drained(): Promise<void> {
    if (!this.#congested || this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** Queued bytes that go out at once (see {@linkcode Wire.write}): a batch goes out there too. */
  get flushAt(): number {
    return this.#flushAt;
  }

  /** Whether it reads on while congested (the client side: see `WireOptions.keepReading`). */
  get keepsReading(): boolean {
    return this.#keepReading;
  }

  /**
   * Stops (`true`) or restarts (`false`) reading for the owner's own
   * reasons, independently of the outbound backpressure.
   *
   * @param held Whether to stop reading.
   */
  hold(held: boolean): void {
    this.#held = held;
    this.#updateReading();
  }

  /**
   * Queues bytes; they go out at the end of this turn of the event loop,
   * together with everything else queued in it (at once when 64 KiB are
   * queued, or a quarter of `maxBacklog` when less). Bytes of 64 KiB or
   * more go at once, as they are, after what was queued: a fan-out's large
   * frame stays one buffer for every link.
   *
   * @param bytes The bytes (not copied: do not reuse the buffer).
   * @param messages How many messages they carry, for {@linkcode Wire.queuedMessages}.
   */
  write(bytes: Uint8Array, messages = 0): void {
    if (this.#closed || this.#ending) return;
    if (bytes.byteLength >= FLUSH_BYTES && this.#queue.length > 0) this.flush();
    this.#queue.push(bytes);
    this.#queuedBytes += bytes.byteLength;
    this.#queuedMessages += messages;
    if (this.#queuedBytes >= this.#flushAt) this.flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  /**
   * Queues a reply the protocol writes in answer to what it read (a PONG,
   * an HTTP response). While the wire is congested, replies are counted,
   * and past `maxBacklog` of them (at least 64 KiB) the connection is
   * closed at once: reading stops at the limit, so only a peer that
   * somehow keeps asking and never reads gets there. A reply larger than
   * that by itself (a RawSocket PONG for a PING of up to `maxMessageSize`)
   * closes the connection too.
   *
   * @param bytes The bytes (not copied: do not reuse the buffer).
   * @returns Whether the reply was queued.
   */
  reply(bytes: Uint8Array): boolean {
    const replies = (this.#congested ? this.#congestedReplies : 0) + bytes.length;
    if (replies > Math.max(this.#maxBacklog, FLUSH_BYTES)) {
      this.destroy();
      return false;
    }
    if (this.#congested) this.#congestedReplies = replies;
    this.write(bytes);
    return !this.#closed;
  }

  /** Writes what is queued now, as one write. */
  flush(): void {
    this.#scheduled = false;
    if (this.#queue.length === 0 || this.#closed) return;
    const first = this.#queue[0]!;
    // One chunk goes as it is (a fan-out's frame, shared by every link), unless it is a view
    // into a slab (`slabBytes`) and the socket is congested: the socket would hold it, and the
    // whole slab with it, for as long as the peer does not read.
    // (A write that stalls from here on still holds its slab: at most one per stalled socket.)
    const chunk = this.#queue.length > 1
      ? concat(this.#queue)
      : this.socket.writableLength === 0
      ? first
      : ownBytes(first);
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#queuedMessages = 0;
    this.bytesWritten += chunk.byteLength;
    this.socket.write(chunk, this.#written);
    if (!this.#congested && this.socket.writableLength > this.#pauseAt) {
      this.#congested = true;
      this.#updateReading();
    }
  }

  /** Bytes queued here or in the socket and not yet handed to the kernel. */
  queuedBytes(): number {
    return this.#queuedBytes + this.socket.writableLength;
  }

  /**
   * Messages queued here, as counted by {@linkcode Wire.write}, and not yet
   * handed to the socket. Once handed over they are one chunk of bytes,
   * counted by {@linkcode Wire.queuedBytes} only.
   */
  queuedMessages(): number {
    return this.#queuedMessages;
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

  /** A write reached the kernel: read again once the backlog is under the limit. */
  #written = (): void => {
    if (!this.#congested || this.socket.writableLength > this.#pauseAt) return;
    this.#congested = false;
    this.#congestedReplies = 0;
    this.#updateReading();
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const resolve of waiters) resolve();
  };

  #updateReading(): void {
    const read = (this.#keepReading || !this.#congested) && !this.#held;
    if (read === this.#reading || this.#closed) return;
    this.#reading = read;
    if (read) this.socket.resume();
    else this.socket.pause();
  }

  #gone(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#queuedMessages = 0;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const resolve of waiters) resolve();
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
  return address === undefined ? "unix" : tcpPeer(address, socket.remotePort ?? 0);
}

/**
 * A TCP peer's name, as the listener names its connections: what session
 * details show, and what limits per source address read (`sourceOf`: an
 * IPv4 address, an IPv6 address's /64 from within the brackets). Give it
 * to a handler you serve yourself as its `peer` (`LongPollService.handle`,
 * the HTTP bridge's `handle`): a name in another format is still taken,
 * but read differently (`tcp:2001:db8::5:443` counts each IPv6 address
 * apart, not by its /64), and `""` or none is not counted at all.
 *
 * @param address Its IP address (`::1`, `192.0.2.7`), e.g. `Deno.serve`'s
 * `info.remoteAddr.hostname`.
 * @param port Its port.
 * @returns `tcp4:1.2.3.4:5678` or `tcp6:[::1]:5678`.
 *
 * @example Name `Deno.serve`'s clients as the listener does
 * ```ts
 * import { Router } from "@cloverleaf/wamp";
 * import { LongPollService, tcpPeer } from "@cloverleaf/wamp/transports";
 * import { sourceOf } from "@cloverleaf/wamp/wamp";
 * import { equal } from "node:assert/strict";
 *
 * equal(tcpPeer("192.0.2.7", 5678), "tcp4:192.0.2.7:5678");
 * equal(tcpPeer("2001:db8::5", 443), "tcp6:[2001:db8::5]:443");
 * equal(sourceOf(tcpPeer("2001:db8::5", 443)), "tcp6:[2001:db8:0:0::/64]");
 *
 * const router = new Router({ realms: [{ name: "realm1" }], logger: () => {} });
 * const service = new LongPollService(router, { maxTransportsPerSource: 1 });
 * const server = Deno.serve(
 *   { hostname: "127.0.0.1", port: 0, onListen() {} },
 *   (request, info) =>
 *     service.handle(request, tcpPeer(info.remoteAddr.hostname, info.remoteAddr.port)),
 * );
 * const open = () =>
 *   fetch(`http://127.0.0.1:${server.addr.port}/lp/open`, {
 *     method: "POST",
 *     body: JSON.stringify({ protocols: ["wamp.2.json"] }),
 *   });
 * const [first, second] = [await open(), await open()];
 * equal(first.status, 200);
 * equal(second.status, 429); // one transport per source address: both came from 127.0.0.1
 * await first.body?.cancel();
 * await second.body?.cancel();
 * service.close();
 * await server.shutdown();
 * await router.close();
 * ```
 */
export function tcpPeer(address: string, port: number): string {
  return address.includes(":") ? `tcp6:[${address}]:${port}` : `tcp4:${address}:${port}`;
}
