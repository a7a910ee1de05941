/**
 * Runs the load scenarios against Cloverleaf (`cli.ts`) and three
 * floors, in the same run and in turn (relay, relay-own, relay-wamp,
 * router, relay, …), and reports the router as a ratio to each: two bare
 * relays with no WAMP logic, `relay` on Deno's native WebSocket
 * (`bench/floor/relay.ts`) and `relay-own` on the router's own WebSocket
 * stack (`bench/floor/relay_own.ts`), and `relay-wamp`, a minimal WAMP
 * router on that stack (`bench/floor/relay_wamp.ts`: plain decode,
 * exact-URI routing, each EVENT encoded once per serializer). With
 * `--nexus PATH` a nexusd binary (gammazero/nexus) is one more target, run
 * from a generated config (see {@linkcode nexusConfig}). The servers run
 * pinned to CPU 1 and this process to CPU 0 (with `taskset`, when there are
 * two cores); `--unpinned` leaves every process free to use every core.
 * While one target runs, the others are stopped (`SIGSTOP`, their whole
 * process trees) and continued after it: an idle process still collects
 * its garbage, and pinned it would take turns on the measured core.
 *
 * ```sh
 * deno task load:compare                       # everything, json and msgpack
 * deno task load:compare --scenarios rpc --serializers msgpack --rounds 3
 * deno task load:compare --scenarios pubsub,rpc "--router-args=--admin 127.0.0.1:0"
 * deno task load:compare --scenarios pubsub,rpc --saturate   # enough in flight to fill a core
 * deno task load:compare --scenarios rpc --router ../before   # another checkout's router
 * deno task load:compare --scenarios pubsub,rpc --nexus /tmp/nexus/nexusd
 * deno task load:compare --scenarios pubsub,rpc --saturate --unpinned --targets cloverleaf,nexus \
 *   --nexus /tmp/nexus/nexusd "--router-args=--workers 2"   # every core, against nexus's
 * ```
 *
 * Each summary line gives the throughput and the target's CPU time per
 * message (µs per event or call), with the router's ratio to each floor.
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { SerializerName } from "../../mod.ts";
import { serializers } from "../../wamp/mod.ts";
import {
  cpuPerMessage,
  DEFAULTS,
  type Params,
  type Result,
  runScenario,
  SATURATING,
  type Scenario,
  summarize,
} from "./scenarios.ts";
import type { Target } from "./session.ts";
import { round, sleep } from "./stats.ts";
import { pauseTree, treeCpu } from "./process_tree.ts";

const { values } = parseArgs({
  options: {
    scenarios: { type: "string", default: "pubsub,rpc,fanout,latency,connections,slowconsumer" },
    serializers: { type: "string", default: "json,msgpack" },
    rounds: { type: "string", default: "2" },
    duration: { type: "string", default: "5" },
    json: { type: "string" },
    // Extra flags for the router's command line (space-separated).
    "router-args": { type: "string", default: "" },
    // Another checkout's router (a directory holding cli.ts and deno.json), to compare trees.
    router: { type: "string" },
    saturate: { type: "boolean", default: false },
    // A nexusd binary: nexus becomes one more target.
    nexus: { type: "string" },
    // No CPU pinning: every server (and this process) may use every core.
    unpinned: { type: "boolean", default: false },
    // The targets to run, comma-separated (the router always runs).
    targets: { type: "string" },
  },
});
const rounds = Number(values.rounds);
const duration = Number(values.duration);
const saturate = values.saturate;
const pinned = !values.unpinned && navigator.hardwareConcurrency >= 2 && await has("taskset");
if (pinned) await run(["taskset", "-a", "-cp", "0", String(Deno.pid)]);

/** A server in a subprocess. */
interface Server {
  name: Name;
  pid: number;
  url: string;
  /** A bare relay (no WAMP: the role is the URL path). */
  floor: boolean;
  /** nexus only: its outbound queue per session (see {@linkcode nexusQueue}). */
  queue?: number;
  stop(): Promise<void>;
}
/** The floors (Deno's native WebSocket; our own stack; minimal WAMP on it), the router, nexus. */
type Name = "relay" | "relay-own" | "relay-wamp" | "cloverleaf" | "nexus";
type Runs = Record<Name, Result[]>;

