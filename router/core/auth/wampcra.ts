/**
 * WAMP-CRA (authmethod `wampcra`): the CHALLENGE carries a JSON text with
 * the authid, role, a nonce, the time and the session ID; the client
 * answers with its HMAC-SHA256 under the shared secret. A salted user's
 * `secret` is the derived key (`wampcraDeriveKey`), and `salt`,
 * `iterations` and `keylen` go to the client so it can derive the same
 * key from its password; the router never holds the password.
 *
 * An unknown authid gets a decoy challenge (the role and salting of a
 * configured user, a salt derived from the name) and fails at
 * AUTHENTICATE, so the CHALLENGE does not tell whether the user exists.
 * A dynamic authenticator that refuses the authid denies at once.
 *
 * @module
 */

import { AuthMethod } from "../../../wamp/auth/auth_method.ts";
import { craChallenge, craTimestamp, verifyCra } from "../../../wamp/auth/wampcra.ts";
import { randomBytes } from "../../../wamp/auth/util.ts";
import { Decoys } from "./decoys.ts";
import type { Dict } from "../../../wamp/mod.ts";
import {
  askAuthenticator,
  type Authenticator,
  type AuthOutcome,
  type AuthRequest,
  deny,
  type DynamicSource,
} from "./authenticator.ts";

/** A static WAMP-CRA user. */
export interface CraUser {
  /** The shared secret, or for a salted user the derived key. */
  secret: string;
  /** The role granted. */
  role: string;
  /** The salt the key was derived with. */
  salt?: string;
  /** PBKDF2 iterations. @default {1000} */
  iterations?: number;
  /** Derived key length in bytes. @default {32} */
  keylen?: number;
}

/** Options for {@linkcode wampcraAuthenticator}: static users or a dynamic authenticator. */
export interface WampcraOptions {
  /** authid → user. */
  users?: Record<string, CraUser> | undefined;
  /** Looks the user up in code instead: answers `{ secret, role, salt?, … }`. */
  authenticator?: DynamicSource | undefined;
  /**
   * The clock for the challenge's timestamp (the router passes its own).
   * @default {the system clock}
   */
  now?: (() => number) | undefined;
  /** The key of decoy CHALLENGEs for unknown authids (`RouterOptions.decoySecret`, the realm). */
  decoySecret?: { readonly secret: string; readonly realm: string } | undefined;
}

/** Where decoys come from: {@linkcode Decoys}, or a recording stand-in in tests. */
export interface CraDecoys {
  /** The configured user a decoy for `authid` imitates. */
  user(authid: string): CraUser | undefined;
  /** A stable salt for `authid`. */
  salt(authid: string): string;
}

/**
 * What a WAMP-CRA CHALLENGE shows for an authid, and the key its answer is
 * checked against: the user when known, else a decoy (a configured user's
 * role and salting, a salt derived from the name) and a random key. Both
 * paths do the same work (both decoy lookups, one random key), so the time
 * to CHALLENGE does not tell whether the authid exists.
 *
 * @param user The user, when known.
 * @param authid The authid asked for.
 * @param decoys The decoy source.
 * @returns The parameters shown and the key.
 *
 * @example
 * ```ts
 * import { craPrincipal } from "./wampcra.ts";
 * import { Decoys } from "./decoys.ts";
 * import { equal, notEqual } from "node:assert/strict";
 *
 * const peter = { secret: "s", role: "backend", salt: "x" };
 * const decoys = new Decoys([peter]);
 * equal(craPrincipal(peter, "peter", decoys).key, "s");
 * const decoy = craPrincipal(undefined, "nobody", decoys);
 * equal(decoy.shown?.role, "backend");
 * notEqual(decoy.shown?.salt, "x");
 * ```
 */
export function craPrincipal(
  user: CraUser | undefined,
  authid: string,
  decoys: CraDecoys,
): { shown: CraUser | undefined; key: string } {
  const decoy = decoys.user(authid);
  const salt = decoys.salt(authid);
  const random = randomBytes(32).toBase64();
  if (user !== undefined) return { shown: user, key: user.secret };
  return {
    shown: decoy?.salt === undefined ? decoy : { ...decoy, salt },
    key: random,
  };
}

/**
 * Creates the WAMP-CRA method.
 *
 * @param options Users or a dynamic authenticator.
 * @returns The authenticator.
 */
export function wampcraAuthenticator(options: WampcraOptions): Authenticator {
  const { users = {}, authenticator } = options;
  const { decoySecret } = options;
  const decoys = new Decoys(
    Object.values(users),
    decoySecret && { ...decoySecret, method: AuthMethod.WAMPCRA },
  );
  return {
    method: AuthMethod.WAMPCRA,
    hello(request) {
      const authid = request.authid;
      if (authid === undefined) return deny("wampcra needs an authid");
      if (authenticator === undefined) {
        const user = Object.hasOwn(users, authid) ? users[authid] : undefined;
        return challenge(request, authid, user, "static");
      }
      return askAuthenticator(
        authenticator,
        request,
        AuthMethod.WAMPCRA,
        undefined,
        (principal) => {
          if (typeof principal.secret !== "string") return deny("the authenticator gave no secret");
          return challenge(request, authid, principal as unknown as CraUser, "dynamic");
        },
      );
    },
  };

  /** The CHALLENGE for a user (a decoy when unknown), and how its answer is judged. */
  function challenge(
    request: AuthRequest,
    authid: string,
    user: CraUser | undefined,
    provider: string,
  ): AuthOutcome {
    const { shown, key } = craPrincipal(user, authid, decoys);
    const challenge = craChallenge({
      authid,
      authrole: shown?.role ?? "anonymous",
      authprovider: provider,
      nonce: randomBytes(16).toBase64(),
      timestamp: craTimestamp(options.now),
      session: request.session,
    });
    const extra: Dict = { challenge };
    if (shown?.salt !== undefined) {
      extra.salt = shown.salt;
      extra.iterations = shown.iterations ?? 1000;
      extra.keylen = shown.keylen ?? 32;
    }
    return {
      challenge: extra,
      answer(signature) {
        if (!verifyCra(key, challenge, signature) || user === undefined) {
          return deny(`wrong wampcra signature for "${authid}"`);
        }
        return {
          welcome: {
            authid,
            authrole: user.role,
            authmethod: AuthMethod.WAMPCRA,
            authprovider: provider,
          },
        };
      },
    };
  }
}
