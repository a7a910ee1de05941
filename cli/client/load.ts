/**
 * `--repeat N --parallel P` for `call` and `publish`: runs a request N
 * times, at most P in flight, and sums it up in one line (count, time,
 * rate, p50/p99 latency).
 *
 * @module
 */

/** What {@linkcode repeat} measured. */
export interface LoadSummary {
  /** Requests completed. */
  count: number;
  /** Wall time from the first request to the last answer, in milliseconds. */
  elapsed: number;
  /** Latencies in milliseconds, ascending. */
  latencies: number[];
}

/**
 * Runs `request` `times` times with at most `parallel` in flight. The
 * first failure stops new requests; the ones in flight finish, then it is
 * thrown.
 *
 * @param request One request; resolves when it is answered.
 * @param options How many in all, and at once.
 * @returns The count, the time and the sorted latencies.
 * @throws What the first failed request threw.
 */
export async function repeat(
  request: () => Promise<unknown>,
  options: { times: number; parallel: number },
): Promise<LoadSummary> {
  const latencies: number[] = [];
  let started = 0;
  let failure: { error: unknown } | undefined;
  const begin = performance.now();
  async function worker(): Promise<void> {
    while (started < options.times && failure === undefined) {
      started++;
      const t0 = performance.now();
      try {
        await request();
      } catch (error) {
        failure ??= { error };
        return;
      }
      latencies.push(performance.now() - t0);
    }
  }
  await Promise.all(
    Array.from({ length: Math.min(options.parallel, options.times) }, worker),
  );
  if (failure !== undefined) throw failure.error;
  latencies.sort((a, b) => a - b);
  return { count: latencies.length, elapsed: performance.now() - begin, latencies };
}

/**
 * The `q` quantile (0 to 1) of sorted values, nearest rank.
 *
 * @param sorted Values, ascending.
 * @param q The quantile.
 * @returns The value, or 0 when there is none.
 *
 * @example
 * ```ts
 * import { quantile } from "./load.ts";
 * import { equal } from "node:assert/strict";
 *
 * equal(quantile([1, 2, 3, 4], 0.5), 2);
 * equal(quantile([1, 2, 3, 4], 0.99), 4);
 * ```
 */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/**
 * The summary line: `1000 calls in 0.52 s: 1923/s, p50 0.41 ms, p99 1.20 ms`.
 *
 * @param noun What was repeated, plural (`calls`, `publications`).
 * @param summary What {@linkcode repeat} measured.
 * @returns The line.
 */
export function summaryLine(noun: string, summary: LoadSummary): string {
  const { count, elapsed, latencies } = summary;
  const rate = elapsed > 0 ? Math.round(count / (elapsed / 1000)) : count;
  return `${count} ${noun} in ${(elapsed / 1000).toFixed(2)} s: ${rate}/s, p50 ${
    quantile(latencies, 0.5).toFixed(2)
  } ms, p99 ${quantile(latencies, 0.99).toFixed(2)} ms`;
}
