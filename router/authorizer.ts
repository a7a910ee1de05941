/**
 * Authorization per realm role, in Crossbar's vocabulary: a role has
 * permissions `{ uri, match, allow: { call, register, publish, subscribe },
 * disclose: { caller, publisher } }`, and the most specific permission for
 * a URI decides (exact, then the longest prefix, then the best wildcard
 * pattern); or a dynamic authorizer (a procedure the router calls as
 * `authorize(session, uri, action, options)`, or a function) answering
 * allow/deny and optionally disclose and cache.
 *
 * A realm without roles allows everything. Once it has roles, anything
 * not allowed is denied, including sessions whose role is not listed, and
 * the meta procedures and topics obey the same rules. The router's own
 * internal session is never checked.
 *
 * @module
 */

import { ConfigObject, type Dict, isValidUri, type MatchPolicy } from "../wamp/mod.ts";
import type { RouterCall } from "./auth/methods.ts";
import { MatchIndex } from "./match_index.ts";
import type { SessionInfo } from "./types.ts";

/** What a session asks to do. */
export type Action = "call" | "register" | "publish" | "subscribe";

/** One permission of a static role. */
export interface Permission {
  /** The URI or pattern the permission covers. */
  uri: string;
  /** How `uri` matches. @default {"exact"} */
  match?: MatchPolicy;
  /** The actions allowed (each false when absent). */
  allow?: Partial<Record<Action, boolean>>;
  /** Disclose the caller (calls) or publisher (publications) of this role. */
  disclose?: { caller?: boolean; publisher?: boolean };
}

/** An authorization decision. */
export interface Decision {
  /** Whether the action is allowed. */
  allow: boolean;
  /** Whether to disclose the caller or publisher, whatever it asked for. */
  disclose?: boolean;
  /** Whether the decision may be reused for this session, URI and action. */
  cache?: boolean;
}

/**
 * A dynamic authorizer in TypeScript: gets the session's details (as the
 * session meta API shows them), the URI, the action and the request's
 * options; answers a boolean or a {@linkcode Decision}. Throwing denies,
 * and so does no answer within 10 seconds.
 */
export type DynamicAuthorizer = (
  session: Dict,
  uri: string,
  action: Action,
  options: Dict,
) => boolean | Decision | Promise<boolean | Decision>;

/** A realm role. */
export interface RoleOptions {
  /** The authrole. */
  name: string;
  /** Static permissions. */
  permissions?: Permission[];
  /** A dynamic authorizer instead: a procedure URI or a function. */
  authorizer?: string | DynamicAuthorizer;
  /** The realm the authorizer procedure is registered in. @default {the realm itself} */
  authorizerRealm?: string;
}

const ACTIONS: readonly Action[] = ["call", "register", "publish", "subscribe"];
/** Milliseconds a dynamic authorizer has to answer; silence denies. */
const AUTHORIZER_TIMEOUT = 10_000;
const DENY: Decision = { allow: false };
const ALLOW: Decision = { allow: true };

type Rule =
  | { readonly permissions: MatchIndex<Permission> }
  | { readonly authorizer: DynamicAuthorizer };

/** The authorization rules of one realm. */
export class Authorizer {
  #rules = new Map<string, Rule>();
  #cache = new Map<number, Map<string, Decision>>();

