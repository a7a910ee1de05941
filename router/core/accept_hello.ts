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

/** How {@linkcode acceptHello} sees the connection. */
export interface AcceptHelloOptions {
  /**
   * The transport the HELLO came over.
   * @default {{ type: "unknown" }}
   */
  readonly transport?: TransportInfo;
  /**
   * Whether a method would be refused from this connection's address
   * (`failedLogins`): a method that would not goes first.
   * @default {none is}
   */
  readonly refused?: ((method: string) => boolean) | undefined;
}

/**
 * Decides whether a HELLO may go on, and with which authentication method:
 * the first of the client's `authmethods` (in its order) that the realm
 * offers and can serve on this transport and that would not be refused
 * (its address failed too often), else the first that would (to be
 * refused at its first step); a HELLO without `authmethods` asks for
 * anonymous.
 *
 * @param hello The HELLO message.
 * @param realm The realm it names, or `undefined` if there is none.
 * @param options The transport, and which methods would be refused.
 * @returns The chosen method and the client's roles (as the session keeps
 * them: `kept_hello.ts`), or the ABORT to send.
 */
export function acceptHello(
  hello: HelloMessage,
  realm: HelloRealm | undefined,
  options: AcceptHelloOptions = {},
): Acceptance {
  const { transport = { type: "unknown" }, refused } = options;
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
  const passed = new Set<Authenticator>(); // those that would be refused, in the client's order
  for (const method of methods) {
    const authenticator = realm.authenticators.get(method);
    if (authenticator === undefined || passed.has(authenticator)) continue;
    if (authenticator.accepts?.(realm.name, transport) === false) continue;
    if (refused?.(authenticator.method) === true) passed.add(authenticator);
    else return { authenticator, roles };
  }
  const [first] = passed;
  if (first !== undefined) return { authenticator: first, roles };
  return abort(
    ErrorUri.NO_AUTH_METHOD,
    `None of the offered authmethods is available on realm "${realm.name}"`,
  );
}
