/**
 * One worker of `cloverleaf --workers`, its side of what the supervisor
 * (`cli/workers.ts`) sets up: its private loopback ports (the long-poll
 * relay between the workers, `transports/longpoll/relay.ts`, and its admin
 * listener, which the supervisor's `cli/workers_admin.ts` reads), given
 * with a secret by environment; its listeners on the shared ports; and the
 * end of its stdin, which tells that the supervisor is gone.
 *
 * @module
 */

import type { Logger } from "../router/mod.ts";
import type { ListenOptions } from "../transports/listener.ts";
import { LongPollRelay } from "../transports/longpoll/relay.ts";
import { freePort } from "./ports.ts";
import type { AdminConfig, ServiceConfig } from "./service_config.ts";

/**
 * The environment variable that gives each worker its private ports
 * ({@linkcode WorkerPorts}, as JSON). Set by the supervisor when a
 * listener serves long-poll or the admin listener is on; not argv, which
 * `ps` shows.
 */
export const WORKER_ENV = "CLOVERLEAF_WORKER_PORTS";

/** What the supervisor gives its workers: a secret, and each worker's private loopback ports. */
export interface WorkerPorts {
  /** What the workers' private ports require (the relay's secret, the admin listeners' token). */
  readonly secret: string;
  /** Each worker's long-poll relay port, worker 1's first, when a listener serves long-poll. */
  readonly relay?: readonly number[];
  /** Each worker's admin listener port, when the admin listener is on. */
  readonly admin?: readonly number[];
}

/** `n` distinct loopback ports that were free a moment ago. */
async function freePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  for (let tries = 0; ports.size < n && tries < n * 20; tries++) ports.add(await freePort());
  if (ports.size < n) throw new Error(`no ${n} free loopback ports for the workers`);
  return [...ports];
}

/**
 * Picks the workers' private ports (supervisor side): a long-poll relay
 * port each when a listener serves long-poll, an admin port each when the
 * admin listener is on, and a random secret.
 *
 * @param config The service config.
 * @returns The ports, or `undefined` when the workers need none.
 * @throws {Error} When no such ports are free.
 */
export async function pickWorkerPorts(config: ServiceConfig): Promise<WorkerPorts | undefined> {
  const longpoll = config.listeners.some((l) => l.type === "universal" || l.type === "longpoll");
  if (!longpoll && config.admin === undefined) return undefined;
  const ports = await freePorts(config.workers * ((longpoll ? 1 : 0) + (config.admin ? 1 : 0)));
  const secret = crypto.getRandomValues(new Uint8Array(24)).toBase64({ alphabet: "base64url" });
  return {
    secret,
    ...(longpoll ? { relay: ports.splice(0, config.workers) } : {}),
    ...(config.admin === undefined ? {} : { admin: ports.splice(0, config.workers) }),
  };
}

/** What a worker serves on its private ports. */
export interface WorkerSide {
  /** Its end of the long-poll relay. */
  relay: LongPollRelay | undefined;
  /** Its admin listener: on its private port, the secret as token (the supervisor serves `--admin`). */
  admin: AdminConfig | undefined;
}

/**
 * Sets up a worker's private ports as the supervisor gave them
 * ({@linkcode WORKER_ENV}, then removed from the environment): starts its
 * end of the long-poll relay, and says where its admin listener goes.
 *
 * @param worker This worker's number.
 * @param log Where refused relay requests are logged.
 * @returns The relay and the admin listener's address, each if any.
 * @throws {Error} When the setting is malformed or the relay's port is taken.
 */
export function startWorkerSide(worker: number, log: Logger): WorkerSide {
  const setting = Deno.env.get(WORKER_ENV);
  if (setting === undefined) return { relay: undefined, admin: undefined };
  Deno.env.delete(WORKER_ENV);
  let ports: WorkerPorts;
  try {
    ports = JSON.parse(setting);
  } catch {
    throw new Error(`malformed ${WORKER_ENV}`);
  }
  const { secret, relay, admin } = ports;
  const port = (list: readonly number[] | undefined) => {
    const p = list?.[worker - 1];
    if (list !== undefined && !(Number.isInteger(p) && p! > 0 && p! < 65536)) {
      throw new Error(`malformed ${WORKER_ENV}`);
    }
    return p;
  };
  if (typeof secret !== "string" || secret.length < 16) throw new Error(`malformed ${WORKER_ENV}`);
  const adminPort = port(admin);
  port(relay);
  return {
    relay: relay === undefined
      ? undefined
      : new LongPollRelay({ worker, ports: relay, secret, log }),
    admin: adminPort === undefined
      ? undefined
      : { host: "127.0.0.1", port: adminPort, token: secret },
  };
}

/**
 * Resolves when this worker's stdin (a pipe from its supervisor) ends: the
 * supervisor is gone, even by SIGKILL.
 *
 * @returns Resolves at the end of stdin.
 */
export async function supervisorGone(): Promise<void> {
  try {
    for await (const _ of Deno.stdin.readable) {
      // nothing is sent; only the end matters
    }
  } catch {
    // closed
  }
}

/**
 * A worker's listen options: the port shared (`reusePort`), and long-poll
 * (when served) on the relay, under the listener's index as its name.
 *
 * @param options The listener's options.
 * @param index The listener's index in the config (the same in every worker).
 * @param relay This worker's relay, if any.
 * @returns The options to listen with.
 */
export function workerListenOptions(
  options: ListenOptions,
  index: number,
  relay: LongPollRelay | undefined,
): ListenOptions {
  const longpoll = options.longpoll === false || relay === undefined
    ? options.longpoll
    : { ...options.longpoll, relay: { via: relay, name: String(index) } };
  return { ...options, reusePort: true, ...(longpoll === undefined ? {} : { longpoll }) };
}
