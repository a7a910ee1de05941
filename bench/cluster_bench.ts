/**
 * The cluster benchmark: the `pubsub`, `fanout` and `rpc` load scenarios of
 * `bench/load/` against, in one run and in turn,
 *
 * - `single`: one router process (`cli.ts`, no cluster): `--workers 1`;
 * - `cross-node`: two router processes joined through one `nats-server`,
 *   every publisher and caller on node A, every subscriber and the callee
 *   on node B (each EVENT, CALL and RESULT crosses NATS);
 * - `workers-2`: `cli.ts --workers 2` on one port, every peer connecting to
 *   it (the kernel spreads the connections over the two workers).
 *
 * It reports throughput, p50/p99 latency, the CPU of every server process
 * (routers, workers and nats-server together, in cores, and in µs per
 * event or call) and, for `cross-node`, NATS messages in and out per
 * publication or call (from the server's monitoring endpoint, heartbeats
 * included; a NATS message may carry a batch). Also how 200 connections to
 * the `workers-2` port spread over the workers.
 *
 * Two more scenarios measure per-connection work, on `single` and
 * `workers-2` (not `cross-node`):
 *
 * - `logins`: `--concurrency` lean clients in a loop connect over `wss://`
 *   (a TLS handshake with the RSA-2048 test certificate), join realm
 *   `auth1` with WAMP-Cryptosign (an Ed25519 signature the router
 *   verifies) and drop the connection; logins/s;
 * - `joins`: the same over plain `ws://`, anonymous.
 *
 * ```sh
 * deno run -A bench/cluster_bench.ts                       # msgpack, 5 s each
 * deno run -A bench/cluster_bench.ts --serializer json --duration 10 --rounds 2
 * deno run -A bench/cluster_bench.ts --scenarios pubsub,rpc --window 2048 --depth 256
 * deno run -A bench/cluster_bench.ts --setups single,workers-2 --scenarios logins,joins
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SerializerName } from "../mod.ts";
import { connect } from "../mod.ts";
import { cryptosignKeyPair, MessageType, serializers, type WampMessage } from "../wamp/mod.ts";
import { signChallenge } from "../wamp/auth/cryptosign.ts";
import { encodeBytes } from "../transports/stream/encode.ts";
import { openConn } from "./load/conn.ts";
import { testPki } from "../tests/_helpers/tls.ts";
import { pubsub } from "./load/pubsub.ts";
import { rpc } from "./load/rpc.ts";
import { DEFAULTS } from "./load/scenarios.ts";
import type { Target } from "./load/session.ts";
import { cpuSeconds, round } from "./load/stats.ts";
import { freePort, reachable } from "../cli/ports.ts";

const { values } = parseArgs({
  options: {
    serializer: { type: "string", default: "msgpack" },
    duration: { type: "string", default: "5" },
    rounds: { type: "string", default: "1" },
    setups: { type: "string", default: "single,cross-node,workers-2" },
    scenarios: { type: "string", default: "pubsub,fanout,rpc" },
    window: { type: "string" },
    depth: { type: "string" },
    concurrency: { type: "string", default: "16" },
  },
});
const serializer = serializers[values.serializer as SerializerName];
const duration = Number(values.duration);
const ROOT = new URL("..", import.meta.url);
const CLI = ["run", "-A", "--v8-flags=--max-semi-space-size=4", "cli.ts"];
const pki = await testPki();
const key = cryptosignKeyPair();

/**
 * The service flags of a router: a config file with realm `realm1`
 * (anonymous), realm `auth1` (WAMP-Cryptosign only, for `key`) and a
 * `wss://` listener on `tlsPort`, plus a WebSocket listener on `port`.
 */
async function serviceArgs(port: number, tlsPort: number): Promise<string[]> {
  const file = `${pki.dir}/bench-${tlsPort}.json`;
  await Deno.writeTextFile(
    file,
    JSON.stringify({
      listeners: [{
        type: "websocket",
        host: "127.0.0.1",
        port: tlsPort,
        tls: { cert: `${pki.dir}/server.pem`, key: `${pki.dir}/server.key` },
      }],
      realms: [
        { name: "realm1" },
        {
          name: "auth1",
          auth: {
            cryptosign: {
              principals: { bench: { role: "user", authorizedKeys: [key.publicKey] } },
            },
          },
        },
      ],
    }),
  );
  return ["-c", file, "--ws", `127.0.0.1:${port}`];
}

