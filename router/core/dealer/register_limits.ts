/**
 * The limits a REGISTER may not pass (the realm's `limits`): registrations
 * per session and in the realm, pattern registrations, and the components
 * of wildcard patterns. In a cluster, REGISTERs still claiming the shared
 * table count too.
 *
 * @module
 */

import type { MatchPolicy } from "../../../wamp/mod.ts";
import { limitMessage, type ResolvedLimits } from "../limits.ts";
import type { SessionInfo } from "../types.ts";
import type { Registrations } from "./registrations.ts";
import type { RemoteRpc } from "./remote.ts";

/** The limits a dealer enforces on REGISTER. */
export type RegisterLimits = Pick<
  ResolvedLimits,
  "registrationsPerSession" | "registrations" | "patternRegistrations" | "wildcardComponents"
>;

/** A REGISTER, as the limits see it. */
export interface RegisterRequest {
  /** The callee. */
  readonly session: SessionInfo;
  /** The procedure or pattern. */
  readonly procedure: string;
  /** Its match policy. */
  readonly match: MatchPolicy;
  /** Whether it would create a registration (not join one). */
  readonly fresh: boolean;
}

/**
 * Which limit a REGISTER would pass, as the refusal's message.
 *
 * @param registrations The dealer's registrations.
 * @param limits The realm's limits.
 * @param remote The dealer's cluster part, in a cluster.
 * @param request The REGISTER.
 * @returns The message for `cloverleaf.error.limit_exceeded`, or undefined.
 */
export function registerOverLimit(
  registrations: Registrations,
  limits: RegisterLimits,
  remote: RemoteRpc | undefined,
  request: RegisterRequest,
): string | undefined {
  const { session, procedure, match } = request;
  const claiming = remote?.claims.get(session.id) ?? 0;
  const held = registrations.countOf(session.id) + claiming;
  if (held >= limits.registrationsPerSession && session.transport !== "internal") {
    return limitMessage("register", "registrationsPerSession", limits.registrationsPerSession);
  }
  if (!request.fresh) return undefined;
  const exists = (p: string, m: MatchPolicy) => registrations.lookup(p, m) !== undefined;
  const room = limits.registrations - registrations.size;
  const pending = remote?.pendingOthers(procedure, match, exists, room) ?? 0;
  if (registrations.size + pending >= limits.registrations) {
    return limitMessage("register", "registrations", limits.registrations);
  }
  if (match !== "exact" && registrations.patterns >= limits.patternRegistrations) {
    return limitMessage("register", "patternRegistrations", limits.patternRegistrations);
  }
  const nodes = limits.wildcardComponents;
  if (match === "wildcard" && registrations.wildcardFull(procedure, nodes)) {
    return limitMessage("register", "wildcardComponents", nodes);
  }
  return undefined;
}
