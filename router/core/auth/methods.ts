/**
 * Builds a realm's authenticators from its options: anonymous when
 * allowed, then each configured method (ticket, wampcra, cryptosign,
 * wamp-scram, tls), with procedure-URI authenticators
 * turned into calls made by the router.
 *
 * @module
 */

import type { Dict, Payload } from "../../../wamp/mod.ts";
import type { ResolvedRealmOptions } from "../realm_options.ts";
import { anonymousAuthenticator } from "./anonymous.ts";
import { cookieAuthenticator, type CookieStore } from "./cookie.ts";
import type { Authenticator, DynamicPrincipal, ProcedureAuthenticator } from "./authenticator.ts";
import type { DynamicOption } from "./config.ts";
import { cryptosignAuthenticator } from "./cryptosign.ts";
import { scramAuthenticator, type ScramUser } from "./scram.ts";
import { ticketAuthenticator } from "./ticket.ts";
import { tlsAuthenticator } from "./tls.ts";
import { wampcraAuthenticator } from "./wampcra.ts";

/**
 * Calls a procedure as the router, in the named realm (or the realm
 * itself); the router runs it as a task and reads the result's payload.
 * When `ended` aborts first, the call is cancelled (`killnowait`; it
 * rejects with `wamp.error.canceled`) and its place among the realm's
 * router calls freed.
 */
export type RouterCall = (
  realm: string | undefined,
  procedure: string,
  args: unknown[],
  kwargs: Dict,
  ended?: AbortSignal,
) => PromiseLike<Payload>;

/** What a realm's authenticators take from the router. */
export interface AuthenticatorContext {
  /** How the router calls authenticator procedures. */
  readonly authenticatorCall: RouterCall;
  /** The router's cookie store (cookie authentication). */
  readonly cookies?: CookieStore | undefined;
  /** The clock for WAMP-CRA challenge timestamps. */
  readonly now?: (() => number) | undefined;
  /** The key of decoy CHALLENGEs for unknown authids (`RouterOptions.decoySecret`). */
  readonly decoySecret?: string | undefined;
}

/**
 * The authenticators a realm offers, by authmethod name.
 *
 * @param options The realm's options.
 * @param context What they take from the router.
 * @returns authmethod → authenticator.
 */
export function realmAuthenticators(
  options: ResolvedRealmOptions,
  context: AuthenticatorContext,
): Map<string, Authenticator> {
  const { authenticatorCall: call, cookies, now } = context;
  const decoySecret = context.decoySecret === undefined
    ? undefined
    : { secret: context.decoySecret, realm: options.name };
  const methods: Authenticator[] = [];
  if (options.auth.cookie !== undefined && cookies !== undefined) {
    methods.push(cookieAuthenticator(cookies));
  }
  if (options.anonymous) methods.push(anonymousAuthenticator(options.anonymousRole));
  const { ticket, wampcra, cryptosign, scram, tls } = options.auth;
  const dynamic = ({ authenticator, authenticatorRealm }: DynamicOption) =>
    typeof authenticator === "string"
      ? procedureAuthenticator(call, authenticator, authenticatorRealm)
      : authenticator;
  if (ticket) {
    methods.push(ticketAuthenticator({
      principals: ticket.principals,
      authenticator: dynamic(ticket),
    }));
  }
  if (wampcra) {
    methods.push(
      wampcraAuthenticator({
        users: wampcra.users,
        authenticator: dynamic(wampcra),
        now,
        decoySecret,
      }),
    );
  }
  if (cryptosign) {
    methods.push(cryptosignAuthenticator({
      principals: cryptosign.principals,
      authenticator: dynamic(cryptosign),
    }));
  }
  if (scram) {
    // resolveAuthOptions has already turned password users into stored keys.
    const users = scram.users as Record<string, ScramUser> | undefined;
    methods.push(scramAuthenticator({ users, authenticator: dynamic(scram), decoySecret }));
  }
  if (tls) {
    methods.push(tlsAuthenticator({ principals: tls.principals, authenticator: dynamic(tls) }));
  }
  return new Map(methods.map((method) => [method.method, method]));
}

/**
 * A dynamic authenticator that calls a procedure as Crossbar does:
 * `authenticate(realm, authid, details)`; its first result is the
 * principal (a role string or a dict), an ERROR denies.
 */
function procedureAuthenticator(
  call: RouterCall,
  procedure: string,
  realm: string | undefined,
): ProcedureAuthenticator {
  return {
    call: (request, ended) => {
      const { realm: asked, authid, ...details } = request;
      return call(realm, procedure, [asked, authid ?? null, details], {}, ended);
    },
    principal: (result) => (result as Payload).args?.[0] as DynamicPrincipal,
  };
}

/** A procedure the router calls to authenticate or authorize: where it is registered. */
export interface TrustedProcedure {
  /** The realm the procedure is registered in. */
  realm: string;
  /** The procedure URI. */
  procedure: string;
}

/**
 * The dynamic authenticator and authorizer procedures a realm's options
 * name, each with the realm it must be registered in. Whoever registers
 * one answers authentication or authorization requests, so only trusted
 * sessions may (see `Authorizer`).
 *
 * @param options The realm's options.
 * @returns The procedures, in config order.
 *
 * @example
 * ```ts
 * import { trustedProcedures } from "./methods.ts";
 * import { resolveRealmOptions } from "../realm_options.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const options = resolveRealmOptions({
 *   name: "realm1",
 *   auth: { ticket: { authenticator: "com.example.authenticate", authenticatorRealm: "auth" } },
 *   roles: [{ name: "backend", authorizer: "com.example.authorize" }],
 * });
 * deepEqual(trustedProcedures(options), [
 *   { realm: "auth", procedure: "com.example.authenticate" },
 *   { realm: "realm1", procedure: "com.example.authorize" },
 * ]);
 * ```
 */
export function trustedProcedures(options: ResolvedRealmOptions): TrustedProcedure[] {
  const out: TrustedProcedure[] = [];
  for (const method of Object.values(options.auth) as (DynamicOption | undefined)[]) {
    if (typeof method?.authenticator !== "string") continue;
    out.push({
      realm: method.authenticatorRealm ?? options.name,
      procedure: method.authenticator,
    });
  }
  for (const role of options.roles) {
    if (typeof role.authorizer !== "string") continue;
    out.push({ realm: role.authorizerRealm ?? options.name, procedure: role.authorizer });
  }
  return out;
}
