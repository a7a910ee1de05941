/**
 * The HTTP bridge for routers embedded in a program: publish, call and
 * subscribe (server-sent events) over plain HTTP, webhooks in, and REST
 * endpoints served as procedures. The service (`cli.ts`) builds the same
 * from its config file's `bridges` and `httpServices`; see
 * docs/http-bridge.md for every key, the signed-request recipe and the
 * status codes.
 *
 * @example
 * ```ts
 * import { listen, Router } from "@cloverleaf/wamp";
 * import { bridgeOptions, httpBridge } from "@cloverleaf/wamp/bridge";
 * import { equal } from "node:assert/strict";
 *
 * const router = new Router({ realms: [{ name: "realm1" }], logger: () => {} });
 * const bridge = httpBridge(router, [
 *   bridgeOptions({
 *     path: "/publish",
 *     type: "publisher",
 *     realm: "realm1",
 *     role: "anonymous",
 *     auth: { token: "a-long-random-token" },
 *   }),
 * ]);
 * const listener = await listen(router, { hostname: "127.0.0.1", port: 0, mounts: [bridge] });
 * const { port } = listener.addr as { port: number };
 * const response = await fetch(`http://127.0.0.1:${port}/publish`, {
 *   method: "POST",
 *   headers: { authorization: "Bearer a-long-random-token" },
 *   body: JSON.stringify({ topic: "com.example.news", args: ["hello"] }),
 * });
 * equal(response.status, 202); // the publication's ID is in the body
 * await response.body?.cancel();
 * await bridge.close();
 * await router.close();
 * await listener.close();
 * ```
 *
 * @module
 */

import {
  type BridgeConfig,
  type BridgeOptions,
  type HttpServiceConfig,
  type HttpServiceOptions,
  resolveBridgeOptions,
  resolveHttpService,
} from "./config.ts";

export { type HttpBridge, httpBridge } from "./mount.ts";
export type {
  BridgeAuth,
  BridgeConfig,
  BridgeCors,
  BridgeOptions,
  BridgeType,
  HttpServiceConfig,
  HttpServiceOptions,
} from "./config.ts";
export { provideHttpServices } from "./services.ts";
export { type SignOptions, signRequest } from "./auth.ts";
export type { SharedSignatures } from "./signing_key.ts";
export { BridgeError } from "./errors.ts";

/**
 * Checks one bridge path as the config file's `bridges` would, with its
 * defaults filled in.
 *
 * @param config The path, as the config file gives it.
 * @param path Where it came from, for errors.
 * @returns The resolved path, for {@linkcode httpBridge}.
 * @throws {Error} A one-line error naming the bad key.
 */
export function bridgeOptions(config: BridgeConfig, path = "bridge"): BridgeOptions {
  return resolveBridgeOptions(config, path);
}

/**
 * Checks one REST service as the config file's `httpServices` would, with
 * its defaults filled in.
 *
 * @param config The service, as the config file gives it.
 * @param path Where it came from, for errors.
 * @returns The resolved service, for {@linkcode provideHttpServices}.
 * @throws {Error} A one-line error naming the bad key.
 */
export function httpServiceOptions(
  config: HttpServiceConfig,
  path = "httpService",
): HttpServiceOptions {
  return resolveHttpService(config, path);
}
