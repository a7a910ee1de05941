/**
 * WAMP-Cryptosign (authmethod `cryptosign`): HELLO carries an Ed25519
 * public key in `authextra.pubkey`; the router challenges with 32 random
 * bytes and the client signs them. Static principals list their
 * authorized keys; a dynamic authenticator gets the key in `authextra`
 * and answers the principal (`{ role, authid? }`) it belongs to.
 *
 * Channel binding (spec "TLS Channel Binding"): a client that sends
 * `authextra.channel_binding: "tls-unique"` signs `challenge XOR
 * channel_id` instead of the bare challenge, where `channel_id` is the
 * transport's `tls-unique` value (SHA-256 of the client's TLS Finished
 * message, as Crossbar and Autobahn compute it). The CHALLENGE extra then
 * says `channel_binding: "tls-unique"`; an unbound session gets
 * `channel_binding: null`. A signature made for another TLS connection
 * (a relayed challenge) does not verify. Asking for a binding the
 * transport cannot give (no TLS) or for another type (`tls-exporter`) is
 * refused at HELLO.
 *
 * An unknown key gets a challenge like any other and fails at
 * AUTHENTICATE.
 *
 * @module
 */

import { AuthMethod, ChannelBinding } from "../../../wamp/auth/auth_method.ts";
import { generateChallenge, verifyCryptosign } from "../../../wamp/auth/cryptosign.ts";
import { decodeHex } from "../../../wamp/auth/util.ts";
import { preview } from "../../../wamp/preview.ts";
import {
  askAuthenticator,
  type Authenticator,
  type AuthOutcome,
  type AuthRequest,
  deny,
  type DynamicSource,
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
  authenticator?: DynamicSource | undefined;
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
    hello(request) {
      const pubkey = request.authextra.pubkey;
      if (typeof pubkey !== "string" || decodeHex(pubkey, 32) === undefined) {
        return deny("cryptosign needs authextra.pubkey, 32 bytes of hex");
      }
      const binding = channelBinding(request);
      if ("deny" in binding) return binding;
      if (authenticator !== undefined) {
        return askAuthenticator(authenticator, request, AuthMethod.CRYPTOSIGN, undefined, (p) => {
          const authid = typeof p.authid === "string"
            ? p.authid
            : request.authid ?? pubkey.toLowerCase();
          return challengeFor(pubkey, binding, { authid, role: p.role }, "dynamic");
        });
      }
      const found = byKey.get(pubkey.toLowerCase());
      const granted = found !== undefined && (request.authid ?? found[0]) === found[0]
        ? { authid: found[0], role: found[1].role }
        : undefined;
      return challengeFor(pubkey, binding, granted, "static");
    },
  };
}

/** The CHALLENGE for a key, and how its signature is judged. */
function challengeFor(
  pubkey: string,
  binding: Exclude<Binding, { readonly deny: string }>,
  granted: { authid: string; role: string } | undefined,
  provider: string,
): AuthOutcome {
  const challenge = generateChallenge();
  return {
    challenge: { challenge, channel_binding: binding.type },
    answer(signature) {
      const verified = verifyCryptosign(pubkey, challenge, signature, binding.channelId);
      if (!verified || granted === undefined) {
        // For the log only: the client hears "authentication failed" either way.
        const bound = binding.type === null ? "" : ` (bound to ${binding.type})`;
        const key = `key ${pubkey.slice(0, 16)}…`;
        return deny(
          verified
            ? `cryptosign: ${key} not accepted`
            : `cryptosign: the signature by ${key} does not verify${bound}`,
        );
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
}

/** The channel binding a HELLO asked for, if the transport can give it. */
type Binding =
  | { readonly type: null; readonly channelId?: undefined }
  | { readonly type: ChannelBinding; readonly channelId: Uint8Array }
  | { readonly deny: string };

function channelBinding(request: AuthRequest): Binding {
  const asked = request.authextra.channel_binding ?? null;
  if (asked === null) return { type: null };
  if (asked !== ChannelBinding.TLS_UNIQUE) {
    return { deny: `cryptosign: channel binding ${preview(asked)} is not supported` };
  }
  const channelId = request.transport.tls?.channelId;
  if (channelId?.length !== 32) {
    return {
      deny: `cryptosign: channel binding "${asked}" asked for, ` +
        `but the ${request.transport.type} transport has no TLS channel ID`,
    };
  }
  return { type: asked, channelId };
}
