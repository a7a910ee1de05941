/**
 * The kinds of counters `metrics.ts` keeps: a counter with one bounded
 * label, a histogram with fixed buckets, a bounded table of hits per key
 * (rates by URI, of the URIs a realm's check takes), and a ring of recent
 * entries.
 *
 * @module
 */

import { isReservedUri, isValidUri, MAX_URI_LENGTH, type UriCheckOptions } from "../wamp/mod.ts";

/** The most distinct values of one label; more are counted as `other`. */
export const MAX_LABELS = 32;

/** A counter with one label whose values are bounded. */
export class LabelCounter {
  #counts = new Map<string, number>();
  /** Values other than `other` counted under their own name. */
  #named = 0;

  /**
   * Counts one more for a label value (`other` once {@linkcode MAX_LABELS}
   * others are known; `other` itself, as a {@linkcode LabelSet} gives it,
   * takes no place of theirs).
   *
   * @param label The label value.
   */
  add(label: string): void {
    const counts = this.#counts;
    const n = counts.get(label);
    if (n !== undefined) counts.set(label, n + 1);
    else if (label === "other" || this.#named >= MAX_LABELS) {
      counts.set("other", (counts.get("other") ?? 0) + 1);
    } else {
      counts.set(label, 1);
      this.#named++;
    }
  }

  /**
   * The count of one label value.
   *
   * @param label The label value.
   * @returns How many were counted.
   */
  get(label: string): number {
    return this.#counts.get(label) ?? 0;
  }

  /** Every label value with its count. */
  entries(): IterableIterator<[string, number]> {
    return this.#counts.entries();
  }
}

/**
 * The label values of one label shared by several metrics (the `realm`
 * of counters and gauges alike): the first {@linkcode MAX_LABELS} values
 * asked for keep their own, any later one is `other`, in every metric, so
 * their series stay the same set.
 */
export class LabelSet {
  #known = new Set<string>();

  /**
   * The label a value is shown under (and, while there is room, keeps).
   *
   * @param value The label value.
   * @returns The value, or `other`.
   */
  label(value: string): string {
    if (this.#known.has(value)) return value;
    if (this.#known.size >= MAX_LABELS) return "other";
    this.#known.add(value);
    return value;
  }
}

/** A histogram with fixed buckets (cumulative when exposed). */
export class Histogram {
  /** The buckets' upper bounds, ascending. */
  readonly bounds: readonly number[];
  /** Observations per bucket (not cumulative); the last is above every bound. */
  readonly counts: Float64Array;
  /** The sum of the observations. */
  sum = 0;
  /** How many observations. */
  count = 0;

  /**
   * Creates the histogram.
   *
   * @param bounds The buckets' upper bounds, ascending.
   */
  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  /**
   * Records an observation.
   *
   * @param value The value.
   */
  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

/**
 * Hits per key in the current window, for at most `max` keys of at most
 * {@linkcode MAX_URI_LENGTH} characters (those past either are counted
 * together): the dashboard's top topics and procedures.
 */
export class RateTable {
  #window = new Map<string, number>();
  #max: number;
  /** Hits of keys that did not fit in the current window, or were too long to keep. */
  overflow = 0;

  /**
   * Creates the table.
   *
   * @param max The most keys kept in one window.
   */
  constructor(max = 256) {
    this.#max = max;
  }

  /**
   * Counts a hit.
   *
   * @param key The topic or procedure.
   */
  hit(key: string): void {
    const window = this.#window;
    const n = window.get(key);
    if (n !== undefined) window.set(key, n + 1);
    else if (window.size < this.#max && key.length <= MAX_URI_LENGTH) window.set(key, 1);
    else this.overflow++;
  }

  /**
   * Ends the window: its `top` keys by hits, most first; a new window starts.
   *
   * @param top How many keys to return.
   * @returns The keys with their hits.
   */
  roll(top: number): [string, number][] {
    const sorted = [...this.#window].sort((a, b) => b[1] - a[1]).slice(0, top);
    this.#window.clear();
    this.overflow = 0;
    return sorted;
  }
}

const LOOSE: UriCheckOptions = Object.freeze({ strict: false });
const STRICT: UriCheckOptions = Object.freeze({ strict: true });

/**
 * PUBLISHes by topic and CALLs by procedure, kept while a dashboard is
 * open: those of joined sessions, by URIs their realm's check takes (the
 * broker's, the dealer's). A peer's strings were counted as they came,
 * before HELLO too, megabytes each, and every snapshot carried the top
 * ten.
 */
export class Rates {
  /** PUBLISHes by topic. */
  readonly topics: RateTable = new RateTable();
  /** CALLs by procedure. */
  readonly procedures: RateTable = new RateTable();

  /**
   * Counts a PUBLISH whose topic its realm takes (valid, not `wamp.*`).
   *
   * @param topic Its topic.
   * @param strict The realm's `strictUris`; `undefined` before the publisher joined (not counted).
   */
  published(topic: string, strict: boolean | undefined): void {
    if (strict === undefined || !isValidUri(topic, strict ? STRICT : LOOSE)) return;
    if (!isReservedUri(topic)) this.topics.hit(topic);
  }

  /**
   * Counts a CALL whose procedure its realm takes (valid).
   *
   * @param procedure Its procedure.
   * @param strict The realm's `strictUris`; `undefined` before the caller joined (not counted).
   */
  called(procedure: string, strict: boolean | undefined): void {
    if (strict !== undefined && isValidUri(procedure, strict ? STRICT : LOOSE)) {
      this.procedures.hit(procedure);
    }
  }
}

/** The last `size` entries. */
export class Ring<T> {
  #items: T[] = [];
  #next = 0;
  #size: number;

  /**
   * Creates the ring.
   *
   * @param size How many entries it keeps.
   */
  constructor(size: number) {
    this.#size = size;
  }

  /**
   * Adds an entry, forgetting the oldest once full.
   *
   * @param item The entry.
   */
  push(item: T): void {
    if (this.#items.length < this.#size) this.#items.push(item);
    else this.#items[this.#next] = item;
    this.#next = (this.#next + 1) % this.#size;
  }

  /** The entries, newest first. */
  list(): T[] {
    const items = this.#items;
    if (items.length < this.#size) return [...items].reverse();
    return [...items.slice(this.#next), ...items.slice(0, this.#next)].reverse();
  }
}
