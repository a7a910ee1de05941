/**
 * Who may use a bridge path: a bearer token, or signed requests as in
 * Crossbar's HTTP bridge (query parameters `key`, `timestamp`, `seq`,
 * `nonce`, then `signature`, each once), with the timestamp within
 * `timestampDelta` seconds of the router's clock. `signature` is the
 * URL-safe Base64 HMAC-SHA256 under the secret of `key + timestamp + seq +
 * nonce + body`, as Crossbar computes it, so its clients sign our POSTs
 * unchanged. A GET (the SSE subscriber, which Crossbar does not have) has
 * no body and takes what it asks for from its query: there the request
 * target (path and query after URL parsing, without `signature`) stands in
 * for the body, so a captured GET cannot be sent again with another topic.
 * Each signature is taken once by the whole bridge: what it covers names
 * neither path nor method (and `seq=1&nonce=42` signs as `seq=14&nonce=2`),
 * so the paths of one key and secret share the memory of used ones. With
 * {@linkcode SharedSignatures} (a cluster's, the workers' of one service),
 * a signature is taken once by every router sharing it.
 *
 * @module
 */

import { constantTimeEqual } from "../wamp/auth/util.ts";
import { concatBytes, toBase64 } from "../wamp/bytes.ts";
import type { BridgeAuth } from "./config.ts";
import { BridgeError, refusal } from "./errors.ts";
import { hmacKey, type SharedSignatures, SigningKey } from "./signing_key.ts";

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
 * @throws {TypeError} When the target has a signed parameter of its own.
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
  // Read back as the bridge reads it (a placeholder signature, not signed).
  const parsed = signedFields(new URL(`${url.href}&signature=`));
  if (parsed instanceof Response) {
    throw new TypeError(
      `Cannot sign ${target}: it has a key, timestamp, seq, nonce or signature already`,
    );
  }
  const body = options.body === undefined
    ? undefined
    : typeof options.body === "string"
    ? encoder.encode(options.body)
    : options.body;
  const key = await hmacKey(options.secret);
  const signature = await sign(key, signedData(parsed, body ?? targetOf(url)));
  return `${unsigned}&signature=${signature}`;
}

