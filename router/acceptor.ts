/**
 * The router side of the opening handshake: HELLO in, WELCOME or ABORT out
 * (spec "Session Establishment"). Only anonymous authentication exists so
 * far; other methods plug in here.
 *
 * @module
 */

import {
  type AbortMessage,
  type Dict,
  ErrorUri,
  type HelloMessage,
  isValidUri,
  MessageType,
} from "../wamp/mod.ts";
import type { ResolvedRealmOptions } from "./config.ts";

/** The identity a session was granted. */
export interface Identity {
  /** Authenticated identity. */
  authid: string;
  /** Authenticated role. */
  authrole: string;
  /** The method used. */
  authmethod: string;
  /** Who vouched for it. */
  authprovider: string;
}

/** The outcome of a HELLO: an identity to welcome, or an ABORT. */
export type Acceptance =
  | { readonly identity: Identity; readonly roles: Dict }
  | { readonly abort: AbortMessage };

const CLIENT_ROLES = ["publisher", "subscriber", "caller", "callee"];

function abort(reason: string, message: string): Acceptance {
  return {
    abort: { type: MessageType.ABORT, details: { message }, reason },
  };
}

/**
 * Decides whether a HELLO may join.
 *
 * @param hello The HELLO message.
 * @param realm The realm it names, or `undefined` if there is none.
 * @returns The identity and client roles, or the ABORT to send.
 */
export function acceptHello(
  hello: HelloMessage,
  realm: ResolvedRealmOptions | undefined,
): Acceptance {
  const roles = hello.details.roles;
  if (
    typeof roles !== "object" || roles === null || Array.isArray(roles) ||
    !CLIENT_ROLES.some((role) => role in roles) ||
    Object.values(roles).some((v) => typeof v !== "object" || v === null)
  ) {
    return abort(
      ErrorUri.PROTOCOL_VIOLATION,
      "HELLO.Details.roles must announce publisher, subscriber, caller or callee",
    );
  }
  if (!isValidUri(hello.realm)) {
    return abort(ErrorUri.INVALID_URI, `Invalid realm URI "${hello.realm}"`);
  }
  if (realm === undefined) {
    return abort(ErrorUri.NO_SUCH_REALM, `Realm "${hello.realm}" does not exist`);
  }
  const methods = hello.details.authmethods as string[] | undefined;
  const wantsAnonymous = methods === undefined || methods.length === 0 ||
    methods.includes("anonymous");
  if (!realm.anonymous || !wantsAnonymous) {
    return abort(
      ErrorUri.NO_AUTH_METHOD,
      `None of the offered authmethods is available on realm "${realm.name}"`,
    );
  }
  return {
    identity: {
      authid: anonymousAuthid(),
      authrole: realm.anonymousRole,
      authmethod: "anonymous",
      authprovider: "static",
    },
    roles: roles as Dict,
  };
}

/** A random authid like Crossbar's, e.g. `K7QX-3MFD-WW9P-LH2C`. */
function anonymousAuthid(): string {
  const alphabet = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ";
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let id = "";
  for (let i = 0; i < 16; i++) {
    if (i > 0 && i % 4 === 0) id += "-";
    id += alphabet[bytes[i]! % alphabet.length];
  }
  return id;
}
