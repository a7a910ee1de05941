/**
 * The load tool: runs one scenario against any WAMP router URL (or the
 * bare relay of `bench/floor/`) and prints a human summary, or JSON.
 *
 * ```sh
 * deno task load --scenario pubsub --url ws://127.0.0.1:8080/ws --serializer msgpack
 * deno task load --scenario connections --sessions 10000 --pid $(pgrep -f cli.ts)
 * ```
 *
 * `deno task load --help` lists every flag.
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { SerializerName } from "../../mod.ts";
import { serializers } from "../../wamp/mod.ts";
import {
  DEFAULTS,
  type Params,
  runScenario,
  SATURATING,
  type Scenario,
  SCENARIOS,
  summarize,
} from "./scenarios.ts";

const USAGE = `Usage: deno task load [flags]
  --scenario <name>    ${SCENARIOS.join(" | ")} (default pubsub)
  --url <url>          a router's ws:// or tcp:// URL (default ws://127.0.0.1:8080/ws)
  --realm <name>       realm to join (default realm1)
  --serializer <name>  json | msgpack | cbor (default json)
  --floor              the target is bench/floor/relay.ts (URL ws://host:port)
  --saturate           pubsub and rpc with enough in flight that the target fills its core
  --pid <pid>          the target's process, to read its memory from /proc
  --publishers, --subscribers, --window, --callers, --depth, --rate, --duration,
  --warmup, --size, --sessions, --concurrency <n>   the scenario's shape
  --json               print the result as one JSON line`;

const NUMBERS = [
  "publishers",
  "subscribers",
  "window",
  "callers",
  "depth",
  "rate",
  "duration",
  "warmup",
  "size",
  "sessions",
  "concurrency",
  "pid",
] as const;

if (import.meta.main) {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        scenario: { type: "string", default: "pubsub" },
        url: { type: "string", default: "ws://127.0.0.1:8080/ws" },
        realm: { type: "string", default: "realm1" },
        serializer: { type: "string", default: "json" },
        floor: { type: "boolean", default: false },
        saturate: { type: "boolean", default: false },
        json: { type: "boolean", default: false },
        help: { type: "boolean", default: false },
        ...Object.fromEntries(NUMBERS.map((n) => [n, { type: "string" as const }])),
      },
    }));
  } catch (error) {
    console.error(`load: ${(error as Error).message}`);
    Deno.exit(2);
  }
  if (values.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  const scenario = values.scenario as Scenario;
  if (!SCENARIOS.includes(scenario)) fail(`--scenario: unknown "${values.scenario}"`);
  const serializer = serializers[values.serializer as SerializerName];
  if (serializer === undefined) fail(`--serializer: unknown "${values.serializer}"`);
  const params: Params = {
    ...DEFAULTS[scenario],
    ...(values.saturate ? SATURATING[scenario] : undefined),
  };
  for (const name of NUMBERS) {
    const raw = (values as Record<string, unknown>)[name];
    if (raw === undefined) continue;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0) fail(`--${name}: not a number ≥ 0: "${raw}"`);
    params[name] = n;
  }
  const target = { url: values.url, realm: values.realm, serializer, floor: values.floor };
  const result = await runScenario(scenario, target, params);
  console.log(
    values.json
      ? JSON.stringify({ target: values.url, serializer: serializer.name, params, result })
      : `${scenario} ${serializer.name} ${values.url}: ${summarize(result)}`,
  );
  Deno.exit(0);
}

function fail(message: string): never {
  console.error(`load: ${message}`);
  Deno.exit(2);
}
