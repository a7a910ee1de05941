/**
 * One WAMP-over-HTTP long-poll transport, server side: the
 * {@linkcode Peer} the router sees, its outbound queue, and the held
 * `receive` request that takes from it. `server.ts` routes the HTTP
 * requests to it.
 *
 * @module
 */

import {
  MessageTooLargeError,
  type Peer,
  type PeerHandler,
  ProtocolViolationError,
  type Serializer,
  type TransportInfo,
  type TransportLog,
  type WampMessage,
} from "../../wamp/mod.ts";
import { batchFraming, splitBatchedBody } from "../stream/batched.ts";
import { OutgoingBatch } from "../stream/outgoing_batch.ts";
import { Inbox } from "../stream/inbox.ts";
import { PRE_JOIN_SIZE, preJoinFault, PreJoinSizeError } from "../stream/arrival.ts";
import { encodeFailure, encodeOwnedBytes } from "../stream/encode.ts";
import { SendGate } from "./send_gate.ts";

/** The largest `send` body before the session joined: one message and a batch's 4-byte prefix. */
export const PRE_JOIN_BODY = PRE_JOIN_SIZE + 4;

/** A transport ID: 24 random bytes, base64url; the only credential a transport has. */
function newTransportId(): string {
  return crypto.getRandomValues(new Uint8Array(24)).toBase64({
    alphabet: "base64url",
    omitPadding: true,
  });
}

/**
 * A plain-text (or empty) HTTP answer.
 *
 * @param status The HTTP status.
 * @param headers The headers, completed with the content type.
 * @param text One line, without its newline.
 * @returns The response.
 */
export function answer(status: number, headers: Headers, text?: string): Response {
  if (text !== undefined) headers.set("content-type", "text/plain; charset=utf-8");
  return new Response(text === undefined ? null : `${text}\n`, { status, headers });
}

/** The text of each status a `send` may be refused or answered with. */
const FAILURES: Record<number, string> = {
  400: "Cannot decode the WAMP message",
  404: "No such WAMP transport",
  408: "Request body timeout",
  413: "Request body too large",
  429: "Too many sends waiting for this WAMP transport",
  500: "Internal error",
};

/**
 * {@linkcode answer} with the text for `status` of a `send` that did not
 * deliver (400, 404, 408, 413, 429, 500).
 *
 * @param status The HTTP status.
 * @param headers The headers.
 * @returns The response.
 */
export function refusal(status: number, headers: Headers): Response {
  return answer(status, headers, FAILURES[status]);
}

/** What a transport needs from its service. */
export interface TransportHost {
  /** What transport IDs start with (`w<n>-` under a relay, else nothing). */
  readonly idPrefix: string;
  /** Milliseconds a `receive` is held while nothing is queued (0: until something is). */
  readonly pollTimeout: number;
  /** Milliseconds without a request before the transport closes (0: never). */
  readonly sessionTimeout: number;
  /** The service's `maxMessageSize`: the largest message sent to the client, and batched answer. */
  readonly maxMessageSize: number;
  /** Where messages that cannot be encoded are logged. */
  readonly log: TransportLog | undefined;
  /** The transport closed: forget it (its ID, and its peer's count). */
  gone(transport: LongPollTransport): void;
}

/** A held `receive`. */
interface Parked {
  resolve(response: Response): void;
  headers: Headers;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Stops listening for the request's connection to close. */
  unwatch: (() => void) | undefined;
}

/** One long-poll transport: the {@linkcode Peer} the router sees, plus its outbound queue. */
export class LongPollTransport implements Peer {
  /** Transport details. */
  readonly info: TransportInfo;
  /** The transport ID, in its URLs. */
  readonly id: string;
  /** The negotiated serializer. */
  readonly serializer: Serializer;
  /** Whether the subprotocol is the batched variant. */
  readonly batched: boolean;
  /** Open; closing (ends once the client has what is queued); closed. */
  state: "open" | "closing" | "closed" = "open";
  /**
   * The largest message sent to the client: the service's `maxMessageSize`,
   * less what a batched answer adds to a message (its 4-byte length, or
   * the 0x1E after JSON), so that one message alone fits in an answer.
   */
  readonly sendLimit: number;
  /** Its `send` requests' turn: one is read and delivered at a time, in the order they arrived. */
  readonly sends: SendGate = new SendGate();
  /** What the client sent, on its way to the router (a body's turn of the event loop is bounded). */
  #inbox = new Inbox({ hold() {}, drained: () => Promise.resolve() });
  #queue: Uint8Array[] = [];
  #bytes = 0;
  #parked: Parked | undefined;
  #idle: ReturnType<typeof setTimeout> | undefined;
  #service: TransportHost;

