/**
 * The HTTP bridge as a listener mount: each configured path checks the
 * method, CORS, body size, the in-flight limit and the request's
 * credentials, then acts through its session (one per path, joined with
 * the path's role).
 *
 * @module
 */

import type { HttpAdmission, HttpMount } from "../transports/stream/http_server.ts";
import type { HttpRequestHead } from "../transports/stream/http.ts";
import { SourceLimit } from "../transports/sources.ts";
import { BODY_TIMEOUT, readWithin } from "../transports/stream/bytes.ts";
import { knownPeer, type PeerAcceptor } from "../wamp/mod.ts";
import { metricsOf, type RouterMetrics } from "../router/metrics.ts";
import { Admitted, type PathPlaces, UNVERIFIED_PER_SLOT } from "./admission.ts";
import { type RequestAuth, requestAuths } from "./auth.ts";
import type { SharedSignatures } from "./signing_key.ts";
import type { BridgeOptions } from "./config.ts";
import { BridgeError, refusal } from "./errors.ts";
import { call, publish, webhook } from "./inbound.ts";
import { BridgeSession } from "./session.ts";
import { subscribe } from "./subscriber.ts";

/**
 * The bridge mounted on listeners; close it with the router. A program's
 * own server may call `handle(request, peer)` without `admit`: the checks
 * are made then, per source for the `peer` given ("" is not counted).
 */
export interface HttpBridge extends HttpMount {
  /**
   * Answers a request to one of its paths (404 for another path). Given
   * no admission (a program's own server), it makes the checks `admit`
   * would and reads the body itself: up to the path's `maxBodySize` (413
   * past it), within 60 s (408 past it, as the listener's
   * `http.bodyTimeout`); until it has, the request counts against its
   * source's `maxPendingPerSource`.
   *
   * @param request The request.
   * @param peer The client's address as the listener names it,
   * `tcp4:192.0.2.7:5678` or `tcp6:[2001:db8::5]:443` (`tcpPeer` from
   * `@cloverleaf/wamp/transports`, from `Deno.serve`'s `info.remoteAddr`):
   * the source (its address, an IPv6 /64) that `maxPendingPerSource` and
   * `maxStreamsPerSource` count. `""` when unknown: not counted per source.
   * @param admission What `admit` returned for it, from a listener.
   * @returns The response (a subscriber path: a stream of events).
   */
  handle(request: Request, peer: string, admission?: HttpAdmission): Promise<Response>;
  /** Leaves every path's session and ends open streams. */
  close(): Promise<void>;
}

const EMPTY = new Uint8Array(0);

/** One configured path. */
class BridgePath implements PathPlaces {
  readonly options: BridgeOptions;
  readonly session: BridgeSession;
  readonly auth: RequestAuth;
  /** The method it takes (besides a CORS preflight). */
  readonly method: "GET" | "POST";
  /** Requests let in and not yet answered, and streams open. */
  inFlight = 0;
  /** Signed requests let in whose signature is not verified yet (a bound on their bodies). */
  verifying = 0;
  /** Requests pending (body not arrived; signed: not verified) per source, `maxPendingPerSource`. */
  readonly pending: SourceLimit;
  /**
   * Subscriber requests let in (streams open) per source address,
   * against `maxStreamsPerSource`; other paths count none.
   */
  readonly streams: SourceLimit;
  /** Where answered requests are counted, when the acceptor is a `Router`. */
  readonly #metrics: RouterMetrics | undefined;

  constructor(router: PeerAcceptor, options: BridgeOptions, auth: RequestAuth) {
    this.options = options;
    this.method = options.type === "subscriber" ? "GET" : "POST";
    this.pending = new SourceLimit(options.maxPendingPerSource);
    this.streams = new SourceLimit(options.type === "subscriber" ? options.maxStreamsPerSource : 0);
    try {
      this.#metrics = metricsOf(router);
    } catch {
      this.#metrics = undefined;
    }
    this.session = new BridgeSession(router, options.realm, options.role, `bridge:${options.path}`);
    this.auth = auth;
  }

  /**
   * Decides on a request from its head: 0 for a CORS preflight, else an
   * admission holding an in-flight slot, or a refusal answered before the
   * body is read.
   */
  admit(head: HttpRequestHead, url: URL, peer?: string): number | Admitted | Response {
    const admitted = this.#preflight(head.method, head.headers) ??
      this.#admit(head.method, url, head.headers, peer);
    if (!(admitted instanceof Response)) return admitted;
    this.#metrics?.bridgeRequests.add(`${this.options.path} ${admitted.status}`);
    return this.#cors(head.headers, admitted);
  }

