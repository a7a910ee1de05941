/**
 * The method of a transport that vouches for its session's identity
 * (`TransportInfo.identity`, set only by in-process links such as the HTTP
 * bridge's): WELCOME at once, authmethod `internal`.
 *
 * @module
 */

import type { Authenticator } from "./authenticator.ts";

/**
 * Creates the method for one vouched identity.
 *
 * @param identity The authid and authrole the transport vouches for.
 * @returns The authenticator.
 */
export function vouched(identity: { authid: string; authrole: string }): Authenticator {
  const welcome = {
    authid: identity.authid,
    authrole: identity.authrole,
    authmethod: "internal",
    authprovider: "cloverleaf",
  };
  return { method: "internal", hello: () => ({ welcome }) };
}
