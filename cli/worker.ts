/**
 * One worker of `cloverleaf --workers`, its side of what the supervisor
 * (`cli/workers.ts`) sets up: the long-poll relay between the workers
 * (`transports/longpoll/relay.ts`; its ports and secret come by
 * environment), its listeners on the shared ports, and the end of its
 * stdin, which tells that the supervisor is gone.
 *
 * @module
 */

import type { Logger } from "../router/mod.ts";
import type { ListenOptions } from "../transports/listener.ts";
import { LongPollRelay } from "../transports/longpoll/relay.ts";
import { freePort } from "./ports.ts";

/**
 * The environment variable that gives each worker the long-poll relay
 * (`transports/longpoll/relay.ts`): `<secret> <port>,<port>,…`, one
 * private loopback port per worker, worker 1's first. Set by the
 * supervisor when a listener serves long-poll.
 */
export const RELAY_ENV = "CLOVERLEAF_LONGPOLL_RELAY";

/**
 * The relay's setting for `workers` workers ({@linkcode RELAY_ENV}):
 * distinct free loopback ports and a random secret.
 *
 * @param workers How many workers.
 * @returns The value of {@linkcode RELAY_ENV}.
 * @throws {Error} When no such ports are free.
 */
export async function relaySetting(workers: number): Promise<string> {
  const ports = new Set<number>();
  for (let tries = 0; ports.size < workers && tries < workers * 20; tries++) {
    ports.add(await freePort());
  }
  if (ports.size < workers) {
    throw new Error(`no ${workers} free loopback ports for the long-poll relay`);
  }
  const secret = crypto.getRandomValues(new Uint8Array(24)).toBase64({ alphabet: "base64url" });
  return `${secret} ${[...ports].join(",")}`;
}

/**
 * Starts this worker's end of the long-poll relay as the supervisor set it
 * up ({@linkcode RELAY_ENV}, then removed from the environment).
 *
 * @param worker This worker's number.
 * @param log Where refused relay requests are logged.
 * @returns The relay, or `undefined` when the supervisor set none up.
 * @throws {Error} When the setting is malformed or the port is taken.
 */
export function startRelay(worker: number, log: Logger): LongPollRelay | undefined {
  const setting = Deno.env.get(RELAY_ENV);
  if (setting === undefined) return undefined;
  Deno.env.delete(RELAY_ENV);
  const [secret, list] = setting.split(" ");
  const ports = (list ?? "").split(",").map(Number);
  if (!secret || ports.some((p) => !Number.isInteger(p) || p <= 0 || p > 65535)) {
    throw new Error(`malformed ${RELAY_ENV}`);
  }
  return new LongPollRelay({ worker, ports, secret, log });
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
