/**
 * An HTTP/1.1 request loop over a {@linkcode Wire}: reads request heads
 * and length-delimited bodies, hands each request to a fetch-style handler
 * and writes its response, keeping the connection alive between requests.
 * A request that asks to upgrade is handed back to the caller with the
 * wire, which it then owns.
 *
 * @module
 */

import type { TransportLog } from "../../wamp/mod.ts";
import {
  type HttpRequestHead,
  MAX_HEAD_SIZE,
  parseRequestHead,
  responseHead,
  textResponse,
} from "./http.ts";
import type { Wire } from "./wire.ts";
import { InputQueue } from "./input_queue.ts";

export { InputQueue };

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
   * connection then closes, unless the request has no body). Without it,
   * every request may bring `HttpLimits.maxBodySize`.
   */
  admit?(head: HttpRequestHead): number | HttpAdmission | Response;
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
   * @param peer The remote address, for log lines.
   * @param admission What `admit` returned for this request, when an
   * admission; absent when `handle` is called without `admit`.
   */
  handle(request: Request, peer: string, admission?: HttpAdmission): Promise<Response>;
}

/** Responses whose body is written as it comes (see {@linkcode streamed}). */
const STREAMED = new WeakSet<Response>();

/**
 * Marks a response to be streamed: {@linkcode serveHttp} writes its head
 * at once, then each chunk of its body as the stream yields it (reading
 * the next one only once the connection's outbound queue has drained),
 * and closes the connection when the stream ends. When the client goes
 * away first, the stream is canceled. For Server-Sent Events.
 *
 * @param response A response with a body stream.
 * @returns The same response.
 */
export function streamed(response: Response): Response {
  STREAMED.add(response);
  return response;
}

/** Limits of {@linkcode serveHttp}. */
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

/** Pipelined input held while a request is answered, beyond which reading stops. */
const HOLD_INPUT = 64 * 1024;
const EMPTY = new Uint8Array(0);

/**
 * Serves HTTP requests on a wire until it closes, starting with bytes that
 * were already read.
 *
 * Each byte is looked at once to find a head and copied once into a body
 * (no re-parsing per chunk). Reading stops while a request is answered and
 * more than 64 KiB of pipelined input waits, and while the wire's outbound
 * queue is over its limit; the next pipelined request is taken only once
 * the responses have drained.
 *
 * @param wire The connection.
 * @param first Bytes read so far (the start of the first request).
 * @param routes Where requests go.
 * @param limits Body limit, URL origin, timeouts.
 */
