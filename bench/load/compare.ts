/**
 * Runs the load scenarios against Cloverleaf (`cli.ts`) and the bare relay
 * (`bench/floor/relay.ts`) in the same run, alternating relay, router,
 * relay, router…, and reports the router as a ratio to the relay. Both
 * servers run pinned to CPU 1 and this process to CPU 0 (with `taskset`,
 * when there are two cores).
 *
 * ```sh
 * deno task load:compare                       # everything, json and msgpack
 * deno task load:compare --scenarios rpc --serializers msgpack --rounds 3
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { type SerializerName, serializers } from "../../mod.ts";
import { DEFAULTS, type Result, runScenario, type Scenario, summarize } from "./scenarios.ts";
import type { Target } from "./session.ts";
import { round, sleep } from "./stats.ts";

const { values } = parseArgs({
  options: {
    scenarios: { type: "string", default: "pubsub,rpc,fanout,latency,connections,slowconsumer" },
    serializers: { type: "string", default: "json,msgpack" },
    rounds: { type: "string", default: "2" },
    duration: { type: "string", default: "5" },
    json: { type: "string" },
  },
});
const rounds = Number(values.rounds);
const duration = Number(values.duration);
const pinned = navigator.hardwareConcurrency >= 2 && await has("taskset");
if (pinned) await run(["taskset", "-a", "-cp", "0", String(Deno.pid)]);

/** A server in a subprocess. */
interface Server {
  name: "relay" | "cloverleaf";
  pid: number;
  url: string;
  floor: boolean;
  stop(): Promise<void>;
}

const relay = await start("relay", ["run", "--allow-net", "bench/floor/relay.ts", "0"]);
const router = await start("cloverleaf", ["run", "-A", "cli.ts", "--listen", "127.0.0.1:0"]);
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
  await relay.stop();
  await router.stop();
}
console.log("\n" + lines.join("\n"));
if (values.json !== undefined) {
  await Deno.writeTextFile(values.json, JSON.stringify(records, null, 2) + "\n");
  console.log(`\nwrote ${values.json}`);
}

/** Relay, router, relay, router…: the router's mean as a ratio to the relay's. */
async function compare(
  scenario: Scenario,
  serializer: SerializerName,
  rate = 0,
): Promise<{ relay: Result[]; cloverleaf: Result[] }> {
  const out = { relay: [] as Result[], cloverleaf: [] as Result[] };
  const rs = scenario === "connections" ? 1 : rounds;
  for (let i = 0; i < rs; i++) {
    for (const server of [relay, router]) {
      const p = { ...DEFAULTS[scenario], pid: server.pid, rate };
      if (scenario !== "connections") p.duration = duration;
      const target: Target = {
        url: server.url,
        realm: "realm1",
        serializer: serializers[serializer],
        floor: server.floor,
      };
      const result = await runScenario(scenario, target, p);
      out[server.name].push(result);
      records.push({ scenario, serializer, server: server.name, round: i, params: p, result });
      console.log(
        `${scenario}${rate ? ` @${rate}/s` : ""} ${serializer} ${server.name}: ${
          summarize(result)
        }`,
      );
      await sleep(500);
    }
  }
  const label = `${scenario}${rate ? ` at ${rate}/s` : ""} ${serializer}`;
  const metric = headline(scenario);
  if (metric !== undefined) {
    const ratio = mean(out.cloverleaf.map(metric.of)) / mean(out.relay.map(metric.of));
    lines.push(
      `${label}: cloverleaf ${fmt(out.cloverleaf.map(metric.of))} vs relay ${
        fmt(out.relay.map(metric.of))
      } ${metric.unit} = ${round(ratio)}×`,
    );
  } else {
    for (const server of [relay, router]) {
      lines.push(`${label} ${server.name}: ${out[server.name].map(summarize).join(" | ")}`);
    }
  }
  return out;
}

/** p99 latency at half of the lower peak, router over relay, for pubsub and rpc. */
async function latency(serializer: SerializerName): Promise<void> {
  for (const scenario of ["pubsub", "rpc"] as const) {
    const peak = await compare(scenario, serializer);
    const of = headline(scenario)!.of;
    const lower = Math.min(mean(peak.relay.map(of)), mean(peak.cloverleaf.map(of)));
    // pubsub counts events (2 subscribers each); the rate paces publications.
    const rate = Math.round(lower / 2 / (scenario === "pubsub" ? DEFAULTS.pubsub.subscribers : 1));
    const half = await compare(scenario, serializer, rate);
    const p99 = (r: Result) => ("latency" in r ? r.latency.p99 : NaN);
    lines.push(
      `${scenario} ${serializer} p99 at ${rate}/s: cloverleaf ${
        fmt(half.cloverleaf.map(p99))
      } vs relay ${fmt(half.relay.map(p99))} ms = ${
        round(mean(half.cloverleaf.map(p99)) / mean(half.relay.map(p99)))
      }×`,
    );
  }
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

async function start(name: Server["name"], args: string[]): Promise<Server> {
  const argv = pinned
    ? ["taskset", "-c", "1", Deno.execPath(), ...args]
    : [Deno.execPath(), ...args];
  const child = new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    stdout: "piped",
    stderr: "piped",
    cwd: new URL("../..", import.meta.url),
  }).spawn();
  // The first line names the port: "listening on 1234" or "… Listening on ws://127.0.0.1:1234/ws, …".
  const out = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let first = "";
  while (!first.includes("\n")) {
    const { value, done } = await out.read();
    if (done) break;
    first += value;
  }
  const port = /(?:listening on |ws:\/\/127\.0\.0\.1:)(\d+)/i.exec(first)?.[1];
  if (port === undefined) throw new Error(`${name} did not start: ${first}`);
  // Keep reading what the server prints, so that it never blocks on a full pipe.
  void (async () => {
    while (!(await out.read()).done);
  })();
  void child.stderr.pipeTo(new WritableStream());
  return {
    name,
    pid: child.pid,
    url: name === "relay" ? `ws://127.0.0.1:${port}` : `ws://127.0.0.1:${port}/ws`,
    floor: name === "relay",
    async stop() {
      child.kill("SIGTERM");
      await child.status;
    },
  };
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

function fmt(xs: number[]): string {
  return xs.map((x) => String(round(x))).join(" / ");
}
