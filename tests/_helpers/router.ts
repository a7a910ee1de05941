/** Test harness: a real router on a real port, torn down with `await using`. */

import {
  connect,
  connectLocal,
  type ConnectOptions,
  listen,
  type Listener,
  type ListenOptions,
  type LogLevel,
  Router,
  type RouterOptions,
  type Session,
} from "../../mod.ts";
import type { SerializerName } from "../../wamp/mod.ts";
import { testPki } from "./tls.ts";

/** A running router with a listener on port 0 (all protocols, one port). */
export interface TestRouter extends AsyncDisposable {
  router: Router;
  listener: Listener;
  /** The listener's WebSocket URL. */
  url: string;
  /** Log lines written by the router and the listener. */
  logs: string[];
  /** The CA to trust, when the listener has TLS. */
  ca?: string;
}

/** Options for {@linkcode startRouter}. */
export type TestRouterOptions = RouterOptions & {
  listener?: ListenOptions;
  /** Serve TLS with the test PKI. */
  tls?: boolean;
};

/**
 * Starts a router with realm1 (unless realms are given) and a listener
 * serving WebSocket, RawSocket and long-poll on one port (TCP, or a Unix
 * socket with `listener.path`).
 */
export async function startRouter(options: TestRouterOptions = {}): Promise<TestRouter> {
  const logs: string[] = [];
  const log = (level: LogLevel, message: string) => logs.push(`${level} ${message}`);
  const { listener: listenOptions, tls, ...routerOptions } = options;
  const router = new Router({ realms: [{ name: "realm1" }], logger: log, ...routerOptions });
  const pki = tls ? await testPki() : undefined;
  const listener = await listen(router, {
    port: 0,
    log,
    ...(pki === undefined
      ? {}
      : { tls: { cert: pki.cert, key: pki.key, ca: [pki.ca], clientCertificates: "request" } }),
    ...listenOptions,
  });
  return {
    router,
    listener,
    url: listener.urls.websocket ?? listener.url,
    logs,
    ...(pki === undefined ? {} : { ca: pki.ca }),
    async [Symbol.asyncDispose]() {
      await router.close();
      await listener.close();
    },
  };
}

/** The transports of the matrix, as a client reaches them. */
export const CARRIERS = [
  "ws",
  "ws-batched",
  "ws-deflate",
  "wss",
  "tcp",
  "tcps",
  "unix",
  "longpoll",
  "longpoll-batched",
] as const;

/** A transport of the matrix. */
export type Carrier = typeof CARRIERS[number];

/**
 * How a test connects a client: a serializer over WebSocket, a transport
 * and serializer (`tcp:msgpack`), or in-process.
 */
export type Via = SerializerName | "local" | `${Carrier}:${SerializerName}`;

/** Every serializer over WebSocket, and in-process: the feature matrix. */
export const VIAS: readonly Via[] = ["json", "msgpack", "cbor", "local"];

/** Every transport × serializer, and in-process: the transport matrix. */
export const TRANSPORT_VIAS: readonly Via[] = [
  ...CARRIERS.flatMap((c) =>
    (["json", "msgpack", "cbor"] as const).map((s) => `${c}:${s}` as const)
  ),
  "local",
];

/** What a via needs from the router it runs against. */
export function routerFor(via: Via): TestRouterOptions {
  const carrier = via.includes(":") ? via.split(":")[0] as Carrier : undefined;
  if (carrier === "wss" || carrier === "tcps") return { tls: true };
  if (carrier === "unix") return { listener: { path: `${Deno.makeTempDirSync()}/wamp.sock` } };
  if (carrier === "ws-deflate") {
    return { listener: { websocket: { compression: { enabled: true, threshold: 0 } } } };
  }
  return {};
}

/** The URL and options to reach a test router the given way. */
export function addressOf(
  t: TestRouter,
  via: Exclude<Via, "local">,
): [string, Omit<ConnectOptions, "realm">] {
  const [carrier, serializer] = via.includes(":")
    ? via.split(":") as [Carrier, SerializerName]
    : ["ws", via as SerializerName];
  const serializers = [serializer];
  const tls = t.ca === undefined ? {} : { tls: { caCerts: [t.ca] } };
  const urls = t.listener.urls;
  switch (carrier) {
    case "ws":
      return [urls.websocket!, { serializers }];
    case "ws-batched":
      return [urls.websocket!, { serializers, batched: true }];
    case "ws-deflate":
      return [urls.websocket!, { serializers, compression: true }];
    case "wss":
      return [urls.websocket!, { serializers, ...tls }];
    case "tcp":
    case "unix":
      return [urls.rawsocket!, { serializers }];
    case "tcps":
      return [urls.rawsocket!, { serializers, ...tls }];
    case "longpoll":
      return [urls.longpoll!, { serializers }];
    case "longpoll-batched":
      return [urls.longpoll!, { serializers, batched: true }];
    default:
      throw new Error(`unknown carrier ${carrier}`);
  }
}

/** Joins realm1 of a test router the given way. */
export function join(t: TestRouter, via: Via, realm = "realm1"): Promise<Session> {
  if (via === "local") return connectLocal(t.router, realm);
  const [url, options] = addressOf(t, via);
  return connect(url, { realm, ...options });
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
