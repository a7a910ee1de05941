/**
 * What the HTTP request loop (`serveHttp` in `http_server.ts`) asks of its
 * owner for each request, and the limits it keeps.
 *
 * @module
 */

import type { TransportLog } from "../../wamp/mod.ts";
import type { HttpRequestHead } from "./http.ts";

/** What the request loop asks its owner for each request. */
export interface HttpRoutes {
  /**
   * Takes over the connection for an upgrade request (WebSocket), or
   * returns false to let the request go to {@linkcode HttpRoutes.handle}.
   * `rest` takes the bytes that followed the request (call it only when
   * taking over).
   */
  upgrade(head: HttpRequestHead, rest: () => Uint8Array): boolean;
  /**
   * Decides on a request from its head alone, before its body is read:
   * the largest body it may bring (413 past it), an admission (the same,
   * with what the decision found), or a refusal answered at once (the
   * connection then closes, unless the request has no body), or a
   * promise of one (nothing more is read from the connection until it
   * settles, past 64 KiB). Without it, every request may bring
   * `HttpLimits.maxBodySize`.
   */
  admit?(head: HttpRequestHead): Admitted | Promise<Admitted>;
  /**
   * Answers a plain request.
   *
   * @param request The request, its body read.
   * @param admission What {@linkcode HttpRoutes.admit} returned for it, when an admission.
   */
  handle(request: Request, admission?: HttpAdmission): Promise<Response>;
}

/**
 * A request let in from its head ({@linkcode HttpRoutes.admit},
 * {@linkcode HttpMount.admit}), which may hold something for it (an
 * in-flight slot) until it is answered. The request loop hands it to
 * `handle` with the request, or calls `abandon` when the request ends
 * before that: its body over the limit or late, the connection closed
 * first, or the request taken over as an upgrade.
 */
export interface HttpAdmission {
  /** The largest body the request may bring (413 past it). */
  readonly maxBodySize: number;
  /** Called once when the request will not be handed to `handle`. */
  abandon?(): void;
}

/** What {@linkcode HttpRoutes.admit} decides on a request: its body limit, an admission, or a refusal. */
export type Admitted = number | HttpAdmission | Response;

/** An HTTP service mounted on a listener (`ListenOptions.mounts`): the HTTP bridge. */
export interface HttpMount {
  /** Whether it answers requests for this path. */
  handles(path: string): boolean;
  /**
   * Decides on a request to one of its paths from its head, before the
   * body is read: the largest body that path takes (or an admission with
   * it), or a refusal (wrong method, body too large, no credentials)
   * answered without reading it. Without it, the listener's default body
   * limit applies.
   *
   * @param head The request head.
   * @param url The request URL (the path as {@linkcode HttpMount.handles} got it).
   * @param peer The remote address (`tcp4:1.2.3.4:5678`), for limits per source.
   * @returns The body limit in bytes, an admission, or the refusal.
   */
  admit?(head: HttpRequestHead, url: URL, peer?: string): number | HttpAdmission | Response;
  /**
   * Answers a request.
   *
   * @param request The request (its body already read, within what
   * {@linkcode HttpMount.admit} allowed).
   * @param peer The remote address as the listener names it
   * (`tcp4:192.0.2.7:5678`, `tcp6:[2001:db8::5]:443`: `tcpPeer`), for log
   * lines and the limits per source address a mount keeps (the HTTP
   * bridge's `maxPendingPerSource` and `maxStreamsPerSource`, when called
   * without `admit`); `""` when unknown, not counted per source.
   * @param admission What `admit` returned for this request, when an
   * admission; absent when `handle` is called without `admit`.
   */
  handle(request: Request, peer: string, admission?: HttpAdmission): Promise<Response>;
}

/** Limits of the request loop (`serveHttp` in `http_server.ts`). */
export interface HttpLimits {
  /** The largest request body accepted (413 above it), unless `HttpRoutes.admit` says otherwise. */
  maxBodySize: number;
  /** The scheme and authority for request URLs, e.g. `http://127.0.0.1:8080`. */
  origin: string;
  /**
   * Milliseconds a request head may take to arrive whole, from its first
   * byte (from the start, for the first request); 408, then the
   * connection closes. @default {10000}
   */
  headTimeout?: number;
  /**
   * Milliseconds a request body may take to arrive whole, from the end of
   * its head; 408, then the connection closes. @default {60000}
   */
  bodyTimeout?: number;
  /**
   * Milliseconds a kept-alive connection may stay idle between requests
   * before it is closed. @default {60000}
   */
  idleTimeout?: number;
  /** Where timeouts are logged. */
  log?: TransportLog;
  /** The remote address, for log lines. */
  peer?: string;
}
