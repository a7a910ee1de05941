/**
 * A realm's `auth` options: which methods it offers, each with static
 * principals from the config or a dynamic authenticator (a WAMP
 * procedure URI, or a TypeScript function from the library API). The same
 * keys in `new Router({ realms })` and in the JSON config file.
 *
 * @module
 */

import { CRA_MAX_KEYLEN, KDF_LIMITS, kdfOverLimit } from "../../../wamp/auth/kdf_limits.ts";
import { deriveCredentials } from "../../../wamp/auth/scram.ts";
import { decodeBase64 } from "../../../wamp/auth/util.ts";
import { configError, type ConfigObject } from "../../../config/mod.ts";
import { isValidUri } from "../../../wamp/mod.ts";
import type { DynamicAuthenticator } from "./authenticator.ts";
import type { CryptosignPrincipal } from "./cryptosign.ts";
import type { ScramUser } from "./scram.ts";
import type { TicketPrincipal } from "./ticket.ts";
import { normalizeFingerprint, type TlsPrincipal } from "./tls.ts";
import type { CraUser } from "./wampcra.ts";

/**
 * A dynamic authenticator: a procedure URI the router calls as
 * `(realm, authid, details)`, Crossbar-style, or a function.
 */
export interface DynamicOption {
  /** The procedure URI, or the function. */
  authenticator?: string | DynamicAuthenticator;
  /** The realm the procedure is registered in. @default {the realm itself} */
  authenticatorRealm?: string;
}

/**
 * A WAMP-SCRAM user given by password: the stored keys are derived when
 * the realm is created (handy in tests; production configs should store
 * `storedKey` and `serverKey` instead).
 */
export interface ScramPasswordUser {
  /** The role granted. */
  role: string;
  /** The password. */
  password: string;
  /** The KDF. @default {"argon2id13"} */
  kdf?: "pbkdf2" | "argon2id13";
  /** The salt, base64. */
  salt: string;
  /** Iterations (Argon2id passes). @default {4096 for pbkdf2, 4 for argon2id13} */
  iterations?: number;
  /** Argon2id memory in KiB. @default {65536} */
  memory?: number;
}

/**
 * A WAMP-SCRAM user given by its stored keys, as the config writes it:
 * the KDF parameters have defaults (the resolved {@linkcode ScramUser}
 * has them all).
 */
export interface ScramStoredUser {
  /** The role granted. */
  role: string;
  /** The KDF. @default {"argon2id13"} */
  kdf?: "pbkdf2" | "argon2id13";
  /** The salt, base64. */
  salt: string;
  /** Iterations (Argon2id passes). @default {4096 for pbkdf2, 4 for argon2id13} */
  iterations?: number;
  /** Argon2id memory in KiB. @default {65536} */
  memory?: number | null;
  /** `SHA-256(ClientKey)`, base64 of 32 bytes. */
  storedKey: string;
  /** `HMAC(SaltedPassword, "Server Key")`, base64 of 32 bytes. */
  serverKey: string;
}

/** The authentication methods of a realm. */
export interface AuthOptions {
  /** Ticket: `principals` (authid → `{ticket, role}`) or an authenticator. */
  ticket?: DynamicOption & { principals?: Record<string, TicketPrincipal> };
  /** WAMP-CRA: `users` (authid → `{secret, role, salt?, iterations?, keylen?}`) or an authenticator. */
  wampcra?: DynamicOption & { users?: Record<string, CraUser> };
  /** WAMP-Cryptosign: `principals` (authid → `{role, authorizedKeys}`) or an authenticator. */
  cryptosign?: DynamicOption & { principals?: Record<string, CryptosignPrincipal> };
  /**
   * WAMP-SCRAM: `users` (authid → KDF parameters and stored keys, or a
   * `password` to derive them from at startup) or an authenticator.
   */
  scram?: DynamicOption & { users?: Record<string, ScramStoredUser | ScramPasswordUser> };
  /**
   * TLS client certificate: `principals` (authid → `{role,
   * fingerprint256?, fingerprint?, subject?}`, at least one of the last
   * three; a certificate is the principal when all given hold) or an
   * authenticator. Offered only on a TLS listener that verified a client
   * certificate (listener `tls.clientCertificates`).
   *
   * @example
   * ```json
   * "tls": {
   *   "principals": {
   *     "alice": { "role": "user", "subject": { "CN": "alice" } },
   *     "backend": { "role": "backend", "fingerprint256": "3A:9F:…:C4" }
   *   }
   * }
   * ```
   */
  tls?: DynamicOption & { principals?: Record<string, TlsPrincipal> };
  /**
   * Cookie: a later connection presenting the tracking cookie of one that
   * authenticated here (listener option `cookie`) is welcomed with the
   * same identity for `maxAge` seconds (default one day).
   */
  cookie?: { maxAge?: number };
}

