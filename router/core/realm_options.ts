/**
 * Router and realm options: the same keys in `new Router({...})` and in the
 * CLI's JSON config file, with defaults and validation in one place.
 *
 * @module
 */

import { ConfigObject, type ConfigObjectOptions } from "../../config/mod.ts";
import { isValidUri, type MatchPolicy } from "../../wamp/mod.ts";
import {
  type AuthOptions,
  checkPrincipalRoles,
  resolveAuthOptions,
  type ResolvedAuthOptions,
} from "./auth/config.ts";
import { resolveRole, type RoleOptions } from "./authorizer.ts";
import { type EventHistoryRule, HISTORY_EVENT_OVERHEAD } from "./broker/event_history.ts";
import { DEFAULT_LIMITS, type LimitOptions, type ResolvedLimits } from "./limits.ts";

/** When the router reveals a caller or publisher to the other side. */
export type Disclosure = "request" | "always" | "never";

/**
 * A trust-level rule (call_trustlevels, publication_trustlevels): sessions
 * whose authrole and transport match get `trustlevel` in INVOCATION and
 * EVENT details. The first matching rule wins.
 */
export interface TrustLevelRule {
  /** The authrole to match; any when absent. */
  authrole?: string;
  /** The transport kind to match (`websocket`, `local`, …); any when absent. */
  transport?: string;
  /** The trust level, 0 (lowest) or more. */
  trustlevel: number;
}

/** Which optional meta procedures a realm serves (both off by default). */
export interface MetaOptions {
  /**
   * Serve `wamp.session.kill`, `kill_by_authid`, `kill_by_authrole` and
   * `kill_all`. Anyone who may call them can close other sessions.
   * @default {false}
   */
  kill?: boolean;
  /**
   * Serve `wamp.session.modify_details` (nexus's extension).
   * @default {false}
   */
  modifyDetails?: boolean;
}

/** Options for one realm. */
export interface RealmOptions {
  /** The realm's name (a URI). */
  name: string;
  /**
   * Whether sessions may join without authenticating.
   * @default {true without `auth`, false with it}
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
  /**
   * Caller identification: `request` discloses the caller in INVOCATION
   * details when the caller sets `disclose_me` or the callee registered
   * with `disclose_caller`; `always` discloses every caller; `never`
   * refuses `disclose_me` with `wamp.error.option_disallowed.disclose_me`.
   * @default {"request"}
   */
  discloseCaller?: Disclosure;
  /**
   * Publisher identification, as `discloseCaller` is for callers.
   * @default {"request"}
   */
  disclosePublisher?: Disclosure;
  /**
   * Trust levels per authrole and transport, first match wins; sessions no
   * rule matches get no `trustlevel` detail.
   * @default {[]}
   */
  trustLevels?: readonly TrustLevelRule[];
  /**
   * Event history (`event_history`): topics or patterns whose last `limit`
   * events the broker keeps for `wamp.subscription.get_events`. Each rule
   * creates its subscription up front, so history starts before anyone
   * subscribes and outlives the last subscriber.
   * @default {[]}
   */
  eventHistory?: readonly EventHistoryRule[];
  /**
   * Optional meta procedures; the rest of the meta API is always served.
   * @default {{ kill: false, modifyDetails: false }}
   */
  meta?: MetaOptions;
  /**
   * Authentication methods besides anonymous: ticket, WAMP-CRA,
   * cryptosign and WAMP-SCRAM, each with static principals or a dynamic
   * authenticator.
   * @default {{}}
   */
  auth?: AuthOptions;
  /**
   * Authorization per authrole: static permissions or a dynamic
   * authorizer. Without roles everything is allowed; with roles, anything
   * not allowed is denied (`wamp.error.not_authorized`).
   * @default {[]}
   */
  roles?: readonly RoleOptions[];
  /**
   * Sessions the realm holds at once; 0 for no limit. A HELLO beyond it is
   * answered with ABORT `cloverleaf.error.realm_full`.
   * @default {0}
   */
  maxSessions?: number;
  /**
   * Per-session and per-realm resource limits (pending calls,
   * subscriptions, registrations, retained event and testament bytes),
   * each a positive integer; see {@linkcode LimitOptions} for every key and
   * its default. A request over a limit is refused with ERROR
   * `cloverleaf.error.limit_exceeded`, whose first argument names the limit.
   * @default {DEFAULT_LIMITS}
   */
  limits?: LimitOptions;
}

/** {@linkcode MetaOptions} with the defaults filled in. */
export interface ResolvedMetaOptions {
  /** Whether `wamp.session.kill` and its siblings are served. */
  readonly kill: boolean;
  /** Whether `wamp.session.modify_details` is served. */
  readonly modifyDetails: boolean;
}