const COMMANDS: Record<Name, string[]> = {
  relay: ["run", "--allow-net", "bench/floor/relay.ts", "0"],
  "relay-own": ["run", "--allow-net", "bench/floor/relay_own.ts", "0"],
  "relay-wamp": ["run", "--allow-net", "bench/floor/relay_wamp.ts", "0"],
  // As `deno task start` runs it.
  cloverleaf: [
    "run",
    "-A",
    "--v8-flags=--max-semi-space-size=4",
    ...(values.router === undefined
      ? ["cli.ts"]
      : [`--config=${values.router}/deno.json`, `${values.router}/cli.ts`]),
    // start() adds `--listen 127.0.0.1:<a free port>` (`--workers` needs a port given) and --router-args.
  ],
  // The config file is added by start().
  nexus: [],
};
const names = (values.targets?.split(",") ??
  [
    "relay",
    "relay-own",
    "relay-wamp",
    "cloverleaf",
    ...values.nexus === undefined ? [] : ["nexus"],
  ]) as Name[];
for (const name of names) {
  if (!(name in COMMANDS)) throw new Error(`--targets: unknown target ${name}`);
  if (name === "nexus" && values.nexus === undefined) {
    throw new Error("--targets: nexus needs --nexus PATH");
  }
}
if (!names.includes("cloverleaf")) names.unshift("cloverleaf");
if (values.nexus !== undefined && !(await Deno.stat(values.nexus).catch(() => null))?.isFile) {
  throw new Error(`--nexus: no file at ${values.nexus}`);
}
const servers: Server[] = [];
for (const name of names) servers.push(await start(name));
// Interrupted, the servers are continued (one may be stopped while another runs) and ended.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, () => {
    for (const server of servers) {
      pauseTree(server.pid, false);
      try {
        Deno.kill(server.pid, "SIGTERM");
      } catch {
        // Gone already.
      }
    }
    Deno.exit(130);
  });
}
/**
 * Unpinned, the CPU per message is the target's whole process tree
 * (workers, their NATS) over the whole run (warm-up and drain included)
 * ÷ the messages delivered in it, in µs: one figure for every target.
 */
const wholeRun = new Map<Result, number>();
const records: Record<string, unknown>[] = [];
const lines: string[] = [];

try {
  for (const scenario of values.scenarios.split(",")) {
    for (const name of values.serializers.split(",") as SerializerName[]) {
      if (scenario === "latency") await latency(name);
      else await compare(scenario as Scenario, name);
    }
  }
} finally {
  for (const server of servers) await server.stop();
}
console.log("\n" + lines.join("\n"));
if (values.json !== undefined) {
  await Deno.writeTextFile(values.json, JSON.stringify(records, null, 2) + "\n");
  console.log(`\nwrote ${values.json}`);
}

