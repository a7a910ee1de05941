/**
 * The accept watchdog against real sockets on 127.0.0.1: a server that
 * never hands it what it accepts looks stalled; one that is not listening
 * is made to listen each interval; checks refused again and again are told
 * once; what the server accepts is claimed when it is the probe. Servers
 * sharing a port (`reusePort`): a probe a sibling answers is sent again
 * from another port, and a member that accepts nothing is still found. Over
 * a Unix socket, any connection accepted shows the server alive.
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import net from "node:net";
import { AcceptWatchdog, PROBES_PER_CHECK } from "../../transports/accept_watchdog.ts";
import { until } from "../_helpers/router.ts";

async function server(
  onSocket: (socket: net.Socket) => void,
  port = 0,
  reusePort = false,
): Promise<net.Server> {
  const s = net.createServer(onSocket);
  await new Promise<void>((resolve) =>
    s.listen({ port, host: "127.0.0.1", ...(reusePort ? { reusePort } : {}) }, resolve)
  );
  return s;
}

/** A sibling on a shared port, as the router's listener is to a probe: it answers, and closes. */
function sibling(got: { probes: number }): (socket: net.Socket) => void {
  return (socket) => {
    socket.on("error", () => {});
    socket.once("data", () => {
      got.probes++;
      socket.end("HTTP/1.1 400 Bad Request\r\n\r\n");
    });
  };
}

/** A watchdog on `port` that counts its stalls and its failing calls. */
function watch(
  port: number,
  address: string,
  interval: number,
  listening: () => boolean,
  timeout = 100,
) {
  const seen = { stalled: 0, failing: 0 };
  const watchdog = new AcceptWatchdog({
    target: { port, address },
    interval,
    timeout,
    listening,
    stalled: () => seen.stalled++,
    failing: () => seen.failing++,
  });
  return { watchdog, seen };
}

const portOf = (s: net.Server): number => (s.address() as net.AddressInfo).port;

/** Stops the watchdog, destroys the sockets a server kept, and closes the servers. */
async function teardown(
  watchdog: AcceptWatchdog,
  sockets: net.Socket[],
  ...servers: net.Server[]
): Promise<void> {
  watchdog.stop();
  for (const socket of sockets) socket.destroy();
  for (const s of servers) await new Promise((resolve) => s.close(resolve));
}

Deno.test("AcceptWatchdog: a server that accepts nothing it is shown is stalled", async () => {
  const sockets: net.Socket[] = [];
  const s = await server((socket) => sockets.push(socket)); // never passed to claims()
  const { watchdog, seen } = watch(portOf(s), "127.0.0.1", 50, () => true);
  try {
    await until(() => seen.stalled > 0, 3000, "a stall");
    equal(seen.failing, 0);
  } finally {
    await teardown(watchdog, sockets, s);
  }
});

Deno.test("AcceptWatchdog: a server that claims its probes is never stalled", async () => {
  const box: { watchdog?: AcceptWatchdog } = {};
  let claimed = 0;
  const s = await server((socket) => {
    if (box.watchdog?.claims(socket)) claimed++;
    socket.destroy();
  });
  const { watchdog, seen } = watch(portOf(s), "0.0.0.0", 50, () => true); // probed on loopback
  box.watchdog = watchdog;
  try {
    await until(() => claimed >= 3, 3000, "three claimed probes");
    equal(seen.stalled, 0);
  } finally {
    await teardown(watchdog, [], s);
  }
});

Deno.test("AcceptWatchdog: not listening means listen again each interval; refusals are told once", async () => {
  const s = await server((socket) => socket.destroy());
  const port = portOf(s);
  await new Promise((resolve) => s.close(resolve)); // nothing listens on `port` now
  let listening = false;
  const { watchdog, seen } = watch(port, "127.0.0.1", 30, () => listening);
  try {
    await until(() => seen.stalled >= 2, 3000, "two attempts to listen");
    listening = true; // it "listens", but connections are refused
    const before = seen.stalled;
    await until(() => seen.failing === 1, 3000, "failing told");
    await new Promise((resolve) => setTimeout(resolve, 300));
    equal(seen.failing, 1, "told once");
    ok(seen.stalled === before, "a refused check is no stall");
  } finally {
    watchdog.stop();
  }
});

