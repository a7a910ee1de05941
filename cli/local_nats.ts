/**
 * The `nats-server` a `--workers` supervisor starts when no `--cluster` is
 * given: on a free loopback port with a temporary store, and watched so
 * that it never outlives the supervisor.
 *
 * @module
 */

import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger } from "../router/mod.ts";
import { freePort, reachable } from "./ports.ts";
import { signal, stopChild } from "./process.ts";
import type { ServiceConfig } from "./service_config.ts";

/**
 * The shell script `nats-server` runs under (POSIX systems): it starts
 * `nats-server` with the script's arguments, prints its pid, and kills it
 * (then removes its store, `$CLOVERLEAF_NATS_STORE`) when its stdin (a pipe
 * from the supervisor) ends: at a normal shutdown, when the supervisor
 * closes it, and when the supervisor dies, even by SIGKILL, so that no
 * `nats-server` outlives its supervisor.
 */
export const NATS_WATCH = '"$@" </dev/null >/dev/null 2>&1 & echo $!; read _ || true; ' +
  'kill $! 2>/dev/null; wait $!; rm -rf -- "$CLOVERLEAF_NATS_STORE"';

/** A `nats-server` this supervisor started. */
export interface LocalNats {
  readonly url: string;
  /** The token it requires: a random one, kept in its 0700 store, never on a command line. */
  readonly token: string;
  /** The `nats-server` process's pid. */
  readonly pid: number;
  readonly store: string;
  /** Stops it (within 5 s, then SIGKILL) and removes its store. */
  stop(): Promise<void>;
}

/** nats-server's default `max_payload`, 1 MiB. */
const NATS_DEFAULT_PAYLOAD = 1024 * 1024;
/** The largest `max_payload` nats-server takes (no more than its default `max_pending`), 64 MiB. */
export const NATS_MAX_PAYLOAD = 64 * 1024 * 1024;
/** What a message gains as it crosses: its envelope (the caller's details, the call's, the subject). */
const ENVELOPE_BYTES = 64 * 1024;

/**
 * The `max_payload` of the supervisor's `nats-server`: room for the
 * largest message a worker takes in (a listener's `maxMessageSize`, an HTTP
 * bridge path's `maxBodySize`, an HTTP service's `maxResponseSize`) as it
 * crosses to another worker: re-encoded as msgpack, which can take 3 times
 * its bytes (a CBOR array of float16, 3 bytes each, as float64, 9), in its
 * envelope; no less than NATS's default, 1 MiB, and no more than
 * {@linkcode NATS_MAX_PAYLOAD}. A message that fits a worker must not
 * fail only because its peer is on another worker.
 *
 * @param config The service config.
 * @returns The bytes.
 *
 * @example
 * ```ts
 * import { natsMaxPayload } from "./local_nats.ts";
 * import { equal } from "node:assert/strict";
 *
 * const listener = { maxMessageSize: 65536 };
 * const config = { listeners: [listener], bridges: [], httpServices: [] };
 * equal(natsMaxPayload(config as never), 1024 * 1024);
 * listener.maxMessageSize = 16 * 1024 * 1024; // the default
 * equal(natsMaxPayload(config as never), 48 * 1024 * 1024 + 65536);
 * listener.maxMessageSize = 64 * 1024 * 1024;
 * equal(natsMaxPayload(config as never), 64 * 1024 * 1024);
 * ```
 */
export function natsMaxPayload(
  config: Pick<ServiceConfig, "listeners" | "bridges" | "httpServices">,
): number {
  const largest = Math.max(
    0,
    ...config.listeners.map((l) => l.maxMessageSize),
    ...config.bridges.map(({ bridge }) => bridge.maxBodySize),
    ...config.httpServices.map((s) => s.maxResponseSize),
  );
  return Math.min(NATS_MAX_PAYLOAD, Math.max(NATS_DEFAULT_PAYLOAD, 3 * largest + ENVELOPE_BYTES));
}

