/**
 * Anonymous authentication: WELCOME at once, with a random authid (like
 * Crossbar's) and the realm's configured role.
 *
 * @module
 */

import { AuthMethod } from "../../../wamp/auth/auth_method.ts";
import type { Authenticator } from "./authenticator.ts";

/**
 * Creates the anonymous method.
 *
 * @param role The authrole anonymous sessions get.
 * @returns The authenticator.
 */
export function anonymousAuthenticator(role: string): Authenticator {
  return {
    method: AuthMethod.ANONYMOUS,
    hello: () => ({
      welcome: {
        authid: anonymousAuthid(),
        authrole: role,
        authmethod: AuthMethod.ANONYMOUS,
        authprovider: "static",
      },
    }),
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
