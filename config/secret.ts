/**
 * The one rule for the bearer tokens and shared secrets a configuration
 * holds (the admin listener's token, the HTTP bridge's tokens and signing
 * secrets, `--http-token`): at least {@linkcode MIN_SECRET_LENGTH}
 * characters. Messages never repeat the value.
 *
 * @module
 */

/** The fewest characters a configured bearer token or shared secret may have. */
export const MIN_SECRET_LENGTH = 16;

/**
 * What is wrong with a token or shared secret, if anything.
 *
 * @param value The token.
 * @returns The reason (`expected at least 16 characters`), or `undefined` when it is long enough.
 *
 * @example
 * ```ts
 * import { weakSecret } from "./secret.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(weakSecret("s3cret"), "expected at least 16 characters");
 * equal(weakSecret("a-token-of-16-ch"), undefined);
 * ```
 */
export function weakSecret(value: string): string | undefined {
  return value.length < MIN_SECRET_LENGTH
    ? `expected at least ${MIN_SECRET_LENGTH} characters`
    : undefined;
}
