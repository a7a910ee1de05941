/**
 * The `rpc` scenario: C callers, each with D calls in flight, against one
 * callee that echoes its arguments. Each call carries its send time.
 *
 * @module
 */

import { MessageType } from "../../mod.ts";
import type { Conn } from "./conn.ts";
import { encode, messageType, openPeer, PROCEDURE, type Target } from "./session.ts";
import {
  cpuMeter,
  type CpuUse,
  Latencies,
  type LatencySummary,
  SAMPLE_EVERY,
  sleep,
} from "./stats.ts";

/** Options for {@linkcode rpc}. */
export interface RpcOptions {
  /** Calling sessions. */
  callers: number;
  /** Calls in flight per caller. */
  depth: number;
  /** Calls per second in total, paced (the depth still bounds it); 0: as fast as the depth allows. */
  rate: number;
  /** Seconds measured, after the warm-up. */
  duration: number;
  /** Seconds before measuring. */
  warmup: number;
  /** Bytes of padding in each call's arguments. */
  size: number;
  /** The target's process, for its CPU use. */
  pid?: number | undefined;
}

/** What {@linkcode rpc} measured. */
export interface RpcResult {
  /** Results received per second, while measuring. */
  callsPerSecond: number;
  /** Cores busy while measuring. */
  cpu: CpuUse;
  /** From CALL to RESULT. */
  latency: LatencySummary;
  /** Calls made in the whole run. */
  calls: number;
  /** Calls without a result (after a 5 s drain). */
  lost: number;
  /** Answers that were not a RESULT. */
  failed: number;
}

/**
 * Runs an RPC load.
 *
 * @param target Where.
 * @param o The load's shape.
 */
export async function rpc(target: Target, o: RpcOptions): Promise<RpcResult> {
  const s = target.serializer;
  const callee = await openPeer(target, "callee");
  callee.onMessage = (payload) => {
    const msg = s.decode(payload);
    // A router sends INVOCATION; the relay forwards the caller's CALL as it is.
    if (msg.type !== MessageType.INVOCATION && msg.type !== MessageType.CALL) return;
    callee.send(encode(s, {
      type: MessageType.YIELD,
      request: msg.request,
      options: {},
      args: msg.args ?? [],
    }));
  };
  const callers: Conn[] = [];
  for (let i = 0; i < o.callers; i++) callers.push(await openPeer(target, "caller"));

  const latencies = new Latencies();
  const pad = "x".repeat(o.size);
  let calls = 0;
  let results = 0;
  let failed = 0; // anything but a result: an ERROR, say
  let measuring = false;
  let running = true;
  let allowed = o.rate > 0 ? 0 : Infinity;
  const inFlight = new Array<number>(o.callers).fill(0);
  const requests = new Array<number>(o.callers).fill(0);

  const call = (i: number) => {
    while (running && calls < allowed && inFlight[i]! < o.depth) {
      const msg = {
        type: MessageType.CALL as typeof MessageType.CALL,
        request: ++requests[i]!,
        options: {},
        procedure: PROCEDURE,
        args: [performance.now(), pad],
      };
      callers[i]!.send(encode(s, msg));
      inFlight[i]!++;
      calls++;
    }
  };
  callers.forEach((conn, i) => {
    let n = 0;
    conn.onMessage = (payload) => {
      // A router answers with RESULT; the relay forwards the callee's YIELD.
      const type = messageType(s, payload);
      if (type !== MessageType.RESULT && type !== MessageType.YIELD) {
        failed++;
        return;
      }
      results++;
      inFlight[i]!--;
      if (measuring && ++n % SAMPLE_EVERY === 0) {
        const msg = s.decode(payload);
        latencies.add(performance.now() - Number((msg as { args: unknown[] }).args[0]));
      }
      call(i);
    };
  });

  const start = performance.now();
  const callAll = () => callers.forEach((_, i) => call(i));
  const pacer = o.rate > 0
    ? setInterval(() => {
      allowed = Math.floor(o.rate * (performance.now() - start) / 1000);
      callAll();
    }, 1)
    : undefined;
  callAll();

  await sleep(o.warmup * 1000);
  measuring = true;
  const cpu = cpuMeter(o.pid);
  const r0 = results, t0 = performance.now();
  await sleep(o.duration * 1000);
  const r1 = results, t1 = performance.now();
  const cpuUse = cpu();
  measuring = false;
  running = false;
  clearInterval(pacer);
  for (let waited = 0; results < calls && waited < 5000; waited += 20) await sleep(20);
  for (const c of [callee, ...callers]) c.close();

  return {
    callsPerSecond: Math.round((r1 - r0) / ((t1 - t0) / 1000)),
    latency: latencies.summary(),
    cpu: cpuUse,
    calls,
    lost: calls - results,
    failed,
  };
}
