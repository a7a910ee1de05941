/** A joined session's identity for broker/dealer unit tests. */

import type { SessionInfo } from "../../router/mod.ts";

/** Session `id` (authid `user<id>`, anonymous) announcing the given roles. */
export function sessionInfo(id: number, roles: readonly string[]): SessionInfo {
  return {
    id,
    realm: "realm1",
    authid: `user${id}`,
    authrole: "anonymous",
    authmethod: "anonymous",
    authprovider: "static",
    roles: Object.fromEntries(roles.map((role) => [role, {}])),
    transport: "local",
  };
}
