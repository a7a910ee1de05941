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
  let out = "_";
  for (const char of text) {
    if (SAFE.test(char)) out += char;
    else {for (const byte of utf8.encode(char)) {
        out += `=${byte.toString(16).toUpperCase().padStart(2, "0")}`;
      }}
  }
  return out.length <= KEY_TOKEN_MAX
    ? out
    : `h${createHash("sha256").update(text).digest("base64url")}`;
}

/**
 * The text of a key token ({@linkcode keyToken}).
 *
 * @param token The token.
 * @returns The text (undefined: a hashed token).
 */
export function untoken(token: string): string | undefined {
  if (!token.startsWith("_")) return undefined;
  return decodeURIComponent(token.slice(1).replaceAll("=", "%"));
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