/** Each server in turn, `rounds` times; the router's mean as a ratio to each relay's. */
async function compare(scenario: Scenario, serializer: SerializerName, rate = 0): Promise<Runs> {
  const out: Runs = { relay: [], "relay-own": [], "relay-wamp": [], cloverleaf: [], nexus: [] };
  const shape = saturate && rate === 0 ? SATURATING[scenario] : undefined;
  const label = `${scenario}${rate ? ` at ${rate}/s` : shape ? " saturating" : ""} ${serializer}`;
  for (let i = 0; i < (scenario === "connections" ? 1 : rounds); i++) {
    for (let [at, server] of servers.entries()) {
      const queue = nexusQueue(scenario, { ...DEFAULTS[scenario], ...shape });
      // Memory per session is measured on a fresh process: a warm one reuses what earlier runs grew.
      if (scenario === "connections" || (server.name === "nexus" && server.queue !== queue)) {
        await server.stop();
        server = servers[at] = await start(server.name, queue);
      }
      const p = { ...DEFAULTS[scenario], ...shape, pid: server.pid, rate };
      if (scenario !== "connections") p.duration = duration;
      const target: Target = {
        url: server.url,
        realm: "realm1",
        serializer: serializers[serializer],
        floor: server.floor,
      };
      const cpuBefore = values.unpinned ? treeCpu(server.pid) : 0;
      // The other targets are stopped meanwhile (see the header).
      const others = servers.filter((other) => other !== server).map((other) => other.pid);
      for (const pid of others) pauseTree(pid, true);
      let result: Result;
      try {
        result = await runScenario(scenario, target, p);
      } finally {
        for (const pid of others) pauseTree(pid, false);
      }
      const delivered = result.scenario === "rpc"
        ? result.calls - result.lost
        : "published" in result
        ? result.published * p.subscribers - result.lost
        : 0;
      if (values.unpinned) {
        wholeRun.set(result, (treeCpu(server.pid) - cpuBefore) / delivered * 1e6);
      }
      out[server.name].push(result);
      records.push({ scenario, serializer, server: server.name, round: i, params: p, result });
      const tree = wholeRun.has(result)
        ? `; process tree ${round(wholeRun.get(result)!)} µs each`
        : "";
      console.log(`${label} ${server.name}: ${summarize(result)}${tree}`);
      await sleep(500);
    }
  }
  const metric = headline(scenario);
  if (metric === undefined) {
    for (const server of servers) {
      lines.push(`${label} ${server.name}: ${out[server.name].map(summarize).join(" | ")}`);
    }
    return out;
  }
  const of = (name: Name) => out[name].map(metric.of);
  lines.push(`${label} (${metric.unit}): ${against(of)}`);
  // CPU time per message: the target's busy share over the window ÷ its rate.
  const cpu = (name: Name) =>
    out[name].map((r) =>
      values.unpinned ? wholeRun.get(r) ?? NaN : cpuPerMessage(r.cpu, metric.of(r)) ?? NaN
    );
  const per = metric.unit.split("/")[0]!.replace(/s$/, "");
  const how = values.unpinned ? ", process tree, whole run" : "";
  lines.push(`${label} (target CPU µs per ${per}${how}): ${against(cpu)}`);
  return out;
}

/** p99 latency at half of the lowest peak, router over each relay, for pubsub and rpc. */
async function latency(serializer: SerializerName): Promise<void> {
  for (const scenario of ["pubsub", "rpc"] as const) {
    const peak = await compare(scenario, serializer);
    const of = headline(scenario)!.of;
    const lowest = Math.min(...servers.map((s) => mean(peak[s.name].map(of))));
    // pubsub counts events (one per subscriber); the rate paces publications.
    const rate = Math.round(lowest / 2 / (scenario === "pubsub" ? DEFAULTS.pubsub.subscribers : 1));
    const half = await compare(scenario, serializer, rate);
    for (const q of ["p99", "max"] as const) {
      const at = (name: Name) => half[name].map((r) => ("latency" in r ? r.latency[q] : NaN));
      lines.push(`${scenario} ${serializer} ${q} at ${rate}/s (ms): ${against(at)}`);
    }
  }
}

/** "cloverleaf A; relay B (A/B×); …": the router's figures, then each other target's with the ratio. */
function against(of: (name: Name) => number[]): string {
  const floors = servers.map((s) => s.name).filter((name) => name !== "cloverleaf");
  return `cloverleaf ${fmt(of("cloverleaf"))}; ` +
    floors.map((name) => `${name} ${fmt(of(name))} (${ratio(of("cloverleaf"), of(name))}×)`)
      .join("; ");
}

function headline(scenario: Scenario): { of: (r: Result) => number; unit: string } | undefined {
  if (scenario === "pubsub" || scenario === "fanout") {
    return { of: (r) => ("eventsPerSecond" in r ? r.eventsPerSecond : NaN), unit: "events/s" };
  }
  if (scenario === "rpc") {
    return { of: (r) => ("callsPerSecond" in r ? r.callsPerSecond : NaN), unit: "calls/s" };
  }
  return undefined;
}

/**
 * nexus's outbound queue per session for a scenario: nexus drops a message
 * to a session whose queue is full, and allocates the whole queue with the
 * session, so it is sized to 4× what the scenario keeps in flight (no drop
 * to a reading peer, no memory the load cannot use); nexus's default (64)
 * for idle sessions.
 */
