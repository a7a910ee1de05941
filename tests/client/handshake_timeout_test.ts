/**
 * `connect({ handshakeTimeout })` reaches the WebSocket and RawSocket
 * links: a server that accepts the connection and never answers fails the
 * attempt after it, not after the 10 s default.
 */

import { ok } from "node:assert/strict";
import net from "node:net";
import { connect } from "../../mod.ts";

Deno.test("connect(): handshakeTimeout ends an attempt the server never answers", async () => {
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => void sockets.push(socket)); // accepts, never speaks
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  try {
    for (const url of [`ws://127.0.0.1:${port}/ws`, `tcp://127.0.0.1:${port}`]) {
      const start = performance.now();
      const failed = await connect(url, { realm: "r", handshakeTimeout: 300 }).then(
        () => false,
        () => true,
      );
      const took = performance.now() - start;
      ok(failed, url);
      ok(took < 3000, `${url}: failed after ${Math.round(took)} ms`);
    }
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
});
