/**
 * One open WebSocket connection carrying WAMP, on either side: a
 * {@linkcode Link} over a {@linkcode Wire} using our own RFC 6455 framing,
 * with permessage-deflate, the batched subprotocols, ping/pong keepalive
 * and the close handshake.
 *
 * @module
 */

import {
  type Link,
  MessageTooLargeError,
  type PeerHandler,
  type Serializer,
  type TransportInfo,
  type TransportLog,
  type WampMessage,
} from "../../wamp/mod.ts";
import { Inbox } from "../stream/inbox.ts";
import { preJoinFault, PreJoinSizeError } from "../stream/arrival.ts";
import { Keepalive } from "../stream/keepalive.ts";
import { BATCHED_SUFFIX, batchFraming, joinBatch } from "../stream/batched.ts";
import { OutgoingBatch } from "../stream/outgoing_batch.ts";
import { encodeBytes, encodeFailure, encodeOnce, type FrameCache } from "../stream/encode.ts";
import {
  compresses,
  deflateMessage,
  inflatedLimit,
  type PerMessageDeflate,
} from "./permessage_deflate.ts";
import {
  CloseCode,
  closePayload,
  encodeFrame,
  encodeTextFrame,
  FrameParser,
  Opcode,
  parseClosePayload,
  payloadLength,
} from "./framing.ts";
import { FLUSH_BYTES, type Wire } from "../stream/wire.ts";
import { sharedFrames, type WebSocketPeerOptions } from "./peer_options.ts";
import { inflateLimit, inTurn, messageParts, NOT_UTF8, payloadData } from "./incoming.ts";
import type { Reading } from "./incoming.ts";

export type { WebSocketPeerOptions } from "./peer_options.ts";

/** How long to wait for the other side's close frame, in milliseconds. */
const CLOSE_WAIT = 2000;
const EMPTY = new Uint8Array(0);
const NOT_JOINED = { joined: false };

/**
 * One open WebSocket connection, after the upgrade, on either side.
 * Messages that arrive before {@linkcode WebSocketPeer.bind} wait for it.
 *
 * Protocol errors close the connection with 1002, bad UTF-8 in a text
 * message or bad compressed data with 1007, a message over the limit with
 * 1009; a message that does not decode as WAMP goes to the handler as a
 * `ProtocolViolationError`.
 */
