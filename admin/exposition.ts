/**
 * The Prometheus text exposition format, version 0.0.4: metric families
 * with `# HELP` and `# TYPE` lines, escaped label values, and histograms
 * as cumulative `_bucket` series (up to `le="+Inf"`), `_sum` and `_count`.
 *
 * @module
 */

/** The content type of the format. */
export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Label names and values of one sample. */
export type Labels = Readonly<Record<string, string>>;

/** One sample of a counter or gauge. */
export interface Sample {
  /** Its labels. */
  readonly labels?: Labels;
  /** Its value. */
  readonly value: number;
}

/** A histogram's state for one label set. */
export interface HistogramSample {
  /** Its labels. */
  readonly labels?: Labels;
  /** The buckets' upper bounds, ascending (`+Inf` is added). */
  readonly bounds: readonly number[];
  /** Observations per bucket, not cumulative, one more than `bounds` (the last above all). */
  readonly counts: ArrayLike<number>;
  /** The sum of the observations. */
  readonly sum: number;
}

/** A metric family: a name, help text, type and samples. */
export type MetricFamily =
  | {
    readonly name: string;
    readonly help: string;
    readonly type: "counter" | "gauge";
    readonly samples: readonly Sample[];
  }
  | {
    readonly name: string;
    readonly help: string;
    readonly type: "histogram";
    readonly samples: readonly HistogramSample[];
  };

/**
 * Writes metric families in the text format.
 *
 * @example
 * ```ts
 * import { render } from "./exposition.ts";
 * import { equal } from "node:assert/strict";
 *
 * const text = render([{
 *   name: "cloverleaf_sessions",
 *   help: "Sessions joined now.",
 *   type: "gauge",
 *   samples: [{ labels: { realm: "realm1" }, value: 2 }],
 * }]);
 * equal(
 *   text,
 *   '# HELP cloverleaf_sessions Sessions joined now.\n# TYPE cloverleaf_sessions gauge\n' +
 *     'cloverleaf_sessions{realm="realm1"} 2\n',
 * );
 * ```
 *
 * @param families The families, each name once.
 * @returns The exposition.
 */
export function render(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const family of families) {
    const { name } = family;
    lines.push(`# HELP ${name} ${escapeHelp(family.help)}`, `# TYPE ${name} ${family.type}`);
    if (family.type !== "histogram") {
      for (const s of family.samples) lines.push(`${name}${labels(s.labels)} ${number(s.value)}`);
      continue;
    }
    for (const h of family.samples) {
      let cumulative = 0;
      for (let i = 0; i <= h.bounds.length; i++) {
        cumulative += h.counts[i] ?? 0;
        const le = i < h.bounds.length ? number(h.bounds[i]!) : "+Inf";
        lines.push(`${name}_bucket${labels({ ...h.labels, le })} ${cumulative}`);
      }
      lines.push(`${name}_sum${labels(h.labels)} ${number(h.sum)}`);
      lines.push(`${name}_count${labels(h.labels)} ${cumulative}`);
    }
  }
  return lines.length === 0 ? "" : lines.join("\n") + "\n";
}

function labels(set: Labels | undefined): string {
  if (set === undefined) return "";
  const pairs = Object.entries(set).map(([k, v]) => `${k}="${escapeValue(v)}"`);
  return pairs.length === 0 ? "" : `{${pairs.join(",")}}`;
}

/** A sample value: Go's float formatting for the special values. */
function number(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function escapeValue(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}
