/**
 * The accept watchdog against real sockets on 127.0.0.1: a server that
 * never hands it what it accepts looks stalled; one that is not listening
 * is made to listen each interval; checks refused again and again are told
 * once; what the server accepts is claimed when it is the probe.
 */

import { equal, ok } from "node:assert/strict";
import net from "node:net";
import { AcceptWatchdog } from "../../transports/accept_watchdog.ts";
import { until } from "../_helpers/router.ts";

async function server(onSocket: (socket: net.Socket) => void): Promise<net.Server> {
  const s = net.createServer(onSocket);
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  return s;
}

/** A watchdog on `port` (timeout 100 ms) that counts its stalls and its failing calls. */
function watch(port: number, address: string, interval: number, listening: () => boolean) {
  const seen = { stalled: 0, failing: 0 };
  const watchdog = new AcceptWatchdog({
    port,
    address,
    interval,
    timeout: 100,
    listening,
    stalled: () => seen.stalled++,
    failing: () => seen.failing++,
  });
  return { watchdog, seen };
}

const portOf = (s: net.Server): number => (s.address() as net.AddressInfo).port;

Deno.test("AcceptWatchdog: a server that accepts nothing it is shown is stalled", async () => {
  const sockets: net.Socket[] = [];
  const s = await server((socket) => sockets.push(socket)); // never passed to claims()
  const { watchdog, seen } = watch(portOf(s), "127.0.0.1", 50, () => true);
  try {
    await until(() => seen.stalled > 0, 3000, "a stall");
    equal(seen.failing, 0);
  } finally {
    watchdog.stop();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => s.close(resolve));
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
    watchdog.stop();
    await new Promise((resolve) => s.close(resolve));
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
