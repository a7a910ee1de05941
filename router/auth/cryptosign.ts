/**
 * WAMP-Cryptosign (authmethod `cryptosign`): HELLO carries an Ed25519
 * public key in `authextra.pubkey`; the router challenges with 32 random
 * bytes and the client signs them. Static principals list their
 * authorized keys; a dynamic authenticator gets the key in `authextra`
 * and answers the principal (`{ role, authid? }`) it belongs to.
 *
 * Channel binding (`tls-unique`) needs a TLS transport: until there is
 * one, CHALLENGE echoes `channel_binding: null`, which tells the client
 * its request was not honoured (the spec has the client check this).
 *
 * An unknown key gets a challenge like any other and fails at
 * AUTHENTICATE.
 *
 * @module
 */

import { AuthMethod } from "../../wamp/auth/auth_method.ts";
import { generateChallenge, verifyCryptosign } from "../../wamp/auth/cryptosign.ts";
import { decodeHex } from "../../wamp/auth/util.ts";
import {
  askAuthenticator,
  type Authenticator,
  deny,
  type DynamicAuthenticator,
} from "./authenticator.ts";

/** A static cryptosign principal. */
export interface CryptosignPrincipal {
  /** The role granted. */
  role: string;
  /** Public keys (32 bytes hex) that may authenticate as this principal. */
  authorizedKeys: string[];
}

/** Options for {@linkcode cryptosignAuthenticator}. */
export interface CryptosignOptions {
  /** authid → principal. */
  principals?: Record<string, CryptosignPrincipal> | undefined;
  /** Looks the key up in code instead: answers `{ role, authid? }`. */
  authenticator?: DynamicAuthenticator | undefined;
}

/**
 * Creates the cryptosign method.
 *
 * @param options Principals or a dynamic authenticator.
 * @returns The authenticator.
 */
export function cryptosignAuthenticator(options: CryptosignOptions): Authenticator {
  const { principals = {}, authenticator } = options;
  const byKey = new Map<string, [string, CryptosignPrincipal]>();
  for (const [authid, principal] of Object.entries(principals)) {
    for (const key of principal.authorizedKeys) byKey.set(key.toLowerCase(), [authid, principal]);
  }
  return {
    method: AuthMethod.CRYPTOSIGN,
    async hello(request) {
      const pubkey = request.authextra.pubkey;
      if (typeof pubkey !== "string" || decodeHex(pubkey, 32) === undefined) {
        return deny("cryptosign needs authextra.pubkey, 32 bytes of hex");
      }
      let granted: { authid: string; role: string } | undefined;
      let provider = "static";
      if (authenticator !== undefined) {
        provider = "dynamic";
        const principal = await askAuthenticator(authenticator, request, AuthMethod.CRYPTOSIGN);
        const authid = typeof principal.authid === "string"
          ? principal.authid
          : request.authid ?? pubkey.toLowerCase();
        granted = { authid, role: principal.role };
      } else {
        const found = byKey.get(pubkey.toLowerCase());
        if (found !== undefined && (request.authid ?? found[0]) === found[0]) {
          granted = { authid: found[0], role: found[1].role };
        }
      }
      const challenge = generateChallenge();
      return {
        challenge: { challenge, channel_binding: null },
        answer(signature) {
          if (!verifyCryptosign(pubkey, challenge, signature) || granted === undefined) {
            return deny(`cryptosign: key ${pubkey.slice(0, 16)}… not accepted`);
          }
          return {
            welcome: {
              authid: granted.authid,
              authrole: granted.role,
              authmethod: AuthMethod.CRYPTOSIGN,
              authprovider: provider,
            },
          };
        },
      };
    },
  };
}
