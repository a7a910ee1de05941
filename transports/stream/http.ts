/**
 * The little HTTP/1.1 a WAMP listener needs, as pure functions: parse a
 * request head (for WebSocket upgrades and long-poll requests) and format
 * a response head. Bodies are length-delimited only.
 *
 * @module
 */

/** A parsed HTTP request head. */
export interface HttpRequestHead {
  /** `GET`, `POST`, … (as sent). */
  readonly method: string;
  /** The request target: path and query, e.g. `/ws?x=1`. */
  readonly target: string;
  /** The path part of the target. */
  readonly path: string;
  /** `HTTP/1.0` or `HTTP/1.1`. */
  readonly version: string;
  /** The headers (names case-insensitive; repeated ones joined by `, `). */
  readonly headers: Headers;
  /**
   * The header lines as name and value, in order: what a `Request` is
   * built from (Deno builds one from a `Headers` in time quadratic in its
   * size: 0.84 ms for 100 headers, against 27 µs from these pairs).
   */
  readonly fields: readonly (readonly [string, string])[];
}

/** The result of {@linkcode parseRequestHead}. */
export type ParsedHead =
  | { readonly head: HttpRequestHead; readonly length: number }
  | { readonly incomplete: true }
  | {
    readonly error: string;
    /** What to answer: 431 when the head is too large, else 400. */
    readonly status: 400 | 431;
  };

/** The largest request head accepted, in bytes. */
export const MAX_HEAD_SIZE = 16 * 1024;

/** The most header lines a request head may have (as hyper allows); more is answered 431. */
export const MAX_HEADER_LINES = 100;

const decoder = new TextDecoder("latin1");
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Parses a request head from the start of `bytes`.
 *
 * @param bytes What has arrived so far.
 * @returns The head and its length in bytes (the body starts there),
 * `incomplete` when more bytes are needed, or an error and the status to
 * answer it with.
 *
 * @example
 * ```ts
 * import { parseRequestHead } from "./http.ts";
 * import { equal, ok } from "node:assert/strict";
 *
 * const bytes = new TextEncoder().encode("GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n");
 * const parsed = parseRequestHead(bytes);
 * ok("head" in parsed);
 * equal(parsed.head.headers.get("upgrade"), "websocket");
 * equal(parsed.length, bytes.length);
 * ```
 */
export function parseRequestHead(bytes: Uint8Array): ParsedHead {
  const end = headEnd(bytes);
  if (end < 0) {
    return bytes.length > MAX_HEAD_SIZE
      ? { error: "request head too large", status: 431 }
      : { incomplete: true };
  }
  if (end > MAX_HEAD_SIZE) return { error: "request head too large", status: 431 };
  const lines = decoder.decode(bytes.subarray(0, end)).split("\r\n");
  const requestLine = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) (HTTP\/1\.[01])$/.exec(lines[0]!);
  if (requestLine === null) return { error: "malformed request line", status: 400 };
  // Absolute-form (`http://host/x`), which a server must accept (RFC 9112 3.2.2), is served by its
  // path; `*` and anything else that is not a path is a bad request.
  let target = requestLine[2]!;
  const absolute = /^https?:\/\/[^/?#\s]*/i.exec(target);
  if (absolute !== null) target = `/${target.slice(absolute[0].length).replace(/^\//, "")}`;
  if (!target.startsWith("/")) return { error: "expected a path as target", status: 400 };
  if (lines.length - 1 > MAX_HEADER_LINES) return { error: "too many header lines", status: 431 };
  const headers = new Headers();
  const fields: [string, string][] = [];
  for (const line of lines.slice(1)) {
    if (line === "") continue;
    const colon = line.indexOf(":");
    const name = line.slice(0, colon);
    if (colon <= 0 || !TOKEN.test(name)) return { error: "malformed header line", status: 400 };
    const value = line.slice(colon + 1).trim();
    try {
      headers.append(name, value);
    } catch {
      return { error: `malformed header ${name}`, status: 400 };
    }
    fields.push([name, value]);
  }
  const query = target.indexOf("?");
  return {
    head: {
      method: requestLine[1]!,
      target,
      path: query < 0 ? target : target.slice(0, query),
      version: requestLine[3]!,
      headers,
      fields,
    },
    length: end + 4,
  };
}

/** Index of the `\r\n\r\n` ending the head, or -1. */
function headEnd(bytes: Uint8Array): number {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (
      bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10
    ) return i;
  }
  return -1;
}

const REASONS: Record<number, string> = {
  101: "Switching Protocols",
  200: "OK",
  202: "Accepted",
  204: "No Content",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  411: "Length Required",
  413: "Content Too Large",
  426: "Upgrade Required",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/**
 * Formats a response head (status line, headers, blank line).
 *
 * @param status The status code.
 * @param headers Header names and values.
 * @returns The head's bytes.
 *
 * @example
 * ```ts
 * import { responseHead } from "./http.ts";
 * import { equal } from "node:assert/strict";
 *
 * const text = new TextDecoder().decode(responseHead(404, { "content-length": "0" }));
 * equal(text, "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n");
 * ```
 */
export function responseHead(
  status: number,
  headers: Headers | Record<string, string> | [string, string][],
): Uint8Array {
  let text = `HTTP/1.1 ${status} ${REASONS[status] ?? "Status"}\r\n`;
  const entries = headers instanceof Headers || Array.isArray(headers)
    ? headers
    : Object.entries(headers);
  for (const [name, value] of entries) text += `${name}: ${value}\r\n`;
  return new TextEncoder().encode(text + "\r\n");
}

/**
 * A complete short response with a plain-text body, for refusals.
 *
 * @param status The status code.
 * @param body The text.
 * @param headers More headers.
 * @returns The response's bytes.
 */
export function textResponse(
  status: number,
  body: string,
  headers: Record<string, string> = {},
): Uint8Array {
  const bytes = new TextEncoder().encode(body);
  const head = responseHead(status, {
    "content-type": "text/plain; charset=utf-8",
    "content-length": String(bytes.length),
    ...headers,
  });
  const out = new Uint8Array(head.length + bytes.length);
  out.set(head);
  out.set(bytes, head.length);
  return out;
}

/**
 * The elements of a comma-separated header value (`Connection`,
 * `Upgrade`, `Sec-WebSocket-Protocol`), each trimmed. Linear in the
 * value: a regular expression such as `/\s*,\s*\/` takes time quadratic in
 * a run of inner whitespace (16,000 spaces: 0.2 s).
 *
 * @param value The header's value.
 * @returns Its elements, empty ones included.
 *
 * @example
 * ```ts
 * import { headerTokens } from "./http.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(headerTokens(" keep-alive ,Upgrade"), ["keep-alive", "Upgrade"]);
 * ```
 */
export function headerTokens(value: string): string[] {
  return value.split(",").map((token) => token.trim());
}
