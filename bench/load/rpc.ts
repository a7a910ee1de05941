/**
 * The `rpc` scenario: C callers, each with D calls in flight, against one
 * callee that echoes its arguments. Each call carries its send time.
 *
 * @module
 */

import { MessageType } from "../../wamp/mod.ts";
import { encodeBytes } from "../../transports/stream/encode.ts";
import type { Conn } from "./conn.ts";
import { messageType, openPeer, PROCEDURE, type Target } from "./session.ts";
import {
  type CpuUse,
  drain,
  Latencies,
  type LatencySummary,
  measure,
  Pacer,
  SAMPLE_EVERY,
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
    callee.send(encodeBytes(s, {
      type: MessageType.YIELD,
      request: msg.request,
      options: {},
      args: msg.args ?? [],
    }));
  };
  const callers: Conn[] = [];
  for (let i = 0; i < o.callers; i++) callers.push(await openPeer(target, "caller"));
  // Across cluster nodes, the registration reaches the callers' nodes within milliseconds.
  if (target.urls !== undefined) await new Promise((resolve) => setTimeout(resolve, 300));

  const latencies = new Latencies();
  const pad = "x".repeat(o.size);
  let calls = 0;
  let results = 0;
  let failed = 0; // anything but a result: an ERROR, say
  let measuring = false;
  let running = true;
  const inFlight = new Array<number>(o.callers).fill(0);
  const requests = new Array<number>(o.callers).fill(0);

  const call = (i: number) => {
    const allowed = pacer.allowed();
    while (running && calls < allowed && inFlight[i]! < o.depth) {
      const msg = {
        type: MessageType.CALL as typeof MessageType.CALL,
        request: ++requests[i]!,
        options: {},
        procedure: PROCEDURE,
        args: [performance.now(), pad],
      };
      callers[i]!.send(encodeBytes(s, msg));
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

  const callAll = () => callers.forEach((_, i) => call(i));
  const pacer = new Pacer(o.rate, callAll);
  callAll();

  const m = await measure(o, () => results, (on) => measuring = on);
  running = false;
  pacer.stop();
  await drain(() => results >= calls);
  for (const c of [callee, ...callers]) c.close();

  return {
    callsPerSecond: Math.round((m.after - m.before) / m.seconds),
    latency: latencies.summary(),
    cpu: m.cpu,
    calls,
    lost: calls - results,
    failed,
  };
}