/** `nats-server`'s path on the PATH, else undefined. */
function findNatsServer(): string | undefined {
  const name = Deno.build.os === "windows" ? "nats-server.exe" : "nats-server";
  const separator = Deno.build.os === "windows" ? ";" : ":";
  for (const dir of (Deno.env.get("PATH") ?? "").split(separator)) {
    if (dir === "") continue;
    const path = join(dir, name);
    try {
      if (statSync(path).isFile()) return path;
    } catch {
      // not there
    }
  }
  return undefined;
}

/** Reads the first line of a stream (then lets the rest go). */
async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  let text = "";
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  try {
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  return text.split("\n")[0]!.trim();
}

/**
 * Starts `nats-server -js` on a free loopback port with a temporary store,
 * under {@linkcode NATS_WATCH} (directly on Windows).
 *
 * @param log Where it logs that NATS started.
 * @param maxPayload Its `max_payload` ({@linkcode natsMaxPayload}).
 * @returns The running server.
 * @throws {Error} When `nats-server` is not on the PATH or does not start.
 */
export async function startNats(
  log: Logger,
  maxPayload = NATS_DEFAULT_PAYLOAD,
): Promise<LocalNats> {
  const natsServer = findNatsServer();
  if (natsServer === undefined) {
    throw new Error(
      "--workers without --cluster needs nats-server on the PATH (apt install nats-server), " +
        "or give --cluster <nats-url>",
    );
  }
  const port = await freePort();
  const store = mkdtempSync(join(tmpdir(), "cloverleaf-nats-"));
  // Only the workers may connect: a token from a file no other user can read (mkdtemp is 0700).
  const token = Array.from(
    crypto.getRandomValues(new Uint8Array(24)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  const conf = join(store, "nats.conf");
  // max_control_line past its 4096 default: defence in depth (every subject the cluster builds is bounded).
  const lines = [
    `authorization { token: "${token}" }`,
    "max_control_line: 16384",
    `max_payload: ${maxPayload}`,
  ];
  writeFileSync(conf, lines.join("\n") + "\n", { mode: 0o600 });
  const natsArgs = ["-c", conf, "-a", "127.0.0.1", "-p", String(port), "-js", "-sd", store];
  const watched = Deno.build.os !== "windows";
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(watched ? "/bin/sh" : natsServer, {
      args: watched ? ["-c", NATS_WATCH, "nats-watch", natsServer, ...natsArgs] : natsArgs,
      env: { CLOVERLEAF_NATS_STORE: store },
      stdin: watched ? "piped" : "null",
      stdout: watched ? "piped" : "null",
      stderr: "null",
      detached: true,
    }).spawn();
  } catch (error) {
    rmSync(store, { recursive: true, force: true });
    throw new Error(
      `cannot start ${natsServer}: ${error instanceof Error ? error.message : error}`,
    );
  }
  const pid = watched ? Number(await firstLine(child.stdout)) : child.pid;
  const writer = watched ? child.stdin.getWriter() : undefined;
  const stop = async () => {
    await stopChild(child, 5000, {
      // The watch script kills nats-server when its stdin ends.
      ask: () => writer === undefined ? signal(child, "SIGTERM") : writer.close().catch(() => {}),
      kill: () => {
        for (const target of [pid, child.pid]) {
          try {
            Deno.kill(target, "SIGKILL");
          } catch {
            // gone
          }
        }
      },
    });
    rmSync(store, { recursive: true, force: true });
  };
  const exited = child.status.then(() => false);
  if (!Number.isInteger(pid) || pid <= 0 || !await Promise.race([reachable(port, 5000), exited])) {
    await stop();
    throw new Error(`nats-server did not start on 127.0.0.1:${port} within 5 s`);
  }
  const url = `nats://127.0.0.1:${port}`;
  log(
    "info",
    `Supervisor: NATS started at ${url} (pid ${pid}, max_payload ${maxPayload}, store ${store})`,
  );
  return { url, token, pid, store, stop };
}
