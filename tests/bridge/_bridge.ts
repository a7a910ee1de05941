/** Test harness: a router with realm1 (roles app and limited), the HTTP bridge on a real port. */

import {
  connect,
  listen,
  type Listener,
  type ListenOptions,
  Router,
  type Session,
} from "../../mod.ts";
import { type BridgeOptions, resolveBridgeOptions } from "../../bridge/config.ts";
import { type HttpBridge, httpBridge } from "../../bridge/mount.ts";
import type { RealmOptions } from "../../router/mod.ts";

/** realm1: role `app` may do anything under com.example.; role `limited` may only call com.example.allowed. */
export const REALM: RealmOptions = {
  name: "realm1",
  eventHistory: [{ topic: "com.example.history", limit: 100 }],
  roles: [
    {
      name: "app",
      permissions: [
        {
          uri: "com.example.",
          match: "prefix",
          allow: { call: true, register: true, publish: true, subscribe: true },
        },
        { uri: "wamp.subscription.get_events", allow: { call: true } },
      ],
    },
    {
      name: "limited",
      permissions: [{ uri: "com.example.allowed", allow: { call: true } }],
    },
    {
      name: "anonymous",
      permissions: [{
        uri: "com.",
        match: "prefix",
        allow: { call: true, register: true, publish: true, subscribe: true },
      }],
    },
  ],
};

/** A router with the bridge paths mounted, and a WAMP client of role anonymous. */
export interface BridgeRouter extends AsyncDisposable {
  router: Router;
  listener: Listener;
  bridge: HttpBridge;
  /** `http://127.0.0.1:<port>` */
  base: string;
  /** A WebSocket client in realm1. */
  client: Session;
}

/** Starts it; `bridges` are config entries (resolved here), `options` more listener settings. */
export async function startBridge(
  bridges: unknown[],
  options: ListenOptions = {},
): Promise<BridgeRouter> {
  const router = new Router({ realms: [REALM], logger: () => {} });
  const resolved: BridgeOptions[] = bridges.map((b, i) => resolveBridgeOptions(b, `bridges[${i}]`));
  const bridge = httpBridge(router, resolved);
  const listener = await listen(router, { ...options, port: 0, mounts: [bridge] });
  const addr = listener.addr as { port: number };
  const client = await connect(listener.urls.websocket!, { realm: "realm1" });
  return {
    router,
    listener,
    bridge,
    base: `http://127.0.0.1:${addr.port}`,
    client,
    async [Symbol.asyncDispose]() {
      await client.close();
      await bridge.close();
      await router.close();
      await listener.close();
    },
  };
}

/** POSTs JSON (or raw text), returning status and parsed JSON body. */
export async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text === "" ? {} : JSON.parse(text),
    headers: response.headers,
  };
}

/** Sends `text` on a new connection and reads until `responses` whole response heads came (or it closed). */
export async function exchange(port: number, text: string, responses = 1): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const decoder = new TextDecoder();
  let got = "";
  try {
    await conn.write(new TextEncoder().encode(text));
    const buffer = new Uint8Array(64 * 1024);
    const deadline = AbortSignal.timeout(3000);
    while (got.split("\r\n\r\n").length <= responses) {
      const read = conn.read(buffer);
      const n = await Promise.race([
        read,
        new Promise<"timeout">((resolve) =>
          deadline.addEventListener("abort", () => resolve("timeout"))
        ),
      ]);
      if (n === "timeout") throw new Error(`no whole answer in 3 s; got ${JSON.stringify(got)}`);
      if (n === null) break;
      got += decoder.decode(buffer.subarray(0, n));
    }
  } finally {
    conn.close();
  }
  return got;
}

/** The port of `http://127.0.0.1:<port>`. */
export function portOf(base: string): number {
  return Number(new URL(base).port);
}
