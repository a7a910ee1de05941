/**
 * The router: {@linkcode Router}, the options of its realms (roles and
 * permissions, authentication, limits, meta API, event history), the
 * built-in authenticators, and the interfaces to write your own
 * authenticator or authorizer.
 *
 * @example A realm with a ticket user and a role
 * ```ts
 * import { Router } from "@cloverleaf/wamp/router";
 * import { connectLocal } from "@cloverleaf/wamp/client";
 * import { equal } from "node:assert/strict";
 *
 * const router = new Router({
 *   realms: [{
 *     name: "realm1",
 *     anonymous: false,
 *     auth: { ticket: { principals: { alice: { ticket: "t0ps3cret", role: "user" } } } },
 *     roles: [{ name: "user", permissions: [{ uri: "com.example.", match: "prefix", allow: { call: true } }] }],
 *   }],
 * });
 * const session = await connectLocal(router, "realm1", { authid: "alice", ticket: "t0ps3cret" });
 * equal(session.details.authrole, "user");
 * await session.close();
 * await router.close();
 * ```
 *
 * @module
 */

export {
  anonymousAuthenticator,
  type Authenticator,
  type AuthOptions,
  type AuthOutcome,
  type AuthRequest,
  cookieAuthenticator,
  CookieStore,
  type CraUser,
  cryptosignAuthenticator,
  type CryptosignOptions,
  type CryptosignPrincipal,
  type DynamicAuthenticator,
  type DynamicAuthRequest,
  type DynamicOption,
  type DynamicPrincipal,
  type DynamicSource,
  type Identity,
  type ProcedureAuthenticator,
  scramAuthenticator,
  type ScramOptions,
  type ScramPasswordUser,
  type ScramStoredUser,
  type ScramUser,
  ticketAuthenticator,
  type TicketOptions,
  type TicketPrincipal,
  tlsAuthenticator,
  type TlsOptions,
  type TlsPrincipal,
  wampcraAuthenticator,
  type WampcraOptions,
} from "./core/auth/mod.ts";
export {
  type Action,
  type Decision,
  type DynamicAuthorizer,
  type Permission,
  type RoleOptions,
} from "./core/authorizer.ts";
export {
  type Disclosure,
  type MetaOptions,
  type RealmOptions,
  type TrustLevelRule,
} from "./core/realm_options.ts";
export { CallError } from "./core/errors.ts";
export { type EventHistoryRule } from "./core/broker/event_history.ts";
export { type LimitOptions } from "./core/limits.ts";
export { type FailedLoginOptions } from "./core/auth/authentication_failures.ts";
export { consoleLogger, Router, type RouterOptions } from "./router.ts";
export type { ClusterOptions } from "../cluster/node.ts";
export { scrambledIdGenerator } from "./scrambled_ids.ts";
export { type AdminOptions, type AdminServer, serveAdmin } from "../admin/mod.ts";
export type { LogFields, Logger, LogLevel, SessionInfo } from "./core/types.ts";
export { formatLogLine, LOG_FORMATS, type LogFormat, withFields } from "./logger.ts";
export type { Dict, IdGenerator, MatchPolicy } from "../wamp/mod.ts";
