/**
 * WAMP over HTTP long-poll, server side: a fetch-style handler that serves
 * `POST <path>/open`, `<path>/<transport>/send`, `…/receive` and `…/close`
 * and attaches each transport to a router, as described in the WAMP spec's
 * [HTTP Longpoll Transport](https://wamp-proto.org/wamp_latest_ietf.html#name-http-longpoll-transport).
 *
 * @module
 */

import {
  type AttachOptions,
  knownPeer,
  type PeerAcceptor,
  type Serializer,
  serializers as allSerializers,
} from "../../wamp/mod.ts";
import { originPolicy } from "../stream/origin.ts";
import type { HttpRequestHead } from "../stream/http.ts";
import type { Admitted } from "../stream/http_routes.ts";
import { answer, LongPollTransport, refusal, type TransportHost } from "./link.ts";
import { chosenProtocol, servesPath, standardHeaders } from "./http.ts";
import { BODY_TIMEOUT, readWithin } from "../stream/bytes.ts";
import { ownerOf } from "./relay.ts";
import type { LongPollOptions, LongPollRequestOptions } from "./options.ts";
import { SourceLimit } from "../sources.ts";
import { admitSend, sendTurn } from "./send_gate.ts";
import { Forwarder } from "./forwarder.ts";

export type { LongPollOptions, LongPollRequestOptions } from "./options.ts";

const MAX_OPEN_BODY = 64 * 1024;

/**
 * Serves WAMP over HTTP long-poll and attaches each transport to a router.
 * Mount it in any fetch-style server; `handles()` says which requests are
 * its own.
 *
 * `send` and `close` answer 204 (No Content): the spec's "202 (no
 * content)" names 204, and Crossbar sends 204, the only success status
 * besides 200 that Autobahn|JS accepts. CORS headers echo the request's
 * `Origin` with credentials allowed, as Crossbar does (the transport ID,
 * 24 random bytes, is the only credential), once the Origin passes
 * `allowedOrigins`; a disallowed Origin gets 403 on every path.
 *
 * @example
 * ```ts
 * import { LongPollService } from "./server.ts";
 * import { Router } from "../../router/mod.ts";
 * import { deepEqual, equal } from "node:assert/strict";
 *
 * const router = new Router({ realms: [{ name: "realm1" }] });
 * const service = new LongPollService(router);
 * const res = await service.handle(
 *   new Request("http://localhost/lp/open", {
 *     method: "POST",
 *     body: JSON.stringify({ protocols: ["wamp.2.cbor"] }),
 *   }),
 * );
 * const opened = await res.json();
 * equal(res.status, 200);
 * deepEqual(opened.protocol, "wamp.2.cbor");
 * equal(service.size, 1);
 * service.close();
 * await router.close();
 * ```
 */
export class LongPollService {
  #acceptor: PeerAcceptor;
  #path: string;
  #offered = new Map<string, { serializer: Serializer; batched: boolean }>();
  #maxMessageSize: number;
  #maxTransports: number;
  #bodyTimeout: number;
  #attach: AttachOptions | undefined;
  #transports = new Map<string, LongPollTransport>();
  #sources: SourceLimit;
  #timing: TransportHost;
  #originAllowed: (origin: string) => boolean;
  #relay: LongPollOptions["relay"];
  /** Requests for other workers' transports, passed on (under a relay). */
  #forwarder: Forwarder | undefined;
  #closed = false;