/** A process this benchmark started. */
interface Proc {
  child: Deno.ChildProcess;
  lines: string[];
  stop(): Promise<void>;
}

/** One setup under test: where each role connects, and the server processes. */
interface Setup {
  name: string;
  target: Target;
  pids(): number[];
  natsStats?: () => Promise<{ in: number; out: number; inBytes: number }>;
  /** The `ws://` and `wss://` URLs for `joins` and `logins`, when the setup serves them. */
  joinUrls?: { ws: string; wss: string };
  stop(): Promise<void>;
}

/** Starts `command args`, keeps its stdout lines, resolves once `ready` matches one. */
async function spawn(command: string, args: string[], ready: RegExp): Promise<Proc> {
  const child = new Deno.Command(command, {
    args,
    cwd: ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const lines: string[] = [];
  let seen = () => {};
  const isReady = new Promise<void>((resolve) => seen = resolve);
  void (async () => {
    let rest = "";
    for await (const text of child.stdout.pipeThrough(new TextDecoderStream())) {
      const parts = (rest + text).split("\n");
      rest = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        if (ready.test(line)) seen();
      }
    }
  })();
  const timeout = setTimeout(() => {
    throw new Error(`${args.join(" ")} not ready in 30 s:\n${lines.join("\n")}`);
  }, 30_000);
  await isReady;
  clearTimeout(timeout);
  return {
    child,
    lines,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        // gone
      }
      await child.status;
    },
  };
}

async function startNats(): Promise<{ url: string; monitor: number; proc: Proc }> {
  const port = await freePort();
  const monitor = await freePort();
  const store = mkdtempSync(join(tmpdir(), "clv-bench-nats-"));
  const child = new Deno.Command("nats-server", {
    args: ["-a", "127.0.0.1", "-p", String(port), "-m", String(monitor), "-js", "-sd", store],
    stdout: "null",
    stderr: "null",
  }).spawn();
  if (!await reachable(port, 5000)) throw new Error(`nats-server not up on port ${port} in 5 s`);
  const proc: Proc = {
    child,
    lines: [],
    async stop() {
      child.kill("SIGTERM");
      await child.status;
      rmSync(store, { recursive: true, force: true });
    },
  };
  return { url: `nats://127.0.0.1:${port}`, monitor, proc };
}

async function single(): Promise<Setup> {
  const [port, tlsPort] = [await freePort(), await freePort()];
  const node = await spawn(
    Deno.execPath(),
    [...CLI, ...await serviceArgs(port, tlsPort)],
    /Listening/,
  );
  for (const p of [port, tlsPort]) {
    if (!await reachable(p, 5000)) throw new Error(`single: port ${p} not served in 5 s`);
  }
  const url = `ws://127.0.0.1:${port}/ws`;
  return {
    name: "single",
    target: { url, realm: "realm1", serializer, floor: false },
    joinUrls: { ws: url, wss: `wss://localhost:${tlsPort}/ws` },
    pids: () => [node.child.pid],
    stop: () => node.stop(),
  };
}

async function crossNode(): Promise<Setup> {
  const nats = await startNats();
  const [pa, pb] = [await freePort(), await freePort()];
  const a = await spawn(
    Deno.execPath(),
    [...CLI, "--ws", `127.0.0.1:${pa}`, "--cluster", nats.url],
    /Listening/,
  );
  const b = await spawn(
    Deno.execPath(),
    [...CLI, "--ws", `127.0.0.1:${pb}`, "--cluster", nats.url],
    /Listening/,
  );
  const urlA = `ws://127.0.0.1:${pa}/ws`, urlB = `ws://127.0.0.1:${pb}/ws`;
  return {
    name: "cross-node",
    target: {
      url: urlA,
      realm: "realm1",
      serializer,
      floor: false,
      urls: { pub: urlA, caller: urlA, sub: urlB, callee: urlB },
    },
    pids: () => [a.child.pid, b.child.pid, nats.proc.child.pid],
    async natsStats() {
      const varz = await (await fetch(`http://127.0.0.1:${nats.monitor}/varz`)).json();
      return {
        in: varz.in_msgs as number,
        out: varz.out_msgs as number,
        inBytes: varz.in_bytes as number,
      };
    },
    async stop() {
      await Promise.all([a.stop(), b.stop()]);
      await nats.proc.stop();
    },
  };
}

