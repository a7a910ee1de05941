/**
 * Text as KV key tokens for the cluster's buckets (a key is a NATS
 * subject, so each token is bounded: a long one is hashed).
 *
 * @module
 */

import { createHash } from "node:crypto";

const SAFE = /[A-Za-z0-9_-]/;
const utf8 = new TextEncoder();
/** The longest key token written out: a longer one is hashed (a key is a NATS subject). */
export const KEY_TOKEN_MAX = 128;

/**
 * Text as a KV key token: `[A-Za-z0-9_-]` kept, every other byte `=XX`;
 * reversible with `decodeURIComponent` after `=` → `%`. Past
 * {@linkcode KEY_TOKEN_MAX} characters, `h` and the text's SHA-256
 * (base64url) instead: not reversible, so the value names what it hashes.
 *
 * @param text Any text.
 * @returns The token (never empty: a leading `_`, or `h` when hashed).
 *
 * @example
 * ```ts
 * import { keyToken } from "./key_tokens.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(keyToken("com.example"), "_com=2Eexample");
 * equal(keyToken("a".repeat(4000)).length, 44); // `h` and 43 characters
 * ```
 */
export function keyToken(text: string): string {
  return boundedToken(text, "=", KEY_TOKEN_MAX, "h", "_");
}

/**
 * Text as one NATS subject token: `lead`, then `[A-Za-z0-9_-]` kept and
 * every other UTF-8 byte as `escape` and two hex digits; past `max`
 * characters, `hashMark` and the text's SHA-256 (base64url) instead. The
 * one escaping of subjects (`subjects.ts`) and KV keys.
 *
 * @param text Any text.
 * @param escape The escape character.
 * @param max The longest token written out.
 * @param hashMark What starts a hashed token (no written-out token starts so).
 * @param lead What starts a written-out token.
 * @returns The token.
 */
export function boundedToken(
  text: string,
  escape: string,
  max: number,
  hashMark: string,
  lead = "",
): string {
  let out = lead;
  for (const char of text) {
    if (SAFE.test(char)) out += char;
    else {for (const byte of utf8.encode(char)) {
        out += `${escape}${byte.toString(16).toUpperCase().padStart(2, "0")}`;
      }}
  }
  return out.length <= max ? out : `${hashMark}${sha256(text)}`;
}

/**
 * The SHA-256 of text, base64url (43 characters): what stands for a token
 * too long to write out.
 *
 * @param text Any text.
 * @returns The digest.
 */
export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("base64url");
}

/**
 * The text of a key token ({@linkcode keyToken}).
 *
 * @param token The token.
 * @returns The text (undefined: a hashed token, or one no `keyToken` wrote,
 * e.g. `_=ZZ`).
 *
 * @example
 * ```ts
 * import { untoken } from "./key_tokens.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(untoken("_com=2Eexample"), "com.example");
 * equal(untoken("_=ZZ"), undefined);
 * ```
 */
export function untoken(token: string): string | undefined {
  if (!token.startsWith("_")) return undefined;
  try {
    return decodeURIComponent(token.slice(1).replaceAll("=", "%"));
  } catch {
    return undefined; // not %-escaping (URIError): malformed
  }
}

/**
 * What a head records of its names: the realm and procedure, when the key
 * hashes either (else the key says them).
 *
 * @param realm The realm.
 * @param procedure The procedure.
 * @returns The names, or undefined.
 */
export function headNames(realm: string, procedure: string): [string, string] | undefined {
  const hashed = !keyToken(realm).startsWith("_") || !keyToken(procedure).startsWith("_");
  return hashed ? [realm, procedure] : undefined;
}
