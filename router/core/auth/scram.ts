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
 *
 * Channel binding (spec "Channel Binding"): HELLO `authextra.channel_binding:
 * "tls-unique"` binds the proof to the TLS connection. The channel binding
 * data is the transport's `tls-unique` value (SHA-256 of the client's TLS
 * Finished message, the value Crossbar and Autobahn use for Cryptosign;
 * RFC 5929 has the bare Finished message), so the AuthMessage carries
 * `c=` base64(`p=tls-unique,,` + channel ID) and AUTHENTICATE's
 * `cbind_data` must be base64 of the router's own channel ID. Asking for a
 * binding the transport cannot give (no TLS) or for another type
 * (`tls-server-end-point`) is refused at HELLO, as the spec requires.
 *
 * @module
 */

import { AuthMethod, ChannelBinding } from "../../../wamp/auth/auth_method.ts";
import {
  authMessage,
  generateNonce,
  type ScramCredentials,
  type ScramKdfParams,
  serverSignature,
  verifyClientProof,
} from "../../../wamp/auth/scram.ts";
import { constantTimeEqual, decodeBase64 } from "../../../wamp/auth/util.ts";
import type { Dict } from "../../../wamp/mod.ts";
import {
  askAuthenticator,
  type Authenticator,
  type AuthOutcome,
  type AuthRequest,
  deny,
  type DynamicSource,
} from "./authenticator.ts";
import { Decoys } from "./decoys.ts";
import { toBase64 } from "../../../wamp/bytes.ts";
import { preview } from "../../../wamp/preview.ts";

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
  authenticator?: DynamicSource | undefined;
  /** The key of decoy CHALLENGEs for unknown authids (`RouterOptions.decoySecret`, the realm). */
  decoySecret?: { readonly secret: string; readonly realm: string } | undefined;
}

/**
 * Creates the WAMP-SCRAM method.
 *
 * @param options Users or a dynamic authenticator.
 * @returns The authenticator.
 */
export function scramAuthenticator(options: ScramOptions): Authenticator {
  const { users = {}, authenticator } = options;
  const { decoySecret } = options;
  const decoys = new Decoys(
    Object.values(users),
    decoySecret && { ...decoySecret, method: AuthMethod.WAMP_SCRAM },
  );
  return {
    method: AuthMethod.WAMP_SCRAM,
    hello(request) {
      const authid = request.authid;
      const clientNonce = request.authextra.nonce;
      if (authid === undefined) return deny("wamp-scram needs an authid");
      if (typeof clientNonce === "string" && clientNonce.length > MAX_CLIENT_NONCE) {
        return deny(`wamp-scram: authextra.nonce over ${MAX_CLIENT_NONCE} characters`);
      }
      if (typeof clientNonce !== "string" || decodeBase64(clientNonce) === undefined) {
        return deny("wamp-scram needs authextra.nonce, base64");
      }
      const binding = channelBinding(request);
      if (typeof binding === "string") return deny(binding);
      if (authenticator !== undefined) {
        return askAuthenticator(authenticator, request, AuthMethod.WAMP_SCRAM, undefined, (p) => {
          const user = scramUser(p);
          if (user === undefined) return deny("the authenticator gave no SCRAM credentials");
          return challenge(authid, clientNonce, binding, user, "dynamic");
        });
      }
      const user = Object.hasOwn(users, authid) ? users[authid] : undefined;
      return challenge(authid, clientNonce, binding, user, "static");
    },
  };

  /** The CHALLENGE for a user (a decoy when unknown), and how its proof is judged. */
  function challenge(
    authid: string,
    clientNonce: string,
    binding: Binding | undefined,
    user: ScramUser | undefined,
    provider: string,
  ): AuthOutcome {
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
        const refused = checkBinding(binding, answered);
        if (refused !== undefined) return deny(`wamp-scram: ${refused}`);
        const message = authMessage({
          authid,
          clientNonce,
          nonce,
          salt: params.salt,
          iterations: params.iterations,
          channelBinding: binding?.type ?? null,
          cbindData: binding?.data ?? null,
        });
        // An unknown authid's proof costs what a known one's does (its timing told them apart).
        const valid = verifyClientProof(user?.storedKey ?? DECOY_STORED_KEY, message, signature);
        if (user === undefined || !valid) {
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
  }
}

/** What an unknown authid's proof is checked against: a key no proof matches. */
const DECOY_STORED_KEY = toBase64(crypto.getRandomValues(new Uint8Array(32)));

/**
 * The longest client nonce taken, in characters (base64 of 768 bytes;
 * clients send 16-32): it is in the AuthMessage three times.
 */
const MAX_CLIENT_NONCE = 1024;

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

/** A channel binding in use: its type and its data, base64. */
interface Binding {
  readonly type: ChannelBinding;
  readonly data: string;
}

/**
 * The binding a HELLO asked for: `undefined` when none, the reason to
 * refuse when the transport cannot give it.
 */
function channelBinding(request: AuthRequest): Binding | undefined | string {
  const asked = request.authextra.channel_binding ?? null;
  if (asked === null) return undefined;
  if (asked !== ChannelBinding.TLS_UNIQUE) {
    return `wamp-scram: channel binding ${preview(asked)} is not supported`;
  }
  const channelId = request.transport.tls?.channelId;
  if (channelId === undefined || channelId.length === 0) {
    return `wamp-scram: channel binding "${asked}" asked for, ` +
      `but the ${request.transport.type} transport has no TLS channel ID`;
  }
  return { type: asked, data: channelId.toBase64() };
}

/** Why AUTHENTICATE's binding differs from HELLO's and the router's, if it does. */
function checkBinding(binding: Binding | undefined, answered: Dict): string | undefined {
  const type = answered.channel_binding ?? null;
  if (binding === undefined) return type === null ? undefined : "channel binding was not asked for";
  const data = answered.cbind_data;
  if (type !== binding.type) {
    return `channel binding ${preview(type)} is not the one asked for`;
  }
  if (typeof data !== "string" || !constantTimeEqual(data, binding.data)) {
    return `cbind_data is not this connection's ${binding.type} channel ID`;
  }
  return undefined;
}
