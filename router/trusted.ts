/**
 * The router's own trusted procedures, per realm: the authenticators and
 * authorizers its realms call. Only sessions with the trusted role may
 * register or call them (`Authorizer`), and only credentials give that
 * role (`check`: no realm's anonymous sessions); a procedure trusted later, by
 * a realm added while the router serves, is taken from callees without
 * that role who registered it (or a pattern capturing it) before; a
 * REGISTER still on its way then (a cluster claim out) is refused as the
 * dealer adds its callee (`DealerOptions.untrusted`).
 *
 * @module
 */

import type { Realm } from "./core/realm.ts";
import type { ResolvedRealmOptions } from "./core/realm_options.ts";
import { captures } from "./core/permissions.ts";
import { configError } from "../config/mod.ts";

/** A callee's part of a registration, to revoke. */
export interface Capture {
  /** The registration ID. */
  readonly registration: number;
  /** The callee session ID. */
  readonly callee: number;
}

/** The trusted procedures of every realm, and the role that may register them. */
export class TrustedProcedures {
  /** The role whose sessions may register trusted procedures. */
  readonly role: string;
  #byRealm = new Map<string, Set<string>>();

  /**
   * Creates the table, empty.
   *
   * @param role The trusted role.
   */
  constructor(role: string) {
    this.role = role;
  }

  /**
   * The trusted procedures of a realm: one set, shared with the realm's
   * authorizer, that grows as realms are added.
   *
   * @param realm The realm's name.
   * @returns The set.
   */
  in(realm: string): Set<string> {
    let procedures = this.#byRealm.get(realm);
    if (procedures === undefined) this.#byRealm.set(realm, procedures = new Set());
    return procedures;
  }

  /**
   * Refuses a realm that would give the trusted role without credentials:
   * anyone who can reach the router could then join anonymously, register
   * the authenticator and answer every login (there is no realm "only the
   * backend can reach": every listener serves every realm).
   *
   * @param realm The realm's resolved options.
   * @param path Where they came from, for the error.
   * @throws {ConfigError} At `<path>.anonymousRole`.
   */
  check(realm: ResolvedRealmOptions, path: string): void {
    if (!realm.anonymous || realm.anonymousRole !== this.role) return;
    throw configError(
      `${path}.anonymousRole`,
      `anonymous sessions may not get the trusted role "${this.role}" (it registers authenticators ` +
        "and authorizers): give the backend a principal with that role",
    );
  }

  /**
   * Trusts a procedure in a realm.
   *
   * @param procedure The procedure URI.
   * @param realm The realm's name.
   * @param registry The realm, when it exists already.
   * @returns The registrations that capture it for a session of the realm
   * without the trusted role: to revoke. (A callee on another cluster node
   * is checked by that node when it registers.)
   */
  add(procedure: string, realm: string, registry: Realm | undefined): Capture[] {
    this.in(realm).add(procedure);
    const out: Capture[] = [];
    for (const reg of registry?.dealer.registrations() ?? []) {
      if (!captures(reg.procedure, reg.match, procedure)) continue;
      for (const callee of reg.callees) {
        const member = registry!.member(callee);
        if (member !== undefined && member.info.authrole !== this.role) {
          out.push({ registration: reg.id, callee });
        }
      }
    }
    return out;
  }
}
