/**
 * A client that opens more connections than the router's process has file
 * descriptors for. Deno's `node:net` server stops accepting for good once
 * an accept fails with EMFILE; each TCP listener connects to itself every
 * few seconds and listens again when it no longer sees its own connection
 * (`transports/accept_watchdog.ts`), so the router takes new sessions again
 * after the flood. The router runs as the service, under `ulimit -n 100`;
 * the flood is larger than that and the listen queue (min(511, somaxconn)) together, so
 * the queue is left full of connections no one accepts, and the kernel
 * drops new ones, the listener's own check included. With `--workers 2`
 * every worker's accept loop dies the same way, each under its own limit,
 * and each finds it through a check the kernel may hand to the other.
 */

import { deepEqual, equal, match, ok, rejects } from "node:assert/strict";
import net from "node:net";
import { connect, listen, Router, type Session } from "../../mod.ts";
import { DENO_RUN, startService } from "../cli/_service.ts";
import { slotOf } from "../cli/_workers.ts";
import { freePort } from "../../cli/ports.ts";
import { until, within } from "../_helpers/router.ts";
import { PROBE_BYTE } from "../../transports/accept_watchdog.ts";
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

/**
 * Opens `count` connections to `to` (a port on 127.0.0.1 or a Unix
 * socket's path), waits until no more get through (past the limit and the
 * queue, TCP drops them and a Unix socket refuses them), and closes them.
 */