export function serveHttp(
  wire: Wire,
  first: Uint8Array,
  routes: HttpRoutes,
  limits: HttpLimits,
): void {
  const input = new InputQueue();
  input.push(first);
  const headTimeout = limits.headTimeout ?? 10_000;
  const bodyTimeout = limits.bodyTimeout ?? 60_000;
  const idleTimeout = limits.idleTimeout ?? 60_000;
  /**
   * `head`/`body`: reading a request (a timer runs); `busy`: answering it;
   * `idle`: kept alive, nothing received (a timer runs); `done`: closed or
   * upgraded.
   */
  let phase: "head" | "body" | "busy" | "idle" | "done" = "head";
  /** Waiting for the responses to drain before taking the next request. */
  let waiting = false;
  /** The request whose body is being read (abandoned when the connection ends first). */
  let pending:
    | { head: HttpRequestHead; bodySize: number; admission: HttpAdmission | undefined }
    | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** Cancels the streamed response being written, when the wire closes. */
  let onClosed: (() => void) | undefined;
  /** The request being answered: its `signal` aborts when the wire closes first. */
  let answering: AbortController | undefined;
  const enter = (next: typeof phase) => {
    phase = next;
    clearTimeout(timer);
    timer = undefined;
    if (next === "done" && pending !== undefined) {
      const { admission } = pending;
      pending = undefined;
      admission?.abandon?.();
    }
    if (next === "head") timer = timeout(headTimeout, () => expire("head", headTimeout));
    else if (next === "body") timer = timeout(bodyTimeout, () => expire("body", bodyTimeout));
    else if (next === "idle") timer = timeout(idleTimeout, close);
  };
  const close = () => {
    enter("done");
    wire.end();
  };
  const refuse = (status: number, text: string) => {
    enter("done");
    wire.reply(textResponse(status, `${text}\n`, { connection: "close" }));
    wire.end();
  };
  const expire = (what: string, ms: number) => {
    limits.log?.(
      "info",
      `HTTP ${limits.peer ?? ""}: no whole request ${what} in ${ms} ms: closing`,
    );
    refuse(408, `request ${what} timeout`);
  };
  const next = (): void => {
    if (phase === "busy" || phase === "done" || waiting) return;
    if (wire.congested) {
      // The client does not read its responses: take no more requests.
      waiting = true;
      wire.drained().then(() => {
        waiting = false;
        next();
      });
      return;
    }
    wire.hold(false);
    if (pending === undefined) {
      const headLength = input.headLength(MAX_HEAD_SIZE);
      if (headLength === -2) return refuse(431, "request head too large");
      if (headLength === -1) return;
      const parsed = parseRequestHead(input.take(headLength));
      if (!("head" in parsed)) {
        if ("error" in parsed) return refuse(parsed.status, parsed.error);
        return refuse(400, "malformed request head");
      }
      const { head } = parsed;
      if (head.headers.has("transfer-encoding")) {
        return refuse(411, "chunked request bodies are not supported: send Content-Length");
      }
      const lengthHeader = head.headers.get("content-length") ?? "0";
      if (!/^\d{1,15}$/.test(lengthHeader)) return refuse(400, "malformed Content-Length");
      const bodySize = Number(lengthHeader);
      // Decided from the head: nothing of a body is held for a request refused here.
      let admitted: number | HttpAdmission | Response;
      try {
        admitted = routes.admit?.(head) ?? limits.maxBodySize;
      } catch {
        return refuse(500, "internal error");
      }
      if (admitted instanceof Response) return answerAtOnce(head, admitted, bodySize === 0);
      const admission = typeof admitted === "number" ? undefined : admitted;
      pending = { head, bodySize, admission };
      const limit = admission?.maxBodySize ?? admitted as number;
      if (bodySize > limit) return refuse(413, `request body over ${limit} bytes`);
      if (input.length < bodySize) enter("body");
    }
    if (input.length < pending.bodySize) return; // wait for the body
    const { head, bodySize, admission } = pending;
    pending = undefined;
    const body = input.take(bodySize);
    if (routes.upgrade(head, () => input.take(input.length))) {
      admission?.abandon?.();
      enter("done"); // the wire belongs to the upgraded protocol now
      return;
    }
    answer(() => respond(head, body, keptAlive(head), admission));
  };
  /** Answers a request, then takes the next one or closes. */
  const answer = (writing: () => Promise<boolean>) => {
    enter("busy");
    writing().then((open) => {
      if (phase === "done") return;
      if (!open) return close();
      enter(input.length === 0 ? "idle" : "head");
      next();
    });
  };
  /** Writes a refusal decided from the head; the connection stays open only with no body to skip. */
  const answerAtOnce = (head: HttpRequestHead, response: Response, bodiless: boolean) => {
    answer(() => write(head, response, bodiless && keptAlive(head)));
  };
  /** Answers one request; resolves with whether the connection stays open. */
  const respond = async (
    head: HttpRequestHead,
    body: Uint8Array,
    keepAlive: boolean,
    admission: HttpAdmission | undefined,
  ): Promise<boolean> => {
    let response: Response;
    let handed = false;
    try {
      answering = new AbortController();
      const init: RequestInit = {
        method: head.method,
        headers: head.fields as [string, string][],
        signal: answering.signal,
      };
      if (head.method !== "GET" && head.method !== "HEAD") {
        init.body = body as Uint8Array<ArrayBuffer>;
      }
      const request = new Request(limits.origin + head.target, init);
      handed = true; // from here on, what the admission holds is handle()'s to release
      response = await routes.handle(request, admission);
    } catch {
      if (!handed) admission?.abandon?.();
      response = new Response("internal error\n", { status: 500 });
    }
    return await write(head, response, keepAlive);
  };
  /** Writes a response; resolves with whether the connection stays open. */
  const write = async (
    head: HttpRequestHead,
    response: Response,
    keepAlive: boolean,
  ): Promise<boolean> => {
    if (STREAMED.has(response) && response.body !== null) return stream(response, response.body);
    const payload = head.method === "HEAD" ? EMPTY : new Uint8Array(await response.arrayBuffer());
    if (wire.closed) return false;
    // A handler may ask to end the connection (a refusal): `connection: close`.
    keepAlive &&= response.headers.get("connection")?.toLowerCase() !== "close";
    const headers: [string, string][] = [];
    response.headers.forEach((value, name) => {
      if (name !== "content-length" && name !== "connection") headers.push([name, value]);
    });
    headers.push(["content-length", String(payload.length)]);
    if (!keepAlive) headers.push(["connection", "close"]);
    if (!wire.reply(responseHead(response.status, headers))) return false;
    if (payload.length > 0) wire.write(payload);
    return keepAlive;
  };
  /** Writes a streamed response's head, then its chunks; the connection closes after it. */
  const stream = async (response: Response, body: ReadableStream<Uint8Array>) => {
    const reader = body.getReader();
    onClosed = () => void reader.cancel().catch(() => {});
    const headers: [string, string][] = [];
    response.headers.forEach((value, name) => {
      if (name !== "content-length" && name !== "connection") headers.push([name, value]);
    });
    headers.push(["connection", "close"]);
    if (!wire.reply(responseHead(response.status, headers))) onClosed();
    try {
      while (!wire.closed) {
        // A stream that fails while the client does not read ends the wait.
        if (wire.congested) await Promise.race([wire.drained(), reader.closed]);
        const { done, value } = await reader.read();
        if (done) break;
        wire.write(value);
      }
    } catch {
      // the stream failed: the connection ends
    } finally {
      onClosed = undefined;
      if (wire.closed) void reader.cancel().catch(() => {});
    }
    return false;
  };
  wire.bind({
    data(chunk) {
      if (phase === "done") return;
      input.push(chunk.slice()); // a chunk is only valid during the call
      if (phase === "idle") enter("head");
      if (phase === "busy" || waiting) {
        if (input.length > HOLD_INPUT) wire.hold(true);
        return;
      }
      next();
    },
    closed() {
      enter("done");
      onClosed?.();
      answering?.abort(new Error("the client closed the connection"));
    },
  });
  enter("head");
  next();
}

/** Whether the client asked to keep the connection open after this request. */
function keptAlive(head: HttpRequestHead): boolean {
  const connection = head.headers.get("connection")?.toLowerCase();
  return head.version === "HTTP/1.1" ? connection !== "close" : connection === "keep-alive";
}

/** A timer, or none for 0 ms. */
function timeout(ms: number, fire: () => void): ReturnType<typeof setTimeout> | undefined {
  return ms > 0 ? setTimeout(fire, ms) : undefined;
}