export class WebSocketPeer implements Link {
  /** Transport details. */
  readonly info: TransportInfo;
  /** The negotiated subprotocol, e.g. `wamp.2.cbor.batched`. */
  readonly subprotocol: string;
  /** Whether permessage-deflate was negotiated. */
  readonly compression: boolean;
  /** The largest message sent, on the server side: `maxMessageSize` (less a batch's framing). */
  readonly sendLimit?: number;
  #wire: Wire;
  #serializer: Serializer;
  #opcode: number;
  #client: boolean;
  #batched: boolean;
  /** How messages are read: the serializer's kind, and whether they are batches. */
  #reading: Reading;
  #deflate: PerMessageDeflate | undefined;
  /** The server side's unmasked frames, shared for fan-out: plain, and compressed. */
  #plain: FrameCache | undefined;
  #deflated: FrameCache | undefined;
  #max: number;
  #log: TransportLog | undefined;
  #parser: FrameParser;
  #inbox: Inbox;
  #closed = false;
  #closeSent = false;
  #closeReceived = false;
  #failed = false;
  /** Whether a router's session has joined (`joined: false` until bound, on the server side). */
  #joining: { readonly joined?: boolean | undefined };
  #rest: Uint8Array = EMPTY; // the server side's bytes that came with the upgrade, read once bound
  /** This turn's batch, on a batched subprotocol: at most `maxMessageSize` bytes, framing included. */
  #batch: OutgoingBatch;
  #keepalive: Keepalive;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * Takes over a wire whose upgrade is done and reads `rest`.
   *
   * @param wire The stream.
   * @param options Side, serializer, limits, compression, keepalive.
   * @param rest Bytes that arrived after the handshake (frames).
   */
  constructor(wire: Wire, options: WebSocketPeerOptions, rest: Uint8Array = EMPTY) {
    this.#wire = wire;
    this.#inbox = new Inbox(wire.keepsReading ? undefined : wire);
    this.info = options.info;
    this.#serializer = options.serializer;
    this.#opcode = options.serializer.binary ? Opcode.BINARY : Opcode.TEXT;
    this.#client = options.role === "client";
    this.#batched = options.batched ?? false;
    this.#reading = { binary: options.serializer.binary, batched: this.#batched };
    this.subprotocol = options.serializer.subprotocol + (this.#batched ? BATCHED_SUFFIX : "");
    this.compression = options.deflate !== undefined;
    this.#deflate = options.deflate;
    ({ plain: this.#plain, deflated: this.#deflated } = sharedFrames(options));
    this.#max = options.maxMessageSize ?? 16 * 1024 * 1024;
    if (!this.#client) this.sendLimit = this.#max - batchFraming(this.#reading);
    this.#batch = new OutgoingBatch(this.#reading, this.#max);
    this.#log = options.log;
    const pingTimeout = options.pingTimeout ?? 10_000;
    this.#keepalive = new Keepalive({
      interval: options.pingInterval ?? 0,
      timeout: pingTimeout,
      ping: () => {
        if (this.#closeSent || this.#closed) return false;
        this.#wire.write(encodeFrame(Opcode.PING, EMPTY, { mask: this.#client }));
        return true;
      },
      dead: () => this.#fail(CloseCode.GOING_AWAY, `no answer to ping in ${pingTimeout} ms`),
    });
    this.#joining = this.#client ? {} : NOT_JOINED;
    this.#parser = new FrameParser(
      inTurn(this.#inbox, {
        message: (text, payload, compressed) => this.#message(text, payload, compressed),
        control: (opcode, payload) => this.#control(opcode, payload),
        error: (code, reason, refusal) =>
          refusal === undefined ? this.#fail(code, reason) : this.#refuse(refusal),
      }),
      {
        masked: !this.#client,
        maxMessageSize: this.#max,
        compression: this.compression,
        // Before its session joined, a message over 64 KiB is refused from its frame header.
        admit: (bytes) => preJoinFault(bytes, this.#joining),
      },
    );
    wire.bind({ data: (chunk) => this.#data(chunk), closed: () => this.#gone() });
    if (this.#closed) return;
    this.#keepalive.start();
    // The server side reads what came with the upgrade once bound: a HELLO there joins first.
    if (this.#client) this.#data(rest);
    else this.#rest = rest;
  }

  /**
   * Sets the handler and hands it what arrived before.
   *
   * @param handler Where messages and closure go.
   */
  bind(handler: PeerHandler): void {
    this.#joining = this.#inbox;
    this.#inbox.bind(handler, this.#closed);
    const rest = this.#rest;
    this.#rest = EMPTY;
    if (rest.length > 0 && !this.#closed) this.#data(rest);
  }

  /**
   * Queues a message: one WebSocket message, or a place in this turn's
   * batch on a batched subprotocol (a batch goes out at 64 KiB, and first
   * when the message would take it past `maxMessageSize`, framing
   * included). Never throws: an EVENT that cannot be encoded is dropped
   * with a log line, any other such message closes the connection (1011).
   *
   * @param msg The message.
   * @throws {MessageTooLargeError} On the server side, for a message over
   * `maxMessageSize`: nothing was sent, and the router decides.
   */
  send(msg: WampMessage): void {
    if (this.#closeSent || this.#closed) return;
    const plain = !this.#batched && this.#deflate === undefined ? this.#plain : undefined;
    const cached = plain?.get(msg);
    if (cached !== undefined) return this.#wire.write(this.#fits(cached, payloadLength(cached)), 1);
    let encoded: string | Uint8Array;
    try {
      encoded = encodeOnce(this.#serializer, msg);
    } catch (error) {
      const failure = encodeFailure(msg, error);
      this.#log?.("warn", `WebSocket ${this.info.peer ?? ""}: ${failure.message}`);
      if (!failure.drop) this.close(CloseCode.INTERNAL_ERROR, "cannot encode message");
      return;
    }
    if (plain !== undefined && typeof encoded === "string") {
      // JSON text framed as it is encoded: no byte array of its own, no copy.
      const frame = encodeTextFrame(encoded);
      if (frame !== undefined) {
        return this.#wire.write(this.#fits(plain.set(msg, frame), payloadLength(frame)), 1);
      }
    }
    const bytes = this.#fits(encodeBytes(this.#serializer, msg));
    if (this.#batched) {
      // Alone, its frame shared by a fan-out's batched links: a large message, or one compressed.
      const deflate = this.#deflate;
      if (
        bytes.length >= FLUSH_BYTES || (deflate !== undefined && compresses(bytes.length, deflate))
      ) {
        this.#flushBatch();
        const alone = (b: Uint8Array) => joinBatch([b], this.#serializer.binary);
        return this.#wire.write(this.#frameFor(msg, bytes, alone), 1);
      }
      if (!this.#batch.fits(bytes.length)) this.#flushBatch();
      if (this.#batch.length === 0) queueMicrotask(() => this.#flushBatch());
      this.#batch.add(bytes);
      if (this.#batch.bytes >= this.#wire.flushAt) this.#flushBatch();
      return;
    }
    this.#wire.write(this.#frameFor(msg, bytes), 1);
  }

  /** Returns `bytes`, unless `size` (theirs by default) is over the send limit. */
  #fits(bytes: Uint8Array, size = bytes.length): Uint8Array {
    const limit = this.sendLimit;
    if (limit !== undefined && size > limit) throw new MessageTooLargeError(size, limit);
    return bytes;
  }

  /**
   * How many bytes wait: in this turn's batch, in the wire, in the socket.
   *
   * @returns Bytes queued and not yet handed to the kernel.
   */
  backlog(): number {
    return this.#wire.queuedBytes() + this.#batch.bytes;
  }

  /**
   * How many messages wait as messages: in this turn's batch and in the
   * wire. Once handed to the socket they are bytes, counted by
   * {@linkcode WebSocketPeer.backlog}.
   *
   * @returns Messages queued and not yet handed to the socket.
   */
  queued(): number {
    return this.#wire.queuedMessages() + this.#batch.length;
  }

  /**
   * Starts the close handshake (idempotent): flushes what is queued, sends a
   * close frame, and ends the stream when the other side answers (or after 2 s).
   *
   * @param code The close code. @default {1000}
   * @param reason A short reason.
   */
  close(code: number = CloseCode.NORMAL, reason = ""): void {
    if (this.#closeSent || this.#closed) return;
    this.#sendClose(code, reason);
    if (this.#closeReceived) this.#wire.end();
    else this.#closeTimer = setTimeout(() => this.#wire.end(), CLOSE_WAIT);
  }

  /** The frame of `bytes` (or of what `wrap` makes of them), shared on the server side for fan-out. */
  #frameFor(msg: WampMessage, bytes: Uint8Array, wrap = (b: Uint8Array) => b): Uint8Array {
    const deflate = this.#deflate;
    const compress = deflate !== undefined && compresses(bytes.length, deflate);
    const cache = compress ? this.#deflated : this.#plain;
    if (cache === undefined) return this.#frame(wrap(bytes), compress); // the client side masks
    return cache.get(msg) ?? cache.set(msg, this.#frame(wrap(bytes), compress));
  }

  /** Frames one message payload, compressed when that makes it smaller. */
  #frame(payload: Uint8Array, compress: boolean): Uint8Array {
    if (compress) {
      const packed = deflateMessage(payload, this.#deflate!);
      // Sent as it is when a peer of ours would refuse it inflated (see inflatedLimit).
      if (
        packed.length < payload.length && inflatedLimit(packed.length, Infinity) >= payload.length
      ) {
        return encodeFrame(this.#opcode, packed, { mask: this.#client, compressed: true });
      }
    }
    return encodeFrame(this.#opcode, payload, { mask: this.#client });
  }

  #flushBatch(): void {
    const count = this.#batch.length;
    if (count === 0) return;
    const payload = this.#batch.take();
    if (this.#closed) return;
    // Uncompressed: what is compressed goes alone (see send()), once for a whole fan-out.
    this.#wire.write(this.#frame(payload, false), count);
  }

  #sendClose(code: number, reason: string): void {
    this.#flushBatch();
    this.#closeSent = true;
    this.#keepalive.stop();
    const payload = code === CloseCode.NO_STATUS ? EMPTY : closePayload(code, reason);
    this.#wire.write(encodeFrame(Opcode.CLOSE, payload, { mask: this.#client }));
  }

  #data(chunk: Uint8Array): void {
    this.#keepalive.heard();
    this.#parser.push(chunk);
  }

  #message(text: boolean, payload: Uint8Array, compressed: boolean): void {
    if (this.#failed || this.#closeReceived) return;
    // Admitted at its header; the session may have left since (a GOODBYE just before it).
    const refused = preJoinFault(payload.byteLength, this.#joining);
    if (refused !== undefined) return this.#refuse(refused);
    const early = compressed && this.#joining.joined === false;
    const side = this.#client ? "client" : early ? "joining" : "router";
    const inflateTo = compressed ? inflateLimit(payload.length, this.#max, side) : undefined;
    if (inflateTo === undefined && !this.#batched) {
      // Most messages: one part, read as it came (no list, no inflating).
      const data = payloadData(text, payload, this.#reading.binary);
      return data === undefined ? this.#fail(NOT_UTF8.code, NOT_UTF8.reason) : this.#decode(data);
    }
    const parts = messageParts(text, payload, inflateTo, this.#reading);
    if ("code" in parts && parts.code === CloseCode.TOO_BIG && early) {
      return this.#refuse(new PreJoinSizeError(`${payload.length} bytes, more inflated`));
    }
    if ("code" in parts) return this.#fail(parts.code, parts.reason);
    this.#parts(parts, 0);
  }

  /** Decodes parts from `from` on; past the turn's time the rest (copied once) waits its turn. */
  #parts(parts: (string | Uint8Array)[], from: number, owned = false): void {
    for (let i = from; i < parts.length; i++) {
      // What arrived before the connection went is handled, as a single message is.
      if (this.#failed) return;
      if (i > from && this.#inbox.waiting) {
        const rest = owned
          ? parts
          : parts.slice(i).map((p) => typeof p === "string" ? p : p.slice());
        return this.#inbox.defer(() => this.#parts(rest, owned ? i : 0, true));
      }
      this.#decode(parts[i]!);
    }
  }

  #decode(data: string | Uint8Array): void {
    let msg: WampMessage;
    try {
      // A batch's part too: a GOODBYE part before it ends the session (characters for text).
      const refused = preJoinFault(data.length, this.#joining);
      if (refused !== undefined) throw refused;
      msg = this.#serializer.decode(data, !this.#client); // strict at a router's ingress
    } catch (error) {
      return this.#refuse(error);
    }
    this.#inbox.deliver(msg);
  }

  /** Fails the session with ABORT for a message it may not send (the connection closes after). */
  #refuse(error: unknown): void {
    this.#failed = true;
    this.#inbox.fail(error);
  }

  #control(opcode: number, payload: Uint8Array): void {
    // A PONG is a reply to what was read: reading stops at the outbound limit, and
    // a peer that still gets maxBacklog of PONGs queued past it is closed.
    if (opcode === Opcode.PING && !this.#closeSent) {
      return void this.#wire.reply(encodeFrame(Opcode.PONG, payload, { mask: this.#client }));
    }
    if (opcode !== Opcode.CLOSE) return; // a pong: any arrival proves the peer alive
    const parsed = parseClosePayload(payload);
    if ("error" in parsed) return this.#fail(parsed.error, parsed.reason);
    this.#closeReceived = true;
    this.#parser.stop();
    if (!this.#closeSent) this.#sendClose(parsed.code, ""); // echo the code
    clearTimeout(this.#closeTimer);
    this.#wire.end();
  }

  /** Closes on a protocol error: a close frame with `code`, then the stream ends. */
  #fail(code: number, reason: string): void {
    this.#failed = true;
    this.#parser.stop();
    this.#log?.("info", `WebSocket ${this.info.peer ?? ""}: ${reason}: closing with ${code}`);
    if (!this.#closeSent) this.#sendClose(code, reason);
    clearTimeout(this.#closeTimer);
    this.#wire.end();
  }

  #gone(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#keepalive.stop();
    clearTimeout(this.#closeTimer);
    this.#parser.stop();
    this.#batch.clear();
    this.#inbox.closed();
  }
}