  /**
   * Answers a request: let in by {@linkcode BridgePath.admit} (`admitted`),
   * or checked now as `admit` would, as coming from `peer`.
   */
  async handle(request: Request, admitted?: Admitted, peer?: string): Promise<Response> {
    const response = await this.#answer(request, admitted, peer);
    this.#metrics?.bridgeRequests.add(`${this.options.path} ${response.status}`);
    return this.#cors(request.headers, response);
  }

  /** A CORS preflight brings no body: 0, or 413 when one is announced; undefined for other requests. */
  #preflight(method: string, headers: Headers): number | Response | undefined {
    if (method !== "OPTIONS" || this.options.cors === undefined) return undefined;
    return Number(headers.get("content-length") ?? "0") > 0 ? this.#tooLarge(0) : 0;
  }

  /**
   * What can be refused from the head alone, in this order: the method,
   * the declared body size (a GET takes none), the in-flight limit, the
   * credentials, the limits per source. Let in, the request takes a slot.
   * A request from an unknown `peer` is not counted per source.
   */
  #admit(method: string, url: URL, headers: Headers, peer?: string): Admitted | Response {
    const { options } = this;
    if (method !== this.method) return this.#notAllowed();
    const limit = method === "GET" ? 0 : options.maxBodySize;
    if (Number(headers.get("content-length") ?? "0") > limit) return this.#tooLarge(limit);
    if (this.inFlight >= options.maxInFlight) return this.#busy();
    const checked = this.auth.checkHead(headers, url);
    if (checked instanceof Response) return checked;
    // Requests whose bodies have not all arrived (signed: not verified yet), per source address:
    // one client cannot hold the path's slots with heads whose bodies never finish.
    if (!this.pending.admits(peer)) return this.#busySource();
    // Open streams, per source address: nor with streams it keeps open (an open path needs no
    // credentials). Counted from the head, so many heads at once cannot get past it.
    if (!this.streams.admits(peer)) return this.#busyStreams();
    if (checked !== undefined && this.verifying >= UNVERIFIED_PER_SLOT * options.maxInFlight) {
      return this.#busy();
    }
    return new Admitted(this, url, limit, checked, peer);
  }

  async #answer(request: Request, admitted?: Admitted, peer?: string): Promise<Response> {
    const { options, method } = this;
    if (request.method === "OPTIONS" && options.cors !== undefined) {
      return new Response(null, {
        status: 204,
        headers: {
          "access-control-allow-methods": `${method}, OPTIONS`,
          "access-control-allow-headers": request.headers.get("access-control-request-headers") ??
            "authorization, content-type",
          "access-control-max-age": String(options.cors.maxAge),
        },
      });
    }
    // Not let in by a listener (a caller of handle() without admit()): the same checks now.
    const ticket = admitted ??
      this.#admit(request.method, new URL(request.url), request.headers, peer);
    if (ticket instanceof Response) return ticket;
    // A listener read the body before handing the request on; else it is read here, and the
    // request counts against its source's maxPendingPerSource until it is.
    if (admitted !== undefined) ticket.arrived();
    const { url } = ticket;
    let streaming = false;
    try {
      const body = await this.#body(request, ticket.maxBodySize, admitted === undefined);
      if (body instanceof Response) return body;
      ticket.arrived();
      if (ticket.signed !== undefined) {
        const denied = await this.auth.checkBody(
          ticket.signed,
          method,
          url,
          body,
          () => ticket.take() ? undefined : this.#busy(),
        );
        if (denied !== undefined) return denied;
      }
      let session;
      try {
        session = await this.session.get();
      } catch (error) {
        const why = error instanceof Error ? error.message : String(error);
        return refusal(BridgeError.UNAVAILABLE, [`cannot join realm "${options.realm}": ${why}`]);
      }
      const req = { request, url, body };
      switch (options.type) {
        case "publisher":
          return await publish(session, req);
        case "caller":
          return await call(session, req, options);
        case "webhook":
          return await webhook(session, req, options);
        default: {
          const stream = await subscribe(session, url, request, options, () => this.#free(ticket));
          streaming = true; // the slot is the stream's until it ends
          return stream;
        }
      }
    } finally {
      if (!streaming) this.#free(ticket);
    }
  }

  /**
   * A request's body, read up to `limit` bytes (a chunked body has no
   * Content-Length to refuse it by): 413 past it, the rest never read;
   * 400 when it does not arrive whole (its client gone). A GET has none.
   * One no listener read (`timed`: a program's own server calls handle())
   * has `BODY_TIMEOUT` (60 s) to arrive, as on a listener: 408 past it;
   * until then it holds a slot and counts against its source's
   * `maxPendingPerSource`.
   */
  async #body(request: Request, limit: number, timed: boolean): Promise<Uint8Array | Response> {
    if (this.method === "GET") return EMPTY;
    try {
      const body = await readWithin(request, limit, timed ? BODY_TIMEOUT : 0);
      if (body !== "late") return body ?? this.#tooLarge(limit);
      const late = `the body did not arrive within ${BODY_TIMEOUT / 1000} s`;
      return refusal(BridgeError.BAD_REQUEST, [late], {}, 408);
    } catch {
      return refusal(BridgeError.BAD_REQUEST, ["the body did not arrive whole"]);
    }
  }

  /**
   * An answered request (a stream: ended) frees its source's places at
   * once, and its slot once the router took everything the path's session
   * sent before (what it sent itself, its UNSUBSCRIBE, its CANCEL).
   */
  #free(ticket: Admitted): void {
    ticket.answered(); // its source's places (and a place for verifying) at once
    this.session.afterSent(() => ticket.release());
  }

  /** 405, with the methods the path takes (RFC 9110 §15.5.6). */
  #notAllowed(): Response {
    const { options, method } = this;
    const response = refusal(BridgeError.METHOD_NOT_ALLOWED, [`${options.path} takes ${method}`]);
    response.headers.set("allow", options.cors === undefined ? method : `${method}, OPTIONS`);
    return response;
  }

  #busy(): Response {
    const { maxInFlight, path } = this.options;
    return refusal(BridgeError.RATE_LIMITED, [
      `${maxInFlight} requests already being answered on ${path}`,
    ]);
  }

  #busySource(): Response {
    return refusal(BridgeError.RATE_LIMITED, [
      `${this.options.maxPendingPerSource} requests from your address still arriving on ${this.options.path}`,
    ]);
  }

  #busyStreams(): Response {
    return refusal(BridgeError.RATE_LIMITED, [
      `${this.options.maxStreamsPerSource} streams from your address already open on ${this.options.path}`,
    ]);
  }

  #tooLarge(limit: number): Response {
    return refusal(BridgeError.TOO_LARGE, [
      limit === 0 ? "this request takes no body" : `the body is over ${limit} bytes`,
    ]);
  }

  #cors(headers: Headers, response: Response): Response {
    const cors = this.options.cors;
    const origin = headers.get("origin");
    if (cors === undefined || origin === null) return response;
    if (!cors.origins.includes("*") && !cors.origins.includes(origin)) return response;
    response.headers.set("access-control-allow-origin", cors.origins.includes("*") ? "*" : origin);
    response.headers.set("vary", "origin");
    return response;
  }
}

