/**
 * The HTTP bridge's answers: JSON bodies, and every refusal as
 * `{ error, args, kwargs }` with the status its WAMP error maps to.
 *
 * @module
 */

import { binaryToJson, type Dict, ErrorUri } from "../wamp/mod.ts";

/** Error URIs of the bridge's own refusals (documented in docs/http-bridge.md). */
export const BridgeError = {
  /** 400: the body is not the JSON object the path expects. */
  BAD_REQUEST: "cloverleaf.error.bad_request",
  /** 401: no or a wrong bearer token, or a signed request that does not verify. */
  UNAUTHORIZED: "wamp.error.authentication_failed",
  /** 405: the path takes another method. */
  METHOD_NOT_ALLOWED: "cloverleaf.error.method_not_allowed",
  /** 413: the body is larger than the path's `maxBodySize`. */
  TOO_LARGE: "cloverleaf.error.payload_size_exceeded",
  /** 429: `maxInFlight` requests are being answered. */
  RATE_LIMITED: ErrorUri.LIMIT_EXCEEDED,
  /** 502, 503: the router could not be reached (the bridge session is closed). */
  UNAVAILABLE: "cloverleaf.error.unavailable",
  /** A REST service answered with status >= 400 (ERROR to the WAMP caller). */
  HTTP_STATUS: "cloverleaf.error.http_status",
} as const;

/**
 * The HTTP status a WAMP error URI maps to: 403 for authorization, 404 for
 * a missing procedure, 504 for a timeout, 400 for bad arguments, 429 for
 * limits, else 502 (the callee's own error).
 *
 * @param uri The ERROR's URI.
 * @returns The status code.
 *
 * @example
 * ```ts
 * import { statusOf } from "./errors.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(statusOf("wamp.error.no_such_procedure"), 404);
 * equal(statusOf("com.example.error.out_of_stock"), 502);
 * ```
 */
export function statusOf(uri: string): number {
  switch (uri) {
    case ErrorUri.NOT_AUTHORIZED:
      return 403;
    case ErrorUri.NO_SUCH_PROCEDURE:
    case ErrorUri.NO_SUCH_SUBSCRIPTION:
      return 404;
    case BridgeError.METHOD_NOT_ALLOWED:
      return 405;
    case ErrorUri.TIMEOUT:
    case ErrorUri.CANCELED:
      return 504;
    case ErrorUri.INVALID_URI:
    case ErrorUri.INVALID_ARGUMENT:
    case BridgeError.BAD_REQUEST:
    case "wamp.error.protocol_violation":
      return 400;
    case BridgeError.UNAUTHORIZED:
      return 401;
    case BridgeError.TOO_LARGE:
      return 413;
    case ErrorUri.LIMIT_EXCEEDED:
      return 429;
    case BridgeError.UNAVAILABLE:
    case ErrorUri.NO_AVAILABLE_CALLEE:
      return 503;
    default:
      return 502;
  }
}

/**
 * A JSON response (binary as WAMP's JSON serializer writes it: `"\0"` + Base64).
 *
 * @param status The status code.
 * @param body The value to send.
 * @param headers More headers.
 * @returns The response.
 */
export function json(status: number, body: unknown, headers: HeadersInit = {}): Response {
  const h = new Headers(headers);
  h.set("content-type", "application/json");
  h.set("cache-control", "no-store");
  return new Response(JSON.stringify(binaryToJson(body)), { status, headers: h });
}

/**
 * A refusal: `{ error, args, kwargs }` with the status the URI maps to
 * (413 and 408 with `connection: close`).
 *
 * @param uri The WAMP error URI.
 * @param args ERROR.Arguments (a message first).
 * @param kwargs ERROR.ArgumentsKw.
 * @param status The status, when not the URI's own.
 * @returns The response.
 */
export function refusal(
  uri: string,
  args: unknown[] = [],
  kwargs: Dict = {},
  status = statusOf(uri),
): Response {
  const headers: Record<string, string> = {};
  if (status === 401) headers["www-authenticate"] = "Bearer";
  // The rest of the body is not read: the connection cannot carry another request.
  if (status === 413 || status === 408) headers["connection"] = "close";
  return json(status, { error: uri, args, kwargs }, headers);
}
