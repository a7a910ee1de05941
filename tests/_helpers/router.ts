/** Test harness: a real router on a real port, torn down with `await using`. */

import {
  connect,
  connectLocal,
  type LogLevel,
  Router,
  type RouterOptions,
  serveWebSocket,
  type ServeWebSocketOptions,
  type Session,
  type WebSocketListener,
} from "../../mod.ts";
import type { SerializerName } from "../../wamp/mod.ts";

/** A running router with a WebSocket listener on port 0. */
export interface TestRouter extends AsyncDisposable {
  router: Router;
  listener: WebSocketListener;
  url: string;
  /** Log lines written by the router. */
  logs: string[];
}

/** Starts a router with realm1 (unless realms are given) and a ws listener. */
export function startRouter(
  options: RouterOptions & { listener?: ServeWebSocketOptions } = {},
): TestRouter {
  const logs: string[] = [];
  const router = new Router({
    realms: [{ name: "realm1" }],
    logger: (level: LogLevel, message: string) => logs.push(`${level} ${message}`),
    ...options,
  });
  const listener = serveWebSocket(router, { port: 0, ...options.listener });
  return {
    router,
    listener,
    url: listener.url,
    logs,
    async [Symbol.asyncDispose]() {
      await router.close();
      await listener.close();
    },
  };
}

/** How a test connects a client: over ws with a serializer, or in-process. */
export type Via = SerializerName | "local";

/** Every way to connect, for matrix tests. */
export const VIAS: readonly Via[] = ["json", "msgpack", "cbor", "local"];

/** Joins realm1 of a test router the given way. */
export function join(t: TestRouter, via: Via, realm = "realm1"): Promise<Session> {
  return via === "local"
    ? connectLocal(t.router, realm)
    : connect(t.url, { realm, serializers: [via] });
}

/** Rejects after `ms` so no test can hang. */
export function within<T>(promise: Promise<T>, ms = 5000, what = "operation"): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Resolves when `check()` is true, polling every 5 ms, within `ms`. */
export async function until(check: () => boolean, ms = 5000, what = "condition"): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
