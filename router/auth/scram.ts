/**
 * WAMP-SCRAM (authmethod `wamp-scram`, RFC 5802 / 7677 with SHA-256): HELLO
 * carries the client nonce; the CHALLENGE the combined nonce and the
 * user's KDF parameters (`pbkdf2` or `argon2id13`); AUTHENTICATE the
 * client proof, checked against the stored key; WELCOME
 * `authextra.verifier` the server signature (without the `v=` prefix),
 * which proves to the client that the router knew its credentials.
 *
 * The router stores only `storedKey` and `serverKey`. An unknown user gets
 * a decoy challenge (the KDF parameters of a configured user, a salt
 * derived from its name), so the CHALLENGE does not tell whether the user
 * exists.
 * Channel binding needs TLS and is refused until there is one.
 *
 * @module
 */

import { AuthMethod } from "../../wamp/auth/auth_method.ts";
import {
  authMessage,
  generateNonce,
  type ScramCredentials,
  type ScramKdfParams,
  serverSignature,
  verifyClientProof,
} from "../../wamp/auth/scram.ts";
import { decodeBase64 } from "../../wamp/auth/util.ts";
import type { Dict } from "../../wamp/mod.ts";
import {
  askAuthenticator,
  type Authenticator,
  deny,
  type DynamicAuthenticator,
} from "./authenticator.ts";
import { Decoys } from "./decoys.ts";

/** A static WAMP-SCRAM user: KDF parameters and stored credentials. */
export interface ScramUser extends ScramKdfParams, ScramCredentials {
  /** The role granted. */
  role: string;
}

/** Options for {@linkcode scramAuthenticator}. */
export interface ScramOptions {
  /** authid → user. */
  users?: Record<string, ScramUser> | undefined;
  /**
   * Looks the user up in code instead: answers `{ role, kdf, salt,
   * iterations, memory?, storedKey, serverKey }` (or Crossbar's
   * `stored-key` / `server-key` spelling).
   */
  authenticator?: DynamicAuthenticator | undefined;
}

/**
 * Creates the WAMP-SCRAM method.
 *
 * @param options Users or a dynamic authenticator.
 * @returns The authenticator.
 */
export function scramAuthenticator(options: ScramOptions): Authenticator {
  const { users = {}, authenticator } = options;
  const decoys = new Decoys(Object.values(users));
  return {
    method: AuthMethod.WAMP_SCRAM,
    async hello(request) {
      const authid = request.authid;
      const clientNonce = request.authextra.nonce;
      if (authid === undefined) return deny("wamp-scram needs an authid");
      if (typeof clientNonce !== "string" || decodeBase64(clientNonce) === undefined) {
        return deny("wamp-scram needs authextra.nonce, base64");
      }
      if ((request.authextra.channel_binding ?? null) !== null) {
        return deny("wamp-scram channel binding needs TLS");
      }
      let user: ScramUser | undefined;
      let provider = "static";
      if (authenticator !== undefined) {
        provider = "dynamic";
        user = scramUser(await askAuthenticator(authenticator, request, AuthMethod.WAMP_SCRAM));
        if (user === undefined) return deny("the authenticator gave no SCRAM credentials");
      } else if (Object.hasOwn(users, authid)) {
        user = users[authid];
      }
      const decoy = decoys.user(authid);
      const params: ScramKdfParams = user ?? {
        kdf: decoy?.kdf ?? "pbkdf2",
        salt: decoys.salt(authid),
        iterations: decoy?.iterations ?? 4096,
        ...(decoy?.memory === undefined ? {} : { memory: decoy.memory }),
      };
      const nonce = clientNonce + generateNonce();
      const extra: Dict = {
        nonce,
        salt: params.salt,
        kdf: params.kdf,
        iterations: params.iterations,
      };
      if (params.kdf === "argon2id13") extra.memory = params.memory ?? null;
      return {
        challenge: extra,
        answer(signature, answered) {
          if (answered.nonce !== nonce) return deny("wamp-scram: the nonce changed");
          if ((answered.channel_binding ?? null) !== null) {
            return deny("wamp-scram: channel binding was not offered");
          }
          const message = authMessage({
            authid,
            clientNonce,
            nonce,
            salt: params.salt,
            iterations: params.iterations,
          });
          if (user === undefined || !verifyClientProof(user.storedKey, message, signature)) {
            return deny(`wrong wamp-scram proof for "${authid}"`);
          }
          return {
            welcome: {
              authid,
              authrole: user.role,
              authmethod: AuthMethod.WAMP_SCRAM,
              authprovider: provider,
              authextra: { verifier: serverSignature(user.serverKey, message) },
            },
          };
        },
      };
    },
  };
}

/** Reads SCRAM credentials from a dynamic authenticator's answer. */
function scramUser(principal: Dict & { role: string }): ScramUser | undefined {
  const storedKey = principal.storedKey ?? principal["stored-key"];
  const serverKey = principal.serverKey ?? principal["server-key"];
  const { kdf, salt, iterations, memory } = principal;
  if (
    (kdf !== "pbkdf2" && kdf !== "argon2id13") || typeof salt !== "string" ||
    typeof iterations !== "number" || typeof storedKey !== "string" ||
    typeof serverKey !== "string"
  ) {
    return undefined;
  }
  return {
    role: principal.role,
    kdf,
    salt,
    iterations,
    ...(typeof memory === "number" ? { memory } : {}),
    storedKey,
    serverKey,
  };
}
