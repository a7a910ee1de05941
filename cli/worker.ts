/**
 * One worker of `cloverleaf --workers`, its side of what the supervisor
 * (`cli/workers.ts`) sets up: its private Unix sockets (the long-poll
 * relay between the workers, `transports/longpoll/relay.ts`, and its admin
 * listener, which the supervisor's `cli/workers_admin.ts` reads) in a
 * directory only the service's user can enter, given with a secret each by
 * environment; its listeners on the shared ports; and the end of its
 * stdin, which tells that the supervisor is gone.
 *
 * @module
 */

import type { Logger } from "../router/mod.ts";
import type { ListenOptions } from "../transports/listener.ts";
import { LongPollRelay } from "../transports/longpoll/relay.ts";
import { toBase64 } from "../wamp/bytes.ts";
import { weakSecret } from "../config/mod.ts";

/**
 * The environment variable that gives each worker its private sockets
 * ({@linkcode WorkerSockets}, as JSON). Set by the supervisor when a
 * listener serves long-poll or the admin listener is on; not argv, which
 * `ps` shows.
 */
export const WORKER_ENV = "CLOVERLEAF_WORKER_SOCKETS";

/** Each worker's Unix socket for one private service, and the secret it requires. */
export interface PrivateSockets {
  /** What every request must carry. */
  readonly secret: string;
  /** Each worker's socket path, worker 1's first. */
  readonly sockets: readonly string[];
}

/** What the supervisor gives its workers: a private directory, and sockets in it. */
export interface WorkerSockets {
  /** The directory (mode 0700) the sockets are in; the supervisor removes it. */
  readonly dir: string;
  /** The long-poll relay's, when a listener serves long-poll. */
  readonly relay?: PrivateSockets;
  /** The workers' admin listeners' (the secret is their token), when the admin listener is on. */
  readonly admin?: PrivateSockets;
}

/** A random secret of 32 base64url characters. */
function newSecret(): string {
  // 24 bytes: no padding.
  return toBase64(crypto.getRandomValues(new Uint8Array(24))).replace(/\+/g, "-").replace(
    /\//g,
    "_",
  );
}

/**
 * Makes the workers' private directory (supervisor side) and names a
 * socket in it for each worker: a long-poll relay socket when a listener
 * serves long-poll, an admin socket when the admin listener is on, each
 * kind with its own random secret.
 *
 * @param config The workers' number, whether a listener serves long-poll, whether admin is on.
 * @returns The sockets, or `undefined` when the workers need none.
 * @throws {Error} When the directory cannot be made, or its path is too long for sockets.
 */
export async function makeWorkerSockets(
  config: { workers: number; longpoll: boolean; admin: boolean },
): Promise<WorkerSockets | undefined> {
  const { longpoll, admin } = config;
  if (!longpoll && !admin) return undefined;
  const dir = await Deno.makeTempDir({ prefix: "cloverleaf-workers-" });
  await Deno.chmod(dir, 0o700);
  // A Unix socket's path has at most 107 bytes (sun_path).
  if (new TextEncoder().encode(`${dir}/admin-${config.workers}.sock`).length > 107) {
    await Deno.remove(dir, { recursive: true });
    throw new Error(`${dir} is too long for Unix sockets: set TMPDIR to a shorter directory`);
  }
  const sockets = (kind: string): PrivateSockets => ({
    secret: newSecret(),
    sockets: Array.from({ length: config.workers }, (_, i) => `${dir}/${kind}-${i + 1}.sock`),
  });
  return {
    dir,
    ...(longpoll ? { relay: sockets("relay") } : {}),
    ...(admin ? { admin: sockets("admin") } : {}),
  };
}

/**
 * Removes the workers' private directory (supervisor side), once they are stopped.
 *
 * @param sockets What {@linkcode makeWorkerSockets} made.
 */
export async function removeWorkerSockets(sockets: WorkerSockets | undefined): Promise<void> {
  if (sockets !== undefined) await Deno.remove(sockets.dir, { recursive: true }).catch(() => {});
}

/** What a worker serves on its private sockets. */
export interface WorkerSide {
  /** Its end of the long-poll relay. */
  relay: LongPollRelay | undefined;
  /** Its admin listener's socket and token (the supervisor serves `--admin`). */
  admin: { path: string; token: string } | undefined;
}

/** One kind of private socket, checked: this worker's path and the secret. */
function checked(
  kinds: PrivateSockets | undefined,
  worker: number,
): PrivateSockets & { path: string } | undefined {
  if (kinds === undefined) return undefined;
  const { secret, sockets } = kinds;
  const path = Array.isArray(sockets) ? sockets[worker - 1] : undefined;
  if (
    typeof secret !== "string" || weakSecret(secret) !== undefined || typeof path !== "string" ||
    !sockets.every((s) => typeof s === "string")
  ) {
    throw new Error(`malformed ${WORKER_ENV}`);
  }
  return { secret, sockets, path };
}

/**
 * Sets up a worker's private sockets as the supervisor gave them
 * ({@linkcode WORKER_ENV}, then removed from the environment): starts its
 * end of the long-poll relay, and says where its admin listener goes.
 *
 * @param worker This worker's number.
 * @param log Where refused relay requests are logged.
 * @returns The relay and the admin listener's socket, each if any.
 * @throws {Error} When the setting is malformed or the relay's socket cannot be made.
 */
export function startWorkerSide(worker: number, log: Logger): WorkerSide {
  const setting = Deno.env.get(WORKER_ENV);
  if (setting === undefined) return { relay: undefined, admin: undefined };
  Deno.env.delete(WORKER_ENV);
  let given: WorkerSockets;
  try {
    given = JSON.parse(setting);
  } catch {
    throw new Error(`malformed ${WORKER_ENV}`);
  }
  const relay = checked(given?.relay, worker);
  const admin = checked(given?.admin, worker);
  return {
    relay: relay === undefined
      ? undefined
      : new LongPollRelay({ worker, sockets: relay.sockets, secret: relay.secret, log }),
    admin: admin === undefined ? undefined : { path: admin.path, token: admin.secret },
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