  /**
   * Creates the rules.
   *
   * @param roles The realm's roles (none: everything is allowed).
   * @param call How the router calls authorizer procedures.
   */
  constructor(roles: readonly RoleOptions[], call: RouterCall) {
    for (const role of roles) {
      const authorizer = role.authorizer;
      if (authorizer !== undefined) {
        this.#rules.set(role.name, {
          authorizer: typeof authorizer === "function"
            ? authorizer
            : procedureAuthorizer(call, authorizer, role.authorizerRealm),
        });
        continue;
      }
      const permissions = new MatchIndex<Permission>();
      for (const permission of role.permissions ?? []) {
        permissions.set(permission.uri, permission.match ?? "exact", permission);
      }
      this.#rules.set(role.name, { permissions });
    }
  }

  /** Whether the realm has no roles, so everything is allowed. */
  get open(): boolean {
    return this.#rules.size === 0;
  }

  /**
   * Decides whether a session may act on a URI.
   *
   * @param session The session.
   * @param details The session's details, for a dynamic authorizer.
   * @param action What it asks to do.
   * @param uri The topic, procedure or pattern.
   * @param options The request's options.
   * @returns The decision, or a promise of it (dynamic authorizers).
   */
  authorize(
    session: SessionInfo,
    details: () => Dict,
    action: Action,
    uri: string,
    options: Dict,
  ): Decision | Promise<Decision> {
    if (this.open) return ALLOW;
    const rule = this.#rules.get(session.authrole);
    if (rule === undefined) return DENY;
    if ("permissions" in rule) {
      const permission = rule.permissions.best(uri);
      if (permission?.allow?.[action] !== true) return DENY;
      const disclose = action === "call"
        ? permission.disclose?.caller
        : action === "publish"
        ? permission.disclose?.publisher
        : undefined;
      return disclose === true ? { allow: true, disclose: true } : ALLOW;
    }
    const key = `${action} ${uri}`;
    const cached = this.#cache.get(session.id)?.get(key);
    if (cached !== undefined) return cached;
    return (async () => {
      let decision: Decision;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<Decision>((resolve) => {
        timer = setTimeout(() => resolve(DENY), AUTHORIZER_TIMEOUT);
      });
      try {
        const answer = Promise.resolve(rule.authorizer(details(), uri, action, options));
        decision = await Promise.race([answer.then(decisionOf), late]);
      } catch {
        return DENY;
      } finally {
        clearTimeout(timer);
      }
      if (decision.cache === true) {
        let mine = this.#cache.get(session.id);
        if (mine === undefined) this.#cache.set(session.id, mine = new Map());
        mine.set(key, decision);
      }
      return decision;
    })();
  }

  /** Forgets a session's cached decisions. */
  forget(sessionId: number): void {
    this.#cache.delete(sessionId);
  }
}

function decisionOf(answer: unknown): Decision {
  if (answer === true) return ALLOW;
  if (typeof answer !== "object" || answer === null || Array.isArray(answer)) return DENY;
  const { allow, disclose, cache } = answer as Dict;
  return {
    allow: allow === true,
    ...(disclose === true ? { disclose: true } : {}),
    ...(cache === true ? { cache: true } : {}),
  };
}

/** Crossbar's dynamic authorizer call: `authorize(session, uri, action, options)`. */
function procedureAuthorizer(
  call: RouterCall,
  procedure: string,
  realm: string | undefined,
): DynamicAuthorizer {
  return async (session, uri, action, options) => {
    const result = await call(realm, procedure, [session, uri, action, options], {});
    return decisionOf(result.args?.[0]);
  };
}

const MATCHES: readonly MatchPolicy[] = ["exact", "prefix", "wildcard"];

/**
 * Validates one entry of a realm's `roles`.
 *
 * @param input The entry from the config.
 * @param path Its path, for error messages.
 * @returns The role.
 * @throws {TypeError} Naming the first invalid key by its path.
 */
export function resolveRole(input: unknown, path: string): RoleOptions {
  const c = new ConfigObject(input, path);
  const role: RoleOptions = { name: c.string("name") };
  if (c.has("authorizer")) {
    const value = c.value("authorizer");
    if (typeof value === "function") role.authorizer = value as DynamicAuthorizer;
    else if (typeof value === "string" && isValidUri(value)) role.authorizer = value;
    else {
      throw new TypeError(
        `Invalid config "${c.path("authorizer")}": expected a procedure URI or a function`,
      );
    }
    if (c.has("authorizerRealm")) role.authorizerRealm = c.string("authorizerRealm");
    if (c.has("permissions")) {
      throw new TypeError(
        `Invalid config "${c.path("permissions")}": give permissions or an authorizer, not both`,
      );
    }
  } else {
    role.permissions = c.array("permissions").map((p, i) =>
      permission(p, c.path(`permissions[${i}]`))
    );
  }
  c.done();
  return role;
}

function permission(input: unknown, path: string): Permission {
  const c = new ConfigObject(input, path);
  const match = c.oneOf("match", MATCHES, "exact");
  const uri = c.string("uri");
  if (!isValidUri(uri, { match }) && !(match === "prefix" && uri === "")) {
    throw new TypeError(`Invalid config "${c.path("uri")}": "${uri}" is not a valid ${match} URI`);
  }
  const out: Permission = { uri, match };
  const allow = c.object("allow");
  if (allow !== undefined) {
    out.allow = {};
    for (const action of ACTIONS) out.allow[action] = allow.boolean(action, false);
    allow.done();
  }
  const disclose = c.object("disclose");
  if (disclose !== undefined) {
    out.disclose = {
      caller: disclose.boolean("caller", false),
      publisher: disclose.boolean("publisher", false),
    };
    disclose.done();
  }
  c.done();
  return out;
}
