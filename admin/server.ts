/**
 * The admin listener: an HTTP server beside the WAMP listeners serving
 * `GET /metrics` (Prometheus text), `GET /health` and `GET /ready` (JSON,
 * 200 or 503), `GET /events` (the dashboard's snapshots as server-sent
 * events, one a second) and `GET /` (the dashboard page). Loopback
 * clients only, unless a token is configured: then every request but the
 * page itself (which holds no data) needs `Authorization: Bearer <token>`.
 *
 * @module
 */

import type { Router } from "../router/router.ts";
import { clusterNodeOf } from "../router/router.ts";
import { metricsOf, Rates, Ring } from "../router/metrics.ts";
import type { Listener } from "../transports/listener.ts";
import { authority } from "../transports/address.ts";
import { json, refusal } from "./access.ts";
import { collect, type MetricSources } from "./collect.ts";
import { DASHBOARD_HTML } from "./dashboard_page.ts";
import { EXPOSITION_CONTENT_TYPE, render } from "./exposition.ts";
import { snapshot } from "./snapshot.ts";

/** Options for {@linkcode serveAdmin}. */
export interface AdminOptions {
  /** The interface to listen on. @default {"127.0.0.1"} */
  hostname?: string;
  /** The TCP port; 0 picks a free one. @default {9090} */
  port?: number;
  /**
   * A Unix socket to listen on instead of `hostname` and `port` (then
   * `addr.port` is 0); it needs a `token`, without which every request is refused.
   */
  path?: string;
  /**
   * A bearer token every request (but the page itself) must carry; without
   * one, only loopback clients are served.
   */
  token?: string;
  /** The WAMP listeners: their connections, refusals and bytes, and readiness. */
  listeners?: readonly Listener[];
  /**
   * Time one call in this many for `cloverleaf_call_duration_seconds` (1,
   * 2, 4, … 1024; 1 times every call, at two clock reads each).
   * @default {8}
   */
  callSampling?: number;
}

/** A running admin listener. */
export interface AdminServer {
  /** The address it listens on (on a Unix socket: the path as `hostname`, `port` 0). */
  readonly addr: { hostname: string; port: number };
  /** Its base URL, such as `http://127.0.0.1:9090` (on a Unix socket: `unix:<path>`). */
  readonly url: string;
  /** Stops serving (open dashboards are disconnected). */
  close(): Promise<void>;
}

/** The most dashboards connected at once. */
const MAX_EVENT_STREAMS = 16;
/** Rows of the top topics and procedures. */
const TOP = 10;
/**
 * Seconds a dashboard may go without taking its last snapshot (it holds
 * one at most: the ones in between are skipped) before it is disconnected.
 */
const MAX_BEHIND_SECONDS = 10;

/**
 * Serves a router's metrics, health, readiness and live dashboard.
 *
 * @example Metrics of an embedded router
 * ```ts
 * import { Router, serveAdmin } from "@cloverleaf/wamp/router";
 * import { connectLocal } from "@cloverleaf/wamp/client";
 * import { match } from "node:assert/strict";
 *
 * const router = new Router({ realms: [{ name: "realm1" }] });
 * const admin = await serveAdmin(router, { port: 0 });
 * const session = await connectLocal(router, "realm1");
 * const text = await (await fetch(`${admin.url}/metrics`)).text();
 * match(text, /^cloverleaf_session_joins_total\{realm="realm1"\} 1$/m);
 * await session.close();
 * await admin.close();
 * await router.close();
 * ```
 *
 * @param router The router.
 * @param options Address, token and the listeners to report on.
 * @returns The running server.
 * @throws {Error} When the address cannot be bound.
 */
