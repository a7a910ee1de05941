/**
 * Static permissions of realm roles, in Crossbar's vocabulary: the types
 * of a role's rules, whether a pattern request is covered by them
 * ({@linkcode patternAllowed}), whether a registration captures a
 * procedure ({@linkcode captures}), and a role's validation from config
 * ({@linkcode resolveRole}).
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
import { MatchIndex } from "./match_index.ts";

/** What a session asks to do. */
export type Action = "call" | "register" | "publish" | "subscribe";

/** One permission of a static role. */
export interface Permission {
  /**
   * The URI or pattern the permission covers; `""` with `match: "prefix"`
   * covers every URI (more specific permissions still decide theirs).
   */
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
/** Whether a permission allows an action. */
export function allows(permission: Permission | undefined, action: Action): boolean {
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
 * import { patternAllowed } from "./permissions.ts";
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
  if (match === "wildcard") return wildcardAllowed(permissions, action, uri);
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
  uri: string,
): boolean {
  const parts = uri.split(".");
  const open = parts.indexOf("");
  if (open < 0) return patternAllowed(permissions, action, uri, "exact");
  let head = "";
  for (let i = 0; i < open; i++) head += parts[i] + ".";
  let governing: Permission | undefined;
  let covered = false;
  let wildcardDenies = false;
  for (const p of permissions) {
    switch (p.match ?? "exact") {
      case "exact":
        if (wildcardMatch(uri, p.uri) && !allows(p, action)) return false;
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

/**
 * Whether a registration of `pattern` could receive calls to `procedure`
 * (the router's own trusted procedures are guarded with it); for topics,
 * whether a subscription or an `eventHistory` rule of `pattern` covers a
 * topic (`cluster/history.ts`).
 *
 * @param pattern The registered URI or pattern.
 * @param match Its match policy (absent: exact; an unknown one captures everything).
 * @param procedure A procedure URI (or a topic).
 * @returns True when calls to `procedure` could reach it.
 *
 * @example
 * ```ts
 * import { captures } from "./permissions.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(captures("com.auth", "prefix", "com.auth.login"), true);
 * equal(captures("com..login", "wildcard", "com.auth.login"), true);
 * equal(captures("com.other", "exact", "com.auth.login"), false);
 * ```
 */
export function captures(pattern: string, match: unknown, procedure: string): boolean {
  if ((match ?? "exact") === "exact") return pattern === procedure;
  if (match === "prefix") return procedure.startsWith(pattern);
  if (match === "wildcard") return wildcardMatch(pattern, procedure);
  return true;
}

/** The match policies. */
export const MATCHES: readonly MatchPolicy[] = ["exact", "prefix", "wildcard"];

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
  // The empty prefix covers every URI (a role granted the whole namespace, as Crossbar writes it).
  const uri = match === "prefix" && c.value("uri") === "" ? "" : c.string("uri");
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

/**
 * The match policy of a request: exact unless a SUBSCRIBE or REGISTER says
 * otherwise; undefined when unknown.
 *
 * @param action What the request does.
 * @param options Its options.
 * @returns The policy.
 */
export function requestMatch(action: Action, options: Dict): MatchPolicy | undefined {
  if (action !== "subscribe" && action !== "register") return "exact";
  const match = options.match ?? "exact";
  return isMatchPolicy(match) ? match : undefined;
}

/**
 * A dynamic authorizer's answer as a decision: `true`, or a dict with
 * `allow`, `disclose` and `cache`; anything else denies.
 *
 * @param answer The answer.
 * @returns The decision.
 */
export function decisionOf(answer: unknown): Decision {
  if (answer === true) return { allow: true };
  if (typeof answer !== "object" || answer === null || Array.isArray(answer)) {
    return { allow: false };
  }
  const { allow, disclose, cache } = answer as Dict;
  return {
    allow: allow === true,
    ...(disclose === true ? { disclose: true } : {}),
    ...(cache === true ? { cache: true } : {}),
  };
}