  /**
   * Creates the service.
   *
   * @param acceptor What transports attach to (a router).
   * @param options Path, serializers, limits, timeouts.
   * @throws {TypeError} When the path does not start with "/".
   * @throws {RangeError} When a limit or timeout is negative.
   */
  constructor(acceptor: PeerAcceptor, options: LongPollOptions = {}) {
    this.#acceptor = acceptor;
    const path = options.path ?? "/lp";
    if (!path.startsWith("/")) {
      throw new TypeError(`Cannot serve long-poll on path "${path}": it must start with "/"`);
    }
    this.#path = path.replace(/\/+$/, "");
    for (const name of options.serializers ?? ["json", "msgpack", "cbor"]) {
      const serializer = allSerializers[name];
      this.#offered.set(serializer.subprotocol, { serializer, batched: false });
      if (options.batched ?? true) {
        this.#offered.set(`${serializer.subprotocol}.batched`, { serializer, batched: true });
      }
    }
    const numbers = {
      maxMessageSize: options.maxMessageSize ?? 16 * 1024 * 1024,
      pollTimeout: options.pollTimeout ?? 10_000,
      sessionTimeout: options.sessionTimeout ?? 60_000,
      maxTransports: options.maxTransports ?? 0,
      maxTransportsPerSource: options.maxTransportsPerSource ?? 16,
      bodyTimeout: options.bodyTimeout ?? BODY_TIMEOUT,
    };
    for (const [key, value] of Object.entries(numbers)) {
      if (!(value >= 0)) throw new RangeError(`Cannot use ${key} ${value}: it must be at least 0`);
    }
    this.#maxMessageSize = numbers.maxMessageSize;
    this.#maxTransports = numbers.maxTransports;
    this.#bodyTimeout = numbers.bodyTimeout;
    this.#sources = new SourceLimit(numbers.maxTransportsPerSource);
    this.#attach = options.attach;
    this.#originAllowed = originPolicy(options.allowedOrigins ?? []);
    this.#relay = options.relay;
    this.#relay?.via.add(this.#relay.name, this);
    const { pollTimeout, maxMessageSize } = numbers;
    if (this.#relay !== undefined) {
      this.#forwarder = new Forwarder(this.#relay, { pollTimeout, maxMessageSize });
    }
    this.#timing = {
      idPrefix: this.#relay === undefined ? "" : `w${this.#relay.via.worker}-`,
      pollTimeout: numbers.pollTimeout,
      sessionTimeout: numbers.sessionTimeout,
      maxMessageSize: numbers.maxMessageSize,
      log: options.log,
      gone: (t) => this.#transports.delete(t.id) && this.#sources.remove(t.info.peer),
    };
  }

  /** The base path, e.g. `/lp`. */
  get path(): string {
    return this.#path === "" ? "/" : this.#path;
  }

  /** How many transports are open. */
  get size(): number {
    return this.#transports.size;
  }

  /**
   * Whether a URL path is this service's (the base path or below it).
   *
   * @param path A URL path, e.g. `/lp/open`.
   * @returns Whether {@linkcode LongPollService.handle} serves it.
   */
  handles(path: string): boolean {
    return servesPath(this.#path, path);
  }

  /**
   * Answers one HTTP request. A transport's `send`s are read and
   * delivered one at a time, in order; up to 64 wait, their bodies
   * unread (429 past that). So are those passed on to another worker's
   * transport, in the worker that passes them on.
   *
   * @param request The request (a `?x=` cache-buster is ignored).
   * @param peer The client's address as the listener names it,
   * `tcp4:192.0.2.7:5678` or `tcp6:[2001:db8::5]:443` (`tcpPeer`, from
   * `Deno.serve`'s `info.remoteAddr`). Shown in session details, and the
   * source that per-source limits count (its address, an IPv6 /64):
   * `maxTransportsPerSource`, the router's `failedLogins` and its session
   * log's lines per source. Without it (or `""`), none of them counts it.
   * @param options The request's admission and connection, from a listener.
   * @returns The response; for a `receive`, once there is something to say.
   */
  handle(request: Request, peer?: string, options: LongPollRequestOptions = {}): Promise<Response> {
    const { admission } = options;
    // What the admission holds is released once answered, whatever the answer.
    return this.#handle(request, knownPeer(peer), false, options).finally(() =>
      admission?.abandon?.()
    );
  }

  /**
   * Answers a request another worker relayed (`relay.ts`): as
   * {@linkcode LongPollService.handle}, but a request for a transport this
   * worker does not own gets 404 rather than being relayed again.
   *
   * @param request The request.
   * @param closed Aborts when its client left the worker that passed it on.
   * @returns The response.
   */
  serveRelayed(request: Request, closed?: AbortSignal): Promise<Response> {
    return this.#handle(request, undefined, true, closed === undefined ? {} : { closed });
  }

  /**
   * Decides on a request from its head, before its body is read: the
   * largest body it may bring (`maxMessageSize` for a `send`, 64 KiB
   * before the session joined, a little for `open`, nothing otherwise), or
   * the refusal (a disallowed Origin 403, a method other than POST 405, an
   * unknown or closed transport 404). A `send` over the limit ends the
   * session. A `send` waits for its transport's turn (a promise), with
   * its body unread; past 64 waiting it gets 429 (`send_gate.ts`). Under
   * a relay, a `send` to another worker's transport waits for that
   * transport's turn here too (`forwarder.ts`), then, larger than 64 KiB,
   * for its owner's decision (`LongPollRelay.admit`).
   *
   * @param head The request head.
   * @param url The request URL.
   * @param peer The remote address, for the log.
   * @returns The body limit in bytes (a `send`: an admission holding its
   * turn, for {@linkcode LongPollService.handle}), or the response to
   * answer at once, or a promise of either.
   */
  admit(head: HttpRequestHead, url: URL, peer?: string): Admitted | Promise<Admitted> {
    const route = this.#route(head.method, url.pathname, head.headers, peer);
    if (route instanceof Response) return route;
    if (route.op === undefined) return route.open ? MAX_OPEN_BODY : 0;
    if (route.op !== "send") return 0;
    const size = Number(head.headers.get("content-length"));
    const refuse = (status: 404 | 429) => refusal(status, standardHeaders(head.headers));
    const { id, owner } = route;
    // Relayed: one send of a transport at a time is read here and passed on (forwarder.ts).
    if (owner !== undefined) return this.#forwarder!.admit({ ...route, owner }, size, refuse);
    const transport = this.#transports.get(id);
    if (transport === undefined || transport.state === "closed") return refuse(404);
    return admitSend(transport.sends, id, () => this.admitSend(id, size), refuse);
  }

  /**
   * Decides on a `send` to one of this worker's transports from its size:
   * the largest body it may bring now, and a size over it ends the session
   * (ABORT `wamp.error.protocol_violation`; the request gets 413).
   *
   * @param id The transport's ID.
   * @param size The body's size, from the request head.
   * @returns The body limit, or `undefined` for an unknown or closed transport.
   */
  admitSend(id: string, size: number): number | undefined {
    const transport = this.#transports.get(id);
    if (transport === undefined || transport.state === "closed") return undefined;
    const max = this.#maxMessageSize;
    const limit = transport.bodyLimit(max);
    if (size > limit) transport.refuseBody(limit, max, size);
    return limit;
  }

  /**
   * What a request is, from its method, path and headers: a refusal, or
   * what to do (`owner` is set when another worker's relay serves it).
   */
  #route(
    method: string,
    path: string,
    request: Headers,
    peer: string | undefined,
  ): Response | { open: boolean; id: string; op: string | undefined; owner: number | undefined } {
    const origin = request.get("origin");
    if (origin !== null && !this.#originAllowed(origin)) {
      this.#timing.log?.(
        "info",
        `Long-poll request${peer === undefined ? "" : ` from ${peer}`} refused (403): ` +
          `Origin not allowed: ${origin}`,
      );
      const headers = new Headers({ "cache-control": "no-store" });
      return answer(403, headers, `Origin not allowed: ${origin}`);
    }
    const headers = standardHeaders(request);
    if (!this.handles(path)) return answer(404, headers, "Not found");
    const rest = path.slice(this.#path.length);
    if (method === "OPTIONS" || (method === "GET" && (rest === "" || rest === "/"))) {
      return { open: false, id: "", op: undefined, owner: undefined };
    }
    if (method !== "POST") {
      headers.set("allow", "POST, OPTIONS");
      return answer(405, headers, "Method not allowed: use POST");
    }
    if (rest === "/open") return { open: true, id: "", op: undefined, owner: undefined };
    const [, id, op] = /^\/([^/]+)\/(send|receive|close)$/.exec(rest) ?? [];
    if (id === undefined) return answer(404, headers, "No such WAMP transport");
    const owner = this.#relay === undefined ? undefined : ownerOf(id);
    const relayed = owner !== undefined && this.#relay!.via.relays(owner);
    return { open: false, id, op, owner: relayed ? owner : undefined };
  }

  async #handle(
    request: Request,
    peer: string | undefined,
    relayed: boolean,
    options: LongPollRequestOptions,
  ): Promise<Response> {
    const path = new URL(request.url).pathname;
    const route = this.#route(request.method, path, request.headers, peer);
    if (route instanceof Response) {
      await request.body?.cancel().catch(() => {});
      return route;
    }
    const headers = standardHeaders(request.headers);
    if (request.method === "OPTIONS") {
      headers.set("access-control-allow-methods", "POST, OPTIONS");
      headers.set("access-control-max-age", "86400");
      return answer(204, headers);
    }
    if (request.method === "GET") {
      const offered = [...this.#offered.keys()].join(", ");
      return answer(200, headers, `This is a WAMP HTTP long-poll endpoint (${offered})`);
    }
    if (route.open) return await this.#open(request, headers, peer);
    const { id, op, owner } = route;
    if (!relayed && owner !== undefined) {
      const refuse = (status: number) => refusal(status, headers);
      const forwarded = await this.#forwarder!.forward(request, { id, op, owner }, {
        ...options,
        refuse,
      });
      if (forwarded !== undefined) return forwarded; // else the owner is gone: 404
    }
    const transport = this.#transports.get(id);
    if (transport === undefined || transport.state === "closed") {
      await request.body?.cancel().catch(() => {});
      return answer(404, headers, "No such WAMP transport");
    }
    if (op === "send") return await this.#send(transport, request, headers, options);
    await request.body?.cancel().catch(() => {});
    if (op === "receive") return await transport.receive(headers, options.closed);
    transport.destroy();
    return answer(204, headers);
  }

  /** Closes every transport (their sessions leave); `open` then gets 503. */
  close(): void {
    this.#closed = true;
    this.#relay?.via.delete(this.#relay.name, this);
    for (const transport of [...this.#transports.values()]) transport.destroy();
  }

  async #open(request: Request, headers: Headers, peer?: string): Promise<Response> {
    const body = await readWithin(request, MAX_OPEN_BODY, this.#bodyTimeout).catch(() => null);
    if (body === null) return answer(400, headers, "Request body incomplete"); // its client gone
    if (body === "late") return refusal(408, headers); // not whole within bodyTimeout
    if (body === undefined) return answer(413, headers, "Request body too large");
    if (this.#closed) return answer(503, headers, "Service is closing");
    if (this.#maxTransports > 0 && this.#transports.size >= this.#maxTransports) {
      return answer(503, headers, "Too many WAMP transports open");
    }
    if (!this.#sources.admits(peer)) return answer(429, headers, "Too many transports from here");
    const picked = chosenProtocol(body, this.#offered);
    if ("refused" in picked) return answer(400, headers, picked.refused);
    const { protocol } = picked;
    const chosen = this.#offered.get(protocol)!;
    const transport = new LongPollTransport(chosen.serializer, chosen.batched, peer, this.#timing);
    try {
      transport.bind(this.#acceptor.attach(transport, this.#attach));
    } catch {
      transport.destroy();
      return answer(503, headers, "Router is closing");
    }
    if (transport.state === "closed") return answer(503, headers, "Router refused the transport");
    this.#transports.set(transport.id, transport);
    this.#sources.add(transport.info.peer);
    transport.touch();
    headers.set("content-type", "application/json; charset=utf-8");
    return new Response(JSON.stringify({ protocol, transport: transport.id }), { headers });
  }

  /** Reads and delivers a `send` in its transport's turn (its admission's, or taken here). */
  async #send(
    transport: LongPollTransport,
    request: Request,
    headers: Headers,
    { admission, closed }: LongPollRequestOptions,
  ): Promise<Response> {
    transport.touch();
    const turn = await sendTurn(transport.sends, transport.id, admission);
    // Its client gone meanwhile (a relayed send whose client left another worker): not delivered.
    if (typeof turn === "number" || closed?.aborted) { // the body is not read
      const status = typeof turn === "number" ? turn : (turn.release(), 400);
      await request.body?.cancel().catch(() => {});
      return refusal(status, headers);
    }
    try {
      const limit = transport.bodyLimit(this.#maxMessageSize);
      // A listener admitted it and read its body; a program's own server may hand on one coming.
      const ms = admission === undefined ? this.#bodyTimeout : 0;
      const bytes = await readWithin(request, limit, ms).catch(() => null);
      let status: number;
      if (bytes === null) status = 400; // the client went away mid-body
      else if (bytes === "late") status = 408;
      else if (bytes === undefined) status = transport.refuseBody(limit, this.#maxMessageSize);
      else status = await transport.deliver(bytes).catch(() => 500);
      return refusal(status, headers);
    } finally {
      turn.release();
    }
  }
}
