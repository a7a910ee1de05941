/**
 * An HTTP/1.1 request loop over a {@linkcode Wire}: reads request heads
 * and length-delimited bodies, hands each request to a fetch-style handler
 * and writes its response, keeping the connection alive between requests.
 * A request that asks to upgrade is handed back to the caller with the
 * wire, which it then owns.
 *
 * @module
 */

import {
  type HttpRequestHead,
  MAX_HEAD_SIZE,
  parseRequestHead,
  responseHead,
  textResponse,
} from "./http.ts";
import type { Wire } from "./wire.ts";
import { BODY_TIMEOUT } from "./bytes.ts";
import { InputQueue } from "./input_queue.ts";
import type { Admitted, HttpAdmission, HttpLimits, HttpRoutes } from "./http_routes.ts";

export { InputQueue };
export type { Admitted, HttpAdmission, HttpLimits, HttpMount, HttpRoutes } from "./http_routes.ts";

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
  const bodyTimeout = limits.bodyTimeout ?? BODY_TIMEOUT;
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
  // Closing, what the client still sends is read and dropped (`data`), for at most 2 s
  // (`Wire.end`): a client that uploads its whole body before reading gets the answer.
  const close = () => {
    enter("done");
    wire.hold(false);
    wire.end();
  };
  const refuse = (status: number, text: string) => {
    enter("done");
    wire.hold(false);
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
      let admitted: Admitted | Promise<Admitted>;
      try {
        admitted = routes.admit?.(head) ?? limits.maxBodySize;
      } catch {
        return refuse(500, "internal error");
      }
      if (admitted instanceof Promise) {
        enter("busy"); // reading stops past 64 KiB until it is decided
        admitted.then((decided) => {
          if (phase !== "done") {
            enter("head");
            if (take(head, bodySize, decided)) next();
          } else if (typeof decided === "object" && !(decided instanceof Response)) {
            decided.abandon?.(); // the connection closed first
          }
        }, () => phase !== "done" && refuse(500, "internal error"));
        return;
      }
      if (!take(head, bodySize, admitted)) return;
    }
    if (pending === undefined || input.length < pending.bodySize) return; // wait for the body
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
  /** Goes on with a request as admitted; returns whether its body is to be read. */
  const take = (head: HttpRequestHead, bodySize: number, admitted: Admitted): boolean => {
    if (admitted instanceof Response) {
      answerAtOnce(head, admitted, bodySize === 0);
      return false;
    }
    const admission = typeof admitted === "number" ? undefined : admitted;
    pending = { head, bodySize, admission };
    const limit = admission?.maxBodySize ?? admitted as number;
    if (bodySize > limit) {
      refuse(413, `request body over ${limit} bytes`);
      return false;
    }
    if (input.length < bodySize) enter("body");
    return true;
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
