/**
 * WAMP over HTTP long-poll, client side: a {@linkcode Link} made of one
 * `receive` request held open at a time and `send` requests posted one
 * after another, so that messages arrive in the order they were sent.
 *
 * @module
 */

import {
  type Link,
  type PeerHandler,
  ProtocolViolationError,
  type Serializer,
  type SerializerName,
  serializers as allSerializers,
  TransportError,
  type TransportInfo,
  type WampMessage,
} from "../../wamp/mod.ts";
import { Inbox } from "../stream/inbox.ts";
import { encodeOwnedBytes } from "../stream/encode.ts";
import { splitBatchedBody } from "../stream/batched.ts";
import { OutgoingBatch } from "../stream/outgoing_batch.ts";
import { readBounded } from "../stream/bytes.ts";

/** Options for {@linkcode connectLongPoll}. */
export interface ConnectLongPollOptions {
  /**
   * Serializers to offer, most preferred first.
   * @default {["json", "msgpack", "cbor"]}
   */
  serializers?: SerializerName[];
  /**
   * Whether to offer the batched variants (preferred to the plain ones):
   * then everything queued while a `send` is under way goes in the next one.
   * @default {true}
   */
  batched?: boolean;
  /** Aborts opening the transport. */
  signal?: AbortSignal;
  /**
   * How long opening the transport (`open` and its answer) may take, in
   * ms.
   * @default {10000}
   */
  handshakeTimeout?: number;
  /** Extra CA certificates (PEM) trusted for `https:` URLs. */
  caCerts?: string[];
  /**
   * The largest incoming message, in bytes. A `receive` body over it (a batched one, which may
   * hold up to 1024 messages: over 4 times it) is not read further and fails the transport as a
   * protocol violation. Batched, also the largest `send` body, framing included (a message alone
   * may be larger): the router reads a body whole against its own limit.
   * @default {16777216}
   */
  maxMessageSize?: number;
}

/** The largest answer to `open` read, in bytes. */
const OPEN_LIMIT = 64 * 1024;

/** A `204` sooner than this after its `receive` was a quick one, in ms. */
const QUICK_204 = 100;

/** The first and the longest wait before polling again after quick 204s, in ms. */
const BACKOFF = { first: 25, max: 2000 };

/** How long `close` may take before the transport is given up, in ms. */
const CLOSE_TIMEOUT = 5000;
const EMPTY = new Uint8Array(0);

/**
 * Opens a WAMP HTTP long-poll transport (`POST <url>/open`) and starts
 * receiving.
 *
 * @param url The base URL of the long-poll service, e.g. `http://127.0.0.1:8080/lp`.
 * @param options Serializers, batching, abort signal, CA certificates, size limit.
 * @returns The open link.
 * @throws {TransportError} When the URL is not `http:` or `https:`, the
 * request fails, or the server answers with an error or a protocol we did
 * not offer.
 *
 * @example
 * ```ts
 * import { connectLongPoll } from "./client.ts";
 * import { LongPollService } from "./server.ts";
 * import { Router } from "../../router/mod.ts";
 * import { Session } from "../../client/session.ts";
 * import { equal } from "node:assert/strict";
 *
 * const router = new Router({ realms: [{ name: "realm1" }] });
 * const service = new LongPollService(router);
 * const server = Deno.serve({ port: 0, onListen() {} }, (req) => service.handle(req));
 * const link = await connectLongPoll(`http://127.0.0.1:${server.addr.port}/lp`);
 * const session = await Session.join(link, { realm: "realm1" });
 * equal(session.realm, "realm1");
 * await session.close();
 * service.close();
 * await router.close();
 * await server.shutdown();
 * ```
 */
