/**
 * The `connections` scenario: N sessions join and stay idle. Measures how
 * fast they join and what each costs the target in resident memory.
 *
 * @module
 */

import type { Conn } from "./conn.ts";
import { openPeer, type Target } from "./session.ts";
import { cpuMeter, type CpuUse, rss, sleep } from "./stats.ts";

/** Options for {@linkcode connections}. */
export interface ConnectionsOptions {
  /** Sessions to join. */
  sessions: number;
  /** Joins in progress at once. */
  concurrency: number;
  /** The target's process, for its memory. */
  pid?: number | undefined;
}

/** What {@linkcode connections} measured. */
export interface ConnectionsResult {
  /** Sessions joined. */
  joined: number;
  /** Joins that failed (refused or timed out). */
  failed: number;
  /** Seconds from the first connect to the last WELCOME. */
  seconds: number;
  /** Sessions joined per second. */
  joinsPerSecond: number;
  /** Cores busy while joining. */
  cpu: CpuUse;
  /** The target's resident memory: before, with every session joined (after 2 s idle), and the cost per session. */
  rss?: { before: number; after: number; perSession: number };
}

/**
 * Joins `sessions` idle sessions, measures, and closes them.
 *
 * @param target Where.
 * @param o How many, and how many at once.
 */
export async function connections(
  target: Target,
  o: ConnectionsOptions,
): Promise<ConnectionsResult> {
  const before = rss(o.pid);
  const open: Conn[] = [];
  let failed = 0;
  let next = 0;
  const t0 = performance.now();
  const cpu = cpuMeter(o.pid);
  const worker = async () => {
    while (next < o.sessions) {
      next++;
      try {
        open.push(await openPeer(target, "idle"));
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency, o.sessions) }, worker));
  const seconds = (performance.now() - t0) / 1000;
  const cpuUse = cpu();
  await sleep(2000);
  const after = rss(o.pid);
  for (const c of open) c.close();
  await sleep(500);
  return {
    joined: open.length,
    failed,
    seconds: Math.round(seconds * 1000) / 1000,
    joinsPerSecond: Math.round(open.length / seconds),
    cpu: cpuUse,
    ...(before === undefined || after === undefined ? {} : {
      rss: { before, after, perSession: Math.round((after - before) / Math.max(1, open.length)) },
    }),
  };
}
