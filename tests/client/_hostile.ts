/**
 * A small hostile WAMP router for the client's tests: a Deno.serve
 * WebSocket server on 127.0.0.1 speaking `wamp.2.json` that answers each
 * message as the test's `onMessage` says (and records what it got).
 */

import { ok } from "node:assert/strict";
import process from "node:process";

/** Sends one WAMP message (or a raw text frame) to the client. */
export type Send = (msg: unknown[] | string) => void;

/** A running hostile router. */
export interface Hostile extends AsyncDisposable {
  /** Its `ws://` URL. */
  url: string;
  /** Every message the client sent, decoded. */
  received: unknown[][];
  /** Stops it. */
  shutdown(): Promise<void>;
}

/**
 * Starts a hostile router.
 *
 * @param onMessage Answers a message from the client.
 * @returns The router.
 */
export function hostile(
  // deno-lint-ignore no-explicit-any
  onMessage: (msg: any[], send: Send, socket: WebSocket) => void,
): Hostile {
  const received: unknown[][] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request, { protocol: "wamp.2.json" });
    const send: Send = (m) => {
      try {
        socket.send(typeof m === "string" ? m : JSON.stringify(m));
      } catch { /* closed */ }
    };
    socket.onmessage = (event) => {
      const msg = JSON.parse(String(event.data));
      received.push(msg);
      if (msg[0] === 6) send([6, {}, "wamp.close.goodbye_and_out"]); // GOODBYE
      onMessage(msg, send, socket);
    };
    socket.onerror = () => {};
    return response;
  });
  const shutdown = (): Promise<void> => server.shutdown();
  return {
    url: `ws://127.0.0.1:${server.addr.port}`,
    received,
    shutdown,
    [Symbol.asyncDispose]: shutdown,
  };
}

/** A TCP server on 127.0.0.1 that accepts connections and never says a word. */
export interface SilentServer extends AsyncDisposable {
  /** Its port. */
  port: number;
  /** The connections it holds. */
  held: Deno.Conn[];
}

/**
 * Starts a silent server (for handshake timeouts).
 *
 * @returns The server, closed with `await using`.
 */
export function silentServer(): SilentServer {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn);
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    held,
    async [Symbol.asyncDispose]() {
      listener.close();
      for (const conn of held) conn.close();
      await accepting;
    },
  };
}

/**
 * Asserts the process is idle: after 200 ms to settle, under 0.4 s of CPU
 * in the next second (a key derivation left running takes a whole core).
 */
export async function assertIdle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 200));
  const before = process.cpuUsage();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const used = process.cpuUsage(before);
  ok(
    used.user + used.system < 400_000,
    `${Math.round((used.user + used.system) / 1000)} ms of CPU in 1 s`,
  );
}
