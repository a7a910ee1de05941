/**
 * The HTTP pieces of the long-poll service: the headers every answer
 * carries, and the protocol an `open` asks for.
 *
 * @module
 */

/**
 * The headers every answer carries: CORS as Crossbar sends them, no caching.
 *
 * @param request The request's headers.
 * @returns The answer's headers.
 */
export function standardHeaders(request: Headers): Headers {
  const origin = request.get("origin");
  const headers = new Headers({
    "access-control-allow-origin": origin === null || origin === "null" ? "*" : origin,
    "access-control-allow-credentials": "true",
    "cache-control": "no-store, no-cache, must-revalidate, max-age=0",
  });
  if (origin !== null) headers.set("vary", "origin");
  const asked = request.get("access-control-request-headers");
  if (asked !== null) headers.set("access-control-allow-headers", asked);
  return headers;
}

/**
 * The WAMP protocol an `open` request's body (`{"protocols": [...]}`)
 * picks: the first it lists that is offered.
 *
 * @param body The request body.
 * @param offered The subprotocols offered.
 * @returns The protocol, or why the request is refused (a 400's text).
 */
export function chosenProtocol(
  body: Uint8Array,
  offered: ReadonlyMap<string, unknown>,
): { protocol: string } | { refused: string } {
  let protocols: unknown;
  try {
    protocols = (JSON.parse(new TextDecoder().decode(body)) as { protocols?: unknown })?.protocols;
  } catch {
    return { refused: "Cannot parse the open request: expected JSON" };
  }
  if (!Array.isArray(protocols)) {
    return { refused: 'Cannot open a transport: "protocols" must be an array' };
  }
  const protocol = protocols.find((p): p is string => typeof p === "string" && offered.has(p));
  if (protocol !== undefined) return { protocol };
  return {
    refused: `No supported WAMP protocol offered: use one of ${[...offered.keys()].join(", ")}`,
  };
}

/**
 * Whether a URL path is a long-poll service's: its base path or below it
 * (a base of `""`, the root, takes every path).
 *
 * @param base The service's base path, without a trailing slash (`/lp`).
 * @param path A URL path.
 * @returns Whether the service answers it.
 */
export function servesPath(base: string, path: string): boolean {
  return base === "" || path === base || path.startsWith(`${base}/`);
}
