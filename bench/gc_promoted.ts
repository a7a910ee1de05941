/**
 * What V8 promotes: samples the allocations of a process started with
 * `--inspect` for a few seconds, keeping only the objects that young
 * collections did not free (promoted to the old generation, or allocated
 * there), and prints the allocating functions by bytes. Objects that die
 * young are the cheap kind; what this lists is what the mark-compacts
 * free, and what stalls the router's loop when they run.
 *
 * Run the router with `deno run -A --inspect=127.0.0.1:9229 cli.ts`, put a
 * load on it (`deno task load --scenario rpc --rate 40000 --duration 10`),
 * then: `deno run -A bench/gc_promoted.ts 9229 4` (port, seconds).
 *
 * @module
 */

interface SampleNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SampleNode[];
}

const port = Deno.args[0] ?? "9229";
const seconds = Number(Deno.args[1] ?? 4);
const targets = await (await fetch(`http://127.0.0.1:${port}/json`)).json() as {
  webSocketDebuggerUrl: string;
}[];
const ws = new WebSocket(targets[0]!.webSocketDebuggerUrl);
await new Promise((resolve) => ws.onopen = resolve);
let id = 0;
const waiting = new Map<number, (result: unknown) => void>();
ws.onmessage = (e) => {
  const m = JSON.parse(e.data);
  if (m.id !== undefined) waiting.get(m.id)?.(m.result ?? m.error);
};
const send = (method: string, params: unknown = {}): Promise<unknown> =>
  new Promise((resolve) => {
    waiting.set(++id, resolve);
    ws.send(JSON.stringify({ id, method, params }));
  });

await send("HeapProfiler.enable");
await send("HeapProfiler.startSampling", {
  samplingInterval: 1024,
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: false,
});
await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
const { profile } = await send("HeapProfiler.stopSampling") as { profile: { head: SampleNode } };
ws.close();

const bytes = new Map<string, number>();
let total = 0;
const walk = (node: SampleNode) => {
  const f = node.callFrame;
  const where = `${f.functionName || "(anonymous)"} ${f.url.replace(/^.*\/main\//, "")}:${
    f.lineNumber + 1
  }`;
  bytes.set(where, (bytes.get(where) ?? 0) + node.selfSize);
  total += node.selfSize;
  node.children.forEach(walk);
};
walk(profile.head);
console.log(`not freed young, sampled over ${seconds} s: ${(total / 1048576).toFixed(1)} MiB`);
for (const [where, size] of [...bytes].sort((a, b) => b[1] - a[1]).slice(0, 20)) {
  console.log(`${(100 * size / total).toFixed(1).padStart(5)}%  ${where}`);
}
