/**
 * `cloverleaf --workers N`: the supervisor. It starts N worker processes
 * (this CLI again, with the same flags minus `--workers`, plus the internal
 * `--worker <i>`), each listening on the same ports with `SO_REUSEPORT` so
 * that the kernel spreads connections over them, and all joined as one
 * cluster through NATS: the `--cluster` servers, else a `nats-server -js`
 * it starts on a free loopback port with a temporary store. A worker that
 * dies is restarted, after a backoff that grows while it keeps dying. On
 * SIGINT or SIGTERM it stops every worker gracefully (each sends GOODBYE
 * `wamp.close.system_shutdown` to its sessions), then NATS.
 *
 * Workers run in their own process group, so a terminal's Ctrl-C reaches
 * the supervisor alone and the shutdown goes in order. A worker reads its
 * stdin, a pipe from the supervisor: at its end (the supervisor is gone,
 * even by SIGKILL) it shuts down too. The supervisor's `nats-server` runs
 * under a `/bin/sh` that does the same for it (`cli/local_nats.ts`). A
 * worker's stdout comes through the supervisor, which drops the one line a
 * worker writes when it serves ({@linkcode WORKER_READY}). Workers that do
 * not all serve within the start timeout (default 60 s) stop everything.
 * When a listener serves long-poll or `--admin` is on, it picks each
 * worker's private Unix sockets (the long-poll relay, the worker's admin
 * listener) and their secrets (`cli/worker.ts`), and serves `--admin` itself
 * from the workers' admin listeners (`cli/workers_admin.ts`).
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import type { Logger } from "../router/mod.ts";
import {
  makeWorkerSockets,
  removeWorkerSockets,
  WORKER_ENV,
  type WorkerSockets,
} from "./worker.ts";
import { serveWorkersAdmin, type WorkersAdminServer } from "./workers_admin.ts";
import type { ServiceConfig } from "./service_config.ts";
import { type LocalNats, natsMaxPayload, startNats } from "./local_nats.ts";
import { CLUSTER_TOKEN_ENV, DECOY_SECRET_ENV, HTTP_TOKEN_ENV } from "./service_config.ts";
import { interrupted, stopChild } from "./process.ts";

/** The line a worker writes to its stdout once all its listeners serve. */
export const WORKER_READY = "cloverleaf-worker-ready";

/** Options of {@linkcode superviseWorkers}. */
export interface SuperviseOptions {
  /**
   * Milliseconds the workers have to serve at the first start; then the
   * supervisor stops everything and returns 1.
   * @default {60000}
   */
  startTimeout?: number;
}

/** Milliseconds a worker has to stop after SIGTERM before it is killed. */
const STOP_TIMEOUT = 10_000;
/** The first restart delay, doubled at each death in a row, up to {@linkcode MAX_BACKOFF}. */
const FIRST_BACKOFF = 250;
const MAX_BACKOFF = 10_000;
/** A worker up this long has its backoff reset. */
const STABLE_AFTER = 30_000;

/** One worker slot: the process in it, restarted as needed. */
interface Slot {
  readonly index: number;
  child: Deno.ChildProcess | undefined;
  startedAt: number;
  backoff: number;
  ready: boolean;
  /** Resolves when the process in this slot first serves, or rejects when it dies before. */
  firstReady: PromiseWithResolvers<void> | undefined;
  restartTimer: ReturnType<typeof setTimeout> | undefined;
}

/** The supervisor's flags a worker does not get: `--workers`, and the secrets (by environment). */
const SUPERVISOR_ONLY = new Set(["--workers", "--http-token", "--http-token-file"]);

/**
 * The args for a worker: `args` without `--workers` and without the
 * secret-bearing flags (`--http-token`, `--http-token-file`: the worker
 * gets the token in {@linkcode HTTP_TOKEN_ENV}, which `ps` does not show),
 * plus `--worker <i>` and, when this supervisor runs NATS, `--cluster <url>`.
 *
 * @param args The supervisor's command line.
 * @param index The worker's number, from 1.
 * @param natsUrl The local NATS server's URL, if any.
 * @returns The worker's command line (after the script).
 */
export function workerArgs(args: readonly string[], index: number, natsUrl?: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      out.push(...args.slice(i));
      break;
    }
    if (SUPERVISOR_ONLY.has(arg)) i++;
    else if (!SUPERVISOR_ONLY.has(arg.split("=")[0]!)) out.push(arg);
  }
  out.push("--worker", String(index));
  if (natsUrl !== undefined) out.push("--cluster", natsUrl);
  return out;
}

/** The permission flags this process runs with, for the workers (`-A` when it has all). */
function permissionFlags(): string[] {
  const names = ["read", "write", "net", "env", "sys", "run", "ffi", "import"] as const;
  const granted = names.filter((name) => Deno.permissions.querySync({ name }).state === "granted");
  if (granted.length === names.length) return ["-A"];
  return granted.filter((name) => name !== "run").map((name) => `--allow-${name}`);
}