function nexusQueue(scenario: Scenario, p: Params): number {
  if (scenario === "connections") return 0;
  return Math.max(64, 4 * Math.max(p.publishers * p.window, p.callers * p.depth));
}

/**
 * A nexusd config: realm1 with anonymous authentication, one WebSocket
 * listener (JSON, MessagePack and CBOR) on 127.0.0.1:`port`, no
 * keep-alive pings, no compression, no event history, debug logging off.
 */
function nexusConfig(port: number, queue: number): string {
  return JSON.stringify({
    websocket: {
      address: `127.0.0.1:${port}`,
      keep_alive: 0,
      enable_compression: false,
      out_queue_size: queue,
    },
    router: { realms: [{ uri: "realm1", anonymous_auth: true }], debug: false },
  });
}

async function start(name: Name, queue = 0): Promise<Server> {
  let args = COMMANDS[name];
  let dir: string | undefined;
  if (name === "cloverleaf") {
    const extra = values["router-args"].split(" ").filter((arg) => arg !== "");
    args = [...args, "--listen", `127.0.0.1:${freePort()}`, ...extra];
  }
  if (name === "nexus") {
    // nexusd takes its port from its config.
    const port = freePort();
    dir = await Deno.makeTempDir({ prefix: "compare-nexus-" });
    await Deno.writeTextFile(`${dir}/nexus.json`, nexusConfig(port, queue));
    args = ["-c", `${dir}/nexus.json`];
  }
  const exec = name === "nexus" ? values.nexus! : Deno.execPath();
  const argv = pinned ? ["taskset", "-c", "1", exec, ...args] : [exec, ...args];
  const child = new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    stdout: "piped",
    stderr: "piped",
    cwd: new URL("../..", import.meta.url),
  }).spawn();
  // A line names the port: "listening on 1234" or "… Listening on ws://127.0.0.1:1234/ws, …"
  // (the router may log other lines first).
  const out = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const listening = /(?:listening on |ws:\/\/127\.0\.0\.1:)(\d+)/i;
  let first = "";
  while (!listening.test(first) && first.length < 64 * 1024) {
    const { value, done } = await out.read();
    if (done) break;
    first += value;
  }
  const port = listening.exec(first)?.[1];
  if (port === undefined) throw new Error(`${name} did not start: ${first}`);
  // nexus serves WebSocket at any path.
  // Keep reading what the server prints, so that it never blocks on a full pipe.
  void (async () => {
    while (!(await out.read()).done);
  })();
  void child.stderr.pipeTo(new WritableStream());
  return {
    name,
    pid: child.pid,
    url: name === "cloverleaf" || name === "relay-wamp"
      ? `ws://127.0.0.1:${port}/ws`
      : name === "nexus"
      ? `ws://127.0.0.1:${port}/`
      : `ws://127.0.0.1:${port}`,
    // Only the bare relays skip WAMP; relay-wamp and nexus are joined like the router.
    floor: name === "relay" || name === "relay-own",
    ...(name === "nexus" ? { queue } : {}),
    async stop() {
      pauseTree(child.pid, false); // a stopped process would hold the SIGTERM
      try {
        child.kill("SIGTERM");
      } catch {
        // Ended already.
      }
      await child.status;
      if (dir !== undefined) await Deno.remove(dir, { recursive: true });
    },
  };
}

/** A loopback port free now. */
function freePort(): number {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = probe.addr.port;
  probe.close();
  return port;
}

async function has(command: string): Promise<boolean> {
  try {
    return (await new Deno.Command(command, { args: ["--version"], stdout: "null", stderr: "null" })
      .output()).success;
  } catch {
    return false;
  }
}

async function run(argv: string[]): Promise<void> {
  await new Deno.Command(argv[0]!, { args: argv.slice(1), stdout: "null" }).output();
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function ratio(a: number[], b: number[]): number {
  return round(mean(a) / mean(b));
}

function fmt(xs: number[]): string {
  return xs.map((x) => String(round(x))).join(" / ");
}
