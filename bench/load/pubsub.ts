/**
 * The publish/subscribe scenarios: `pubsub` (P publishers, S subscribers),
 * `fanout` (1 → 1000) and `slowconsumer` (one subscriber stops reading).
 *
 * Publishers keep a bounded number of publications in flight (published and
 * not yet received by every healthy subscriber), or publish at a fixed
 * rate. Each EVENT carries its send time, so latency is measured in this
 * process on one clock.
 *
 * @module
 */

import { MessageType } from "../../wamp/mod.ts";
import { encodeBytes } from "../../transports/stream/encode.ts";
import type { Conn } from "./conn.ts";
import { openPeer, type Target, TOPIC } from "./session.ts";
import {
  type CpuUse,
  drain,
  Latencies,
  type LatencySummary,
  measure,
  Pacer,
  rss,
  SAMPLE_EVERY,
} from "./stats.ts";

/** Options for {@linkcode pubsub}. */
export interface PubSubOptions {
  /** Publishing sessions. */
  publishers: number;
  /** Subscribing sessions that read. */
  subscribers: number;
  /**
   * Subscribers that read through the warm-up and stop reading when the
   * measurement starts. @default {0}
   */
  stalled?: number;
  /** Publications in flight per publisher. */
  window: number;
  /** Publications per second in total, paced (the window still bounds it); 0: as fast as the window allows. */
  rate: number;
  /** Seconds measured, after the warm-up. */
  duration: number;
  /** Seconds before measuring. */
  warmup: number;
  /** Bytes of padding in each EVENT's arguments. */
  size: number;
  /**
   * Subscribers that decode every {@linkcode SAMPLE_EVERY}th EVENT to
   * measure latency (the others only count).
   */
  sampled: number;
  /** The target's process, for its memory. */
  pid?: number | undefined;
}

/** What {@linkcode pubsub} measured. */
export interface PubSubResult {
  /** Events received per second by all healthy subscribers together, while measuring. */
  eventsPerSecond: number;
  /** Publications per second while measuring. */
  publicationsPerSecond: number;
  /** Cores busy while measuring. */
  cpu: CpuUse;
  /** From publish to receipt, measured on the sampled subscribers. */
  latency: LatencySummary;
  /** Events published in the whole run. */
  published: number;
  /** Events due to healthy subscribers and never received (after a 5 s drain). */
  lost: number;
  /**
   * The target's resident memory in bytes: before measuring (after the
   * warm-up, when stalled subscribers stop reading), at the peak, at the
   * end; and before connecting (`cold`: the difference to `before` is the
   * process warming up to the load, stalled or not).
   */
  rss?: { cold: number; before: number; peak: number; after: number };
}

/**
 * Runs a publish/subscribe load.
 *
 * @param target Where.
 * @param o The load's shape.
 */
export async function pubsub(target: Target, o: PubSubOptions): Promise<PubSubResult> {
  const s = target.serializer;
  const cold = rss(o.pid);
  const subs: Conn[] = [];
  for (let i = 0; i < o.subscribers + (o.stalled ?? 0); i++) {
    subs.push(await openPeer(target, "sub"));
  }
  const pubs: Conn[] = [];
  for (let i = 0; i < o.publishers; i++) pubs.push(await openPeer(target, "pub"));
  // They read (uncounted) through the warm-up, so that what the target
  // holds for them is measured apart from the target warming up.
  const stalled = subs.splice(o.subscribers);
  for (const c of stalled) c.onMessage = () => {};

  const latencies = new Latencies();
  const pad = "x".repeat(o.size);
  const cap = o.publishers * o.window;
  const healthy = o.subscribers;
  let published = 0;
  let received = 0;
  let measuring = false;
  let running = true;
  const requests = new Array<number>(o.publishers).fill(0); // request IDs run per session
  let turn = 0;
  let before = cold;
  let peak = cold ?? 0;

  const publishOne = () => {
    const i = turn++ % pubs.length;
    const msg = {
      type: MessageType.PUBLISH as typeof MessageType.PUBLISH,
      request: ++requests[i]!,
      options: {},
      topic: TOPIC,
      args: [performance.now(), pad],
    };
    pubs[i]!.send(encodeBytes(s, msg));
    published++;
  };
  const pump = () => {
    const allowed = pacer.allowed();
    while (running && published < allowed && published - received / healthy < cap) publishOne();
  };
  subs.forEach((conn, i) => {
    if (i < o.sampled) {
      let n = 0;
      conn.onMessage = (payload) => {
        received++;
        if (measuring && ++n % SAMPLE_EVERY === 0) {
          const msg = s.decode(payload);
          if ("args" in msg) latencies.add(performance.now() - Number(msg.args![0]));
        }
        pump();
      };
    } else {
      conn.onMessage = () => {
        received++;
        pump();
      };
    }
  });

  const pacer = new Pacer(o.rate, () => pump());
  const sampler = setInterval(() => peak = Math.max(peak, rss(o.pid) ?? 0), 100);
  pump();

  const m = await measure(o, () => ({ received, published }), (on) => {
    if (on) {
      for (const c of stalled) c.pause();
      before = rss(o.pid);
      peak = before ?? 0;
    }
    measuring = on;
  });
  running = false;
  pacer.stop();
  const due = () => published * healthy;
  await drain(() => received >= due());
  clearInterval(sampler);
  const after = rss(o.pid);
  for (const c of [...subs, ...stalled, ...pubs]) c.close();

  return {
    eventsPerSecond: Math.round((m.after.received - m.before.received) / m.seconds),
    publicationsPerSecond: Math.round((m.after.published - m.before.published) / m.seconds),
    latency: latencies.summary(),
    cpu: m.cpu,
    published,
    lost: due() - received,
    ...(cold === undefined || before === undefined || after === undefined
      ? {}
      : { rss: { cold, before, peak: Math.max(peak, after), after } }),
  };
}
