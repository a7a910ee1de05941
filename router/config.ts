/**
 * Router and realm options: the same keys in `new Router({...})` and in the
 * CLI's JSON config file, with defaults and validation in one place.
 *
 * @module
 */

import { ConfigObject, isValidUri } from "../wamp/mod.ts";

/** Options for one realm. */
export interface RealmOptions {
  /** The realm's name (a URI). */
  name: string;
  /**
   * Whether sessions may join without authenticating.
   * @default {true}
   */
  anonymous?: boolean;
  /**
   * The authrole anonymous sessions get.
   * @default {"anonymous"}
   */
  anonymousRole?: string;
  /**
   * Whether topic and procedure URIs must use only `[0-9a-z_]` components
   * (the spec's strict rule); otherwise the loose rule applies.
   * @default {false}
   */
  strictUris?: boolean;
  /**
   * Whether a new request ID must be the previous one plus 1, as the spec
   * requires; out-of-sequence IDs abort the session.
   * @default {true}
   */
  strictRequestIds?: boolean;
}

/** Realm options with every default filled in. */
export type ResolvedRealmOptions = Readonly<Required<RealmOptions>>;

/**
 * Fills in defaults for a realm and validates every key.
 *
 * @param input Realm options (from code or from JSON).
 * @param path Where the options came from, for error messages.
 * @returns The resolved options.
 * @throws {TypeError} Naming the first invalid or unknown key.
 *
 * @example
 * ```ts
 * import { resolveRealmOptions } from "@cloverleaf/wamp";
 * import { equal, throws } from "node:assert/strict";
 *
 * equal(resolveRealmOptions({ name: "realm1" }).anonymous, true);
 * throws(() => resolveRealmOptions({ name: "realm1", strict: true }), /unknown key/);
 * ```
 */
export function resolveRealmOptions(input: unknown, path = "realm"): ResolvedRealmOptions {
  const c = new ConfigObject(input, path);
  const name = c.string("name");
  if (!isValidUri(name)) {
    throw new TypeError(`Invalid config "${c.path("name")}": "${name}" is not a valid URI`);
  }
  const options: ResolvedRealmOptions = {
    name,
    anonymous: c.boolean("anonymous", true),
    anonymousRole: c.string("anonymousRole", "anonymous"),
    strictUris: c.boolean("strictUris", false),
    strictRequestIds: c.boolean("strictRequestIds", true),
  };
  c.done();
  return options;
}
