/**
 * Who may use the admin listener: with a token, requests carrying
 * `Authorization: Bearer <token>` (compared in constant time); without
 * one, requests from loopback addresses only, naming a loopback host (a
 * web page whose DNS name was rebound to 127.0.0.1 sends its own name in
 * `Host`, so it cannot read the admin surface through the visitor's
 * browser).
 *
 * @module
 */

import { constantTimeEqual } from "../wamp/auth/util.ts";
import { isLoopback } from "../transports/address.ts";

export { isLoopback } from "../transports/address.ts";

/** Headers a reverse proxy adds: the client is not the loopback address the socket shows. */
const PROXY_HEADERS = ["forwarded", "x-forwarded-for", "x-real-ip"];

/**
 * Decides whether a request may go on.
 *
 * @param request The request.
 * @param remote The client's address.
 * @param token The configured token, if any.
 * @returns `undefined` to go on, else the refusal (401 or 403).
 */
export function refusal(
  request: Request,
  remote: string,
  token: string | undefined,
): Response | undefined {
  if (token === undefined) {
    // A proxy on this host connects from loopback for everyone: proxied requests need the token.
    const proxied = PROXY_HEADERS.some((name) => request.headers.has(name));
    if (isLoopback(remote) && !proxied && loopbackHost(request.headers.get("host"))) {
      return undefined;
    }
    return json(403, {
      error: "forbidden",
      message: "The admin listener serves loopback clients only (configure admin.token)",
    });
  }
  const header = request.headers.get("authorization") ?? "";
  const match = /^Bearer\s+(.+)$/i.exec(header);
  if (match !== null && constantTimeEqual(match[1]!.trim(), token)) return undefined;
  return new Response(
    JSON.stringify({ error: "unauthorized", message: "Bearer token required" }) + "\n",
    {
      status: 401,
      headers: {
        "content-type": "application/json",
        "www-authenticate": 'Bearer realm="cloverleaf-admin"',
      },
    },
  );
}

/**
 * Whether a `Host` header names this machine: `localhost` (and its
 * subdomains, which resolve to loopback only), or a loopback address; no
 * header (not a browser) passes too.
 */
function loopbackHost(host: string | null): boolean {
  if (host === null) return true;
  const name = (host.startsWith("[") ? host.slice(1, host.indexOf("]")) : host.replace(/:\d*$/, ""))
    .toLowerCase();
  return name === "localhost" || name.endsWith(".localhost") || isLoopback(name);
}

/** A JSON response. */
export function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body) + "\n", {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store" },
  });
}
