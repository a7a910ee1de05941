/**
 * The first look at a HELLO (spec "Session Establishment"): the client's
 * roles, the realm, and which of the realm's authentication methods runs;
 * `acceptor.ts` then runs the method's steps.
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
import { vouched } from "./auth/vouched.ts";
import { helloRoles } from "./kept_hello.ts";

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

/**
 * An ABORT as an {@linkcode Acceptance}.
 *
 * @param reason Its URI.
 * @param message Its `Details.message`.
 * @returns The acceptance that aborts.
 */
export function abort(reason: string, message: string): { readonly abort: AbortMessage } {
  return { abort: { type: MessageType.ABORT, details: { message }, reason } };
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
 * @returns The chosen method and the client's roles (as the session keeps
 * them: `kept_hello.ts`), or the ABORT to send.
 */
export function acceptHello(
  hello: HelloMessage,
  realm: HelloRealm | undefined,
  transport: TransportInfo = { type: "unknown" },
): Acceptance {
  const roles = helloRoles(hello.details.roles);
  if (roles === undefined) {
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
  if (transport.identity !== undefined) {
    return { authenticator: vouched(transport.identity), roles };
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
