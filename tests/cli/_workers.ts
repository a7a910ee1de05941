/**
 * Helpers for the `--workers` tests: a supervisor with 2 workers serving,
 * and which worker a session landed on.
 */

import type { Session } from "../../mod.ts";
import { until, within } from "../_helpers/router.ts";
import { type Service, startService } from "./_service.ts";

/**
 * Which worker a session landed on: each node of a cluster issues session
 * IDs from its own slot (`cluster/session_ids.ts`), the ID divided by 2^37.
 */
export function slotOf(session: Session): number {
  return Math.floor(session.id / 2 ** 37);
}

/**
 * Runs `deno <deno…> --workers 2 <listen> 127.0.0.1:<port> <extra…>` and
 * waits until both workers listen and the supervisor says they serve.
 */
export async function startWorkers(
  port: number,
  { deno = ["run", "-A", "cli.ts"], listen = "--listen", extra = [] as string[] } = {},
): Promise<Service> {
  const args = [...deno, "--workers", "2", listen, `127.0.0.1:${port}`, ...extra];
  const service = await startService(Deno.execPath(), args, {
    listeners: 2,
    timeout: 30_000,
  });
  try {
    await until(
      () => service.lines.some((l) => l.includes("Supervisor: 2 workers serving")),
      10_000,
      "both workers serving",
    );
  } catch (error) {
    await service[Symbol.asyncDispose]();
    throw error;
  }
  return service;
}

/**
 * Calls `procedure` until it is known on the caller's worker (the shared
 * registration table reaches the other nodes within milliseconds).
 */
export async function callUntil(
  caller: Session,
  procedure: string,
  args: unknown[] = [],
): Promise<unknown[]> {
  const deadline = Date.now() + 5000;
  while (true) {
    try {
      return (await within(caller.call(procedure, { args }), 5000, `call ${procedure}`)).args;
    } catch (error) {
      const noSuch = String((error as { error?: unknown }).error ?? error).includes(
        "no_such_procedure",
      );
      if (!noSuch || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}