  /**
   * Creates a transport with a fresh random ID.
   *
   * @param serializer The negotiated serializer.
   * @param batched Whether the subprotocol is the batched variant.
   * @param remote The remote address, for session details.
   * @param service Timeouts, log, and what to tell when it closes.
   */
  constructor(
    serializer: Serializer,
    batched: boolean,
    remote: string | undefined,
    service: TransportHost,
  ) {
    this.id = service.idPrefix + newTransportId();
    this.serializer = serializer;
    this.batched = batched;
    this.#service = service;
    const framing = batchFraming({ binary: serializer.binary, batched });
    this.sendLimit = Math.max(0, service.maxMessageSize - framing);
    this.info = {
      type: "longpoll",
      serializer: serializer.name,
      ...(remote === undefined ? {} : { peer: remote }),
    };
  }

  /**
   * Queues a message for the next `receive`. An EVENT that cannot be
   * encoded is dropped with a log line, anything else that cannot be
   * encoded closes the transport.
   *
   * @param msg The message.
   * @throws {MessageTooLargeError} For a message over
   * {@linkcode LongPollTransport.sendLimit}: nothing was queued, and the
   * router decides (it drops an EVENT, answers a call with
   * `wamp.error.payload_size_exceeded`), as for a WebSocket.
   */
  send(msg: WampMessage): void {
    if (this.state !== "open") return;
    let bytes: Uint8Array;
    try {
      bytes = encodeOwnedBytes(this.serializer, msg); // one copy per message, shared by every queue
    } catch (error) {
      // Peer.send never throws: drop an EVENT for this recipient only, and
      // close on anything else rather than leave a caller or callee waiting.
      const failure = encodeFailure(msg, error);
      this.#service.log?.("warn", `Long-poll ${this.info.peer ?? ""}: ${failure.message}`);
      if (!failure.drop) this.close();
      return;
    }
    if (bytes.byteLength > this.sendLimit) {
      throw new MessageTooLargeError(bytes.byteLength, this.sendLimit);
    }
    this.#queue.push(bytes); // kept until polled: never a view of shared memory
    this.#bytes += bytes.byteLength;
    if (this.#parked !== undefined) this.#unpark(this.#take(this.#parked.headers));
  }

  /**
   * Bytes queued for the client.
   *
   * @returns The byte count.
   */
  backlog(): number {
    return this.#bytes;
  }

  /**
   * Messages queued for the client.
   *
   * @returns The message count.
   */
  queued(): number {
    return this.#queue.length;
  }

  /** Ends the transport once the client has received what is queued. */
  close(): void {
    if (this.state !== "open") return;
    this.state = "closing";
    if (this.#queue.length === 0) this.destroy();
    else if (this.#parked !== undefined) this.#unpark(this.#take(this.#parked.headers));
  }

  /** Restarts the inactivity timer. */
  touch(): void {
    clearTimeout(this.#idle);
    if (this.#service.sessionTimeout <= 0 || this.state === "closed") return;
    this.#idle = setTimeout(() => {
      if (this.#parked !== undefined) this.touch(); // a client that holds a receive is alive
      else this.destroy();
    }, this.#service.sessionTimeout);
  }

  /**
   * Answers a `receive`: at once when something is queued, else when
   * something is, or with 204 after the poll timeout. A newer `receive`
   * ends an older one with 204, and so does the end of its connection
   * (`closed`), without taking anything from the queue.
   *
   * @param headers The answer's headers.
   * @param closed Aborts when the request's connection closes: the
   * listener's, not `request.signal` under `Deno.serve` (touching it
   * prints a warning about its legacy semantics); without it, a receive
   * abandoned by its client takes the next message to a dead connection.
   * @returns The answer.
   */
  receive(headers: Headers, closed?: AbortSignal): Promise<Response> {
    this.touch();
    if (this.#parked !== undefined) this.#unpark(answer(204, this.#parked.headers));
    if (closed?.aborted) return Promise.resolve(answer(204, headers));
    if (this.#queue.length > 0) return Promise.resolve(this.#take(headers));
    return new Promise((resolve) => {
      const timeout = this.#service.pollTimeout;
      const end = () => {
        if (this.#parked === parked) this.#unpark(answer(204, headers));
      };
      const timer = timeout > 0 ? setTimeout(end, timeout) : undefined;
      closed?.addEventListener("abort", end, { once: true });
      const unwatch = closed && (() => closed.removeEventListener("abort", end));
      const parked: Parked = { resolve, headers, timer, unwatch };
      this.#parked = parked;
    });
  }

  /** Closes at once, dropping what is queued; a held `receive` gets 404. Idempotent. */
  destroy(): void {
    if (this.state === "closed") return;
    this.state = "closed";
    clearTimeout(this.#idle);
    this.#queue = [];
    this.#bytes = 0;
    if (this.#parked !== undefined) {
      this.#unpark(answer(404, this.#parked.headers, "WAMP transport closed"));
    }
    this.#service.gone(this);
    this.sends.close();
    this.#inbox.closed();
  }

  #unpark(response: Response): void {
    const parked = this.#parked;
    if (parked === undefined) return;
    this.#parked = undefined;
    clearTimeout(parked.timer);
    parked.unwatch?.();
    parked.resolve(response);
    this.touch();
  }

  /**
   * Takes one queued message as a response, or batched, up to 1024 of
   * them within the service's `maxMessageSize` bytes, framing included (at
   * least one, which {@linkcode LongPollTransport.sendLimit} keeps within
   * it): a client that accepts a message of that size accepts the batch,
   * which before had no cap (1024 messages of 16 MiB each).
   */
  #take(headers: Headers): Response {
    const link = { binary: this.serializer.binary, batched: this.batched };
    const batch = new OutgoingBatch(link, this.#service.maxMessageSize);
    batch.addFrom(this.#queue);
    this.#bytes -= batch.bytes;
    const body = batch.take();
    headers.set(
      "content-type",
      this.serializer.binary ? "application/octet-stream" : "application/json; charset=utf-8",
    );
    if (this.state === "closing" && this.#queue.length === 0) queueMicrotask(() => this.destroy());
    return new Response(body as Uint8Array<ArrayBuffer>, { status: 200, headers });
  }

  /**
   * Sets where messages and closure go, once the router has attached it.
   *
   * @param handler The router's handler for this transport.
   */
  bind(handler: PeerHandler): void {
    this.#inbox.bind(handler, this.state === "closed");
  }

  /**
   * The largest `send` body taken now.
   *
   * @param max The service's `maxMessageSize`.
   * @returns `max`, or one message of 64 KiB before the session joined.
   */
  bodyLimit(max: number): number {
    return this.#inbox.joined === false ? Math.min(max, PRE_JOIN_BODY) : max;
  }

  /**
   * Ends the session for a `send` body over {@linkcode LongPollTransport.bodyLimit},
   * which is not read (ABORT `wamp.error.protocol_violation`).
   *
   * @param limit The body limit it is over.
   * @param max The service's `maxMessageSize`.
   * @param size The body's size, when its head says it.
   * @returns 413, the request's answer.
   */
  refuseBody(limit: number, max: number, size?: number): 413 {
    this.fail(
      limit < max
        ? new PreJoinSizeError(size ?? "a larger body")
        : new ProtocolViolationError(`Message larger than ${max} bytes`),
    );
    return 413;
  }

  /**
   * Hands the router a failure (a body over the size limit): it ends the session.
   *
   * @param error Why.
   */
  fail(error: ProtocolViolationError): void {
    this.#inbox.deliver(error);
  }

  /**
   * Hands a `send` body to the router. A body whose messages keep the
   * router past one turn of the event loop goes on in later turns; the
   * answer waits for its last message.
   *
   * @returns The HTTP status: 204, or 400 when it did not decode.
   */
  async deliver(body: Uint8Array): Promise<number> {
    if (this.state !== "open") return 204; // closing: the router no longer listens
    let status = 204;
    const take = (frame: string | Uint8Array) => {
      if (status !== 204 || this.state !== "open") return;
      try {
        const refused = preJoinFault(frame.length, this.#inbox);
        if (refused !== undefined) throw refused;
        this.#inbox.deliver(this.serializer.decode(frame));
      } catch (error) {
        this.#inbox.fail(error);
        status = 400;
      }
    };
    let frames: (string | Uint8Array)[];
    try {
      frames = this.batched ? splitBatchedBody(this.serializer, body) : [body];
    } catch (error) {
      this.#inbox.fail(error);
      return 400;
    }
    // Decoded one at a time, as a stream link does: past the turn, the rest waits undecoded.
    for (const frame of frames) {
      if (this.#inbox.waitsFor(frame.length)) this.#inbox.defer(() => take(frame));
      else take(frame);
    }
    await this.#inbox.drained();
    return status;
  }
}
