/**
 * The service's HTTP bridge paths and REST services, from the config file
 * and the `--http-bridge` quick start.
 *
 * @module
 */

import { type BridgeOptions, resolveBridgeOptions } from "../bridge/config.ts";
import { provideHttpServices } from "../bridge/services.ts";
import type { ConfigErrors } from "../config/mod.ts";
import { undeclaredRole } from "../router/core/auth/config.ts";
import { realmOf, type Router } from "../router/router.ts";
import type { ServiceConfig } from "./service_config.ts";

/**
 * The HTTP bridge paths (the config file's, then the `--http-bridge`
 * quick start's, for the first realm and its anonymous role), each
 * checked against the router's realms; the REST services are provided in
 * their realms.
 */
export function bridgesOf(
  config: ServiceConfig,
  router: Router,
  errors: ConfigErrors,
): BridgeOptions[] {
  const bridges: BridgeOptions[] = [];
  config.bridges.forEach((bridge, i) => {
    const realm = realmOf(router, bridge.realm);
    // A role the realm does not declare is denied everything, as for a principal's.
    const problem = realm && undeclaredRole(bridge.role, realm.options.roles.map((r) => r.name));
    if (realm === undefined) {
      errors.add(
        `bridges[${i}].realm`,
        `Invalid config "bridges[${i}].realm": no realm ${JSON.stringify(bridge.realm)}`,
      );
    } else if (problem !== undefined) {
      errors.add(`bridges[${i}].role`, `Invalid config "bridges[${i}].role": ${problem}`);
    } else bridges.push(bridge);
  });
  const quick = config.quickBridge;
  const first = router.realmNames[0];
  if (quick !== undefined && first !== undefined) {
    const role = realmOf(router, first)!.options.anonymousRole;
    for (const type of ["publisher", "caller", "subscriber"] as const) {
      const path = `${quick.path}/${
        type === "subscriber" ? "subscribe" : type === "caller" ? "call" : "publish"
      }`;
      const input = { path, type, realm: first, role, auth: { token: quick.token } };
      const resolved = errors.collect(
        () => resolveBridgeOptions(input, "--http-bridge"),
        "--http-bridge",
      );
      if (resolved !== undefined) bridges.push(resolved);
    }
  }
  const paths = new Set<string>();
  for (const bridge of bridges) {
    if (paths.has(bridge.path)) {
      errors.add("bridges", `Invalid config "bridges": path ${bridge.path} is mounted twice`);
    }
    paths.add(bridge.path);
  }
  errors.collect(() => provideHttpServices(router, config.httpServices), "httpServices");
  return bridges;
}