/** URL-safe Base64 (with padding) of HMAC-SHA256 of `data`. */
async function sign(key: CryptoKey, data: Uint8Array): Promise<string> {
  const mac = new Uint8Array(
    await crypto.subtle.sign("HMAC", key, data as Uint8Array<ArrayBuffer>),
  );
  return toBase64(mac).replace(/\+/g, "-").replace(/\//g, "_");
}

/** What a signature covers, as Crossbar: `key + timestamp + seq + nonce + body`. */
function signedData(fields: SignedFields, body: Uint8Array): Uint8Array {
  const { key, timestamp, seq, nonce } = fields;
  return concatBytes(encoder.encode(`${key}${timestamp}${seq}${nonce}`), body);
}

/**
 * What a GET's signature covers in place of a body: the path and the query
 * after WHATWG URL parsing (dot segments resolved, characters outside URL
 * code points percent-encoded), without the `signature` parameter (the
 * others in their order and encoding).
 */
function targetOf(url: URL): Uint8Array {
  const query = url.search.slice(1).split("&").filter((part) =>
    part !== "" && !part.startsWith("signature=")
  ).join("&");
  return encoder.encode(query === "" ? url.pathname : `${url.pathname}?${query}`);
}

/** The query parameters of a signed request, each given once. */
export interface SignedFields {
  readonly key: string;
  readonly timestamp: string;
  readonly seq: string;
  readonly nonce: string;
  readonly signature: string;
}

const SIGNED_NAMES = ["key", "timestamp", "seq", "nonce", "signature"] as const;
type SignedName = typeof SIGNED_NAMES[number];

/**
 * The fields of a signed request, read in one pass over the query, or the
 * 400 when one is missing or given twice (which one counts would be the
 * sender's choice: `seq=1&nonce=42` and `seq=14&nonce=2` sign the same bytes).
 */
function signedFields(url: URL): SignedFields | Response {
  const found: Partial<Record<SignedName, string>> = {};
  for (const [name, value] of url.searchParams) {
    if (!(SIGNED_NAMES as readonly string[]).includes(name)) continue;
    if (found[name as SignedName] !== undefined) {
      return refusal(BridgeError.BAD_REQUEST, [`signed request: "${name}" is given twice`]);
    }
    found[name as SignedName] = value;
  }
  const { key, timestamp, seq, nonce, signature } = found;
  if (
    key === undefined || timestamp === undefined || seq === undefined || nonce === undefined ||
    signature === undefined
  ) {
    return refusal(BridgeError.BAD_REQUEST, [
      "signed request required: key, timestamp, seq, nonce and signature query parameters",
    ]);
  }
  return { key, timestamp, seq, nonce, signature };
}

/**
 * The checkers of a bridge's paths, in their order: paths with the same
 * key and secret share one {@linkcode SigningKey} (its memory kept for the
 * largest `timestampDelta` among them).
 *
 * @param auths Each path's settings.
 * @param now The clock (milliseconds), injectable for tests.
 * @param shared A memory of used signatures shared with other routers.
 * @returns One checker per path.
 */
export function requestAuths(
  auths: readonly BridgeAuth[],
  now: () => number = Date.now,
  shared?: SharedSignatures,
): RequestAuth[] {
  const deltas = new Map<string, number>();
  const id = (auth: { key: string; secret: string }) => JSON.stringify([auth.key, auth.secret]);
  for (const auth of auths) {
    if ("secret" in auth) {
      deltas.set(id(auth), Math.max(deltas.get(id(auth)) ?? 0, auth.timestampDelta));
    }
  }
  const keys = new Map<string, SigningKey>();
  return auths.map((auth) => {
    if (!("secret" in auth)) return new RequestAuth(auth, now);
    let key = keys.get(id(auth));
    if (key === undefined) {
      keys.set(id(auth), key = new SigningKey(auth.secret, deltas.get(id(auth))!, shared));
    }
    return new RequestAuth(auth, now, key);
  });
}

/** Checks requests against one path's {@linkcode BridgeAuth}. */
export class RequestAuth {
  #auth: BridgeAuth;
  #now: () => number;
  /** The HMAC key and used signatures, shared with the bridge's other paths of this key. */
  #signing: SigningKey | undefined;

  /**
   * Creates the checker.
   *
   * @param auth The path's settings.
   * @param now The clock (milliseconds), injectable for tests.
   * @param signing What it shares with other paths of the same key and
   * secret ({@linkcode requestAuths}); its own when not given.
   */
  constructor(auth: BridgeAuth, now: () => number = Date.now, signing?: SigningKey) {
    this.#auth = auth;
    this.#now = now;
    if ("secret" in auth) {
      this.#signing = signing ?? new SigningKey(auth.secret, auth.timestampDelta);
    }
  }

  /**
   * Checks what a request's head shows, before its body is read: a bearer
   * token whole; of a signed request, that every field is there once and
   * well formed, the key and the timestamp (the signature needs the body:
   * see {@linkcode RequestAuth.checkBody}).
   *
   * @param headers The request's headers.
   * @param url Its URL (query parameters).
   * @returns A refusal (400, 401); the signed fields, for
   * {@linkcode RequestAuth.checkBody}; or undefined when it may go on.
   */
  checkHead(headers: Headers, url: URL): Response | SignedFields | undefined {
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
    const { key, timestamp, seq, nonce, signature } = fields;
    if (!/^\d{1,19}$/.test(seq) || !/^\d{1,19}$/.test(nonce)) {
      return refusal(BridgeError.BAD_REQUEST, ["seq and nonce must be integers"]);
    }
    // An HMAC-SHA256 in base64 or base64url, padded or not: checked before anything else
    // reads it (stripping the padding of 16,000 "=" with /=+$/ took 0.2 s).
    if (!/^[\w+/-]{43}=?$/.test(signature)) {
      return refusal(BridgeError.BAD_REQUEST, ["signature must be an HMAC-SHA256 in base64"]);
    }
    const at = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$/.test(timestamp)
      ? Date.parse(timestamp)
      : NaN;
    if (Number.isNaN(at)) {
      return refusal(BridgeError.BAD_REQUEST, [
        `invalid timestamp (expected UTC ISO-8601, e.g. "2026-12-04T16:59:51.123Z")`,
      ]);
    }
    if (this.#stale(at, auth.timestampDelta)) {
      return refusal(BridgeError.UNAUTHORIZED, [
        `timestamp more than ${auth.timestampDelta} s from the router's clock`,
      ]);
    }
    if (!constantTimeEqual(key, auth.key)) {
      return refusal(BridgeError.UNAUTHORIZED, ["invalid key or signature"]);
    }
    return fields;
  }

  /** Whether a timestamp (epoch ms) is more than `delta` seconds from the router's clock. */
  #stale(at: number, delta: number): boolean {
    return Math.abs(this.#now() - at) > delta * 1000;
  }

  /**
   * Checks a signed request's signature, and that it is used once, when
   * its body is read (after {@linkcode RequestAuth.checkHead} let it
   * through with these fields).
   *
   * @param fields What {@linkcode RequestAuth.checkHead} returned.
   * @param method Its method: a GET's signature covers its target, any
   * other's its body.
   * @param url Its URL.
   * @param body Its body.
   * @param verified Called once the signature verified, before it is
   * spent: a refusal it returns (no slot free) leaves the signature unspent.
   * @returns A refusal (401, 429, 503), or undefined when it may go on.
   */
  async checkBody(
    fields: SignedFields,
    method: string,
    url: URL,
    body: Uint8Array,
    verified: () => Response | undefined = () => undefined,
  ): Promise<Response | undefined> {
    const signing = this.#signing;
    const auth = this.#auth;
    if (signing === undefined || !("secret" in auth)) return undefined;
    // Again when spent: a used signature is remembered for 2 windows from its first use, which
    // only covers requests spent within a window of their timestamp (a body may be held for
    // `http.bodyTimeout` after the head was let through).
    if (this.#stale(Date.parse(fields.timestamp), auth.timestampDelta)) {
      return refusal(BridgeError.UNAUTHORIZED, [
        `timestamp more than ${auth.timestampDelta} s from the router's clock when the body came`,
      ]);
    }
    const data = signedData(fields, method === "GET" ? targetOf(url) : body);
    const expected = (await sign(await signing.hmac(), data)).replace(/=+$/, "");
    const given = fields.signature.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    if (!constantTimeEqual(given, expected)) {
      return refusal(BridgeError.UNAUTHORIZED, ["invalid key or signature"]);
    }
    // Refused here (no slot), the signature is not spent: the same request may come again.
    return verified() ?? signing.spend(expected, this.#now()) ??
      await signing.spendShared(expected);
  }
}