export async function connectLongPoll(
  url: string,
  options: ConnectLongPollOptions = {},
): Promise<Link> {
  const base = url.replace(/\/+$/, "");
  const scheme = URL.parse(base)?.protocol;
  if (scheme !== "http:" && scheme !== "https:") {
    throw new TransportError(`Cannot connect to ${url}: unsupported scheme "${scheme}"`);
  }
  const offered = new Map<string, { serializer: Serializer; batched: boolean }>();
  for (const name of options.serializers ?? ["json", "msgpack", "cbor"]) {
    const serializer = allSerializers[name];
    if (options.batched ?? true) {
      offered.set(`${serializer.subprotocol}.batched`, { serializer, batched: true });
    }
    offered.set(serializer.subprotocol, { serializer, batched: false });
  }
  if (options.caCerts !== undefined && typeof globalThis.Deno?.createHttpClient !== "function") {
    throw new TransportError(
      `Cannot connect to ${url}: a private CA for long-poll needs Deno (elsewhere, fetch trusts the system's CAs)`,
    );
  }
  const client = options.caCerts === undefined
    ? undefined
    : Deno.createHttpClient({ caCerts: options.caCerts });
  let opened: { protocol?: unknown; transport?: unknown };
  // The caller's signal, or the handshake timeout: a router that never answers fails the open.
  const timeout = options.handshakeTimeout ?? 10_000;
  const abort = new AbortController();
  const stop = () => abort.abort(options.signal?.reason);
  const timer = setTimeout(
    () => abort.abort(new Error(`no answer to open in ${timeout} ms`)),
    timeout,
  );
  options.signal?.addEventListener("abort", stop, { once: true });
  if (options.signal?.aborted) stop();
  try {
    const res = await fetch(`${base}/open`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ protocols: [...offered.keys()] }),
      signal: abort.signal,
      ...(client === undefined ? {} : { client }),
    });
    const text = new TextDecoder().decode(await readBody(res, OPEN_LIMIT, "answer to open"));
    if (res.status !== 200) throw new Error(`HTTP ${res.status} ${text.trim()}`);
    opened = JSON.parse(text);
  } catch (error) {
    client?.close();
    const cause = abort.signal.aborted ? abort.signal.reason : error;
    const message = cause instanceof Error ? cause.message : String(cause);
    throw new TransportError(`Cannot connect to ${url}: ${message}`, { cause });
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", stop);
  }
  const chosen = typeof opened.protocol === "string" ? offered.get(opened.protocol) : undefined;
  const transport = opened.transport;
  if (chosen === undefined || typeof transport !== "string" || !/^[\w-]+$/.test(transport)) {
    client?.close();
    throw new TransportError(
      `Cannot connect to ${url}: unexpected answer ${JSON.stringify(opened)}`,
    );
  }
  const maxMessageSize = options.maxMessageSize ?? 16 * 1024 * 1024;
  return new LongPollLink(`${base}/${transport}`, chosen, maxMessageSize, client);
}

/**
 * Reads a response body, at most `limit` bytes (with a reader, not async
 * iteration, which not every browser has).
 *
 * @param res The response.
 * @param limit The most bytes read.
 * @param what What the body is, for the error.
 * @returns The body.
 * @throws {ProtocolViolationError} When it is longer: it is canceled.
 */
async function readBody(res: Response, limit: number, what: string): Promise<Uint8Array> {
  const body = await readBounded(res, limit);
  if (body === undefined) throw new ProtocolViolationError(`${what} over ${limit} bytes`);
  return body;
}

/** A long-poll transport, client side. */
class LongPollLink implements Link {
  readonly info: TransportInfo;
  #url: string;
  #serializer: Serializer;
  #batch: OutgoingBatch; // the next `send` body: at most maxMessageSize bytes, framing included
  #maxMessageSize: number;
  #client: Deno.HttpClient | undefined;
  #inbox = new Inbox();
  #outbox: Uint8Array[] = [];
  #outBytes = 0;
  #posting = { messages: 0, bytes: 0 };
  #sending = false;
  #state: "open" | "closing" | "closed" = "open";
  #reported = false;
  /** `close()`'s deadline: the transport is over then, whatever the server still holds. */
  #closing: ReturnType<typeof setTimeout> | undefined;
  #abort = new AbortController();
  /** The receive loop, the send loop and the close request, while they run. */
  #tasks = new Set<Promise<void>>();

  constructor(
    url: string,
    { serializer, batched }: { serializer: Serializer; batched: boolean },
    maxMessageSize: number,
    client?: Deno.HttpClient,
  ) {
    this.#url = url;
    this.#serializer = serializer;
    this.#batch = new OutgoingBatch({ binary: serializer.binary, batched }, maxMessageSize);
    this.#maxMessageSize = maxMessageSize;
    this.#client = client;
    this.info = {
      type: "longpoll",
      serializer: serializer.name,
      peer: url.slice(0, url.lastIndexOf("/")), // the transport ID stays out of session details
    };
    this.#task(this.#receiveLoop());
  }

