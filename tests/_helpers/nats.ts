/**
 * A real `nats-server` (with JetStream) on a free loopback port, for the
 * cluster tests. A missing `nats-server` fails the test that asks for one:
 * `.ci/run` installs it from Debian's packages.
 *
 * @module
 */

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, reachable } from "../../cli/ports.ts";

/** A running NATS server. */
export interface NatsServer {
  /** `nats://127.0.0.1:<port>`. */
  readonly url: string;
  /** The port. */
  readonly port: number;
  /** Stops it (SIGKILL with `kill`), and removes its store unless `keepStore`. */
  stop(options?: { kill?: boolean; keepStore?: boolean }): Promise<void>;
  /** Starts it again on the same port and store (after `stop({ keepStore: true })`). */
  restart(): Promise<void>;
}

/**
 * Starts `nats-server -js` on a free loopback port.
 *
 * @param options Its `max_payload`, when not NATS's default (1 MiB).
 * @returns The server.
 * @throws {Error} When `nats-server` is not installed or does not start.
 */
export async function startNats(options: { maxPayload?: number } = {}): Promise<NatsServer> {
  const port = await freePort();
  const store = mkdtempSync(join(tmpdir(), "clv-nats-"));
  const config: string[] = [];
  if (options.maxPayload !== undefined) {
    writeFileSync(join(store, "nats.conf"), `max_payload: ${options.maxPayload}\n`);
    config.push("-c", join(store, "nats.conf"));
  }
  let child: Deno.ChildProcess | undefined;
  const start = async () => {
    try {
      child = new Deno.Command("nats-server", {
        args: [...config, "-a", "127.0.0.1", "-p", String(port), "-js", "-sd", store],
        stdout: "null",
        stderr: "null",
      }).spawn();
    } catch (error) {
      throw new Error(`nats-server is not installed (apt install nats-server): ${error}`);
    }
    if (!await reachable(port, 5000)) throw new Error("nats-server did not start within 5 s");
  };
  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    async stop(options = {}) {
      if (child !== undefined) {
        try {
          child.kill(options.kill ? "SIGKILL" : "SIGTERM");
        } catch {
          // already gone
        }
        await child.status;
        child = undefined;
      }
      if (!options.keepStore) rmSync(store, { recursive: true, force: true });
    },
    restart: start,
  };
}
