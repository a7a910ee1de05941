/**
 * Who may use a bridge path: a bearer token, or signed requests as in
 * Crossbar's HTTP bridge (query parameters `key`, `timestamp`, `seq`,
 * `nonce`, then `signature`), with the timestamp within `timestampDelta`
 * seconds of the router's clock and every nonce used once. `signature` is
 * the URL-safe Base64 HMAC-SHA256 under the secret of `key + timestamp +
 * seq + nonce + body`, as Crossbar computes it, so its clients sign our
 * POSTs unchanged. A GET (the SSE subscriber, which Crossbar does not
 * have) has no body and takes what it asks for from its query: there the
 * request target (path and query, without `signature`) stands in for the
 * body, so a captured GET cannot be sent again with another topic.
 *
 * @module
 */

import { constantTimeEqual } from "../wamp/auth/util.ts";
import { concatBytes, toBase64 } from "../wamp/bytes.ts";
import type { BridgeAuth } from "./config.ts";
import { BridgeError, refusal } from "./errors.ts";

/** Nonces a signed path remembers; past this many unexpired ones, requests get 429. */
export const MAX_NONCES = 10_000;

const encoder = new TextEncoder();

/** Options of {@linkcode signRequest}. */
export interface SignOptions {
  /** The key the path's `auth.key` names. */
  key: string;
  /** The path's `auth.secret`. */
  secret: string;
  /**
   * The body of a POST, which the signature covers as Crossbar's does.
   * Leave it out for a GET: the signature then covers the target.
   */
  body?: Uint8Array | string;
  /** The sequence number. @default {1} */
  seq?: number;
  /** The nonce, used once within the timestamp window. @default {a random 53-bit integer} */
  nonce?: number;
  /** The time of the request, epoch milliseconds. @default {Date.now()} */
  now?: number;
}

/**
 * Signs a request for a path with signed-request `auth`: appends `key`,
 * `timestamp`, `seq` and `nonce` to the target's query, then `signature`,
 * the URL-safe Base64 (with padding) HMAC-SHA256 under the secret of
 * `key + timestamp + seq + nonce` followed by the body (a POST), or by the
 * target so far (a GET, without `body`).
 *
 * @param target The request target: the path, with the query it sends
 * (e.g. `/api/events?topic=com.example.news`).
 * @param options Key, secret, body; seq, nonce and time when not the defaults.
 * @returns The signed target, to append to `http(s)://host:port`.
 *
 * @example
 * ```ts
 * import { signRequest } from "./auth.ts";
 * import { match } from "node:assert/strict";
 *
 * const target = await signRequest("/api/events?topic=com.example.news", {
 *   key: "app1",
 *   secret: "s3cret",
 *   nonce: 42,
 *   now: Date.parse("2026-12-04T10:00:00.000Z"),
 * });
 * match(target, /^\/api\/events\?topic=com\.example\.news&key=app1&timestamp=2026-12-04T10:00:00\.000Z&seq=1&nonce=42&signature=[\w-]{43}=$/);
 * ```
 */
export async function signRequest(target: string, options: SignOptions): Promise<string> {
  const timestamp = new Date(options.now ?? Date.now()).toISOString();
  const nonce = options.nonce ?? Math.floor(Math.random() * Number.MAX_SAFE_INTEGER);
  const fields = `key=${encodeURIComponent(options.key)}&timestamp=${timestamp}` +
    `&seq=${options.seq ?? 1}&nonce=${nonce}`;
  const unsigned = `${target}${target.includes("?") ? "&" : "?"}${fields}`;
  const url = new URL(unsigned, "http://localhost");
  const body = options.body === undefined
    ? undefined
    : typeof options.body === "string"
    ? encoder.encode(options.body)
    : options.body;
  const key = await hmacKey(options.secret);
  const signature = await sign(key, signedData(url, body ?? targetOf(url)));
  return `${unsigned}&signature=${signature}`;
}

/** The HMAC key of a secret. */
function hmacKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
}

