/**
 * The admin listener of a `--workers` supervisor (`--admin` with
 * `--workers`). Each worker serves its own admin listener (`serveAdmin`) on
 * a private Unix socket with the supervisor's secret as its token; the
 * supervisor serves the configured address, with the configured access
 * (a bearer token, else loopback clients only), and answers from them:
 *
 * - `GET /metrics`: every worker's metrics in one exposition, each sample
 *   with a `worker` label, plus `cloverleaf_worker_up{worker}` (0 for a
 *   worker that did not answer within 5 s, whose samples are left out);
 * - `GET /health`: 200 while the supervisor runs, with each worker's state;
 * - `GET /ready`: 200 when every worker's `/ready` is 200, else 503.
 *
 * The dashboard (`/`, `/events`) is not served under `--workers` (404):
 * the workers' own are on their private sockets, which only the
 * supervisor reaches.
 *
 * @module
 */

import { json, refusal } from "../admin/access.ts";
import type { AdminConfig } from "./service_config.ts";
import { authority } from "../transports/address.ts";

/** Milliseconds a worker's admin listener has to answer the supervisor. */
const WORKER_TIMEOUT = 5000;
const EXPOSITION = "text/plain; version=0.0.4; charset=utf-8";

/** A worker's admin listener, as the supervisor reaches it. */
export interface WorkerAdmin {
  /** The worker's number. */
  readonly index: number;
  /** Its private Unix socket. */
  readonly socket: string;
  /** Whether the worker runs and has said it serves. */
  ready(): boolean;
}

/** The supervisor's admin listener. */
export interface WorkersAdminServer {
  /** Its base URL. */
  readonly url: string;
  /** Stops serving. */
  close(): Promise<void>;
}

/** One metric family of a worker's exposition: its `# HELP`/`# TYPE` lines and samples. */
interface Family {
  head: string[];
  samples: string[];
}

/**
 * Merges expositions into one, each sample labelled with its worker:
 * the families in the order first seen, each family's `# HELP`/`# TYPE`
 * once, then its samples from every worker.
 *
 * @param texts Each worker's exposition, by worker number.
 * @returns The merged exposition.
 *
 * @example
 * ```ts
 * import { mergeExpositions } from "./workers_admin.ts";
 * import { equal } from "node:assert/strict";
 *
 * const one = "# HELP x_total X.\n# TYPE x_total counter\nx_total{realm=\"r\"} 1\n";
 * const two = "# HELP x_total X.\n# TYPE x_total counter\nx_total{realm=\"r\"} 2\n";
 * equal(
 *   mergeExpositions(new Map([[1, one], [2, two]])),
 *   '# HELP x_total X.\n# TYPE x_total counter\nx_total{worker="1",realm="r"} 1\n' +
 *     'x_total{worker="2",realm="r"} 2\n',
 * );
 * ```
 */
export function mergeExpositions(texts: ReadonlyMap<number, string>): string {
  const families = new Map<string, Family>();
  for (const [worker, text] of texts) {
    let family: Family | undefined;
    for (const line of text.split("\n")) {
      if (line === "") continue;
      const comment = /^# (HELP|TYPE) (\S+)/.exec(line);
      if (comment !== null) {
        const name = comment[2]!;
        family = families.get(name);
        if (family === undefined) families.set(name, family = { head: [], samples: [] });
        if (family.head.length < 2 && !family.head.some((h) => h.startsWith(`# ${comment[1]}`))) {
          family.head.push(line);
        }
        continue;
      }
      if (line.startsWith("#") || family === undefined) continue;
      family.samples.push(labelled(line, worker));
    }
  }
  const lines: string[] = [];
  for (const family of families.values()) lines.push(...family.head, ...family.samples);
  return lines.length === 0 ? "" : lines.join("\n") + "\n";
}