/** The command that starts a worker: this binary, or `deno run` of `cli.ts`. */
function workerCommand(args: string[]): { command: string; args: string[] } {
  if (Deno.build.standalone) return { command: Deno.execPath(), args };
  const url = new URL("../cli.ts", import.meta.url);
  const script = url.protocol === "file:" ? fileURLToPath(url) : url.href;
  return {
    command: Deno.execPath(),
    // As `deno task start` runs the service.
    args: ["run", ...permissionFlags(), "--v8-flags=--max-semi-space-size=4", script, ...args],
  };
}

/** Copies a worker's stdout to ours line by line, noting {@linkcode WORKER_READY}. */
async function pipeLines(stream: ReadableStream<Uint8Array>, ready: () => void): Promise<void> {
  const encoder = new TextEncoder();
  let rest = "";
  try {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      const lines = (rest + text).split("\n");
      rest = lines.pop()!;
      const out = lines.filter((line) => {
        if (line !== WORKER_READY) return true;
        ready();
        return false;
      });
      if (out.length > 0) await Deno.stdout.write(encoder.encode(out.join("\n") + "\n"));
    }
  } catch {
    // the worker is gone
  }
  if (rest.length > 0) await Deno.stdout.write(encoder.encode(rest + "\n"));
}

function describeExit(status: Deno.CommandStatus): string {
  return status.signal === null ? `code ${status.code}` : `signal ${status.signal}`;
}

/**
 * Runs the supervisor until SIGINT or SIGTERM.
 *
 * @param args The command line it was started with.
 * @param config The service config (validated; `config.workers` > 1).
 * @param log Where its log lines go.
 * @param options The start timeout.
 * @returns The exit code: 0 after a clean shutdown; 1 when NATS or a
 * worker's first start fails or times out (that worker's code when it gave
 * one).
 */
