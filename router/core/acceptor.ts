/**
 * The router's first look at a HELLO (spec "Session Establishment"): are
 * the roles, the realm and the offered authmethods acceptable, and which of
 * the realm's authentication methods runs the rest of the handshake.
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
  type TransportInfo,
} from "../../wamp/mod.ts";
import type { Authenticator } from "./auth/authenticator.ts";

/** What a HELLO needs from its realm. */
export interface HelloRealm {
  /** The realm's name. */
  readonly name: string;
  /** Its authentication methods, by authmethod name. */
  readonly authenticators: ReadonlyMap<string, Authenticator>;
  /** Whether it holds as many sessions as it may. */
  readonly full?: boolean;
}

/** The outcome of a HELLO: the method that continues, or an ABORT. */
export type Acceptance =
  | { readonly authenticator: Authenticator; readonly roles: Dict }
  | { readonly abort: AbortMessage };

const CLIENT_ROLES = ["publisher", "subscriber", "caller", "callee"];

function abort(reason: string, message: string): Acceptance {
  return {
    abort: { type: MessageType.ABORT, details: { message }, reason },
  };
}

/**
 * Decides whether a HELLO may go on, and with which authentication method:
 * the first of the client's `authmethods` (in its order) that the realm
 * offers and can serve on this transport; a HELLO without `authmethods`
 * asks for anonymous.
 *
 * @param hello The HELLO message.
 * @param realm The realm it names, or `undefined` if there is none.
 * @param transport The transport it came over.
 * @returns The chosen method and the client's roles, or the ABORT to send.
 */
export function acceptHello(
  hello: HelloMessage,
  realm: HelloRealm | undefined,
  transport: TransportInfo = { type: "unknown" },
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
  if (realm.full) {
    return abort(ErrorUri.REALM_FULL, `Realm "${realm.name}" is full`);
  }
  const offered = hello.details.authmethods;
  const methods = offered !== undefined && offered.length > 0 ? offered : ["anonymous"];
  for (const method of methods) {
    const authenticator = realm.authenticators.get(method);
    if (authenticator === undefined) continue;
    if (authenticator.accepts?.(realm.name, transport) === false) continue;
    return { authenticator, roles };
  }
  return abort(
    ErrorUri.NO_AUTH_METHOD,
    `None of the offered authmethods is available on realm "${realm.name}"`,
  );
}
