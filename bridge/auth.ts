/**
 * Who may use a bridge path: a bearer token, or Crossbar-style signed
 * requests (query parameters `key`, `timestamp`, `seq`, `nonce`,
 * `signature`, where `signature` is the URL-safe Base64 HMAC-SHA256 under
 * the secret of `key + timestamp + seq + nonce + body`, concatenated as
 * they appear in the query string), with the timestamp within
 * `timestampDelta` seconds of the router's clock and every nonce used once.
 *
 * @module
 */

import type { BridgeAuth } from "./config.ts";
import { BridgeError, refusal } from "./errors.ts";

/** Nonces a signed path remembers; past this many unexpired ones, requests get 429. */
export const MAX_NONCES = 10_000;

const encoder = new TextEncoder();

/**
 * Compares two strings in time that depends only on their lengths.
 *
 * @param a One string.
 * @param b The other.
 * @returns Whether they are equal.
 *
 * @example
 * ```ts
 * import { constantTimeEqual } from "./auth.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(constantTimeEqual("secret", "secret"), true);
 * equal(constantTimeEqual("secret", "secreT"), false);
 * ```
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < x.length; i++) diff |= x[i]! ^ (y[i % Math.max(y.length, 1)] ?? 0);
  return diff === 0;
}

/**
 * Signs a request as a signed-request client must: URL-safe Base64 (with
 * padding) of HMAC-SHA256(secret, key + timestamp + seq + nonce + body).
 *
 * @param secret The shared secret.
 * @param key The key.
 * @param timestamp The ISO-8601 UTC timestamp, e.g. `2026-12-04T10:00:00.000Z`.
 * @param seq The sequence number, as sent.
 * @param nonce The nonce, as sent.
 * @param body The request body.
 * @returns The signature.
 *
 * @example
 * ```ts
 * import { signRequest } from "./auth.ts";
 * import { equal } from "node:assert/strict";
 *
 * const body = new TextEncoder().encode('{"topic":"t"}');
 * const signature = await signRequest("s3cret", "k", "2026-12-04T10:00:00.000Z", "1", "42", body);
 * equal(signature.length, 44);
 * ```
 */
export async function signRequest(
  secret: string,
  key: string,
  timestamp: string,
  seq: string,
  nonce: string,
  body: Uint8Array,
): Promise<string> {
  const hmacKey = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return encodeBase64Url(new Uint8Array(await crypto.subtle.sign("HMAC", hmacKey, signed())));
  function signed(): Uint8Array<ArrayBuffer> {
    const head = encoder.encode(key + timestamp + seq + nonce);
    const all = new Uint8Array(head.length + body.length);
    all.set(head);
    all.set(body, head.length);
    return all;
  }
}

/** URL-safe Base64 with padding, as Python's `base64.urlsafe_b64encode`. */
function encodeBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_");
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
   * @param url Its URL (query parameters).
   * @param body Its body.
   * @returns A refusal (400, 401, 429), or undefined when it may go on.
   */
  async checkBody(url: URL, body: Uint8Array): Promise<Response | undefined> {
    const auth = this.#auth;
    if (!("secret" in auth)) return undefined;
    const fields = signedFields(url);
    if (fields instanceof Response) return fields;
    const { key, timestamp, seq, nonce, signature } = fields;
    const expected = await signRequest(auth.secret, key, timestamp, seq, nonce, body);
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
