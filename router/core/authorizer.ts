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
 * A pattern request (SUBSCRIBE or REGISTER with `match: "prefix"` or
 * `"wildcard"`) is allowed only when the role is allowed the action for
 * every URI the pattern can match (see {@linkcode patternAllowed}). A
 * dynamic authorizer gets the request's options, `match` included, and must
 * check it itself: allowing the URI string of a pattern allows everything
 * the pattern matches. Its cached decisions are kept per action, match and
 * URI.
 *
 * @module
 */

import type { ConfigObject } from "../../config/mod.ts";
import {
  type Dict,
  isMatchPolicy,
  isValidUri,
  type MatchPolicy,
  wildcardMatch,
} from "../../wamp/mod.ts";
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

/**
 * The procedures a realm's router calls to authenticate or authorize
 * (dynamic authenticators and authorizers registered in this realm), and
 * the one authrole allowed to register them.
 */
export interface TrustedRegistrations {
  /** The authrole that may register them. */
  readonly role: string;
  /** Their URIs (may grow as realms naming this one are added). */
  readonly procedures: ReadonlySet<string>;
}

type Rule =
  | { readonly permissions: MatchIndex<Permission>; readonly list: readonly Permission[] }
  | { readonly authorizer: DynamicAuthorizer };

/** The authorization rules of one realm. */
export class Authorizer {
  #rules = new Map<string, Rule>();
  #cache = new Map<number, Map<string, Decision>>();
  #trusted: TrustedRegistrations | undefined;

