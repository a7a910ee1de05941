/**
 * A parser for the Prometheus text exposition format 0.0.4 that checks
 * the grammar as it reads (and throws, naming the line, on the first
 * problem): metric and label names, label value escapes (`\\`, `\"`,
 * `\n` only), sample values (floats, `NaN`, `+Inf`, `-Inf`), optional
 * timestamps, `# HELP` / `# TYPE` at most once per family and before its
 * samples, each family's samples together, no series twice, and
 * histograms whose `_bucket` series carry `le`, are cumulative, end with
 * `le="+Inf"` and equal `_count`.
 */

/** One sample. */
export interface ParsedSample {
  /** The series name (with `_bucket`, `_sum`, `_count` for histograms). */
  name: string;
  /** Its labels. */
  labels: Record<string, string>;
  /** Its value. */
  value: number;
}

/** A family: TYPE, HELP and samples. */
export interface ParsedFamily {
  name: string;
  type: "counter" | "gauge" | "histogram" | "summary" | "untyped";
  help?: string;
  samples: ParsedSample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const TYPES = ["counter", "gauge", "histogram", "summary", "untyped"] as const;
const FLOAT = /^[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|Inf|NaN)$/;

/**
 * Parses (and validates) an exposition.
 *
 * @returns The families by name.
 * @throws {SyntaxError} Naming the line of the first problem.
 */
export function parsePrometheus(text: string): Map<string, ParsedFamily> {
  const families = new Map<string, ParsedFamily>();
  const done = new Set<string>();
  const series = new Set<string>();
  const typed = new Set<string>();
  let current: ParsedFamily | undefined;
  if (text !== "" && !text.endsWith("\n")) {
    throw new SyntaxError("the exposition must end with a newline");
  }
  const lines = text.split("\n").slice(0, -1);
  lines.forEach((line, i) => {
    const fail = (why: string): never => {
      throw new SyntaxError(`line ${i + 1}: ${why}: ${JSON.stringify(line)}`);
    };
    const familyOf = (name: string): ParsedFamily => {
      if (current?.name !== name) {
        if (current !== undefined) done.add(current.name);
        if (done.has(name)) fail(`family ${name} is not contiguous`);
        current = families.get(name) ?? { name, type: "untyped", samples: [] };
        families.set(name, current);
      }
      return current;
    };
    if (line.trim() === "") return;
    if (line.startsWith("#")) {
      const m = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(line);
      if (m === null) return; // a comment
      const [, kind, name, rest = ""] = m;
      if (METRIC_NAME.exec(name!)?.[0] !== name) fail("bad metric name");
      const family = familyOf(name!);
      if (kind === "HELP") {
        if (family.help !== undefined) fail("second HELP");
        if (/\\[^\\n]/.test(rest.replace(/\\\\/g, ""))) fail("bad escape in HELP");
        family.help = rest.replace(/\\(\\|n)/g, (_, c) => (c === "n" ? "\n" : "\\"));
      } else {
        if (family.samples.length > 0) fail("TYPE after samples");
        if (typed.has(name!)) fail("second TYPE");
        typed.add(name!);
        if (!(TYPES as readonly string[]).includes(rest)) fail("unknown type");
        family.type = rest as ParsedFamily["type"];
      }
      return;
    }
    const name = METRIC_NAME.exec(line)?.[0] ?? fail("bad metric name");
    let pos = name.length;
    const labels: Record<string, string> = {};
    if (line[pos] === "{") {
      pos++;
      while (line[pos] !== "}") {
        const label = LABEL_NAME.exec(line.slice(pos))?.[0] ?? fail("bad label name");
        pos += label.length;
        if (line[pos] !== "=" || line[pos + 1] !== '"') fail('expected =" after a label name');
        pos += 2;
        let value = "";
        for (;;) {
          const c = line[pos++] ?? fail("unterminated label value");
          if (c === '"') break;
          if (c !== "\\") {
            value += c;
            continue;
          }
          const e = line[pos++];
          if (e === "\\") value += "\\";
          else if (e === '"') value += '"';
          else if (e === "n") value += "\n";
          else fail("bad escape in a label value");
        }
        if (label in labels) fail(`label ${label} twice`);
        labels[label] = value;
        if (line[pos] === ",") pos++;
        else if (line[pos] !== "}") fail("expected , or } after a label");
      }
      pos++;
    }
    const fields = line.slice(pos).trim().split(/\s+/);
    if (line[pos] !== " " || fields.length < 1 || fields.length > 2) {
      fail("expected ' value [timestamp]'");
    }
    if (!FLOAT.test(fields[0]!)) fail("bad value");
    if (fields[1] !== undefined && !/^-?\d+$/.test(fields[1])) fail("bad timestamp");
    const value = fields[0]!.endsWith("Inf")
      ? (fields[0]!.startsWith("-") ? -Infinity : Infinity)
      : Number(fields[0]);
    const base = current !== undefined && current.type === "histogram"
      ? name.replace(/_(bucket|sum|count)$/, "")
      : name;
    const family = familyOf(current?.name === base ? base : name);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (series.has(key)) fail("series twice");
    series.add(key);
    if (family.type === "histogram" && name === `${base}_bucket` && labels.le === undefined) {
      fail("_bucket without le");
    }
    family.samples.push({ name, labels, value });
  });
  for (const family of families.values()) if (family.type === "histogram") checkHistogram(family);
  return families;
}

function checkHistogram(family: ParsedFamily): void {
  const groups = new Map<string, ParsedSample[]>();
  for (const s of family.samples) {
    const { le: _, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  for (const samples of groups.values()) {
    const buckets = samples.filter((s) => s.name === `${family.name}_bucket`);
    const count = samples.find((s) => s.name === `${family.name}_count`);
    const sum = samples.find((s) => s.name === `${family.name}_sum`);
    if (count === undefined || sum === undefined) {
      throw new SyntaxError(`${family.name}: no _count or _sum`);
    }
    let last = -Infinity;
    let previous = 0;
    for (const b of buckets) {
      const le = b.labels.le === "+Inf" ? Infinity : Number(b.labels.le);
      if (!(le > last)) throw new SyntaxError(`${family.name}: le not ascending`);
      if (b.value < previous) throw new SyntaxError(`${family.name}: buckets not cumulative`);
      last = le;
      previous = b.value;
    }
    if (last !== Infinity) throw new SyntaxError(`${family.name}: no le="+Inf" bucket`);
    if (previous !== count.value) {
      throw new SyntaxError(`${family.name}: +Inf bucket is not _count`);
    }
  }
}

/**
 * The value of one series.
 *
 * @returns The value, or `undefined` when there is no such series.
 */
export function valueOf(
  families: Map<string, ParsedFamily>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const family of families.values()) {
    for (const s of family.samples) {
      if (s.name !== name) continue;
      if (Object.entries(labels).every(([k, v]) => s.labels[k] === v)) return s.value;
    }
  }
  return undefined;
}