export async function serveAdmin(router: Router, options: AdminOptions = {}): Promise<AdminServer> {
  const token = options.token;
  const startedAt = Date.now();
  const metrics = metricsOf(router);
  const ownsRecent = metrics.recent === undefined;
  const sampling = options.callSampling ?? 8;
  if (!Number.isInteger(Math.log2(sampling)) || sampling < 1 || sampling > 1024) {
    throw new RangeError(
      `Invalid callSampling ${sampling}: expected a power of two from 1 to 1024`,
    );
  }
  metrics.timeEvery = sampling;
  metrics.timing = true;
  metrics.recent ??= { errors: new Ring(50), sessions: new Ring(50) };
  let routerReady = false;
  router.ready.then(() => routerReady = true, () => {});
  const lag = new LagProbe();
  const sources: MetricSources = {
    router,
    listeners: options.listeners ?? [],
    lag: () => lag.value,
  };
  /** Open dashboards, each with the seconds it has held its last snapshot untaken. */
  const streams = new Map<ReadableStreamDefaultController<Uint8Array>, number>();
  const encoder = new TextEncoder();
  let rates = { topics: [] as [string, number][], procedures: [] as [string, number][] };
  let last = performance.now();
  const tick = setInterval(() => {
    const now = performance.now();
    const seconds = Math.max((now - last) / 1000, 0.001);
    last = now;
    lag.roll();
    const table = metrics.rates;
    if (table !== undefined) {
      const perSecond = ([key, n]: [string, number]): [string, number] => [key, n / seconds];
      rates = {
        topics: table.topics.roll(TOP).map(perSecond),
        procedures: table.procedures.roll(TOP).map(perSecond),
      };
    }
    if (streams.size === 0) return;
    let data: Uint8Array;
    try {
      data = encoder.encode(`data: ${JSON.stringify(snapshot(sources, rates, startedAt))}\n\n`);
    } catch {
      return; // no snapshot this second; the router goes on
    }
    for (const stream of streams.keys()) push(stream, data);
  }, 1000);
  const push = (stream: ReadableStreamDefaultController<Uint8Array>, data: Uint8Array) => {
    // Still holding the last snapshot: this one is skipped (memory: one snapshot a viewer).
    if ((stream.desiredSize ?? 0) < 0) {
      const behind = (streams.get(stream) ?? 0) + 1;
      if (behind < MAX_BEHIND_SECONDS) return void streams.set(stream, behind);
      streams.delete(stream);
      watched(); // the last one gone: stop counting rates
      return stream.error(new Error("dashboard too slow"));
    }
    streams.set(stream, 0);
    stream.enqueue(data);
  };
  const watched = () => {
    if (streams.size === 0) metrics.rates = undefined;
    else metrics.rates ??= new Rates();
  };

  const events = (): Response => {
    if (streams.size >= MAX_EVENT_STREAMS) {
      return json(503, { error: "busy", message: `${MAX_EVENT_STREAMS} dashboards open` });
    }
    let mine: ReadableStreamDefaultController<Uint8Array> | undefined;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        mine = controller;
        streams.set(controller, 0);
        watched();
        const first = snapshot(sources, rates, startedAt);
        controller.enqueue(encoder.encode(`retry: 2000\ndata: ${JSON.stringify(first)}\n\n`));
      },
      cancel() {
        if (mine !== undefined) streams.delete(mine);
        watched();
      },
    }, new ByteLengthQueuingStrategy({ highWaterMark: 0 }));
    return new Response(body, {
      headers: {
        "content-type": "text/event-stream",
        "cache-control": "no-store",
        "x-accel-buffering": "no",
      },
    });
  };

  const ready = (): Response => {
    const listeners = sources.listeners.map((l) => l.stats().listening);
    const node = clusterNodeOf(router);
    const checks = {
      router: routerReady,
      listeners: listeners.every((up) => up),
      cluster: node === undefined ? "none" : node.connected ? "connected" : "disconnected",
    };
    const ok = checks.router && checks.listeners && checks.cluster !== "disconnected";
    return json(ok ? 200 : 503, { status: ok ? "ready" : "not ready", ...checks });
  };

  const handle = (request: Request, remote: string): Response => {
    const path = new URL(request.url).pathname;
    if (request.method !== "GET" && request.method !== "HEAD") {
      return json(405, { error: "method not allowed" });
    }
    if (path === "/" && (token !== undefined || refusal(request, remote, token) === undefined)) {
      return new Response(DASHBOARD_HTML, {
        headers: {
          "content-type": "text/html; charset=utf-8",
          "cache-control": "no-store",
          "content-security-policy":
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:",
        },
      });
    }
    const refused = refusal(request, remote, token);
    if (refused !== undefined) return refused;
    switch (path) {
      case "/metrics":
        return new Response(render(collect(sources)), {
          headers: { "content-type": EXPOSITION_CONTENT_TYPE, "cache-control": "no-store" },
        });
      case "/health":
        return json(200, { status: "up", uptime: Math.round((Date.now() - startedAt) / 1000) });
      case "/ready":
        return ready();
      case "/events":
        return events();
      default:
        return json(404, { error: "not found" });
    }
  };

  const { promise: listening, resolve, reject } = Promise.withResolvers<Deno.Addr>();
  let server: Deno.HttpServer<Deno.Addr>;
  try {
    const onError = () => json(500, { error: "internal error" });
    server = options.path === undefined
      ? Deno.serve({
        hostname: options.hostname ?? "127.0.0.1",
        port: options.port ?? 9090,
        onListen: resolve,
        onError,
      }, (request, info) => handle(request, info.remoteAddr.hostname))
      : Deno.serve({ path: options.path, onListen: resolve, onError }, (request) =>
        // No client address to call loopback: only the token lets a request in.
        handle(request, ""));
  } catch (error) {
    reject(error);
  }
  let addr: Deno.Addr;
  try {
    addr = await listening;
  } catch (error) {
    clearInterval(tick);
    lag.stop();
    if (ownsRecent) {
      metrics.recent = undefined;
      metrics.timing = false;
    }
    throw error;
  }
  const hostname = addr.transport === "unix" ? addr.path : (addr as Deno.NetAddr).hostname;
  const port = addr.transport === "unix" ? 0 : (addr as Deno.NetAddr).port;
  return {
    addr: { hostname, port },
    url: addr.transport === "unix" ? `unix:${hostname}` : `http://${authority(hostname, port)}`,
    async close() {
      clearInterval(tick);
      lag.stop();
      for (const stream of streams.keys()) {
        try {
          stream.close();
        } catch { /* errored: too slow */ }
      }
      streams.clear();
      watched();
      if (ownsRecent) {
        metrics.recent = undefined;
        metrics.timing = false;
      }
      await server!.shutdown();
    },
  };
}

/** How late a 100 ms timer fires: the event loop's lag, at most, over the last window. */
class LagProbe {
  /** The lag of the last window (seconds). */
  value = 0;
  #max = 0;
  #expected = performance.now() + 100;
  #timer = setInterval(() => {
    const now = performance.now();
    this.#max = Math.max(this.#max, now - this.#expected);
    this.#expected = now + 100;
  }, 100);

  /** Ends a window. */
  roll(): void {
    this.value = Math.max(0, this.#max) / 1000;
    this.#max = 0;
  }

  /** Stops probing. */
  stop(): void {
    clearInterval(this.#timer);
  }
}
