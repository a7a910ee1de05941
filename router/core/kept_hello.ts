/**
 * What a session keeps of its HELLO.Details for as long as it lives: the
 * roles it announced, with the features it claims, and the string
 * attributes that `eligible_<key>` / `exclude_<key>` publish filters test.
 * Both are bounded: a HELLO may be as large as any message (16 MiB by
 * default), and kept whole, four anonymous sessions whose HELLOs each held a
 * list of 16 million items took 512 MiB of heap for as long as they stayed.
 *
 * @module
 */

import type { Dict } from "../../wamp/mod.ts";

const CLIENT_ROLES = ["publisher", "subscriber", "caller", "callee"] as const;

/** The most features kept per role; names longer than {@linkcode MAX_NAME} are dropped. */
const MAX_FEATURES = 64;

/** The longest feature or attribute name kept, in characters. */
const MAX_NAME = 64;

/** The most attributes kept ({@linkcode helloAttributes}). */
const MAX_ATTRIBUTES = 32;

/** The longest attribute value kept, in characters. */
const MAX_VALUE = 1024;

/**
 * The roles a HELLO announces, as the session keeps them: each client role
 * it names (publisher, subscriber, caller, callee), with the features it
 * claims as `true` (at most {@linkcode MAX_FEATURES} each); anything else
 * in the dict is dropped.
 *
 * @param roles HELLO.Details.roles.
 * @returns The kept roles, or undefined when `roles` is not a dict of
 * dicts naming at least one client role (the HELLO is refused).
 *
 * @example
 * ```ts
 * import { helloRoles } from "./kept_hello.ts";
 * import { deepEqual, equal } from "node:assert/strict";
 *
 * const roles = { caller: { features: { call_canceling: true, x: [1, 2] } }, oddity: {} };
 * deepEqual(helloRoles(roles), { caller: { features: { call_canceling: true } } });
 * equal(helloRoles({ broker: {} }), undefined);
 * ```
 */
export function helloRoles(roles: unknown): Dict | undefined {
  if (typeof roles !== "object" || roles === null || Array.isArray(roles)) return undefined;
  const given = roles as Dict;
  const kept: Dict = {};
  let any = false;
  for (const name in given) {
    const role = given[name];
    if (typeof role !== "object" || role === null) return undefined;
    if (!(CLIENT_ROLES as readonly string[]).includes(name)) continue;
    const features = (role as Dict).features;
    kept[name] = features === undefined ? {} : { features: claimed(features) };
    any = true;
  }
  return any ? kept : undefined;
}

function claimed(features: unknown): Dict {
  const kept: Dict = {};
  if (typeof features !== "object" || features === null) return kept;
  let count = 0;
  for (const name in features as Dict) {
    if (name.length > MAX_NAME || (features as Dict)[name] !== true) continue;
    kept[name] = true;
    if (++count === MAX_FEATURES) break;
  }
  return kept;
}

/**
 * The attributes of a HELLO that publish filters may test: its top-level
 * string values (the first {@linkcode MAX_ATTRIBUTES} whose name and value
 * are short enough).
 *
 * @param details HELLO.Details.
 * @returns The kept attributes.
 *
 * @example
 * ```ts
 * import { helloAttributes } from "./kept_hello.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * deepEqual(helloAttributes({ roles: {}, site: "eu-1", big: [1, 2, 3] }), { site: "eu-1" });
 * ```
 */
export function helloAttributes(details: Dict): Dict {
  const kept: Dict = {};
  let count = 0;
  for (const name in details) {
    const value = details[name];
    if (typeof value !== "string" || name.length > MAX_NAME || value.length > MAX_VALUE) continue;
    kept[name] = value;
    if (++count === MAX_ATTRIBUTES) break;
  }
  return kept;
}