Deno.test("AcceptWatchdog: a probe a sibling on the port answers is sent again, up to the limit", async () => {
  // The watched server has gone (closed); its sibling on the shared port answers every probe.
  const got = { probes: 0 };
  const watched = await server(() => {}, 0, true);
  const port = portOf(watched);
  const other = await server(sibling(got), port, true);
  await new Promise((resolve) => watched.close(resolve));
  const { watchdog, seen } = watch(port, "127.0.0.1", 400, () => true, 1000);
  try {
    await until(() => got.probes >= PROBES_PER_CHECK, 3000, "a check's probes");
    await new Promise((resolve) => setTimeout(resolve, 200)); // before the next check
    equal(got.probes, PROBES_PER_CHECK, "one check sends at most the limit");
    equal(seen.stalled, 0, "a sibling that answers is no stall");
    equal(seen.failing, 0);
  } finally {
    await teardown(watchdog, [], other);
  }
});

Deno.test("AcceptWatchdog: a member of a shared port that accepts nothing it is shown is stalled", async () => {
  const got = { probes: 0 };
  const sockets: net.Socket[] = [];
  const dead = await server((socket) => sockets.push(socket), 0, true); // never passed to claims()
  const port = portOf(dead);
  const other = await server(sibling(got), port, true);
  const { watchdog, seen } = watch(port, "127.0.0.1", 50, () => true);
  try {
    await until(() => seen.stalled >= 3, 5000, "three stalls");
    equal(seen.failing, 0);
  } finally {
    await teardown(watchdog, sockets, other, dead);
  }
});

Deno.test("AcceptWatchdog: a live member of a shared port finds its own port and keeps it", async () => {
  const got = { probes: 0 };
  const box: { watchdog?: AcceptWatchdog } = {};
  let claimed = 0;
  const live = await server(
    (socket) => {
      if (box.watchdog?.claims(socket)) claimed++;
      socket.destroy();
    },
    0,
    true,
  );
  const port = portOf(live);
  const other = await server(sibling(got), port, true);
  const { watchdog, seen } = watch(port, "127.0.0.1", 50, () => true, 1000);
  box.watchdog = watchdog;
  try {
    await until(() => claimed >= 1, 3000, "a claimed probe");
    const before = got.probes;
    await until(() => claimed >= 6, 3000, "five more claimed probes");
    equal(got.probes, before, "once found, each check reaches this server at once");
    equal(seen.stalled, 0);
  } finally {
    await teardown(watchdog, [], other, live);
  }
});

Deno.test("AcceptWatchdog: over a Unix socket, a server that accepts is alive, one that does not is stalled", async () => {
  const dir = await Deno.makeTempDir();
  const sockets: net.Socket[] = [];
  const box: { watchdog?: AcceptWatchdog } = {};
  let accepting = true;
  const path = `${dir}/s.sock`;
  const s = net.createServer((socket) => {
    if (!accepting) return void sockets.push(socket); // never passed to claims()
    equal(box.watchdog?.claims(socket), false, "a Unix socket's probe is not told apart");
    socket.destroy(); // as the listener does on the probe's first byte
  });
  await new Promise<void>((resolve) => s.listen(path, resolve));
  const seen = { stalled: 0, failing: 0 };
  const watchdog = new AcceptWatchdog({
    target: { path },
    interval: 50,
    timeout: 150,
    listening: () => true,
    stalled: () => seen.stalled++,
    failing: () => seen.failing++,
  });
  box.watchdog = watchdog;
  try {
    await new Promise((resolve) => setTimeout(resolve, 500));
    deepEqual(seen, { stalled: 0, failing: 0 });
    accepting = false;
    await until(() => seen.stalled > 0, 3000, "a stall");
    equal(seen.failing, 0);
  } finally {
    await teardown(watchdog, sockets, s);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("AcceptWatchdog: checks whose every probe port is taken are told, once", async () => {
  const sockets: net.Socket[] = [];
  const s = await server((socket) => sockets.push(socket)); // never passed to claims()
  // Both probe ports held by someone else, bound to the probe's address.
  const held = [await server(() => {}), await server(() => {})];
  const ports = held.map(portOf).sort((a, b) => a - b);
  const seen = { stalled: 0, failing: 0 };
  const watchdog = new AcceptWatchdog({
    target: { port: portOf(s), address: "127.0.0.1" },
    interval: 30,
    timeout: 100,
    listening: () => true,
    stalled: () => seen.stalled++,
    failing: () => seen.failing++,
    // Only the two held ports (when they are adjacent), else one of them alone.
    probePorts: ports[1] === ports[0]! + 1 ? [ports[0]!, 2] : [ports[0]!, 1],
  });
  try {
    await until(() => seen.failing === 1, 3000, "failing told");
    await new Promise((resolve) => setTimeout(resolve, 300));
    deepEqual(seen, { stalled: 0, failing: 1 }, "told once; no check got through");
  } finally {
    await teardown(watchdog, sockets, ...held, s);
  }
});