  /**
   * Creates the rules.
   *
   * @param roles The realm's roles (none: everything is allowed).
   * @param call How the router calls authorizer procedures.
   * @param trusted The authenticator and authorizer procedures of the
   * realm: a REGISTER that could capture one of them (exactly or by
   * pattern) is denied unless the session has the trusted role, even in a
   * realm without roles.
   */
  constructor(
    roles: readonly RoleOptions[],
    call: RouterCall,
    trusted?: TrustedRegistrations,
  ) {
    this.#trusted = trusted;
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
      this.#rules.set(role.name, { permissions, list: [...permissions.values()] });
    }
  }

  /**
   * Whether everything is allowed: the realm has no roles, and no
   * authenticator or authorizer procedure to guard.
   */
  get open(): boolean {
    const trusted = this.#trusted;
    return this.#rules.size === 0 && (trusted === undefined || trusted.procedures.size === 0);
  }

  /**
   * Decides whether a session may act on a URI.
   *
   * @param session The session.
   * @param details The session's details, for a dynamic authorizer.
   * @param action What it asks to do.
   * @param uri The topic, procedure or pattern.
   * @param options The request's options (`match` makes a SUBSCRIBE or
   * REGISTER a pattern request).
   * @returns The decision, or a promise of it (dynamic authorizers).
   */
  authorize(
    session: SessionInfo,
    details: () => Dict,
    action: Action,
    uri: string,
    options: Dict,
  ): Decision | Promise<Decision> {
    if (action === "register" && this.#capturesTrusted(session, uri, options)) return DENY;
    if (this.#rules.size === 0) return ALLOW;
    const rule = this.#rules.get(session.authrole);
    if (rule === undefined) return DENY;
    const match = requestMatch(action, options);
    if ("permissions" in rule) {
      if (match === undefined) return DENY;
      if (match !== "exact") return patternAllowed(rule.list, action, uri, match) ? ALLOW : DENY;
      const permission = rule.permissions.best(uri);
      if (permission?.allow?.[action] !== true) return DENY;
      const disclose = action === "call"
        ? permission.disclose?.caller
        : action === "publish"
        ? permission.disclose?.publisher
        : undefined;
      return disclose === true ? { allow: true, disclose: true } : ALLOW;
    }
    const key = `${action} ${match} ${uri}`;
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

  /** Whether a REGISTER from a session without the trusted role could capture a trusted procedure. */
  #capturesTrusted(session: SessionInfo, uri: string, options: Dict): boolean {
    const trusted = this.#trusted;
    if (trusted === undefined || trusted.procedures.size === 0) return false;
    if (session.authrole === trusted.role) return false;
    const match = options.match ?? "exact";
    for (const procedure of trusted.procedures) {
      if (match === "exact" && procedure !== uri) continue;
      if (match === "prefix" && !procedure.startsWith(uri)) continue;
      if (match === "wildcard" && !wildcardMatch(uri, procedure)) continue;
      return true; // an unknown match policy counts as capturing: deny
    }
    return false;
  }

  /** Forgets a session's cached decisions. */
  forget(sessionId: number): void {
    this.#cache.delete(sessionId);
  }
}

/** The match policy of a request: exact unless a SUBSCRIBE or REGISTER says otherwise; undefined when unknown. */
function requestMatch(action: Action, options: Dict): MatchPolicy | undefined {
  if (action !== "subscribe" && action !== "register") return "exact";
  const match = options.match ?? "exact";
  return isMatchPolicy(match) ? match : undefined;
}

function allows(permission: Permission | undefined, action: Action): boolean {
  return permission?.allow?.[action] === true;
}

/**
 * Whether static permissions allow `action` on EVERY URI a pattern
 * request can match, under most-specific-wins (exact, then the longest
 * prefix, then the best wildcard). Conservative: it may deny a pattern
 * whose every URI is allowed through an unusual mix of permissions, never
 * the reverse.
 *
 * - prefix `P`: the longest prefix permission that is a prefix of `P`
 *   governs every URI under `P` and must allow; an exact or a longer prefix
 *   permission inside `P` that does not allow denies. Wildcard permissions
 *   never cover a prefix's unbounded set.
 * - wildcard `W` (an empty component matches any one component): without
 *   an empty component it is the one URI `W`. Else the URIs under it all
 *   start with its head (the components before the first empty one, each
 *   with its dot); the longest prefix permission that is a prefix of the
 *   head governs and must allow; without one, a wildcard permission with
 *   the same component count whose literal components all equal `W`'s must
 *   cover it and every wildcard permission that can match a URI under `W`
 *   must allow. In both cases an exact or prefix permission that can match
 *   a URI under `W` and does not allow denies.
 *
 * @param permissions The role's permissions.
 * @param action The action asked for.
 * @param uri The pattern.
 * @param match Its match policy.
 * @returns Whether the request is allowed.
 *
 * @example
 * ```ts
 * import { patternAllowed } from "./authorizer.ts";
 * import { equal } from "node:assert/strict";
 *
 * const only = [{ uri: "com.example.topic", allow: { subscribe: true } }];
 * equal(patternAllowed(only, "subscribe", "com.example.topic", "prefix"), false);
 * const tree = [{ uri: "com.example.", match: "prefix" as const, allow: { subscribe: true } }];
 * equal(patternAllowed(tree, "subscribe", "com.example.topic", "prefix"), true);
 * ```
 */
export function patternAllowed(
  permissions: readonly Permission[],
  action: Action,
  uri: string,
  match: MatchPolicy,
): boolean {
  if (match === "prefix") return prefixAllowed(permissions, action, uri);
  if (match === "wildcard") return wildcardAllowed(permissions, action, uri.split("."));
  const index = new MatchIndex<Permission>();
  for (const p of permissions) index.set(p.uri, p.match ?? "exact", p);
  return allows(index.best(uri), action);
}

function prefixAllowed(
  permissions: readonly Permission[],
  action: Action,
  prefix: string,
): boolean {
  let governing: Permission | undefined;
  for (const p of permissions) {
    const match = p.match ?? "exact";
    if (match === "exact") {
      if (p.uri.startsWith(prefix) && !allows(p, action)) return false;
    } else if (match === "prefix") {
      if (prefix.startsWith(p.uri)) {
        if (governing === undefined || p.uri.length > governing.uri.length) governing = p;
      } else if (p.uri.startsWith(prefix) && !allows(p, action)) return false;
    }
  }
  return allows(governing, action);
}

function wildcardAllowed(
  permissions: readonly Permission[],
  action: Action,
  parts: string[],
): boolean {
  const open = parts.indexOf("");
  if (open < 0) return patternAllowed(permissions, action, parts.join("."), "exact");
  let head = "";
  for (let i = 0; i < open; i++) head += parts[i] + ".";
  let governing: Permission | undefined;
  let covered = false;
  let wildcardDenies = false;
  for (const p of permissions) {
    switch (p.match ?? "exact") {
      case "exact":
        if (wildcardMatch(parts.join("."), p.uri) && !allows(p, action)) return false;
        break;
      case "prefix":
        if (head.startsWith(p.uri)) {
          if (governing === undefined || p.uri.length > governing.uri.length) governing = p;
        } else if (prefixMayMatch(p.uri, parts) && !allows(p, action)) return false;
        break;
      case "wildcard": {
        const own = p.uri.split(".");
        if (!sameShape(own, parts, false)) break;
        if (!allows(p, action)) wildcardDenies = true;
        else if (sameShape(own, parts, true)) covered = true;
        break;
      }
    }
  }
  if (governing !== undefined) return allows(governing, action);
  return covered && !wildcardDenies;
}

/** Whether some URI under the wildcard pattern `parts` may start with `prefix` (over-approximated). */
function prefixMayMatch(prefix: string, parts: readonly string[]): boolean {
  const own = prefix.split(".");
  if (own.length > parts.length) return false;
  const last = own.length - 1;
  for (let i = 0; i < last; i++) {
    if (parts[i] !== "" && parts[i] !== own[i]) return false;
  }
  return parts[last] === "" || parts[last]!.startsWith(own[last]!);
}

/**
 * Two wildcard patterns of equal length: with `covers`, whether `own`
 * matches every URI `parts` matches; otherwise whether they can match a
 * common URI.
 */
function sameShape(own: readonly string[], parts: readonly string[], covers: boolean): boolean {
  if (own.length !== parts.length) return false;
  for (let i = 0; i < own.length; i++) {
    if (own[i] === "" || own[i] === parts[i]) continue;
    if (covers || parts[i] !== "") return false;
  }
  return true;
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
 * @param c The entry from the config.
 * @returns The role.
 * @throws {ConfigError} Naming the first invalid key by its path.
 */
export function resolveRole(c: ConfigObject): RoleOptions {
  const role: RoleOptions = { name: c.string("name") };
  if (c.has("authorizer")) {
    const value = c.value("authorizer");
    if (typeof value === "function") role.authorizer = value as DynamicAuthorizer;
    else if (typeof value === "string" && isValidUri(value)) role.authorizer = value;
    else throw c.error("authorizer", "expected a procedure URI or a function");
    if (c.has("authorizerRealm")) role.authorizerRealm = c.string("authorizerRealm");
    if (c.has("permissions")) {
      throw c.error("permissions", "give permissions or an authorizer, not both");
    }
  } else {
    role.permissions = c.array("permissions").map((p, i) =>
      permission(c.child(p, `permissions[${i}]`))
    );
  }
  c.done();
  return role;
}

function permission(c: ConfigObject): Permission {
  const match = c.oneOf("match", MATCHES, "exact");
  const uri = c.string("uri");
  if (!isValidUri(uri, { match }) && !(match === "prefix" && uri === "")) {
    throw c.error("uri", `"${uri}" is not a valid ${match} URI`);
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