/**
 * A realm's `auth` options as {@linkcode resolveAuthOptions} returns them:
 * SCRAM users given by password have their stored keys, and the cookie
 * method has its `maxAge`.
 */
export interface ResolvedAuthOptions {
  /** Ticket: `principals` or an authenticator. */
  readonly ticket?: DynamicOption & { principals?: Record<string, TicketPrincipal> };
  /** WAMP-CRA: `users` or an authenticator. */
  readonly wampcra?: DynamicOption & { users?: Record<string, CraUser> };
  /** WAMP-Cryptosign: `principals` or an authenticator. */
  readonly cryptosign?: DynamicOption & { principals?: Record<string, CryptosignPrincipal> };
  /** WAMP-SCRAM: `users` (stored keys only) or an authenticator. */
  readonly scram?: DynamicOption & { users?: Record<string, ScramUser> };
  /** TLS client certificate: `principals` or an authenticator. */
  readonly tls?: DynamicOption & { principals?: Record<string, TlsPrincipal> };
  /** Cookie: identities are remembered for `maxAge` seconds. */
  readonly cookie?: { readonly maxAge: number };
}

/**
 * Validates a realm's `auth` options.
 *
 * @param c The `auth` object.
 * @returns The options, with SCRAM passwords replaced by stored keys.
 * @throws {ConfigError} Naming the first invalid key by its path.
 */
export function resolveAuthOptions(c: ConfigObject): ResolvedAuthOptions {
  const ticket = c.object("ticket");
  const ticketOptions = ticket && {
    ...dynamic(ticket),
    ...principals(ticket, "principals", (p) => ({ ticket: p.string("ticket"), role: role(p) })),
  };
  const wampcra = c.object("wampcra");
  const wampcraOptions = wampcra && {
    ...dynamic(wampcra),
    ...principals(wampcra, "users", (p) => {
      const user: CraUser = { secret: p.string("secret"), role: role(p) };
      if (p.has("salt")) user.salt = p.string("salt");
      if (p.has("iterations")) {
        user.iterations = p.integer("iterations", 1000, 1, KDF_LIMITS.pbkdf2Iterations);
      }
      if (p.has("keylen")) user.keylen = p.integer("keylen", 32, 1, CRA_MAX_KEYLEN);
      // A salted user's secret is the derived key: base64 of keylen bytes.
      if (user.salt !== undefined) isBase64(p, "secret", user.secret, user.keylen ?? 32);
      return user;
    }),
  };
  const cryptosign = c.object("cryptosign");
  const cryptosignOptions = cryptosign && {
    ...dynamic(cryptosign),
    ...principals(cryptosign, "principals", (p) => ({
      role: role(p),
      authorizedKeys: p.array("authorizedKeys").filter((key, i): key is string => {
        if (typeof key === "string" && /^[0-9a-fA-F]{64}$/.test(key)) return true;
        p.reject(`authorizedKeys[${i}]`, "expected an Ed25519 public key: 32 bytes of hex");
        return false;
      }),
    })),
  };
  const tls = c.object("tls");
  const tlsOptions = tls && { ...dynamic(tls), ...principals(tls, "principals", tlsPrincipal) };
  const cookie = c.object("cookie");
  const cookieOptions = cookie && { maxAge: cookie.integer("maxAge", 86_400, 1) };
  cookie?.done();
  const scram = c.object("scram");
  const scramOptions = scram && { ...dynamic(scram), ...principals(scram, "users", scramUser) };
  c.done();
  return {
    ...(ticketOptions && { ticket: ticketOptions }),
    ...(wampcraOptions && { wampcra: wampcraOptions }),
    ...(cryptosignOptions && { cryptosign: cryptosignOptions }),
    ...(tlsOptions && { tls: tlsOptions }),
    ...(cookieOptions && { cookie: cookieOptions }),
    ...(scramOptions && { scram: scramOptions }),
  };
}

