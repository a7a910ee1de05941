/** Test harness: a router with realm1 (roles app and limited), the HTTP bridge on a real port. */

import net from "node:net";
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

/** A connection to the bridge from a given local address, and what it received. */
export interface RawFrom {
  readonly socket: net.Socket;
  /** Resolves with what arrived once `whole` says it is whole; rejects if it closes first. */
  until(whole: (text: string) => boolean): Promise<string>;
  /** Resolves with everything that arrived, once the connection closed. */
  readonly ended: Promise<string>;
}

/**
 * Connects to `127.0.0.1:port` from `localAddress` (`127.0.0.2` is
 * another source address), over `node:net`, which can bind one.
 */
export async function connectFrom(port: number, localAddress: string): Promise<RawFrom> {
  const socket = net.connect({ host: "127.0.0.1", port, localAddress });
  await new Promise((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  let text = "";
  let waiters: { whole: (text: string) => boolean; resolve(text: string): void }[] = [];
  const ended = new Promise<string>((resolve) =>
    socket.on("close", () => {
      for (const w of waiters) w.resolve(text); // the check below refuses it
      waiters = [];
      resolve(text);
    })
  );
  socket.on("data", (chunk: Uint8Array) => {
    text += new TextDecoder().decode(chunk);
    const done = waiters.filter((w) => w.whole(text));
    waiters = waiters.filter((w) => !done.includes(w));
    for (const w of done) w.resolve(text);
  });
  socket.on("error", () => {}); // then closed
  return {
    socket,
    ended,
    async until(whole) {
      const got = whole(text) || socket.closed
        ? text
        : await new Promise<string>((resolve) => waiters.push({ whole, resolve }));
      if (!whole(got)) throw new Error(`closed before a whole answer: ${JSON.stringify(got)}`);
      return got;
    },
  };
}

/** A POST whose body is sent in two parts: the head and the body's first byte, then the rest. */
export interface HeldPost {
  /** Sends the rest of the body; resolves with the whole answer (once the connection closed). */
  finish(): Promise<string>;
  close(): void;
}

/**
 * Opens a connection from `localAddress` and sends a POST's head for
 * `body` with its first byte only (`connection: close`).
 */
export async function holdPost(
  port: number,
  localAddress: string,
  target: string,
  body: string,
): Promise<HeldPost> {
  const { socket, ended } = await connectFrom(port, localAddress);
  socket.write(
    `POST ${target} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n` +
      `content-length: ${body.length}\r\nconnection: close\r\n\r\n${body.slice(0, 1)}`,
  );
  return {
    finish() {
      socket.write(body.slice(1));
      return ended;
    },
    close: () => void socket.destroy(),
  };
}

/** A POST sent whole from `localAddress`; resolves with the answer. */
export async function postWhole(
  port: number,
  localAddress: string,
  target: string,
  body: string,
): Promise<string> {
  const held = await holdPost(port, localAddress, target, body);
  return await held.finish();
}