async function flood(to: number | string, count: number): Promise<void> {
  const sockets: net.Socket[] = [];
  let connected = 0;
  for (let i = 0; i < count; i++) {
    const socket = typeof to === "string"
      ? net.connect({ path: to })
      : net.connect(to, "127.0.0.1");
    socket.once("connect", () => connected++);
    socket.on("error", () => {});
    sockets.push(socket);
  }
  let before = -1;
  for (let i = 0; i < 20 && connected !== before; i++) {
    before = connected;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  ok(connected < count, `the listen queue overflowed (${connected} of ${count} connected)`);
  for (const socket of sockets) socket.destroy();
}

/** The service's command line under `ulimit -n LIMIT`, for `bash -c`. */
function limited(args: string[]): string[] {
  const command = [Deno.execPath(), ...args].map((arg) => `'${arg}'`).join(" ");
  return ["-c", `ulimit -n ${LIMIT} && exec ${command}`];
}

Deno.test("a flood past the open-file limit leaves a router that takes sessions again", async () => {
  await using service = await startService(
    "bash",
    limited([...DENO_RUN, "--listen", "127.0.0.1:0"]),
  );
  const url = service.urls.find((u) => u.startsWith("ws://"))!;
  await flood(Number(new URL(url).port), FLOOD);

  // Without the watchdog no connection was accepted from here on, ever.
  const session = await connectRetrying(url, 15_000);
  equal(session.realm, "realm1");
  await session.close();
  await service.stop("SIGTERM");
  match(await service.stderr(), /stopped accepting connections; listening again/);
});

Deno.test("a flood past the open-file limit over a Unix socket leaves it taking sessions again", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/router.sock`;
    const args = ["run", "-A", "cli.ts", "--listen", "127.0.0.1:0", "--unix", path];
    await using service = await startService("bash", limited(args), { listeners: 2 });
    await flood(path, FLOOD);

    const session = await connectRetrying(`unix://${path}`, 15_000);
    equal(session.realm, "realm1");
    await session.close();
    await service.stop("SIGTERM");
    match(await service.stderr(), /unix:\/\/\S+ stopped accepting connections; listening again/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "a flood past the open-file limit of every worker leaves each taking sessions again",
  sanitizeResources: false,
  async fn() {
    const port = await freePort();
    const args = ["run", "-A", "cli.ts", "--workers", "2", "--listen", `127.0.0.1:${port}`];
    await using service = await startService("bash", limited(args), {
      listeners: 2,
      timeout: 30_000,
    });
    const url = `ws://127.0.0.1:${port}/ws`;
    await flood(port, 2 * FLOOD); // two listen queues

    // Sessions land on both workers again: the kernel spreads connections by their ports.
    const slots = new Set<number>();
    for (let i = 0; i < 40 && slots.size < 2; i++) {
      const session = await connectRetrying(url, 15_000);
      slots.add(slotOf(session));
      await session.close();
    }
    equal(slots.size, 2, "sessions on both workers");
    await service.stop("SIGTERM");
    const restarts = (await service.stderr()).match(/stopped accepting connections/g) ?? [];
    ok(restarts.length >= 2, `each worker listened again (${restarts.length} restarts)`);
  },
});

for (const kind of ["tcp", "tls", "unix"] as const) {
  Deno.test(`a listener's own accept checks are not connections: no count, no log (${kind})`, async () => {
    const pki = kind === "tls" ? await testPki() : undefined;
    const dir = kind === "unix" ? await Deno.makeTempDir() : undefined;
    const router = new Router({ realms: [{ name: "realm1" }] });
    const lines: string[] = [];
    const listener = await listen(router, {
      ...(dir === undefined ? { port: 0 } : { path: `${dir}/router.sock` }),
      acceptCheckInterval: 50,
      log: (_level, message) => lines.push(message),
      ...(pki === undefined ? {} : { tls: { cert: pki.cert, key: pki.key } }),
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 400));
      // Over TCP the checks are claimed before they are counted; over a Unix socket, counted
      // apart at their first byte (one may be between the two at any moment).
      await until(() => listener.stats().accepted === 0, 1000, "no check counted as a connection");
      const quiet = listener.stats();
      deepEqual([quiet.refused, quiet.bytesIn, quiet.bytesOut], [0, 0, 0]);
      if (kind === "unix") ok(quiet.checks >= 3, `checks counted apart (${quiet.checks})`);
      else equal(quiet.checks, 0);
      equal(lines.length, 0, lines.join("\n"));
      const tls = pki === undefined ? {} : { tls: { caCerts: [pki.ca] } };
      const url = listener.urls.websocket ?? listener.urls.rawsocket!;
      const session = await connect(url, { realm: "realm1", ...tls });
      await until(() => listener.stats().accepted === 1, 1000, "the session's connection counted");
      await session.close();
    } finally {
      await listener.close();
      await router.close();
      if (dir !== undefined) await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("a full listener's accept checks are not refusals: no count, no log", async () => {
  const dir = await Deno.makeTempDir();
  const router = new Router({ realms: [{ name: "realm1" }] });
  const lines: string[] = [];
  const listener = await listen(router, {
    path: `${dir}/router.sock`,
    maxConnections: 1,
    acceptCheckInterval: 50,
    log: (_level, message) => lines.push(message),
  });
  try {
    const held = await connect(listener.urls.rawsocket!, { realm: "realm1" }); // now full
    await new Promise((resolve) => setTimeout(resolve, 400));
    ok(listener.stats().checks >= 3, "checks made while full");
    equal(listener.stats().refused, 0);
    equal(lines.filter((line) => line.includes("refused")).length, 0, lines.join("\n"));
    // A connection that is no check is still refused, and told.
    await rejects(connect(listener.urls.rawsocket!, { realm: "realm1" }));
    await until(() => lines.some((line) => line.includes("refused")), 2000, "the refusal told");
    equal(listener.stats().refused, 1);
    await held.close();
  } finally {
    await listener.close();
    await router.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a connection that starts as an accept check (another worker's) is closed and counted apart", async () => {
  const router = new Router({ realms: [{ name: "realm1" }] });
  const listener = await listen(router, { port: 0, acceptCheckInterval: 0 });
  try {
    const port = Number(new URL(listener.urls.websocket!).port);
    const socket = net.connect(port, "127.0.0.1");
    socket.on("error", () => {});
    socket.write(new Uint8Array([PROBE_BYTE]));
    await within(new Promise((resolve) => socket.once("close", resolve)), 2000, "closed");
    const stats = listener.stats();
    deepEqual([stats.accepted, stats.checks, stats.bytesIn, stats.bytesOut], [0, 1, 0, 0]);
  } finally {
    await listener.close();
    await router.close();
  }
});
