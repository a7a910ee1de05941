/**
 * What the long-poll relay between `--workers` adds to one request: the
 * router service runs as `cli.ts --workers 2` (a subprocess, with its own
 * nats-server), one long-poll transport is opened, and requests for it go
 * over kept-alive connections that landed on its owning worker (direct)
 * or on the other worker (relayed, the `Via` header tells). Each request
 * is sequential (one in flight); direct and relayed alternate, so both see
 * the same machine load.
 *
 * Measured: `send` (a PUBLISH without acknowledgement, answered 204) and
 * `send` + `receive` of a `wamp.session.count` call (the RESULT is queued
 * by the time the `receive` arrives).
 *
 * Run: deno run -A bench/longpoll_relay.ts   (REQUESTS=2000 by default)
 */

import { freePort } from "../cli/ports.ts";
import { ownerOf } from "../transports/longpoll/relay.ts";

const REQUESTS = Number(Deno.env.get("REQUESTS") ?? 2000);
const WARMUP = 200;

const port = await freePort();
const service = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "-A",
    new URL("../cli.ts", import.meta.url).pathname,
    "--workers",
    "2",
    "--listen",
    `127.0.0.1:${port}`,
  ],
  stdin: "null",
  stdout: "piped",
  stderr: "inherit",
}).spawn();
const stdout = service.stdout.pipeThrough(new TextDecoderStream()).getReader();

/** Waits for the supervisor's "workers serving" line. */
async function serving(): Promise<void> {
  let text = "";
  const deadline = Date.now() + 60_000;
  while (!text.includes("workers serving")) {
    if (Date.now() > deadline) throw new Error(`not serving after 60 s:\n${text}`);
    const { value, done } = await stdout.read();
    if (done) throw new Error(`the service exited:\n${text}`);
    text += value;
  }
  void (async () => {
    while (!(await stdout.read()).done) { /* drain */ }
  })();
}

/** One kept-alive connection (its own HTTP client), to whichever worker the kernel picked. */
interface Conn {
  client: Deno.HttpClient;
  relayed: boolean;
}

const base = `http://127.0.0.1:${port}/lp`;

async function post(client: Deno.HttpClient, url: string, body?: string): Promise<Response> {
  const res = await fetch(url, { method: "POST", body: body ?? null, client });
  await res.arrayBuffer();
  return res;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

function summary(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  const f = (ms: number) => `${(ms * 1000).toFixed(0)} µs`;
  return `mean ${f(mean)}, p50 ${f(percentile(sorted, 0.5))}, p99 ${f(percentile(sorted, 0.99))}`;
}

try {
  await serving();
  const setup = Deno.createHttpClient({});
  const opened = await fetch(`${base}/open`, {
    method: "POST",
    body: JSON.stringify({ protocols: ["wamp.2.json"] }),
    client: setup,
  });
  const id = (await opened.json()).transport as string;
  const url = `${base}/${id}`;
  await post(setup, `${url}/send`, '[1,"realm1",{"roles":{"publisher":{},"caller":{}}}]');
  await post(setup, `${url}/receive`); // WELCOME
  setup.close();

  // Connections until there is one on each worker.
  const conns: Conn[] = [];
  let request = 0;
  for (let i = 0; i < 40; i++) {
    const client = Deno.createHttpClient({});
    const res = await post(client, `${url}/send`, `[16,${++request},{},"com.example.bench"]`);
    conns.push({ client, relayed: res.headers.has("via") });
    if (conns.some((c) => c.relayed) && conns.some((c) => !c.relayed)) break;
  }
  const direct = conns.find((c) => !c.relayed);
  const relayed = conns.find((c) => c.relayed);
  if (direct === undefined || relayed === undefined) {
    throw new Error("no connection on each worker");
  }

  const times = { direct: { send: [] as number[], call: [] as number[] } };
  const results = { direct: times.direct, relayed: { send: [] as number[], call: [] as number[] } };
  for (let i = 0; i < WARMUP + REQUESTS; i++) {
    for (const [name, conn] of [["direct", direct], ["relayed", relayed]] as const) {
      let t0 = performance.now();
      const sent = await post(conn.client, `${url}/send`, `[16,${++request},{},"com.example.b"]`);
      const send = performance.now() - t0;
      if (sent.headers.has("via") !== conn.relayed) throw new Error("a connection moved");
      t0 = performance.now();
      await post(conn.client, `${url}/send`, `[48,${++request},{},"wamp.session.count"]`);
      await post(conn.client, `${url}/receive`);
      const call = performance.now() - t0;
      if (i >= WARMUP) {
        results[name].send.push(send);
        results[name].call.push(call);
      }
    }
  }
  for (const c of conns) c.client.close();
  console.log(`long-poll transport ${id} (owner: worker ${ownerOf(id)}), ${REQUESTS} each:`);
  for (const name of ["direct", "relayed"] as const) {
    console.log(`  ${name.padEnd(8)} send          ${summary(results[name].send)}`);
    console.log(`  ${name.padEnd(8)} send+receive  ${summary(results[name].call)}`);
  }
  const extra = (op: "send" | "call") => {
    const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 0.5);
    return ((median(results.relayed[op]) - median(results.direct[op])) * 1000).toFixed(0);
  };
  console.log(
    `  extra per relayed request (p50): send ${extra("send")} µs, send+receive (2 requests) ${
      extra("call")
    } µs`,
  );
} finally {
  service.kill("SIGTERM");
  await service.status;
}