function role(p: ConfigObject): string {
  return p.string("role");
}

function dynamic(c: ConfigObject): DynamicOption {
  const out: DynamicOption = {};
  if (c.has("authenticator")) {
    const value = c.value("authenticator");
    if (typeof value === "function") {
      out.authenticator = value as DynamicAuthenticator;
    } else if (typeof value === "string" && isValidUri(value)) {
      out.authenticator = value;
    } else {
      c.reject("authenticator", "expected a procedure URI or a function");
    }
  }
  if (c.has("authenticatorRealm")) {
    out.authenticatorRealm = c.string("authenticatorRealm");
    if (!isValidUri(out.authenticatorRealm)) {
      c.reject("authenticatorRealm", `"${out.authenticatorRealm}" is not a valid realm name`);
    }
  }
  return out;
}

/** `{ [key]: table }`, or `{}` when the method has an authenticator instead. */
function principals<K extends string, T>(
  c: ConfigObject,
  key: K,
  read: (p: ConfigObject, path: string) => T,
): Partial<Record<K, Record<string, T>>> {
  const table = c.object(key);
  if (table === undefined) {
    if (!c.has("authenticator")) throw c.error(key, `expected ${key} or an authenticator`);
    return {};
  }
  if (c.has("authenticator")) {
    throw c.error(key, `give ${key} or an authenticator, not both`);
  }
  const out: Record<string, T> = {};
  for (const authid of table.keys()) {
    const p = table.child(table.value(authid), authid);
    // One principal's error does not hide the next one's, nor its unknown keys.
    const principal = table.part(authid, () => read(p, table.path(authid)));
    p.done();
    if (principal !== undefined) out[authid] = principal;
  }
  table.done();
  const result: Partial<Record<K, Record<string, T>>> = {};
  result[key] = out;
  return result;
}

const KDFS = ["pbkdf2", "argon2id13"] as const;

function scramUser(p: ConfigObject): ScramUser {
  const kdf = p.oneOf("kdf", KDFS, "argon2id13");
  const pbkdf2 = kdf === "pbkdf2";
  const salt = p.string("salt");
  // A bad salt or too much work is reported (collecting): nothing to derive.
  let derivable = isBase64(p, "salt", salt);
  const maxIterations = pbkdf2 ? KDF_LIMITS.pbkdf2Iterations : KDF_LIMITS.argon2Work / 8;
  const params = {
    kdf,
    salt,
    iterations: p.integer("iterations", pbkdf2 ? 4096 : 4, 1, maxIterations),
    ...(pbkdf2 ? {} : { memory: p.integer("memory", 65536, 8, KDF_LIMITS.argon2Memory) }),
  };
  const over = kdfOverLimit(kdf, params.iterations, params.memory);
  if (over !== undefined) {
    p.reject("iterations", `${over}: a client would refuse to log in`);
    derivable = false;
  }
  if (p.has("password")) {
    // Convenience for tests and examples: derive the stored keys at startup.
    const password = p.string("password");
    if (!derivable) return { role: role(p), ...params, storedKey: "", serverKey: "" };
    try {
      return { role: role(p), ...params, ...deriveCredentials(password, params) };
    } catch (error) {
      throw p.error("password", error instanceof Error ? error.message : String(error));
    }
  }
  const storedKey = p.string("storedKey"), serverKey = p.string("serverKey");
  isBase64(p, "storedKey", storedKey, 32);
  isBase64(p, "serverKey", serverKey, 32);
  return { role: role(p), ...params, storedKey, serverKey };
}

