/**
 * Signals, for the service and its child processes: waiting for SIGINT or
 * SIGTERM ({@linkcode interrupted}), and stopping a child gently, then
 * surely ({@linkcode stopChild}). One place for the supervisor
 * (`cli/workers.ts`), its `nats-server` (`cli/local_nats.ts`), the service
 * (`cli.ts`) and the long-running client commands.
 *
 * @module
 */

/** The signals that ask this process to stop (SIGBREAK stands for SIGTERM on Windows). */
const STOP_SIGNALS: readonly Deno.Signal[] = Deno.build.os === "windows"
  ? ["SIGINT", "SIGBREAK"]
  : ["SIGINT", "SIGTERM"];

/**
 * Resolves on SIGINT or SIGTERM. The listeners stay until `dispose`: while
 * they are there, a second signal does not kill the process, so a shutdown
 * can finish in order.
 *
 * @returns The promise, and a function that removes the listeners.
 *
 * @example
 * ```ts
 * import { interrupted } from "./process.ts";
 *
 * const stop = interrupted();
 * // … serve until `await stop.promise`, shut down, then:
 * stop.dispose();
 * ```
 */
export function interrupted(): { promise: Promise<void>; dispose: () => void } {
  const { promise, resolve } = Promise.withResolvers<void>();
  const on = () => resolve();
  for (const name of STOP_SIGNALS) Deno.addSignalListener(name, on);
  return {
    promise,
    dispose: () => {
      for (const name of STOP_SIGNALS) Deno.removeSignalListener(name, on);
    },
  };
}

/**
 * Sends `name` to a child, ignoring one that is gone.
 *
 * @param child The child process.
 * @param name The signal.
 */
export function signal(child: Deno.ChildProcess, name: Deno.Signal): void {
  try {
    child.kill(name);
  } catch {
    // already exited
  }
}

/** How {@linkcode stopChild} asks a child to stop, and then makes it. */
export interface StopHow {
  /** Asks it to stop. @default {SIGTERM to the child} */
  ask?: () => unknown;
  /** Makes it stop, once `timeout` has passed. @default {SIGKILL to the child} */
  kill?: () => void;
}

/**
 * Asks a child to stop (SIGTERM), then kills it (SIGKILL) if it has not
 * exited within `timeout` ms.
 *
 * @param child The child process.
 * @param timeout Milliseconds between asking and killing.
 * @param how Other ways to ask and to kill (a pipe to close, more pids).
 * @returns Resolves once the child has exited.
 */
export async function stopChild(
  child: Deno.ChildProcess,
  timeout: number,
  how: StopHow = {},
): Promise<void> {
  await (how.ask ?? (() => signal(child, "SIGTERM")))();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const killed = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      (how.kill ?? (() => signal(child, "SIGKILL")))();
      resolve();
    }, timeout);
  });
  await Promise.race([child.status, killed]);
  await child.status;
  clearTimeout(timer);
}
