/**
 * An HTTP/1.1 request loop over a {@linkcode Wire}: reads request heads
 * and length-delimited bodies, hands each request to a fetch-style handler
 * and writes its response, keeping the connection alive between requests.
 * A request that asks to upgrade is handed back to the caller with the
 * wire, which it then owns.
 *
 * @module
 */

import { type HttpRequestHead, parseRequestHead, responseHead, textResponse } from "./http.ts";
import { concat } from "./bytes.ts";
import type { Wire } from "./wire.ts";

/** What the request loop asks its owner for each request. */
export interface HttpRoutes {
  /**
   * Takes over the connection for an upgrade request (WebSocket), or
   * returns false to let the request go to {@linkcode HttpRoutes.handle}.
   */
  upgrade(head: HttpRequestHead, rest: Uint8Array): boolean;
  /** Answers a plain request. */
  handle(request: Request): Promise<Response>;
}

/** Limits of {@linkcode serveHttp}. */
export interface HttpLimits {
  /** The largest request body accepted (413 above it). */
  maxBodySize: number;
  /** The scheme and authority for request URLs, e.g. `http://127.0.0.1:8080`. */
  origin: string;
}

/**
 * Serves HTTP requests on a wire until it closes, starting with bytes that
 * were already read.
 *
 * @param wire The connection.
 * @param first Bytes read so far (the start of the first request).
 * @param routes Where requests go.
 * @param limits Body limit and URL origin.
 */
export function serveHttp(
  wire: Wire,
  first: Uint8Array,
  routes: HttpRoutes,
  limits: HttpLimits,
): void {
  let buffered = first;
  let busy = false;
  let done = false;
  const refuse = (status: number, text: string) => {
    done = true;
    wire.write(textResponse(status, `${text}\n`, { connection: "close" }));
    wire.end();
  };
  const next = (): void => {
    if (busy || done) return;
    const parsed = parseRequestHead(buffered);
    if ("incomplete" in parsed) return;
    if ("error" in parsed) {
      return refuse(parsed.error === "request head too large" ? 431 : 400, parsed.error);
    }
    const { head, length } = parsed;
    if (head.headers.has("transfer-encoding")) {
      return refuse(411, "chunked request bodies are not supported: send Content-Length");
    }
    const lengthHeader = head.headers.get("content-length") ?? "0";
    if (!/^\d{1,15}$/.test(lengthHeader)) return refuse(400, "malformed Content-Length");
    const bodySize = Number(lengthHeader);
    if (bodySize > limits.maxBodySize) {
      return refuse(413, `request body over ${limits.maxBodySize} bytes`);
    }
    if (buffered.length < length + bodySize) return; // wait for the body
    const body = buffered.slice(length, length + bodySize);
    buffered = buffered.subarray(length + bodySize);
    if (routes.upgrade(head, buffered)) {
      done = true; // the wire belongs to the upgraded protocol now
      return;
    }
    busy = true;
    const keepAlive = head.version === "HTTP/1.1"
      ? head.headers.get("connection")?.toLowerCase() !== "close"
      : head.headers.get("connection")?.toLowerCase() === "keep-alive";
    respond(head, body, keepAlive).then((open) => {
      busy = false;
      if (!open) {
        done = true;
        wire.end();
      } else next();
    });
  };
  /** Answers one request; resolves with whether the connection stays open. */
  const respond = async (
    head: HttpRequestHead,
    body: Uint8Array,
    keepAlive: boolean,
  ): Promise<boolean> => {
    let response: Response;
    try {
      const init: RequestInit = { method: head.method, headers: head.headers };
      if (head.method !== "GET" && head.method !== "HEAD") {
        init.body = body as Uint8Array<ArrayBuffer>;
      }
      response = await routes.handle(new Request(limits.origin + head.target, init));
    } catch {
      response = new Response("internal error\n", { status: 500 });
    }
    const payload = head.method === "HEAD"
      ? new Uint8Array(0)
      : new Uint8Array(await response.arrayBuffer());
    if (wire.closed) return false;
    // A handler may ask to end the connection (a refusal): `connection: close`.
    keepAlive &&= response.headers.get("connection")?.toLowerCase() !== "close";
    const headers: [string, string][] = [];
    response.headers.forEach((value, name) => {
      if (name !== "content-length" && name !== "connection") headers.push([name, value]);
    });
    headers.push(["content-length", String(payload.length)]);
    if (!keepAlive) headers.push(["connection", "close"]);
    wire.write(responseHead(response.status, headers));
    if (payload.length > 0) wire.write(payload);
    return keepAlive;
  };
  wire.bind({
    data(chunk) {
      if (done) return;
      buffered = buffered.length === 0 ? chunk : concat([buffered, chunk]);
      next();
    },
    closed() {
      done = true;
    },
  });
  next();
}