/** URL-safe Base64 (with padding) of HMAC-SHA256 of `data`. */
async function sign(key: CryptoKey, data: Uint8Array): Promise<string> {
  const mac = new Uint8Array(
    await crypto.subtle.sign("HMAC", key, data as Uint8Array<ArrayBuffer>),
  );
  return toBase64(mac).replace(/\+/g, "-").replace(/\//g, "_");
}

/** What a signature covers, as Crossbar: `key + timestamp + seq + nonce + body`. */
function signedData(url: URL, body: Uint8Array): Uint8Array {
  const q = url.searchParams;
  const fields = `${q.get("key")}${q.get("timestamp")}${q.get("seq")}${q.get("nonce")}`;
  return concatBytes(encoder.encode(fields), body);
}

/**
 * What a GET's signature covers in place of a body: the path and the query
 * as sent, without the `signature` parameter (the others in their order
 * and encoding).
 */
function targetOf(url: URL): Uint8Array {
  const query = url.search.slice(1).split("&").filter((part) =>
    part !== "" && !part.startsWith("signature=")
  ).join("&");
  return encoder.encode(query === "" ? url.pathname : `${url.pathname}?${query}`);
}

/** The fields of a signed request, or the 400 when one is missing. */
function signedFields(
  url: URL,
): { key: string; timestamp: string; seq: string; nonce: string; signature: string } | Response {
  const q = url.searchParams;
  const key = q.get("key");
  const timestamp = q.get("timestamp");
  const seq = q.get("seq");
  const nonce = q.get("nonce");
  const signature = q.get("signature");
  if (key === null || timestamp === null || seq === null || nonce === null || signature === null) {
    return refusal(BridgeError.BAD_REQUEST, [
      "signed request required: key, timestamp, seq, nonce and signature query parameters",
    ]);
  }
  return { key, timestamp, seq, nonce, signature };
}

/** Checks requests against one path's {@linkcode BridgeAuth}. */
export class RequestAuth {
  #auth: BridgeAuth;
  #now: () => number;
  /** Nonces seen, with when they stop mattering (the timestamp window has passed). */
  #nonces = new Map<string, number>();
  /** The secret's HMAC key, once imported. */
  #hmac: Promise<CryptoKey> | undefined;

  /**
   * Creates the checker.
   *
   * @param auth The path's settings.
   * @param now The clock (milliseconds), injectable for tests.
   */
  constructor(auth: BridgeAuth, now: () => number = Date.now) {
    this.#auth = auth;
    this.#now = now;
  }

  /**
   * Checks what a request's head shows, before its body is read: a bearer
   * token whole; of a signed request, that every field is there and well
   * formed, the key and the timestamp (the signature needs the body: see
   * {@linkcode RequestAuth.checkBody}).
   *
   * @param headers The request's headers.
   * @param url Its URL (query parameters).
   * @returns A refusal (400, 401), or undefined when it may go on.
   */
  checkHead(headers: Headers, url: URL): Response | undefined {
    const auth = this.#auth;
    if ("none" in auth) return undefined;
    if ("token" in auth) {
      const header = headers.get("authorization") ?? "";
      const presented = /^Bearer\s+(\S+)$/i.exec(header)?.[1] ??
        url.searchParams.get("access_token") ?? "";
      return constantTimeEqual(presented, auth.token)
        ? undefined
        : refusal(BridgeError.UNAUTHORIZED, ["a valid bearer token is required"]);
    }
    const fields = signedFields(url);
    if (fields instanceof Response) return fields;
    const { key, timestamp, seq, nonce } = fields;
    if (!/^\d{1,19}$/.test(seq) || !/^\d{1,19}$/.test(nonce)) {
      return refusal(BridgeError.BAD_REQUEST, ["seq and nonce must be integers"]);
    }
    const at = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$/.test(timestamp)
      ? Date.parse(timestamp)
      : NaN;
    if (Number.isNaN(at)) {
      return refusal(BridgeError.BAD_REQUEST, [
        `invalid timestamp (expected UTC ISO-8601, e.g. "2026-12-04T16:59:51.123Z")`,
      ]);
    }
    if (Math.abs(this.#now() - at) > auth.timestampDelta * 1000) {
      return refusal(BridgeError.UNAUTHORIZED, [
        `timestamp more than ${auth.timestampDelta} s from the router's clock`,
      ]);
    }
    if (!constantTimeEqual(key, auth.key)) {
      return refusal(BridgeError.UNAUTHORIZED, ["invalid key or signature"]);
    }
    return undefined;
  }

  /**
   * Checks a signed request's signature and nonce, once its body is read
   * (after {@linkcode RequestAuth.checkHead} let it through).
   *
   * @param method Its method: a GET's signature covers its target, any
   * other's its body.
   * @param url Its URL (query parameters).
   * @param body Its body.
   * @returns A refusal (400, 401, 429), or undefined when it may go on.
   */
  async checkBody(method: string, url: URL, body: Uint8Array): Promise<Response | undefined> {
    const auth = this.#auth;
    if (!("secret" in auth)) return undefined;
    const fields = signedFields(url);
    if (fields instanceof Response) return fields;
    const { nonce, signature } = fields;
    this.#hmac ??= hmacKey(auth.secret); // imported once, not per request
    const data = signedData(url, method === "GET" ? targetOf(url) : body);
    const expected = await sign(await this.#hmac, data);
    const given = signature.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    if (!constantTimeEqual(given, expected.replace(/=+$/, ""))) {
      return refusal(BridgeError.UNAUTHORIZED, ["invalid key or signature"]);
    }
    // now + 2 windows: later than the request's own window ends, and in arrival order, so the
    // oldest entry is always the first to expire.
    const now = this.#now();
    return this.#fresh(nonce, now, now + 2 * auth.timestampDelta * 1000);
  }

  /** Remembers a nonce until `expires`; refuses one seen before. */
  #fresh(nonce: string, now: number, expires: number): Response | undefined {
    const seen = this.#nonces.get(nonce);
    if (seen !== undefined && seen >= now) {
      return refusal(BridgeError.UNAUTHORIZED, ["nonce already used (replayed request)"]);
    }
    // Insertion order is the ring: drop what has expired from the front.
    for (const [old, until] of this.#nonces) {
      if (until >= now && this.#nonces.size < MAX_NONCES) break;
      if (until >= now) {
        return refusal(BridgeError.RATE_LIMITED, [
          `${MAX_NONCES} signed requests within the timestamp window`,
        ]);
      }
      this.#nonces.delete(old);
    }
    this.#nonces.delete(nonce);
    this.#nonces.set(nonce, expires);
    return undefined;
  }
}
