/**
 * Subscriber black/white listing (feature key `subscriber_blackwhite_listing`,
 * spec "Subscriber Black- and Whitelisting",
 * https://wamp-proto.org/wamp_latest_ietf.html#name-subscriber-black-and-whitel):
 * which subscribers a PUBLISH may reach, from its `exclude*` / `eligible*`
 * options.
 *
 * Besides the spec's lists (`exclude` / `eligible` by session ID,
 * `exclude_authid` / `eligible_authid`, `exclude_authrole` /
 * `eligible_authrole`), any `exclude_<key>` / `eligible_<key>` option with a
 * list of strings filters on another attribute of the subscriber, as nexus
 * does: `authmethod` and `authprovider` come from the authenticated session,
 * every other key from the subscriber's HELLO.Details (only string values
 * count). A subscriber without the attribute is never excluded by an
 * `exclude_<key>` list and never eligible under an `eligible_<key>` list.
 *
 * @module
 */

import type { Dict } from "../../../wamp/mod.ts";
import type { SessionInfo } from "../types.ts";

/** Attributes taken from the authenticated session rather than HELLO.Details. */
const SESSION_ATTRIBUTES = ["authid", "authrole", "authmethod", "authprovider"] as const;

/** Attribute filters the event history may keep (spec: stable attributes only). */
const STABLE_ATTRIBUTES: ReadonlySet<string> = new Set(["authid", "authrole"]);

/**
 * How many `exclude_<key>` / `eligible_<key>` lists one PUBLISH may carry:
 * each is tested for every subscriber (the spec defines two, authid and
 * authrole).
 */
export const MAX_ATTRIBUTE_LISTS = 16;

/**
 * How many entries the black/white lists of one PUBLISH may hold in all:
 * each is hashed into a set before any subscriber is tested (900,000 short
 * strings held the router about 0.5 s per PUBLISH, four times what
 * decoding them took).
 */
export const MAX_LIST_ENTRIES = 4096;

/** A PUBLISH's black/white lists, ready to test subscribers against. */
export class PublishFilter {
  #exclude: ReadonlySet<number> | undefined;
  #eligible: ReadonlySet<number> | undefined;
  #excludeBy: ReadonlyMap<string, ReadonlySet<string>>;
  #eligibleBy: ReadonlyMap<string, ReadonlySet<string>>;
  #lists: Dict;

  private constructor(
    exclude: ReadonlySet<number> | undefined,
    eligible: ReadonlySet<number> | undefined,
    excludeBy: ReadonlyMap<string, ReadonlySet<string>>,
    eligibleBy: ReadonlyMap<string, ReadonlySet<string>>,
    lists: Dict,
  ) {
    this.#lists = lists;
    this.#exclude = exclude;
    this.#eligible = eligible;
    this.#excludeBy = excludeBy;
    this.#eligibleBy = eligibleBy;
  }

