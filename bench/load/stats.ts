/**
 * Measurements: latency samples with percentiles, and a process's resident
 * memory from `/proc`.
 *
 * @module
 */

/** Latency samples in milliseconds, kept up to a bound by reservoir sampling. */
export class Latencies {
  #samples: number[] = [];
  #seen = 0;
  #max = 0;
  #bound: number;

  /** @param bound How many samples to keep. */
  constructor(bound = 200_000) {
    this.#bound = bound;
  }

  /** Records one latency. */
  add(ms: number): void {
    this.#seen++;
    if (ms > this.#max) this.#max = ms;
    if (this.#samples.length < this.#bound) this.#samples.push(ms);
    else {
      const at = Math.floor(Math.random() * this.#seen);
      if (at < this.#bound) this.#samples[at] = ms;
    }
  }

  /** p50, p99 and max in milliseconds (0 without samples), and the sample count. */
  summary(): LatencySummary {
    const sorted = Float64Array.from(this.#samples).sort();
    const at = (q: number) =>
      sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
    return {
      p50: round(at(0.5)),
      p99: round(at(0.99)),
      max: round(this.#max),
      samples: this.#seen,
    };
  }
}

/** Latency percentiles in milliseconds. */
export interface LatencySummary {
  p50: number;
  p99: number;
  max: number;
  samples: number;
}

/** Rounds to 3 decimals. */
export function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/**
 * A process's resident set size in bytes (`VmRSS` of `/proc/PID/status`),
 * or undefined when unknown.
 *
 * @param pid The process ID.
 */
export function rss(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}

/** Waits `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * CPU time a process has used so far, in seconds (user + system, from
 * `/proc/PID/stat`), or undefined when unknown.
 *
 * @param pid The process ID, or `self`.
 */
export function cpuSeconds(pid: number | "self" | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** CPU use over a measured interval: cores busy, for the target and the load tool. */
export interface CpuUse {
  /** The target's share of one core (1 = one core saturated), when its PID is known. */
  target?: number;
  /** The load tool's share of one core. */
  load: number;
}

/** Starts measuring CPU use; the returned function ends it. */
export function cpuMeter(pid: number | undefined): () => CpuUse {
  const t0 = performance.now();
  const target0 = cpuSeconds(pid);
  const self0 = cpuSeconds("self") ?? 0;
  return () => {
    const seconds = (performance.now() - t0) / 1000;
    const target1 = cpuSeconds(pid);
    const use: CpuUse = { load: round(((cpuSeconds("self") ?? 0) - self0) / seconds) };
    if (target0 !== undefined && target1 !== undefined) {
      use.target = round((target1 - target0) / seconds);
    }
    return use;
  };
}

/** One message in this many is decoded to sample its latency; the others are only counted. */
export const SAMPLE_EVERY = 8;

/**
 * Paces a sender to `rate` messages per second: {@linkcode Pacer.allowed}
 * grows with time and `topUp` is called every millisecond. Rate 0 allows
 * everything at once (the window alone bounds the sender).
 */
export class Pacer {
  #rate: number;
  #start = performance.now();
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(rate: number, topUp: () => void) {
    this.#rate = rate;
    if (rate > 0) this.#timer = setInterval(topUp, 1);
  }

  /** How many messages may have been sent by now. */
  allowed(): number {
    return this.#rate > 0
      ? Math.floor(this.#rate * (performance.now() - this.#start) / 1000)
      : Infinity;
  }

  /** Stops the top-ups. */
  stop(): void {
    clearInterval(this.#timer);
  }
}

/**
 * The measured window: waits out the warm-up, reads `counters` at the start
 * and the end of `duration`, with the CPU use in between. `measuring` is
 * told when the window opens and closes.
 */
export async function measure<T>(
  o: { warmup: number; duration: number; pid?: number | undefined },
  counters: () => T,
  measuring: (on: boolean) => void,
): Promise<{ before: T; after: T; seconds: number; cpu: CpuUse }> {
  await sleep(o.warmup * 1000);
  measuring(true);
  const cpu = cpuMeter(o.pid);
  const before = counters(), t0 = performance.now();
  await sleep(o.duration * 1000);
  const after = counters(), t1 = performance.now();
  const use = cpu();
  measuring(false);
  return { before, after, seconds: (t1 - t0) / 1000, cpu: use };
}

/** Waits until `done()` holds, 5 s at most (what has not arrived by then counts as lost). */
export async function drain(done: () => boolean): Promise<void> {
  for (let waited = 0; !done() && waited < 5000; waited += 20) await sleep(20);
}
