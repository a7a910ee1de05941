/**
 * A realm as the acceptor sees it (`AcceptorRealm`), made from realm
 * options, for tests that drive the acceptor without a router: its
 * authenticators call no procedure (`authenticatorCall` rejects).
 *
 * @module
 */

import { realmAuthenticators } from "../../router/core/auth/methods.ts";
import { type RealmOptions, resolveRealmOptions } from "../../router/core/realm_options.ts";

/** The realm's name, authenticators and resolved options. */
export function acceptorRealm(options: RealmOptions): {
  name: string;
  authenticators: ReturnType<typeof realmAuthenticators>;
  options: ReturnType<typeof resolveRealmOptions>;
} {
  const resolved = resolveRealmOptions(options);
  return {
    name: resolved.name,
    authenticators: realmAuthenticators(resolved, {
      authenticatorCall: () => Promise.reject(new Error("no calls")),
    }),
    options: resolved,
  };
}
