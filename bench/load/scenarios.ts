/**
 * The scenarios by name, their default shapes, and a one-line human
 * summary of each result.
 *
 * @module
 */

import { connections, type ConnectionsOptions, type ConnectionsResult } from "./connections.ts";
import { pubsub, type PubSubOptions, type PubSubResult } from "./pubsub.ts";
import { rpc, type RpcOptions, type RpcResult } from "./rpc.ts";
import type { Target } from "./session.ts";
import type { CpuUse } from "./stats.ts";

/**
 * The shapes `--saturate` uses instead of the defaults: enough in flight
 * that the server, not the round trip, bounds the rate (the router fills
 * its core).
 */
export const SATURATING: Partial<Record<Scenario, Partial<Params>>> = {
  pubsub: { publishers: 2, subscribers: 2, window: 2048 },
  rpc: { callers: 8, depth: 256 },
};

/** The scenario names. */
export const SCENARIOS = ["pubsub", "fanout", "rpc", "connections", "slowconsumer"] as const;
/** A scenario name. */
export type Scenario = typeof SCENARIOS[number];

/** Every knob; each scenario reads the ones it needs. */
export type Params =
  & Omit<PubSubOptions, "stalled" | "sampled">
  & RpcOptions
  & ConnectionsOptions;

/** The defaults of each scenario (flags override them). */
export const DEFAULTS: Record<Scenario, Params> = {
  pubsub: base({ publishers: 2, subscribers: 2, window: 512 }),
  fanout: base({ publishers: 1, subscribers: 1000, window: 4 }),
  rpc: base({ callers: 4, depth: 64 }),
  connections: base({ sessions: 10_000, concurrency: 128 }),
  slowconsumer: base({ publishers: 1, subscribers: 1, window: 64, duration: 10 }),
};

function base(p: Partial<Params>): Params {
  return {
    publishers: 1,
    subscribers: 1,
    window: 64,
    callers: 1,
    depth: 1,
    rate: 0,
    duration: 5,
    warmup: 1,
    size: 32,
    sessions: 1000,
    concurrency: 128,
    ...p,
  };
}

/** One scenario's result, tagged with its name. */
export type Result =
  | ({ scenario: "pubsub" | "fanout" | "slowconsumer" } & PubSubResult)
  | ({ scenario: "rpc" } & RpcResult)
  | ({ scenario: "connections" } & ConnectionsResult);

/**
 * Runs one scenario.
 *
 * @param scenario Which.
 * @param target Where.
 * @param p Its shape.
 */
export async function runScenario(scenario: Scenario, target: Target, p: Params): Promise<Result> {
  switch (scenario) {
    case "pubsub":
    case "fanout":
    case "slowconsumer":
      return {
        scenario,
        ...await pubsub(target, {
          ...p,
          stalled: scenario === "slowconsumer" ? 1 : 0,
          // Every subscriber of a small pubsub decodes; a fan-out samples one.
          sampled: p.subscribers <= 16 ? p.subscribers : 1,
        }),
      };
    case "rpc":
      return { scenario, ...await rpc(target, p) };
    case "connections":
      return { scenario, ...await connections(target, p) };
  }
}

const MiB = 1024 * 1024;

/**
 * A one-line human summary.
 *
 * @param r A result.
 */
export function summarize(r: Result): string {
  const mem = (x: { cold: number; before: number; peak: number; after: number } | undefined) =>
    x === undefined
      ? ""
      : `, target RSS ${mb(x.cold)} cold, ${mb(x.before)} warm → peak ${mb(x.peak)} → ` +
        `${mb(x.after)} MiB (+${mb(x.peak - x.before)} while measured)`;
  switch (r.scenario) {
    case "pubsub":
    case "fanout":
    case "slowconsumer":
      return `${r.eventsPerSecond} events/s (${r.publicationsPerSecond} publications/s), ` +
        `latency p50 ${r.latency.p50} p99 ${r.latency.p99} max ${r.latency.max} ms, ` +
        `${r.lost} lost of ${r.published}${mem(r.rss)}${cpu(r.cpu, r.eventsPerSecond, "event")}`;
    case "rpc":
      return `${r.callsPerSecond} calls/s, latency p50 ${r.latency.p50} p99 ${r.latency.p99} ` +
        `max ${r.latency.max} ms, ${r.lost} lost of ${r.calls}, ${r.failed} errors` +
        cpu(r.cpu, r.callsPerSecond, "call");
    case "connections":
      return `${r.joined} joined (${r.failed} failed) in ${r.seconds} s = ${r.joinsPerSecond}/s` +
        cpu(r.cpu, 0, "") +
        (r.rss === undefined ? "" : `, target RSS ${mb(r.rss.before)} → ${mb(r.rss.after)} MiB = ` +
          `${(r.rss.perSession / 1024).toFixed(1)} KiB/session`);
  }
}

function cpu(use: CpuUse, perSecond: number, unit: string): string {
  const per = cpuPerMessage(use, perSecond);
  return `, CPU: load tool ${use.load}` +
    (use.target === undefined ? "" : `, target ${use.target}`) +
    (per === undefined ? "" : ` = ${per} µs per ${unit}`);
}

/**
 * The target's CPU time per message in microseconds (its share of a core
 * over the measured window divided by the messages per second), when its
 * CPU use is known. Far less sensitive than throughput to other processes
 * sharing the machine.
 *
 * @param use The CPU use over the measured window.
 * @param perSecond Messages (events, calls) per second over the same window.
 */
export function cpuPerMessage(use: CpuUse, perSecond: number): number | undefined {
  if (use.target === undefined || !(perSecond > 0)) return undefined;
  return Math.round(use.target / perSecond * 1e8) / 100;
}

function mb(bytes: number): string {
  return (bytes / MiB).toFixed(1);
}
