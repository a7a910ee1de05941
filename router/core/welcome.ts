/**
 * The WELCOME a router sends: its details, trimmed to fit a peer that
 * accepts only small messages.
 *
 * @module
 */

import { type Dict, MessageType } from "../../wamp/mod.ts";

/** Which router role serves which client roles. */
const SERVES: Readonly<Record<string, readonly string[]>> = {
  broker: ["publisher", "subscriber"],
  dealer: ["caller", "callee"],
};

/** Bytes of a message as JSON: an upper bound for MessagePack and CBOR too. */
function jsonSize(msg: unknown[]): number {
  return new TextEncoder().encode(JSON.stringify(msg)).length;
}

/**
 * The WELCOME details to send a peer that accepts messages of at most
 * `limit` bytes (a RawSocket client may announce as little as 512): the
 * full details when they fit; else the router's roles with only the
 * features the client announced; else the roles as empty dicts and no
 * `agent`. Sizes are measured as JSON, which is never smaller than the
 * MessagePack or CBOR encoding of these details.
 *
 * @param session The session ID.
 * @param details The full WELCOME details (`roles` the router's roles).
 * @param clientRoles The roles from HELLO (with their `features`).
 * @param limit The peer's limit, if it announced one.
 * @returns The details to send.
 *
 * @example
 * ```ts
 * import { welcomeDetails } from "./welcome.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const features = Object.fromEntries(
 *   Array.from({ length: 40 }, (_, i) => [`feature_number_${i}`, true]),
 * );
 * const details = { roles: { broker: { features } }, agent: "Cloverleaf", authid: "joe" };
 * const hello = { subscriber: { features: { feature_number_3: true } } };
 * deepEqual(welcomeDetails(1, details, hello, 1 << 24), details);
 * deepEqual(welcomeDetails(1, details, hello, 512), {
 *   roles: { broker: { features: { feature_number_3: true } } },
 *   agent: "Cloverleaf",
 *   authid: "joe",
 * });
 * ```
 */
export function welcomeDetails(
  session: number,
  details: Dict,
  clientRoles: Dict,
  limit: number | undefined,
): Dict {
  // The full details are about 1 KiB: no need to measure for a roomy limit.
  if (limit === undefined || limit >= 65_536) return details;
  const fits = (d: Dict) => jsonSize([MessageType.WELCOME, session, d]) <= limit;
  if (fits(details)) return details;
  const routerRoles = (details.roles ?? {}) as Dict;
  const announced = (role: string): Dict => {
    const out: Dict = {};
    for (const client of SERVES[role] ?? []) {
      const features = (clientRoles[client] as Dict | undefined)?.features;
      if (typeof features !== "object" || features === null) continue;
      for (const [key, value] of Object.entries(features)) if (value === true) out[key] = true;
    }
    return out;
  };
  const trimmed: Dict = {};
  for (const [role, dict] of Object.entries(routerRoles)) {
    const offered = ((dict as Dict | undefined)?.features ?? {}) as Dict;
    const wanted = announced(role);
    const features: Dict = {};
    for (const key of Object.keys(wanted)) if (offered[key] === true) features[key] = true;
    trimmed[role] = Object.keys(features).length === 0 ? {} : { features };
  }
  const narrower = { ...details, roles: trimmed };
  if (fits(narrower)) return narrower;
  const bare: Dict = {};
  for (const role of Object.keys(routerRoles)) bare[role] = {};
  const { agent: _agent, ...rest } = details;
  return { ...rest, roles: bare };
}