/**
 * Checks that `value` (read from `key`) is base64, of `bytes` bytes when
 * given: a placeholder such as `"base64…"` fails here, not at login.
 *
 * @returns Whether it is.
 */
function isBase64(p: ConfigObject, key: string, value: string, bytes?: number): boolean {
  const decoded = decodeBase64(value);
  const expected = `expected base64${bytes === undefined ? "" : ` of ${bytes} bytes`}`;
  if (decoded === undefined || decoded.length === 0) {
    // A salt is no secret: show it; a key or a secret is not echoed.
    p.reject(key, key === "salt" ? `${expected}, got ${JSON.stringify(value)}` : expected);
  } else if (bytes !== undefined && decoded.length !== bytes) {
    p.reject(key, `${expected}, got ${decoded.length} bytes`);
  } else return true;
  return false;
}

function tlsPrincipal(p: ConfigObject, path: string): TlsPrincipal {
  const principal: TlsPrincipal = { role: role(p) };
  for (const [key, bytes] of [["fingerprint256", 32], ["fingerprint", 20]] as const) {
    if (!p.has(key)) continue;
    const fingerprint = normalizeFingerprint(p.string(key), bytes);
    if (fingerprint === undefined) {
      throw p.error(key, `expected ${bytes} bytes of hex, colons optional`);
    }
    principal[key] = fingerprint;
  }
  const subject = p.object("subject");
  if (subject !== undefined) {
    const fields: Record<string, string> = {};
    for (const name of subject.keys()) fields[name] = subject.string(name);
    if (Object.keys(fields).length === 0) throw p.error("subject", "expected at least one field");
    principal.subject = fields;
  }
  if (Object.keys(principal).length === 1) {
    throw configError(path, "expected fingerprint256, fingerprint or subject");
  }
  return principal;
}

/** The principal tables of the static methods, by method. */
const TABLES = [
  ["ticket", "principals"],
  ["wampcra", "users"],
  ["cryptosign", "principals"],
  ["scram", "users"],
  ["tls", "principals"],
] as const;

/**
 * Checks that every static principal's role is one of the realm's roles,
 * when the realm declares roles: a session of an undeclared role is denied
 * every action, so such a principal could log in and do nothing.
 *
 * @param c The realm's object (errors name `auth.<method>.<table>.<authid>.role`).
 * @param auth The realm's resolved `auth`.
 * @param roles The names of the realm's roles (none declared: nothing to check).
 * @throws {ConfigError} At the first undeclared role (unless collecting).
 */
export function checkPrincipalRoles(
  c: ConfigObject,
  auth: ResolvedAuthOptions,
  roles: readonly string[],
): void {
  if (roles.length === 0) return;
  for (const [method, table] of TABLES) {
    const options = auth[method] as Record<string, unknown> | undefined;
    const principals = options?.[table] as Record<string, { role: string }> | undefined;
    for (const [authid, principal] of Object.entries(principals ?? {})) {
      const problem = undeclaredRole(principal.role, roles);
      if (problem !== undefined) c.reject(`auth.${method}.${table}.${authid}.role`, problem);
    }
  }
}

/**
 * What is wrong with giving sessions a role, when the realm declares
 * roles and not this one (such a session is denied every action): for
 * static principals and HTTP bridge paths alike.
 *
 * @param role The role given.
 * @param roles The names of the realm's roles (none declared: any role is fine).
 * @returns The problem, or undefined when there is none.
 *
 * @example
 * ```ts
 * import { undeclaredRole } from "./config.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(undeclaredRole("app", ["app"]), undefined);
 * equal(undeclaredRole("ap", ["app", "admin"]), `"ap" is not one of the realm's roles ("app", "admin")`);
 * ```
 */
export function undeclaredRole(role: string, roles: readonly string[]): string | undefined {
  if (roles.length === 0 || roles.includes(role)) return undefined;
  return `"${role}" is not one of the realm's roles (${roles.map((r) => `"${r}"`).join(", ")})`;
}