/**
 * Builds the HTTP bridge for a router: one mount answering every
 * configured path (give it to each listener's `mounts`).
 *
 * @param router The router.
 * @param bridges The resolved paths (`resolveBridgeOptions`).
 * @param signatures Used signatures shared with the other routers of a
 * cluster (`clusterSignatures`), so a signed request is taken once by all.
 * @returns The mount.
 * @throws {TypeError} When two paths are the same, or an open path
 * (`auth: "none"`) has the router's trusted role.
 */
export function httpBridge(
  router: PeerAcceptor,
  bridges: readonly BridgeOptions[],
  signatures?: SharedSignatures,
): HttpBridge {
  const paths = new Map<string, BridgePath>();
  // An open path of the trusted role would let anyone call the realms' authenticators.
  const trusted = (router as { trustedRole?: unknown }).trustedRole;
  const open = bridges.find((b) => "none" in b.auth && b.role === trusted);
  if (open !== undefined) {
    throw new TypeError(
      `Cannot mount the HTTP bridge: the open path ${open.path} may not have the trusted role`,
    );
  }
  // One memory of used signatures per key and secret, whatever path a signature comes to.
  const auths = requestAuths(bridges.map((options) => options.auth), Date.now, signatures);
  bridges.forEach((options, i) => {
    if (paths.has(options.path)) {
      throw new TypeError(`Cannot mount the HTTP bridge: path ${options.path} is used twice`);
    }
    paths.set(options.path, new BridgePath(router, options, auths[i]!));
  });
  return {
    handles: (path) => paths.has(path),
    admit(head: HttpRequestHead, url: URL, peer?: string): number | HttpAdmission | Response {
      return paths.get(url.pathname)?.admit(head, url, knownPeer(peer)) ?? 0;
    },
    handle(request: Request, peer: string, admission?: HttpAdmission): Promise<Response> {
      // Let in by this bridge's admit(): its path; else the URL's (and the checks admit() makes,
      // per source when the peer is known).
      if (admission instanceof Admitted) {
        const own = paths.get(admission.path.options.path);
        if (own === admission.path) return own.handle(request, admission);
      }
      const path = paths.get(new URL(request.url).pathname);
      if (path === undefined) return Promise.resolve(new Response("Not found\n", { status: 404 }));
      return path.handle(request, undefined, knownPeer(peer));
    },
    async close(): Promise<void> {
      await Promise.all([...paths.values()].map((p) => p.session.close()));
    },
  };
}
