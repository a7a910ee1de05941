/**
 * Loopback ports for the processes the service starts (its own
 * `nats-server` under `--workers`), shared with the tests and benchmarks
 * that start their own.
 *
 * @module
 */

import { createServer } from "node:net";

/**
 * A TCP port on 127.0.0.1 that was free a moment ago.
 *
 * @returns The port.
 */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Waits until something accepts connections on 127.0.0.1:`port`.
 *
 * @param port The port.
 * @param timeoutMs How long to try.
 * @returns Whether it did within the time.
 */
export async function reachable(port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return true;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
  return false;
}
