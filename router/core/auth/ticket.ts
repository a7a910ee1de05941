/**
 * Ticket authentication (authmethod `ticket`): the CHALLENGE is empty and
 * the AUTHENTICATE signature is the ticket itself (a password or token;
 * use TLS). Static principals compare it in constant time; a dynamic
 * authenticator gets it as `ticket` and decides.
 *
 * @module
 */

import { AuthMethod } from "../../../wamp/auth/auth_method.ts";
import { constantTimeEqual } from "../../../wamp/auth/util.ts";
import { askAuthenticator, type Authenticator, deny, type DynamicSource } from "./authenticator.ts";

/** A static ticket principal. */
export interface TicketPrincipal {
  /** The secret ticket. */
  ticket: string;
  /** The role granted. */
  role: string;
}

/** Options for {@linkcode ticketAuthenticator}: static principals or a dynamic authenticator. */
export interface TicketOptions {
  /** authid → principal. */
  principals?: Record<string, TicketPrincipal> | undefined;
  /** Decides in code instead (gets `ticket` in its request). */
  authenticator?: DynamicSource | undefined;
}

/**
 * Creates the ticket method.
 *
 * @param options Principals or a dynamic authenticator.
 * @returns The authenticator.
 */
export function ticketAuthenticator(options: TicketOptions): Authenticator {
  const { principals = {}, authenticator } = options;
  return {
    method: AuthMethod.TICKET,
    hello(request) {
      const authid = request.authid;
      if (authid === undefined) return deny("ticket needs an authid");
      return {
        challenge: {},
        answer(ticket) {
          if (authenticator !== undefined) {
            return askAuthenticator(
              authenticator,
              request,
              AuthMethod.TICKET,
              ticket,
              (principal) => ({
                welcome: {
                  authid: typeof principal.authid === "string" ? principal.authid : authid,
                  authrole: principal.role,
                  authmethod: AuthMethod.TICKET,
                  authprovider: "dynamic",
                },
              }),
            );
          }
          const principal = Object.hasOwn(principals, authid) ? principals[authid] : undefined;
          // Compare even for an unknown authid, so timing does not tell.
          const ok = constantTimeEqual(principal?.ticket ?? "\0unknown", ticket) &&
            principal !== undefined;
          if (!ok) return deny(`wrong ticket for "${authid}"`);
          return {
            welcome: {
              authid,
              authrole: principal.role,
              authmethod: AuthMethod.TICKET,
              authprovider: "static",
            },
          };
        },
      };
    },
  };
}
