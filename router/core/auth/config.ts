/**
 * A realm's `auth` options: which methods it offers, each with static
 * principals from the config or a dynamic authenticator (a WAMP
 * procedure URI, or a TypeScript function from the library API). The same
 * keys in `new Router({ realms })` and in the JSON config file.
 *
 * @module
 */

import { deriveCredentials } from "../../../wamp/auth/scram.ts";
import { type ConfigObject, isValidUri } from "../../../wamp/mod.ts";
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
  scram?: DynamicOption & { users?: Record<string, ScramUser | ScramPasswordUser> };
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
 * Validates a realm's `auth` options.
 *
 * @param c The `auth` object.
 * @returns The options, with SCRAM passwords replaced by stored keys.
 * @throws {TypeError} Naming the first invalid key by its path.
 */
export function resolveAuthOptions(c: ConfigObject): AuthOptions {
  const out: AuthOptions = {};
  const ticket = c.object("ticket");
  if (ticket !== undefined) {
    out.ticket = {
      ...dynamic(ticket),
      ...principals(ticket, "principals", (p) => ({ ticket: p.string("ticket"), role: role(p) })),
    };
  }
  const wampcra = c.object("wampcra");
  if (wampcra !== undefined) {
    out.wampcra = {
      ...dynamic(wampcra),
      ...principals(wampcra, "users", (p) => {
        const user: CraUser = { secret: p.string("secret"), role: role(p) };
        if (p.has("salt")) user.salt = p.string("salt");
        if (p.has("iterations")) user.iterations = p.integer("iterations", 1000, 1);
        if (p.has("keylen")) user.keylen = p.integer("keylen", 32, 1, 1024);
        return user;
      }),
    };
  }
  const cryptosign = c.object("cryptosign");
  if (cryptosign !== undefined) {
    out.cryptosign = {
      ...dynamic(cryptosign),
      ...principals(cryptosign, "principals", (p) => ({
        role: role(p),
        authorizedKeys: p.array("authorizedKeys").map((key, i) => {
          if (typeof key !== "string" || !/^[0-9a-fA-F]{64}$/.test(key)) {
            throw new TypeError(
              `Invalid config "${p.path(`authorizedKeys[${i}]`)}": expected 32 bytes of hex`,
            );
          }
          return key;
        }),
      })),
    };
  }
  const tls = c.object("tls");
  if (tls !== undefined) {
    out.tls = { ...dynamic(tls), ...principals(tls, "principals", tlsPrincipal) };
  }
  const cookie = c.object("cookie");
  if (cookie !== undefined) {
    out.cookie = { maxAge: cookie.integer("maxAge", 86_400, 1) };
    cookie.done();
  }
  const scram = c.object("scram");
  if (scram !== undefined) {
    out.scram = { ...dynamic(scram), ...principals(scram, "users", scramUser) };
  }
  c.done();
  return out;
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
      throw new TypeError(
        `Invalid config "${c.path("authenticator")}": expected a procedure URI or a function`,
      );
    }
  }
  if (c.has("authenticatorRealm")) out.authenticatorRealm = c.string("authenticatorRealm");
  return out;
}

function principals<K extends string, T>(
  c: ConfigObject,
  key: K,
  read: (p: ConfigObject, path: string) => T,
): { [P in K]?: Record<string, T> } {
  const table = c.object(key);
  if (table === undefined) {
    if (!c.has("authenticator")) {
      throw new TypeError(`Invalid config "${c.path(key)}": expected ${key} or an authenticator`);
    }
    return {};
  }
  if (c.has("authenticator")) {
    throw new TypeError(
      `Invalid config "${c.path(key)}": give ${key} or an authenticator, not both`,
    );
  }
  const out: Record<string, T> = {};
  for (const authid of table.keys()) {
    const p = table.object(authid)!;
    out[authid] = read(p, table.path(authid));
    p.done();
  }
  table.done();
  return { [key]: out } as { [P in K]?: Record<string, T> };
}

const KDFS = ["pbkdf2", "argon2id13"] as const;

function scramUser(p: ConfigObject): ScramUser {
  const kdf = p.oneOf("kdf", KDFS, "argon2id13");
  const params = {
    kdf,
    salt: p.string("salt"),
    iterations: p.integer("iterations", kdf === "pbkdf2" ? 4096 : 4, 1),
    ...(kdf === "argon2id13" ? { memory: p.integer("memory", 65536, 8) } : {}),
  };
  if (p.has("password")) {
    // Convenience for tests and examples: derive the stored keys at startup.
    try {
      return { role: role(p), ...params, ...deriveCredentials(p.string("password"), params) };
    } catch (error) {
      throw new TypeError(`Invalid config "${p.path("password")}": ${(error as Error).message}`);
    }
  }
  return {
    role: role(p),
    ...params,
    storedKey: p.string("storedKey"),
    serverKey: p.string("serverKey"),
  };
}

function tlsPrincipal(p: ConfigObject, path: string): TlsPrincipal {
  const principal: TlsPrincipal = { role: role(p) };
  for (const [key, bytes] of [["fingerprint256", 32], ["fingerprint", 20]] as const) {
    if (!p.has(key)) continue;
    const fingerprint = normalizeFingerprint(p.string(key), bytes);
    if (fingerprint === undefined) {
      throw new TypeError(
        `Invalid config "${p.path(key)}": expected ${bytes} bytes of hex, colons optional`,
      );
    }
    principal[key] = fingerprint;
  }
  const subject = p.object("subject");
  if (subject !== undefined) {
    const fields: Record<string, string> = {};
    for (const name of subject.keys()) fields[name] = subject.string(name);
    if (Object.keys(fields).length === 0) {
      throw new TypeError(`Invalid config "${p.path("subject")}": expected at least one field`);
    }
    principal.subject = fields;
  }
  if (Object.keys(principal).length === 1) {
    throw new TypeError(
      `Invalid config "${path}": expected fingerprint256, fingerprint or subject`,
    );
  }
  return principal;
}
