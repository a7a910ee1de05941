/**
 * The HTTP bridge as a listener mount: each configured path checks the
 * method, CORS, body size, the in-flight limit and the request's
 * credentials, then acts through its session (one per path, joined with
 * the path's role).
 *
 * @module
 */

import type { HttpMount } from "../transports/stream/http_server.ts";
import type { HttpRequestHead } from "../transports/stream/http.ts";
import type { PeerAcceptor } from "../wamp/mod.ts";
import { metricsOf, type RouterMetrics } from "../router/metrics.ts";
import { RequestAuth } from "./auth.ts";
import type { BridgeOptions } from "./config.ts";
import { BridgeError, refusal } from "./errors.ts";
import { call, publish, webhook } from "./inbound.ts";
import { BridgeSession } from "./session.ts";
import { subscribe } from "./subscriber.ts";

/** The bridge mounted on listeners; close it with the router. */
export interface HttpBridge extends HttpMount {
  /** Leaves every path's session and ends open streams. */
  close(): Promise<void>;
}

/** One configured path. */
class BridgePath {
  readonly options: BridgeOptions;
  readonly session: BridgeSession;
  readonly auth: RequestAuth;
  /** Requests being answered and streams open. */
  inFlight = 0;
  /** Where answered requests are counted, when the acceptor is a `Router`. */
  readonly #metrics: RouterMetrics | undefined;

  constructor(router: PeerAcceptor, options: BridgeOptions) {
    this.options = options;
    try {
      this.#metrics = metricsOf(router);
    } catch {
      this.#metrics = undefined;
    }
    this.session = new BridgeSession(router, options.realm, options.role, `bridge:${options.path}`);
    this.auth = new RequestAuth(options.auth);
  }

  /**
   * Decides on a request from its head: the body limit, or a refusal
   * answered before the body is read.
   */
  admit(head: HttpRequestHead, url: URL): number | Response {
    const refused = this.#precheck(head.method, url, head.headers);
    if (refused === undefined) return this.options.maxBodySize;
    this.#metrics?.bridgeRequests.add(`${this.options.path} ${refused.status}`);
    return this.#cors(head.headers, refused);
  }

  async handle(request: Request): Promise<Response> {
    const response = await this.#answer(request);
    this.#metrics?.bridgeRequests.add(`${this.options.path} ${response.status}`);
    return this.#cors(request.headers, response);
  }

  /**
   * What can be refused from the head alone, in this order: the method,
   * the declared body size, the in-flight limit, the credentials.
   */
  #precheck(method: string, url: URL, headers: Headers): Response | undefined {
    const { options } = this;
    if (method === "OPTIONS" && options.cors !== undefined) return undefined;
    const allowed = options.type === "subscriber" ? "GET" : "POST";
    if (method !== allowed) {
      return refusal(BridgeError.METHOD_NOT_ALLOWED, [`${options.path} takes ${allowed}`]);
    }
    const length = Number(headers.get("content-length") ?? "0");
    if (length > options.maxBodySize) return this.#tooLarge();
    if (this.inFlight >= options.maxInFlight) return this.#busy();
    return this.auth.checkHead(headers, url);
  }

  async #answer(request: Request): Promise<Response> {
    const { options } = this;
    const method = options.type === "subscriber" ? "GET" : "POST";
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
    // Checked again: the listener asked before the body, but a caller of handle() may not have.
    const url = new URL(request.url);
    const refused = this.#precheck(request.method, url, request.headers);
    if (refused !== undefined) return refused;
    const body = method === "GET" ? new Uint8Array(0) : new Uint8Array(await request.arrayBuffer());
    if (body.length > options.maxBodySize) return this.#tooLarge();
    if (this.inFlight >= options.maxInFlight) return this.#busy();
    this.inFlight++;
    let streaming = false;
    try {
      const denied = await this.auth.checkBody(method, url, body);
      if (denied !== undefined) return denied;
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
        default:
          streaming = true;
          return await subscribe(session, url, request, options, () => this.inFlight--);
      }
    } finally {
      if (!streaming) this.inFlight--;
    }
  }

  #busy(): Response {
    const { maxInFlight, path } = this.options;
    return refusal(BridgeError.RATE_LIMITED, [
      `${maxInFlight} requests already being answered on ${path}`,
    ]);
  }

  #tooLarge(): Response {
    return refusal(BridgeError.TOO_LARGE, [`the body is over ${this.options.maxBodySize} bytes`]);
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
 * @returns The mount.
 * @throws {TypeError} When two paths are the same.
 */
export function httpBridge(router: PeerAcceptor, bridges: readonly BridgeOptions[]): HttpBridge {
  const paths = new Map<string, BridgePath>();
  for (const options of bridges) {
    if (paths.has(options.path)) {
      throw new TypeError(`Cannot mount the HTTP bridge: path ${options.path} is used twice`);
    }
    paths.set(options.path, new BridgePath(router, options));
  }
  return {
    handles: (path) => paths.has(path),
    admit(head: HttpRequestHead, url: URL): number | Response {
      return paths.get(url.pathname)?.admit(head, url) ?? 0;
    },
    handle(request: Request): Promise<Response> {
      const path = paths.get(new URL(request.url).pathname);
      if (path === undefined) return Promise.resolve(new Response("Not found\n", { status: 404 }));
      return path.handle(request);
    },
    async close(): Promise<void> {
      await Promise.all([...paths.values()].map((p) => p.session.close()));
    },
  };
}