async function workers(): Promise<Setup> {
  const [port, tlsPort] = [await freePort(), await freePort()];
  const sup = await spawn(
    Deno.execPath(),
    [...CLI, "--workers", "2", ...await serviceArgs(port, tlsPort)],
    /workers serving/,
  );
  const pids = () => {
    const found = new Map<string, number>();
    for (const line of sup.lines) {
      const w = /Supervisor: worker (\d+) ready \(pid (\d+)\)/.exec(line);
      if (w !== null) found.set(`w${w[1]}`, Number(w[2]));
      const n = /Supervisor: NATS started at \S+ \(pid (\d+)/.exec(line);
      if (n !== null) found.set("nats", Number(n[1]));
    }
    return [...found.values()];
  };
  const url = `ws://127.0.0.1:${port}/ws`;
  // Which worker each of 200 connections lands on (a node's session IDs share ID / 2^37).
  const slots = new Map<number, number>();
  for (let i = 0; i < 200; i++) {
    const s = await connect(url, { realm: "realm1" });
    const slot = Math.floor(s.id / 2 ** 37);
    slots.set(slot, (slots.get(slot) ?? 0) + 1);
    await s.close();
  }
  console.log(`workers-2: 200 connections landed ${[...slots.values()].join(" / ")}`);
  return {
    name: "workers-2",
    // `urls` marks a cluster target: the rpc scenario waits for the registration to spread.
    target: { url, realm: "realm1", serializer, floor: false, urls: { caller: url } },
    joinUrls: { ws: url, wss: `wss://localhost:${tlsPort}/ws` },
    pids,
    stop: () => sup.stop(),
  };
}

const SETUPS: Record<string, () => Promise<Setup>> = {
  single,
  "cross-node": crossNode,
  "workers-2": workers,
};

/**
 * One login the way a lean client does it: connect (`wss://` or `ws://`),
 * HELLO, answer the Cryptosign CHALLENGE (`auth`), WELCOME, then drop the
 * connection (as a client that goes away does; the router cleans up).
 */
async function login(url: string, auth: boolean): Promise<void> {
  const tls = url.startsWith("wss:") ? { caCerts: [pki.ca], serverName: "localhost" } : undefined;
  const conn = await openConn(url, serializer, tls);
  const inbox: WampMessage[] = [];
  let wake = () => {};
  conn.onMessage = (payload) => {
    inbox.push(serializer.decode(payload));
    wake();
  };
  const next = async (): Promise<WampMessage> => {
    const deadline = Date.now() + 10_000;
    while (inbox.length === 0) {
      if (Date.now() > deadline) throw new Error("login: no answer in 10 s");
      await Promise.race([
        new Promise<void>((resolve) => wake = resolve),
        conn.closed.then(() => {
          throw new Error("login: connection closed");
        }),
      ]);
    }
    return inbox.shift()!;
  };
  try {
    const details = auth
      ? {
        roles: { caller: {} },
        authmethods: ["cryptosign"],
        authid: "bench",
        authextra: { pubkey: key.publicKey },
      }
      : { roles: { caller: {} } };
    const realm = auth ? "auth1" : "realm1";
    conn.send(encodeBytes(serializer, { type: MessageType.HELLO, realm, details }));
    let msg = await next();
    if (msg.type === MessageType.CHALLENGE) {
      const signature = signChallenge(key, String(msg.extra.challenge));
      conn.send(encodeBytes(serializer, { type: MessageType.AUTHENTICATE, signature, extra: {} }));
      msg = await next();
    }
    if (msg.type !== MessageType.WELCOME) throw new Error(`login: got message ${msg.type}`);
  } finally {
    conn.close();
  }
}

/**
 * `concurrency` loops that log in ({@linkcode login}) for `duration` s
 * (after a 1 s warm-up): logins per second, failures, the server's and
 * this process's CPU.
 */
async function loginLoop(
  url: string,
  auth: boolean,
  cpu: () => () => number,
): Promise<{ perSecond: number; failed: number; cpu: number; client: number }> {
  let joined = 0, failed = 0, running = true;
  const loop = async () => {
    while (running) {
      try {
        await login(url, auth);
        joined++;
      } catch {
        failed++;
      }
    }
  };
  const loops = Array.from({ length: Number(values.concurrency) }, loop);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const [j0, t0, used, c0] = [joined, performance.now(), cpu(), cpuSeconds("self")!];
  await new Promise((resolve) => setTimeout(resolve, duration * 1000));
  const [j1, t1, cores, c1] = [joined, performance.now(), used(), cpuSeconds("self")!];
  running = false;
  await Promise.all(loops);
  const seconds = (t1 - t0) / 1000;
  return {
    perSecond: Math.round((j1 - j0) / seconds),
    failed,
    cpu: cores,
    client: round((c1 - c0) / seconds),
  };
}

function serverCpu(pids: number[]): () => number {
  const t0 = performance.now();
  const total = () => pids.reduce((sum, pid) => sum + (cpuSeconds(pid) ?? 0), 0);
  const c0 = total();
  return () => round((total() - c0) / ((performance.now() - t0) / 1000));
}

const lines: string[] = [];
for (let r = 0; r < Number(values.rounds); r++) {
  for (const name of values.setups.split(",")) {
    const setup = await SETUPS[name]!();
    try {
      for (const scenario of values.scenarios.split(",")) {
        if (scenario === "logins" || scenario === "joins") {
          if (setup.joinUrls === undefined) continue;
          const tls = scenario === "logins";
          const res = await loginLoop(
            tls ? setup.joinUrls.wss : setup.joinUrls.ws,
            tls,
            () => serverCpu(setup.pids()),
          );
          const line =
            `${setup.name.padEnd(10)} ${scenario.padEnd(6)} ${
              tls ? "wss+cryptosign" : "ws anonymous"
            }: ${res.perSecond} logins/s, ${res.failed} failed, server CPU ${res.cpu} ` +
            `(${round(res.cpu * 1e6 / res.perSecond)} µs/login), load tool ${res.client}`;
          console.log(line);
          lines.push(line);
          continue;
        }
        if (scenario !== "pubsub" && scenario !== "fanout" && scenario !== "rpc") {
          throw new Error(`unknown scenario ${scenario}`);
        }
        const p = { ...DEFAULTS[scenario], duration };
        if (values.window !== undefined) p.window = Number(values.window);
        if (values.depth !== undefined) p.depth = Number(values.depth);
        const nats0 = await setup.natsStats?.();
        const cpu = serverCpu(setup.pids());
        let line: string;
        if (scenario !== "rpc") {
          // Every subscriber of a small pubsub decodes; a fan-out samples one.
          const sampled = p.subscribers <= 16 ? p.subscribers : 1;
          const res = await pubsub(setup.target, { ...p, sampled });
          const used = cpu();
          line = `${res.eventsPerSecond} events/s (${res.publicationsPerSecond} pub/s), ` +
            `p50 ${res.latency.p50} p99 ${res.latency.p99} ms, ${res.lost} lost, ` +
            `server CPU ${used} (${round(used * 1e6 / res.eventsPerSecond)} µs/event), ` +
            `load tool ${res.cpu.load}`;
          const nats1 = await setup.natsStats?.();
          if (nats0 && nats1) {
            line += `, NATS msgs per publication: in ${
              round((nats1.in - nats0.in) / res.published)
            } out ${round((nats1.out - nats0.out) / res.published)}`;
          }
        } else {
          const res = await rpc(setup.target, p);
          const used = cpu();
          line =
            `${res.callsPerSecond} calls/s, p50 ${res.latency.p50} p99 ${res.latency.p99} ms, ` +
            `${res.failed} failed, ${res.lost} lost, server CPU ${used} ` +
            `(${round(used * 1e6 / res.callsPerSecond)} µs/call), load tool ${res.cpu.load}`;
          const nats1 = await setup.natsStats?.();
          if (nats0 && nats1) {
            line += `, NATS msgs per call: in ${round((nats1.in - nats0.in) / res.calls)} out ${
              round((nats1.out - nats0.out) / res.calls)
            }, NATS bytes in per call ${round((nats1.inBytes - nats0.inBytes) / res.calls)}`;
          }
        }
        line = `${setup.name.padEnd(10)} ${scenario.padEnd(6)} ${serializer.name}: ${line}`;
        console.log(line);
        lines.push(line);
      }
    } finally {
      await setup.stop();
    }
  }
}
console.log(`\n${navigator.hardwareConcurrency} cores, ${duration} s each\n${lines.join("\n")}`);
Deno.exit(0);
