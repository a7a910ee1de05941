/**
 * What a subscriber that stops reading costs the router: the router
 * service runs in a subprocess; one subscriber joins over RawSocket and
 * then stops reading its socket, one healthy subscriber reads everything,
 * and a publisher sends EVENTS events. Reports the router's RSS (from
 * /proc) before and after, with and without the stalled subscriber, and
 * what the healthy subscriber lost.
 *
 * Run: deno task bench:slow   (EVENTS=50000 SIZE=200 by default)
 */

import { connect } from "../mod.ts";
import { stalledSubscriber } from "../tests/_helpers/raw_rawsocket.ts";

const EVENTS = Number(Deno.env.get("EVENTS") ?? 50_000);
const SIZE = Number(Deno.env.get("SIZE") ?? 200);
const TOPIC = "bench.slow";

/** VmRSS and VmHWM of a process, in MiB. */
async function memory(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: +(kb("VmRSS") / 1024).toFixed(1), peak: +(kb("VmHWM") / 1024).toFixed(1) };
}

async function startRouter(): Promise<{ child: Deno.ChildProcess; url: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../cli.ts", import.meta.url).pathname, "--listen", "127.0.0.1:0"],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`router exited: ${text}`);
    text += value;
    const url = /(tcp:\/\/[^\s,]+)/.exec(text)?.[1];
    if (url !== undefined) {
      reader.releaseLock();
      child.stdout.pipeTo(new WritableStream()).catch(() => {});
      return { child, url };
    }
  }
}

async function run(stalled: boolean): Promise<Record<string, unknown>> {
  const { child, url } = await startRouter();
  const before = await memory(child.pid);
  const healthy = await connect(url, { realm: "realm1", serializers: ["msgpack"] });
  let received = 0;
  let lastSeq = -1;
  let outOfOrder = 0;
  await healthy.subscribe(TOPIC, (e) => {
    const seq = e.args[0] as number;
    if (seq !== lastSeq + 1) outOfOrder++;
    lastSeq = seq;
    received++;
  });
  const slow = stalled ? await stalledSubscriber(url, TOPIC) : undefined;
  const publisher = await connect(url, { realm: "realm1", serializers: ["msgpack"] });
  const payload = "x".repeat(SIZE);
  const t0 = performance.now();
  for (let i = 0; i < EVENTS; i++) {
    const last = i % 500 === 499 || i === EVENTS - 1;
    const sent = publisher.publish(
      TOPIC,
      { args: [i, payload] },
      last ? { acknowledge: true } : {},
    );
    if (last) await sent; // a window of 500 in flight
  }
  const deadline = Date.now() + 30_000;
  while (received < EVENTS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const seconds = (performance.now() - t0) / 1000;
  const after = await memory(child.pid);
  slow?.destroy();
  await publisher.close();
  await healthy.close();
  child.kill("SIGTERM");
  await child.status;
  return {
    stalled_subscriber: stalled,
    events: EVENTS,
    event_bytes: SIZE,
    healthy_received: received,
    healthy_lost: EVENTS - received,
    healthy_out_of_order: outOfOrder,
    events_per_s: Math.round(EVENTS / seconds),
    rss_before_mib: before.rss,
    rss_after_mib: after.rss,
    rss_growth_mib: +(after.rss - before.rss).toFixed(1),
    rss_peak_mib: after.peak,
  };
}

const rows = [await run(false), await run(true)];
console.table(rows);
console.log(JSON.stringify({ bench: "slow_consumer", rows }));