  /**
   * Reads the black/white lists of PUBLISH options.
   *
   * @param options PUBLISH.Options.
   * @returns The filter, `undefined` when the options restrict nobody, or
   * why the options are refused: an option whose value is not a list of
   * the right type, more than {@linkcode MAX_ATTRIBUTE_LISTS} lists on
   * session attributes (each is tested for every subscriber), or more than
   * {@linkcode MAX_LIST_ENTRIES} entries in all. An empty
   * `exclude_<key>` list excludes nobody and is not kept.
   *
   * @example
   * ```ts
   * import { PublishFilter } from "./publish_filter.ts";
   * import { equal, ok } from "node:assert/strict";
   *
   * const filter = PublishFilter.from({ eligible_authrole: ["admin"] });
   * ok(filter instanceof PublishFilter);
   * equal(PublishFilter.from({ acknowledge: true }), undefined);
   * equal(
   *   PublishFilter.from({ exclude_authid: "alice" }),
   *   'option "exclude_authid" must be a list of strings',
   * );
   * ```
   */
  static from(options: Dict): PublishFilter | undefined | string {
    // Most PUBLISHes restrict nobody: look before building anything.
    let restricts = false;
    for (const key in options) {
      if (key.startsWith("e") && (key.startsWith("exclude") || key.startsWith("eligible"))) {
        if (key !== "exclude_me") {
          restricts = true;
          break;
        }
      }
    }
    if (!restricts) return undefined;
    let exclude: Set<number> | undefined;
    let eligible: Set<number> | undefined;
    const excludeBy = new Map<string, Set<string>>();
    const eligibleBy = new Map<string, Set<string>>();
    const lists: Dict = {};
    let entries = 0;
    for (const key in options) {
      const value = options[key];
      const bySession = key === "exclude" || key === "eligible";
      const into = bySession
        ? undefined
        : key.startsWith("exclude_") && key !== "exclude_me"
        ? excludeBy
        : key.startsWith("eligible_")
        ? eligibleBy
        : undefined;
      if (!bySession && into === undefined) continue;
      if (Array.isArray(value) && (entries += value.length) > MAX_LIST_ENTRIES) {
        return `at most ${MAX_LIST_ENTRIES} entries in the exclude* and eligible* options together`;
      }
      if (bySession) {
        if (!isList(value, "number")) return `option "${key}" must be a list of numbers`;
        lists[key] = value;
        if (key === "exclude") exclude = new Set(value);
        else eligible = new Set(value);
        continue;
      }
      if (!isList(value, "string")) return `option "${key}" must be a list of strings`;
      lists[key] = value;
      if (into === excludeBy && value.length === 0) continue;
      into!.set(key.slice(key.indexOf("_") + 1), new Set(value));
      if (excludeBy.size + eligibleBy.size > MAX_ATTRIBUTE_LISTS) {
        return `at most ${MAX_ATTRIBUTE_LISTS} exclude_<key> and eligible_<key> options`;
      }
    }
    if (
      exclude === undefined && eligible === undefined && excludeBy.size === 0 &&
      eligibleBy.size === 0
    ) {
      return undefined;
    }
    return new PublishFilter(exclude, eligible, excludeBy, eligibleBy, lists);
  }

  /**
   * The PUBLISH options this filter was read from (its `exclude*` and
   * `eligible*` lists only): what another node of a cluster reads it
   * again from.
   */
  get lists(): Dict {
    return this.#lists;
  }

  /**
   * Whether the event history may keep a publication with this filter:
   * only when it filters on nothing but authid and authrole, since session
   * IDs and custom attributes mean nothing to a later requester (spec
   * "Event History", Security Aspects).
   */
  get storable(): boolean {
    if (this.#exclude !== undefined || this.#eligible !== undefined) return false;
    for (const key of this.#excludeBy.keys()) if (!STABLE_ATTRIBUTES.has(key)) return false;
    for (const key of this.#eligibleBy.keys()) if (!STABLE_ATTRIBUTES.has(key)) return false;
    return true;
  }

  /**
   * Whether a session may receive the publication: it is in every
   * `eligible*` list given and in no `exclude*` list.
   *
   * @param session The subscriber (or the session asking for history).
   * @returns True when the session passes every list.
   */
  allows(session: SessionInfo): boolean {
    if (this.#exclude?.has(session.id)) return false;
    if (this.#eligible !== undefined && !this.#eligible.has(session.id)) return false;
    for (const [key, values] of this.#excludeBy) {
      const value = attribute(session, key);
      if (value !== undefined && values.has(value)) return false;
    }
    for (const [key, values] of this.#eligibleBy) {
      const value = attribute(session, key);
      if (value === undefined || !values.has(value)) return false;
    }
    return true;
  }
}

function isList<T extends "number" | "string">(
  value: unknown,
  type: T,
): value is (T extends "number" ? number : string)[] {
  return Array.isArray(value) && value.every((item) => typeof item === type);
}

/** The session attribute an `exclude_<key>` / `eligible_<key>` list tests. */
function attribute(session: SessionInfo, key: string): string | undefined {
  if ((SESSION_ATTRIBUTES as readonly string[]).includes(key)) {
    return session[key as typeof SESSION_ATTRIBUTES[number]];
  }
  const value = session.hello?.[key];
  return typeof value === "string" ? value : undefined;
}