/** An event history rule with the defaults filled in. */
export interface ResolvedEventHistoryRule extends EventHistoryRule {
  /** The topic, or the pattern under `match`. */
  readonly topic: string;
  /** How `topic` matches. */
  readonly match: MatchPolicy;
  /** How many events to keep (1 or more). */
  readonly limit: number;
}

/**
 * Realm options with every default filled in, as
 * {@linkcode resolveRealmOptions} returns them: the same keys as
 * {@linkcode RealmOptions}, none of them optional.
 */
export interface ResolvedRealmOptions {
  /** The realm's name (a URI). */
  readonly name: string;
  /** Whether sessions may join without authenticating. */
  readonly anonymous: boolean;
  /** The authrole anonymous sessions get. */
  readonly anonymousRole: string;
  /** Whether topic and procedure URIs must follow the strict rule. */
  readonly strictUris: boolean;
  /** Whether request IDs must follow the spec's sequence. */
  readonly strictRequestIds: boolean;
  /** Caller identification. */
  readonly discloseCaller: Disclosure;
  /** Publisher identification. */
  readonly disclosePublisher: Disclosure;
  /** Trust levels per authrole and transport, first match wins. */
  readonly trustLevels: readonly TrustLevelRule[];
  /** Event history rules. */
  readonly eventHistory: readonly ResolvedEventHistoryRule[];
  /** Optional meta procedures. */
  readonly meta: ResolvedMetaOptions;
  /** Authentication methods besides anonymous (SCRAM passwords replaced by stored keys). */
  readonly auth: ResolvedAuthOptions;
  /** Authorization per authrole. */
  readonly roles: readonly RoleOptions[];
  /** Sessions the realm holds at once; 0 for no limit. */
  readonly maxSessions: number;
  /** Every resource limit. */
  readonly limits: ResolvedLimits;
}

const DISCLOSURES: readonly Disclosure[] = ["request", "always", "never"];

/**
 * Fills in defaults for a realm and validates every key.
 *
 * @param input Realm options ({@linkcode RealmOptions}, from code or from JSON).
 * @param path Where the options came from, for error messages.
 * @param options A `ConfigErrors` context to collect errors in, instead of
 * throwing at the first (errors that end the realm still throw).
 * @returns The resolved options.
 * @throws {ConfigError} Naming the first invalid or unknown key.
 *
 * @example
 * ```ts
 * import { resolveRealmOptions } from "./realm_options.ts";
 * import { equal, throws } from "node:assert/strict";
 *
 * equal(resolveRealmOptions({ name: "realm1" }).anonymous, true);
 * throws(() => resolveRealmOptions({ name: "realm1", strict: true }), /unknown key/);
 * ```
 */
export function resolveRealmOptions(
  input: unknown,
  path = "realm",
  options: ConfigObjectOptions = {},
): ResolvedRealmOptions {
  const c = new ConfigObject(input, path, options);
  const name = c.string("name");
  if (!isValidUri(name)) throw c.error("name", `"${name}" is not a valid URI`);
  const strictUris = c.boolean("strictUris", false);
  const resolved: ResolvedRealmOptions = {
    name,
    anonymous: c.boolean("anonymous", !c.has("auth")),
    anonymousRole: c.string("anonymousRole", "anonymous"),
    strictUris,
    strictRequestIds: c.boolean("strictRequestIds", true),
    discloseCaller: c.oneOf("discloseCaller", DISCLOSURES, "request"),
    disclosePublisher: c.oneOf("disclosePublisher", DISCLOSURES, "request"),
    trustLevels: c.array("trustLevels").map((rule, i) =>
      trustLevelRule(c.child(rule, `trustLevels[${i}]`))
    ),
    eventHistory: c.array("eventHistory").map((rule, i) =>
      eventHistoryRule(c.child(rule, `eventHistory[${i}]`), strictUris)
    ),
    meta: metaOptions(c.object("meta")),
    // Each part alone: an error in one hides nothing in the others.
    auth: c.part("auth", () => authOptions(c.object("auth"))) ?? {},
    roles: c.array("roles").flatMap((role, i) =>
      c.part(`roles[${i}]`, () => resolveRole(c.child(role, `roles[${i}]`))) ?? []
    ),
    maxSessions: c.integer("maxSessions", 0, 0),
    limits: limitOptions(c.object("limits")),
  };
  // Names as written: a role with an error of its own still counts here.
  const roleNames = c.array("roles").map((role) => (role as { name?: unknown } | null)?.name);
  checkPrincipalRoles(
    c,
    resolved.auth,
    roleNames.filter((name): name is string => typeof name === "string"),
  );
  c.done();
  return resolved;
}

