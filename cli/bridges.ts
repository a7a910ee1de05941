/**
 * The service's HTTP bridge paths and REST services, from the config file
 * and the `--http-bridge` quick start.
 *
 * @module
 */

import { type BridgeOptions, resolveBridgeOptions } from "../bridge/config.ts";
import { httpServiceFaults, provideHttpServices } from "../bridge/services.ts";
import { type ConfigErrors, weakSecret } from "../config/mod.ts";
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
  const bridges: { at: string; bridge: BridgeOptions }[] = [];
  for (const { at, bridge } of config.bridges) {
    const realm = realmOf(router, bridge.realm);
    // A role the realm does not declare is denied everything, as for a principal's.
    const problem = realm && undeclaredRole(bridge.role, realm.options.roles.map((r) => r.name));
    if (realm === undefined) {
      errors.add(
        `${at}.realm`,
        `Invalid config "${at}.realm": no realm ${JSON.stringify(bridge.realm)}`,
      );
    } else if (problem !== undefined) {
      errors.add(`${at}.role`, `Invalid config "${at}.role": ${problem}`);
    } else if (strongAuth(at, bridge, errors)) bridges.push({ at, bridge });
  }
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
      if (resolved !== undefined) bridges.push({ at: "--http-bridge", bridge: resolved });
    }
  }
  // The second of two bridges on one path is the one named.
  const paths = new Set<string>();
  for (const { at, bridge } of bridges) {
    if (paths.has(bridge.path)) {
      const key = at === "--http-bridge" ? at : `${at}.path`;
      const where = at === "--http-bridge" ? "Invalid --http-bridge" : `Invalid config "${key}"`;
      errors.add(key, `${where}: path ${bridge.path} is mounted twice`);
    }
    paths.add(bridge.path);
  }
  const faults = httpServiceFaults(router, config.httpServices, config.httpServiceKeys);
  for (const { key, message } of faults) errors.add(key, message);
  if (faults.length === 0) provideHttpServices(router, config.httpServices);
  return bridges.map(({ bridge }) => bridge);
}

/**
 * Whether a bridge's token or signing secret keeps the one rule
 * (`config/secret.ts`); else records the error on its key.
 */
function strongAuth(at: string, bridge: BridgeOptions, errors: ConfigErrors): boolean {
  const auth = bridge.auth;
  const [key, value] = "token" in auth
    ? ["token", auth.token]
    : "secret" in auth
    ? ["secret", auth.secret]
    : [];
  const problem = value === undefined ? undefined : weakSecret(value);
  if (problem === undefined) return true;
  errors.add(`${at}.auth.${key}`, `Invalid config "${at}.auth.${key}": ${problem}`);
  return false;
}