export async function superviseWorkers(
  args: readonly string[],
  config: ServiceConfig,
  log: Logger,
  options: SuperviseOptions = {},
): Promise<number> {
  if (Deno.permissions.querySync({ name: "run" }).state !== "granted") {
    console.error(
      "cloverleaf: --workers needs --allow-run (it starts the worker processes and nats-server): " +
        "deno task start:workers, or deno run --allow-run … cli.ts",
    );
    return 1;
  }
  // Workers get only what is granted in full: a scoped grant (--allow-net=host) reads as
  // "prompt", and a worker without it could not listen or read its config.
  const partial = (["net", "read", "env"] as const)
    .filter((name) => Deno.permissions.querySync({ name }).state !== "granted");
  if (partial.length > 0) {
    console.error(
      `cloverleaf: --workers needs ${partial.map((n) => `--allow-${n}`).join(", ")} without a ` +
        "scope (the workers are started with the same flags): deno task start:workers",
    );
    return 1;
  }
  const startTimeout = options.startTimeout ?? 60_000;
  let nats: LocalNats | undefined;
  if (config.cluster === undefined) {
    try {
      nats = await startNats(log, natsMaxPayload(config));
    } catch (error) {
      console.error(`cloverleaf: ${error instanceof Error ? error.message : error}`);
      return 1;
    }
  }
  const env: Record<string, string> = nats === undefined ? {} : { [CLUSTER_TOKEN_ENV]: nats.token };
  let sockets: WorkerSockets | undefined;
  try {
    sockets = await makeWorkerSockets({
      workers: config.workers,
      longpoll: config.listeners.some((l) => l.type === "universal" || l.type === "longpoll"),
      admin: config.admin !== undefined,
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`cloverleaf: Cannot make the workers' private directory: ${message}`);
    await nats?.stop();
    return 1;
  }
  if (sockets !== undefined) env[WORKER_ENV] = JSON.stringify(sockets);
  if (config.quickBridge !== undefined) env[HTTP_TOKEN_ENV] = config.quickBridge.token;
  // One decoy secret for all: an unknown authid's CHALLENGE is the same from every worker.
  env[DECOY_SECRET_ENV] = config.decoySecret ?? crypto.randomUUID();
  if (sockets?.relay !== undefined) {
    log(
      "info",
      `Supervisor: long-poll relay between the workers on Unix sockets in ${sockets.dir}`,
    );
  }
  for (const l of config.listeners) {
    if (l.maxConnections === undefined || l.maxConnections === 0) continue;
    log(
      "info",
      `Supervisor: maxConnections ${l.maxConnections} on ${l.host}:${l.port} is per worker: ` +
        `up to ${l.maxConnections * config.workers} connections in all`,
    );
  }
  const slots: Slot[] = Array.from({ length: config.workers }, (_, i) => ({
    index: i + 1,
    child: undefined,
    firstReady: undefined,
    restartTimer: undefined,
    startedAt: 0,
    backoff: FIRST_BACKOFF,
    ready: false,
  }));
  let stopping = false;
  let admin: WorkersAdminServer | undefined;
  if (config.admin !== undefined && sockets?.admin !== undefined) {
    const { secret, sockets: paths } = sockets.admin;
    const workerAdmins = slots.map((slot, i) => ({
      index: slot.index,
      socket: paths[i]!,
      ready: () => slot.ready && slot.child !== undefined,
    }));
    try {
      admin = await serveWorkersAdmin(config.admin, workerAdmins, secret);
    } catch (error) {
      const { host, port } = config.admin;
      console.error(`cloverleaf: Cannot serve the admin listener on ${host}:${port}: ${error}`);
      await nats?.stop();
      await removeWorkerSockets(sockets);
      return 1;
    }
    log(
      "info",
      `Supervisor: admin listener on ${admin.url} (/metrics of every worker, /health, /ready)`,
    );
  }

  const start = (slot: Slot) => {
    slot.restartTimer = undefined;
    const { command, args: argv } = workerCommand(workerArgs(args, slot.index, nats?.url));
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(command, {
        args: argv,
        // The local NATS server's token, the private sockets' secrets and --http-token go by
        // environment, not argv (which `ps` shows every user).
        env,
        stdin: "piped",
        stdout: "piped",
        stderr: "inherit",
        detached: true,
      }).spawn();
    } catch (error) {
      log("error", `Supervisor: cannot start worker ${slot.index}: ${error}`);
      if (slot.firstReady !== undefined) slot.firstReady.reject(error);
      else if (!stopping) restartLater(slot); // a restart that failed is retried, not dropped
      return;
    }
    slot.child = child;
    slot.ready = false;
    slot.startedAt = Date.now();
    log("info", `Supervisor: worker ${slot.index} started (pid ${child.pid})`);
    const output = pipeLines(child.stdout, () => {
      slot.ready = true;
      log("info", `Supervisor: worker ${slot.index} ready (pid ${child.pid})`);
      slot.firstReady?.resolve();
    });
    void child.status.then(async (status) => {
      await output;
      // The pipe to its stdin is ours to close: one fd per restart otherwise.
      await child.stdin.close().catch(() => {});
      if (slot.child === child) slot.child = undefined;
      if (!slot.ready && slot.firstReady !== undefined) {
        // The first start failed: the supervisor stops everything.
        log("error", `Supervisor: worker ${slot.index} exited with ${describeExit(status)}`);
        slot.firstReady.reject(status);
        return;
      }
      if (stopping) return;
      if (Date.now() - slot.startedAt > STABLE_AFTER) slot.backoff = FIRST_BACKOFF;
      log(
        "warn",
        `Supervisor: worker ${slot.index} (pid ${child.pid}) exited with ${
          describeExit(status)
        }; restarting in ${slot.backoff} ms`,
      );
      restartLater(slot);
    });
  };

  /** Starts `slot` again after its backoff, which doubles for the next time. */
  const restartLater = (slot: Slot) => {
    slot.restartTimer = setTimeout(() => start(slot), slot.backoff);
    slot.backoff = Math.min(slot.backoff * 2, MAX_BACKOFF);
  };

  const shutdown = async () => {
    stopping = true;
    await admin?.close();
    for (const slot of slots) clearTimeout(slot.restartTimer);
    await Promise.all(slots.map(async (slot) => {
      if (slot.child === undefined) return;
      await stopChild(slot.child, STOP_TIMEOUT);
      log("info", `Supervisor: worker ${slot.index} stopped`);
    }));
    await removeWorkerSockets(sockets);
    if (nats !== undefined) {
      await nats.stop();
      log("info", "Supervisor: NATS stopped");
    }
  };

  const stopped = interrupted();
  try {
    for (const slot of slots) {
      slot.firstReady = Promise.withResolvers<void>();
      // Handled below; avoids an unhandled rejection if it fails first.
      slot.firstReady.promise.catch(() => {});
      start(slot);
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const late = slots.filter((slot) => !slot.ready).map((slot) => slot.index);
        log("error", `Supervisor: worker ${late.join(", ")} not serving after ${startTimeout} ms`);
        reject(new Error("start timeout"));
      }, startTimeout);
    });
    const first = await Promise.race([
      Promise.all(slots.map((slot) => slot.firstReady!.promise)).then(() => undefined),
      stopped.promise.then(() => undefined),
      timedOut,
    ]).catch((failure: unknown) => failure);
    clearTimeout(timer);
    for (const slot of slots) slot.firstReady = undefined;
    if (first !== undefined) {
      const status = first as Partial<Deno.CommandStatus>;
      log("error", "Supervisor: a worker failed to start: stopping");
      await shutdown();
      return typeof status.code === "number" && status.code > 0 ? status.code : 1;
    }
    log("info", `Supervisor: ${slots.length} workers serving (pid ${Deno.pid})`);
    await stopped.promise;
    log("info", "Supervisor: shutting down the workers, then NATS");
    await shutdown();
    log("info", "Supervisor: stopped");
    return 0;
  } finally {
    stopped.dispose();
  }
}
