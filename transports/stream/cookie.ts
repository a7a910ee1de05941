/**
 * The tracking cookie of WebSocket listeners (cookie authentication):
 * fresh random values, reading the one a client presents, and the
 * `Set-Cookie` header.
 *
 * @module
 */

/** The tracking cookie of a WebSocket listener. */
export interface CookieOptions {
  /** The cookie's name. @default {"cbtid"} */
  name?: string;
  /** Its lifetime in the browser, in seconds. @default {86400} */
  maxAge?: number;
}

/**
 * A fresh tracking cookie value: 24 random bytes, base64url.
 *
 * @returns The value.
 *
 * @example
 * ```ts
 * import { newCookie } from "./cookie.ts";
 * import { match } from "node:assert/strict";
 *
 * match(newCookie(), /^[A-Za-z0-9_-]{32}$/);
 * ```
 */
export function newCookie(): string {
  return crypto.getRandomValues(new Uint8Array(24)).toBase64({
    alphabet: "base64url",
    omitPadding: true,
  });
}

/**
 * The value of cookie `name` in a `Cookie` header, if well-formed
 * (16–64 base64url characters).
 *
 * @param header The request's `Cookie` header.
 * @param name The cookie's name.
 * @returns The value, or `undefined`.
 *
 * @example
 * ```ts
 * import { presentedCookie } from "./cookie.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(presentedCookie("a=1; cbtid=abcdefghijklmnop", "cbtid"), "abcdefghijklmnop");
 * equal(presentedCookie("cbtid=short", "cbtid"), undefined);
 * ```
 */
export function presentedCookie(header: string | null, name: string): string | undefined {
  for (const part of header?.split(";") ?? []) {
    const at = part.indexOf("=");
    if (part.slice(0, at).trim() !== name) continue;
    const value = part.slice(at + 1).trim();
    return /^[A-Za-z0-9_-]{16,64}$/.test(value) ? value : undefined;
  }
  return undefined;
}

/**
 * Picks the connection's tracking cookie: always a fresh value, so a
 * cookie a client presents (perhaps planted in it by someone else) is
 * never the one a later login gets bound to. When the client presents a
 * cookie, `renew` lets the acceptor move to the fresh value whatever the
 * presented one stood for (cookie authentication keeps working; the
 * router forgets the presented one); the `Set-Cookie` header replaces it
 * in the client.
 *
 * @param header The request's `Cookie` header.
 * @param options The cookie's name and lifetime.
 * @param renew The acceptor's `renewCookie` (presented value, fresh value).
 * @param secure Whether the connection is TLS: the cookie is then `Secure`
 * (never sent by a browser over plain HTTP, where anyone on the path could
 * read it and log in as its owner).
 * @returns The value and the `Set-Cookie` header (`HttpOnly`, `SameSite=Lax`,
 * and `Secure` over TLS).
 *
 * @example
 * ```ts
 * import { trackingCookie } from "./cookie.ts";
 * import { deepEqual, equal, match, notEqual } from "node:assert/strict";
 *
 * const renewed: string[][] = [];
 * const fresh = trackingCookie("cbtid=abcdefghijklmnop", {}, (old, value) => {
 *   renewed.push([old, value]);
 * });
 * notEqual(fresh.value, "abcdefghijklmnop");
 * deepEqual(renewed, [["abcdefghijklmnop", fresh.value]]);
 * equal(fresh.setCookie, `cbtid=${fresh.value}; Max-Age=86400; Path=/; HttpOnly; SameSite=Lax`);
 * match(trackingCookie(null, {}, undefined).value, /^[\w-]{32}$/);
 * match(trackingCookie(null, {}, undefined, true).setCookie, /; Secure$/);
 * ```
 */
export function trackingCookie(
  header: string | null,
  options: CookieOptions,
  renew: ((presented: string, fresh: string) => void) | undefined,
  secure = false,
): { value: string; setCookie: string } {
  const name = options.name ?? "cbtid";
  const presented = presentedCookie(header, name);
  const value = newCookie();
  if (presented !== undefined) renew?.(presented, value);
  return {
    value,
    setCookie: `${name}=${value}; Max-Age=${
      options.maxAge ?? 86_400
    }; Path=/; HttpOnly; SameSite=Lax${secure ? "; Secure" : ""}`,
  };
}
