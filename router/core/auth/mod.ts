/**
 * Authentication methods of the router: anonymous, cookie, ticket,
 * WAMP-CRA, WAMP-Cryptosign, WAMP-SCRAM and TLS client certificates,
 * static or dynamic.
 *
 * @module
 */

export { anonymousAuthenticator } from "./anonymous.ts";
export {
  type Authenticator,
  type AuthOutcome,
  type AuthRequest,
  type DynamicAuthenticator,
  type DynamicAuthRequest,
  type DynamicPrincipal,
  type DynamicSource,
  type Identity,
  type ProcedureAuthenticator,
} from "./authenticator.ts";
export { cookieAuthenticator, CookieStore } from "./cookie.ts";
export {
  type AuthOptions,
  type DynamicOption,
  type ResolvedAuthOptions,
  type ScramPasswordUser,
  type ScramStoredUser,
} from "./config.ts";
export {
  cryptosignAuthenticator,
  type CryptosignOptions,
  type CryptosignPrincipal,
} from "./cryptosign.ts";
export { type AuthenticatorContext, realmAuthenticators, type RouterCall } from "./methods.ts";
export { scramAuthenticator, type ScramOptions, type ScramUser } from "./scram.ts";
export { ticketAuthenticator, type TicketOptions, type TicketPrincipal } from "./ticket.ts";
export { tlsAuthenticator, type TlsOptions, type TlsPrincipal } from "./tls.ts";
export { type CraUser, wampcraAuthenticator, type WampcraOptions } from "./wampcra.ts";