/** A sample line with `worker="<n>"` first among its labels. */
function labelled(line: string, worker: number): string {
  const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{)?/.exec(line)!;
  const name = match[1]!;
  const label = `worker="${worker}"`;
  if (match[2] === undefined) return `${name}{${label}}${line.slice(name.length)}`;
  const rest = line.slice(name.length + 1);
  return `${name}{${label}${rest.startsWith("}") ? "" : ","}${rest}`;
}

/**
 * Serves the supervisor's admin listener.
 *
 * @param config The configured address and token.
 * @param workers The workers' admin listeners.
 * @param secret The token the workers' admin listeners require.
 * @returns The running server.
 * @throws {Error} When the address cannot be bound.
 */
export async function serveWorkersAdmin(
  config: AdminConfig,
  workers: readonly WorkerAdmin[],
  secret: string,
): Promise<WorkersAdminServer> {
  const startedAt = Date.now();
  // Straight to each socket: no HTTP_PROXY from the environment in between.
  const clients = new Map(workers.map((w) => [
    w.index,
    Deno.createHttpClient({ proxy: { transport: "unix", path: w.socket } }),
  ]));
  /** A worker's answer to `GET <path>`, or undefined when it gives none in time. */
  const ask = async (worker: WorkerAdmin, path: string) => {
    if (!worker.ready()) return undefined;
    try {
      const res = await fetch(`http://worker-${worker.index}${path}`, {
        headers: { authorization: `Bearer ${secret}` },
        client: clients.get(worker.index)!,
        signal: AbortSignal.timeout(WORKER_TIMEOUT),
      });
      return { status: res.status, text: await res.text() };
    } catch {
      return undefined;
    }
  };
  const metrics = async () => {
    const answers = await Promise.all(workers.map((w) => ask(w, "/metrics")));
    const texts = new Map<number, string>();
    const up = [
      "# HELP cloverleaf_worker_up Whether the worker answered this scrape.",
      "# TYPE cloverleaf_worker_up gauge",
    ];
    workers.forEach((w, i) => {
      const answer = answers[i];
      const ok = answer !== undefined && answer.status === 200;
      if (ok) texts.set(w.index, answer.text);
      up.push(`cloverleaf_worker_up{worker="${w.index}"} ${ok ? 1 : 0}`);
    });
    return new Response(up.join("\n") + "\n" + mergeExpositions(texts), {
      headers: { "content-type": EXPOSITION, "cache-control": "no-store" },
    });
  };
  const ready = async () => {
    const answers = await Promise.all(workers.map((w) => ask(w, "/ready")));
    const states = Object.fromEntries(
      workers.map((w, i) => [w.index, answers[i]?.status === 200 ? "ready" : "not ready"]),
    );
    const ok = Object.values(states).every((s) => s === "ready");
    return json(ok ? 200 : 503, { status: ok ? "ready" : "not ready", workers: states });
  };
  const handle = async (request: Request, remote: string): Promise<Response> => {
    if (request.method !== "GET" && request.method !== "HEAD") {
      return json(405, { error: "method not allowed" });
    }
    const refused = refusal(request, remote, config.token);
    if (refused !== undefined) return refused;
    switch (new URL(request.url).pathname) {
      case "/metrics":
        return await metrics();
      case "/health":
        return json(200, {
          status: "up",
          uptime: Math.round((Date.now() - startedAt) / 1000),
          workers: Object.fromEntries(workers.map((w) => [w.index, w.ready() ? "up" : "down"])),
        });
      case "/ready":
        return await ready();
      default:
        return json(404, {
          error: "not found",
          message: "Under --workers this listener serves /metrics, /health and /ready",
        });
    }
  };
  const listening = Promise.withResolvers<Deno.NetAddr>();
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname: config.host,
      port: config.port,
      onListen: listening.resolve,
      onError: () => json(500, { error: "internal error" }),
    }, (request, info) => handle(request, info.remoteAddr.hostname));
  } catch (error) {
    for (const client of clients.values()) client.close();
    throw error;
  }
  const addr = await listening.promise;
  return {
    url: `http://${authority(addr.hostname, addr.port)}`,
    async close() {
      await server.shutdown();
      for (const client of clients.values()) client.close();
    },
  };
}
