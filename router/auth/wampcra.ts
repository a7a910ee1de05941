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

import { AuthMethod } from "../../wamp/auth/auth_method.ts";
import { craChallenge, verifyCra } from "../../wamp/auth/wampcra.ts";
import { randomBytes } from "../../wamp/auth/util.ts";
import { Decoys } from "./decoys.ts";
import type { Dict } from "../../wamp/mod.ts";
import {
  askAuthenticator,
  type Authenticator,
  deny,
  type DynamicAuthenticator,
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
  authenticator?: DynamicAuthenticator | undefined;
}

/**
 * Creates the WAMP-CRA method.
 *
 * @param options Users or a dynamic authenticator.
 * @returns The authenticator.
 */
export function wampcraAuthenticator(options: WampcraOptions): Authenticator {
  const { users = {}, authenticator } = options;
  const decoys = new Decoys(Object.values(users));
  return {
    method: AuthMethod.WAMPCRA,
    async hello(request) {
      const authid = request.authid;
      if (authid === undefined) return deny("wampcra needs an authid");
      let user: CraUser | undefined;
      let provider = "static";
      if (authenticator !== undefined) {
        provider = "dynamic";
        const principal = await askAuthenticator(authenticator, request, AuthMethod.WAMPCRA);
        if (typeof principal.secret !== "string") return deny("the authenticator gave no secret");
        user = principal as unknown as CraUser;
      } else if (Object.hasOwn(users, authid)) {
        user = users[authid];
      }
      const decoy = user === undefined ? decoys.user(authid) : undefined;
      const shown = user ??
        (decoy?.salt === undefined ? decoy : { ...decoy, salt: decoys.salt(authid) });
      const challenge = craChallenge({
        authid,
        authrole: shown?.role ?? "anonymous",
        authprovider: provider,
        nonce: randomBytes(16).toBase64(),
        timestamp: new Date().toISOString(),
        session: request.session,
      });
      const extra: Dict = { challenge };
      if (shown?.salt !== undefined) {
        extra.salt = shown.salt;
        extra.iterations = shown.iterations ?? 1000;
        extra.keylen = shown.keylen ?? 32;
      }
      const key = user?.secret ?? randomBytes(32).toBase64();
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
    },
  };
}