/**
 * What to warn of at startup: the event history rules whose `limit` their
 * subscription cannot reach within the realm's `historyBytes`, each kept
 * event counting `HISTORY_EVENT_OVERHEAD` (256) bytes besides its topic and
 * payload (at most 4,096 events with the default 1 MiB); such a rule keeps
 * fewer than it says.
 *
 * @param resolved The realm's resolved options.
 * @param path Where they came from (`realms[0]`), to name each rule.
 * @returns One line per such rule.
 *
 * @example
 * ```ts
 * import { historyWarnings, resolveRealmOptions } from "./realm_options.ts";
 * import { equal } from "node:assert/strict";
 *
 * const rules = [{ topic: "com.example.log", limit: 10_000 }, { topic: "com.example.few" }];
 * const realm = resolveRealmOptions({ name: "realm1", eventHistory: rules });
 * equal(historyWarnings(realm, "realm").length, 1);
 * ```
 */
export function historyWarnings(resolved: ResolvedRealmOptions, path: string): string[] {
  const bytes = resolved.limits.historyBytes;
  const most = Math.floor(bytes / HISTORY_EVENT_OVERHEAD);
  return resolved.eventHistory.flatMap((rule, i) =>
    rule.limit <= most ? [] : [
      `Realm "${resolved.name}": ${path}.eventHistory[${i}] (${rule.topic}) keeps at most ` +
      `${most} events, not its limit of ${rule.limit}: each counts ${HISTORY_EVENT_OVERHEAD} ` +
      `bytes besides its topic and payload against historyBytes (${bytes}); raise historyBytes`,
    ]
  );
}

const MATCH_POLICIES: readonly MatchPolicy[] = ["exact", "prefix", "wildcard"];

function eventHistoryRule(c: ConfigObject, strict: boolean): ResolvedEventHistoryRule {
  const topic = c.string("topic");
  const match = c.oneOf("match", MATCH_POLICIES, "exact");
  if (!isValidUri(topic, { strict, match })) {
    throw c.error("topic", `"${topic}" is not a valid ${match} topic`);
  }
  const rule = { topic, match, limit: c.integer("limit", 100, 1) };
  c.done();
  return rule;
}

function authOptions(c: ConfigObject | undefined): ResolvedAuthOptions {
  return c === undefined ? {} : resolveAuthOptions(c);
}

function limitOptions(c: ConfigObject | undefined): ResolvedLimits {
  const limit = (key: keyof LimitOptions): number =>
    c?.integer(key, DEFAULT_LIMITS[key], 1) ?? DEFAULT_LIMITS[key];
  const limits: ResolvedLimits = {
    callsPerSession: limit("callsPerSession"),
    subscriptionsPerSession: limit("subscriptionsPerSession"),
    subscriptions: limit("subscriptions"),
    patternSubscriptions: limit("patternSubscriptions"),
    wildcardComponents: limit("wildcardComponents"),
    registrationsPerSession: limit("registrationsPerSession"),
    registrations: limit("registrations"),
    patternRegistrations: limit("patternRegistrations"),
    retainedEventBytes: limit("retainedEventBytes"),
    retainedBytes: limit("retainedBytes"),
    testamentBytesPerSession: limit("testamentBytesPerSession"),
    testamentBytes: limit("testamentBytes"),
    historyBytes: limit("historyBytes"),
    descriptionBytesPerSession: limit("descriptionBytesPerSession"),
    descriptionBytes: limit("descriptionBytes"),
  };
  c?.done();
  return limits;
}

function metaOptions(c: ConfigObject | undefined): ResolvedMetaOptions {
  const options = {
    kill: c?.boolean("kill", false) ?? false,
    modifyDetails: c?.boolean("modifyDetails", false) ?? false,
  };
  c?.done();
  return options;
}

function trustLevelRule(c: ConfigObject): TrustLevelRule {
  const rule: TrustLevelRule = { trustlevel: c.integer("trustlevel", 0) };
  if (c.has("authrole")) rule.authrole = c.string("authrole");
  if (c.has("transport")) rule.transport = c.string("transport");
  c.done();
  return rule;
}

/**
 * The trust level a session gets under a realm's rules.
 *
 * @param rules The realm's `trustLevels`.
 * @param authrole The session's authrole.
 * @param transport The session's transport kind.
 * @returns The first matching rule's level, or undefined.
 *
 * @example
 * ```ts
 * import { trustLevelFor } from "./realm_options.ts";
 * import { equal } from "node:assert/strict";
 *
 * const rules = [{ authrole: "backend", transport: "local", trustlevel: 3 }, { trustlevel: 0 }];
 * equal(trustLevelFor(rules, "backend", "local"), 3);
 * equal(trustLevelFor(rules, "backend", "websocket"), 0);
 * ```
 */
export function trustLevelFor(
  rules: readonly TrustLevelRule[],
  authrole: string,
  transport: string,
): number | undefined {
  for (const rule of rules) {
    if (rule.authrole !== undefined && rule.authrole !== authrole) continue;
    if (rule.transport !== undefined && rule.transport !== transport) continue;
    return rule.trustlevel;
  }
  return undefined;
}
