/**
 * Round-trip latency of one small RPC over every socket transport, with
 * and without TLS: the router runs in a subprocess (the router service,
 * `cli.ts`), the caller and the callee here. Each call is sequential (one
 * in flight), so Nagle-style stalls show up as ~40 ms outliers.
 *
 * Run: deno task bench:tls   (prints a table and a JSON line)
 */

import { connect, type Session } from "../mod.ts";
import { testPki } from "../tests/_helpers/tls.ts";

const CALLS = Number(Deno.env.get("CALLS") ?? 2000);
const WARMUP = 200;

const pki = await testPki();
const config = `${pki.dir}/bench.json`;
await Deno.writeTextFile(
  config,
  JSON.stringify({
    logLevel: "warn",
    listeners: [
      { type: "universal", host: "127.0.0.1", port: 0 },
      {
        type: "universal",
        host: "127.0.0.1",
        port: 0,
        tls: { cert: `${pki.dir}/server.pem`, key: `${pki.dir}/server.key` },
      },
    ],
  }),
);
const router = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "-A",
    new URL("../cli.ts", import.meta.url).pathname,
    "-c",
    config,
    "--log-level",
    "info",
  ],
  stdout: "piped",
  stderr: "inherit",
}).spawn();
const urls = await listeningUrls(router.stdout, 2);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

async function measure(url: string, tls: boolean): Promise<Record<string, unknown>> {
  const options = {
    realm: "realm1",
    serializers: ["msgpack" as const],
    ...(tls ? { tls: { caCerts: [pki.ca] } } : {}),
  };
  const callee: Session = await connect(url, options);
  const caller: Session = await connect(url, options);
  await callee.register("bench.echo", (args) => ({ args }));
  const times: number[] = [];
  for (let i = 0; i < WARMUP + CALLS; i++) {
    const t0 = performance.now();
    await caller.call("bench.echo", { args: [i] });
    if (i >= WARMUP) times.push(performance.now() - t0);
  }
  await caller.close();
  await callee.close();
  times.sort((a, b) => a - b);
  return {
    url: url.replace(/:\d+/, ":PORT"),
    calls: CALLS,
    p50_ms: +percentile(times, 0.5).toFixed(3),
    p99_ms: +percentile(times, 0.99).toFixed(3),
    max_ms: +times.at(-1)!.toFixed(3),
    over_10ms: times.filter((t) => t > 10).length,
  };
}

const plain = urls[0]!;
const secure = urls[1]!;
const rows = [];
for (
  const [url, tls] of [[plain.ws, false], [secure.ws, true], [plain.tcp, false], [
    secure.tcp,
    true,
  ]] as const
) {
  rows.push(await measure(url, tls));
}
router.kill("SIGTERM");
await router.status;
console.table(rows);
console.log(JSON.stringify({ bench: "tls_latency", rows }));

/** Reads the service's "Listening on …" lines until `n` listeners are up. */
async function listeningUrls(
  stream: ReadableStream<Uint8Array>,
  n: number,
): Promise<{ ws: string; tcp: string }[]> {
  const found: { ws: string; tcp: string }[] = [];
  let text = "";
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  while (found.length < n) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`router exited: ${text}`);
    text += value;
    for (const line of text.split("\n")) {
      const ws = /(wss?:\/\/[^\s,]+)/.exec(line)?.[1];
      const tcp = /(tcps?:\/\/[^\s,]+)/.exec(line)?.[1];
      if (ws && tcp && !found.some((f) => f.ws === ws)) found.push({ ws, tcp });
    }
  }
  reader.releaseLock();
  stream.pipeTo(new WritableStream()).catch(() => {});
  return found;
}
