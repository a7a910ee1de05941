/**
 * A client that opens more connections than the router's process has file
 * descriptors for. Deno's `node:net` server stops accepting for good once
 * an accept fails with EMFILE; each TCP listener connects to itself every
 * few seconds and listens again when it no longer sees its own connection
 * (`transports/accept_watchdog.ts`), so the router takes new sessions again
 * after the flood. The router runs as the service, under `ulimit -n 100`;
 * the flood is larger than that and the listen queue (min(511, somaxconn)) together, so
 * the queue is left full of connections no one accepts, and the kernel
 * drops new ones, the listener's own check included.
 */

import { equal, match, ok } from "node:assert/strict";
import net from "node:net";
import { connect, listen, Router, type Session } from "../../mod.ts";
import { DENO_RUN, startService } from "../cli/_service.ts";
import { within } from "../_helpers/router.ts";
import { testPki } from "../_helpers/tls.ts";

const LIMIT = 100;
const FLOOD = 700;

/** A session on `url`, trying again (each try bounded) until `ms` have passed. */
async function connectRetrying(url: string, ms: number): Promise<Session> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await within(connect(url, { realm: "realm1" }), 2000, "a session");
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
  }
}

Deno.test("a flood past the open-file limit leaves a router that takes sessions again", async () => {
  const command = [Deno.execPath(), ...DENO_RUN, "--listen", "127.0.0.1:0"]
    .map((arg) => `'${arg}'`).join(" ");
  await using service = await startService("bash", ["-c", `ulimit -n ${LIMIT} && exec ${command}`]);
  const url = service.urls.find((u) => u.startsWith("ws://"))!;
  const port = Number(new URL(url).port);

  const sockets: net.Socket[] = [];
  let connected = 0;
  for (let i = 0; i < FLOOD; i++) {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => connected++);
    socket.on("error", () => {});
    sockets.push(socket);
  }
  // Past the limit and the queue, the kernel drops connections: wait until no more get through.
  let before = -1;
  for (let i = 0; i < 20 && connected !== before; i++) {
    before = connected;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  ok(connected < FLOOD, `the listen queue overflowed (${connected} of ${FLOOD} connected)`);
  for (const socket of sockets) socket.destroy();

  // Without the watchdog no connection was accepted from here on, ever.
  const session = await connectRetrying(url, 15_000);
  equal(session.realm, "realm1");
  await session.close();
  await service.stop("SIGTERM");
  match(await service.stderr(), /stopped accepting connections; listening again/);
});

for (const secure of [false, true]) {
  Deno.test(
    `a listener's own accept checks are not connections: no count, no log${secure ? " (TLS)" : ""}`,
    async () => {
      const pki = secure ? await testPki() : undefined;
      const router = new Router({ realms: [{ name: "realm1" }] });
      const lines: string[] = [];
      const listener = await listen(router, {
        port: 0,
        acceptCheckInterval: 50,
        log: (_level, message) => lines.push(message),
        ...(pki === undefined ? {} : { tls: { cert: pki.cert, key: pki.key } }),
      });
      try {
        await new Promise((resolve) => setTimeout(resolve, 400));
        equal(listener.stats().accepted, 0);
        equal(listener.connections(), 0);
        equal(lines.length, 0, lines.join("\n"));
        const tls = pki === undefined ? {} : { tls: { caCerts: [pki.ca] } };
        const session = await connect(listener.urls.websocket!, { realm: "realm1", ...tls });
        equal(listener.stats().accepted, 1);
        await session.close();
      } finally {
        await listener.close();
        await router.close();
      }
    },
  );
}