  bind(handler: PeerHandler): void {
    this.#inbox.bind(handler, false);
    if (this.#state === "closed" && this.#tasks.size === 0) this.#report();
  }

  send(msg: WampMessage): void {
    if (this.#state !== "open") return;
    let bytes: Uint8Array;
    try {
      bytes = encodeOwnedBytes(this.#serializer, msg); // one copy per message, shared by every queue
    } catch {
      return; // Peer.send never throws
    }
    this.#outbox.push(bytes); // kept until posted: never a view of shared memory
    this.#outBytes += bytes.byteLength;
    if (!this.#sending) {
      this.#sending = true;
      // Start on the next microtask, so a batch takes the whole turn's messages.
      this.#task(Promise.resolve().then(() => this.#sendLoop()));
    }
  }

  backlog(): number {
    return this.#outBytes + this.#posting.bytes;
  }

  queued(): number {
    return this.#outbox.length + this.#posting.messages;
  }

  /** Sends what is queued, then posts `close`; over in `CLOSE_TIMEOUT` whatever the server holds. */
  close(): void {
    if (this.#state !== "open") return;
    this.#state = "closing";
    this.#closing = setTimeout(() => this.#gone(), CLOSE_TIMEOUT);
    if (!this.#sending) this.#task(this.#postClose());
  }

  #task(work: Promise<void>): void {
    this.#tasks.add(work);
    work.finally(() => this.#tasks.delete(work));
  }

  async #post(op: string, body?: Uint8Array, signal?: AbortSignal): Promise<Response> {
    return await fetch(`${this.#url}/${op}`, {
      method: "POST",
      headers: {
        "content-type": this.#serializer.binary ? "application/octet-stream" : "application/json",
      },
      ...(body === undefined ? {} : { body: body as Uint8Array<ArrayBuffer> }),
      signal: signal ?? this.#abort.signal,
      ...(this.#client === undefined ? {} : { client: this.#client }),
    });
  }

  async #sendLoop(): Promise<void> {
    while (this.#outbox.length > 0 && this.#state !== "closed") {
      this.#batch.addFrom(this.#outbox);
      this.#outBytes -= this.#batch.bytes;
      const messages = this.#batch.length;
      const body = this.#batch.take();
      this.#posting = { messages, bytes: body.byteLength };
      let status: number;
      try {
        const res = await this.#post("send", body);
        status = res.status;
        await res.body?.cancel();
      } catch {
        status = 0; // network error, or aborted because the transport closed
      }
      this.#posting = { messages: 0, bytes: 0 };
      // 400 and 413: the server fails the session and says why on the receive side.
      if (status === 0 || status === 404 || status === 410) return this.#gone();
    }
    this.#sending = false;
    if (this.#state === "closing") await this.#postClose();
  }

  async #receiveLoop(): Promise<void> {
    const limit = this.#maxMessageSize * (this.#batch.batched ? 4 : 1);
    let wait = 0; // after quick empty answers (204, or 200 with nothing), a growing pause
    while (this.#state !== "closed") {
      let body: Uint8Array;
      try {
        const started = Date.now();
        const res = await this.#post("receive");
        if (res.status !== 200 && res.status !== 204) break; // 404: the transport is gone
        body = res.status === 200 ? await readBody(res, limit, "receive body") : EMPTY;
        if (res.status === 204) await res.body?.cancel();
        if (body.byteLength === 0) {
          wait = Date.now() - started >= QUICK_204
            ? 0
            : Math.min(BACKOFF.max, 2 * wait || BACKOFF.first);
          if (wait > 0) await this.#pause(wait);
          continue;
        }
        wait = 0;
      } catch (error) {
        if (error instanceof ProtocolViolationError) this.#inbox.fail(error);
        break;
      }
      this.#received(body);
    }
    this.#gone();
  }

  /** Waits `ms`, or less when the transport closes. */
  #pause(ms: number): Promise<void> {
    const signal = this.#abort.signal;
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done);
    });
  }

  #received(body: Uint8Array): void {
    let messages: WampMessage[];
    try {
      const frames = this.#batch.batched ? splitBatchedBody(this.#serializer, body) : [body];
      messages = frames.map((frame) => this.#serializer.decode(frame, false)); // from the router
    } catch (error) {
      return this.#inbox.fail(error);
    }
    for (const msg of messages) this.#inbox.deliver(msg);
  }

  async #postClose(): Promise<void> {
    if (this.#state === "closed") return;
    // Ends at CLOSE_TIMEOUT, or at close()'s deadline when a send held it up (#gone aborts).
    const done = new AbortController();
    const stop = () => done.abort();
    this.#abort.signal.addEventListener("abort", stop);
    const timer = setTimeout(stop, CLOSE_TIMEOUT);
    try {
      const res = await this.#post("close", undefined, done.signal);
      await res.body?.cancel();
    } catch {
      // gone already
    } finally {
      clearTimeout(timer);
      this.#abort.signal.removeEventListener("abort", stop);
    }
    this.#gone();
  }

  /**
   * The transport is over: stops both loops, then (once their requests
   * have settled) closes the HTTP client and tells the handler.
   */
  #gone(): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    clearTimeout(this.#closing);
    this.#outbox = [];
    this.#outBytes = 0;
    this.#abort.abort();
    Promise.allSettled(this.#tasks).then(() => {
      this.#client?.close();
      this.#report();
    });
  }

  #report(): void {
    if (this.#reported || !this.#inbox.bound) return;
    this.#reported = true;
    this.#inbox.closed();
  }
}
