/**
 * `connect({ handshakeTimeout })` reaches the WebSocket and RawSocket
 * links: a server that accepts the connection and never answers fails the
 * attempt after it, not after the 10 s default.
 */

import { ok } from "node:assert/strict";
import { connect } from "../../mod.ts";
import { silentServer } from "./_hostile.ts";

Deno.test("connect(): handshakeTimeout ends an attempt the server never answers", async () => {
  await using server = silentServer(); // accepts, never speaks
  for (const url of [`ws://127.0.0.1:${server.port}/ws`, `tcp://127.0.0.1:${server.port}`]) {
    const start = performance.now();
    const failed = await connect(url, { realm: "r", handshakeTimeout: 300 }).then(
      () => false,
      () => true,
    );
    const took = performance.now() - start;
    ok(failed, url);
    ok(took < 3000, `${url}: failed after ${Math.round(took)} ms`);
  }
});
