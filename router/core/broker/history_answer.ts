/**
 * What one `wamp.subscription.get_events` answer may hold, so that one
 * small CALL never builds a huge RESULT, nor one its caller cannot decode:
 * the events are counted as they are added, as the decoders' pre-scans
 * count a message (`wamp/serializers/decode_limits.ts`: dict keys, values,
 * byte strings, nesting), and by estimated size. Past a bound the answer is
 * refused (`cloverleaf.error.limit_exceeded`, whose kwargs `limit` is how
 * many events fit, to ask again with). An event no answer can hold is left
 * out: one that would nest deeper than a message may, or that passes a
 * bound on its own (a PUBLISH may carry 65,535 dict keys, an answer 65,471;
 * refusing would leave the events after it unreadable).
 *
 * @module
 */

import { type Dict, MAX_NESTING_DEPTH } from "../../../wamp/mod.ts";
import {
  CONTAINER_WEIGHT,
  MAX_BYTE_STRINGS,
  MAX_DICT_KEYS,
  MAX_VALUES,
} from "../../../wamp/serializers/decode_limits.ts";

/** The most one answer may hold, the RESULT's own few entries left aside. */
export const ANSWER_LIMITS = Object.freeze({
  /** Estimated size, in bytes (string and byte lengths, 8 per number and per container). */
  bytes: 4 * 1024 * 1024,
  /** Dict keys, every dict counted. */
  keys: MAX_DICT_KEYS - 64,
  /** Values of any kind, a list or dict counting `CONTAINER_WEIGHT` + 1. */
  values: MAX_VALUES - 256,
  /** Byte strings. */
  binaries: MAX_BYTE_STRINGS - 64,
});

/** How deep an event (a dict in the RESULT's Arguments list) sits: its own level. */
const EVENT_LEVEL = 3;

/** What the events added so far hold, counted as the decoders count. */
export class AnswerBudget {
  #bytes = 0;
  #keys = 0;
  #values = 0;
  #binaries = 0;
  #events = 0;

  /**
   * Counts an event in, unless it takes the answer past a bound.
   *
   * @param event The event, as the answer carries it.
   * @returns `"added"`; `"deep"` when it would nest deeper than a message
   * may, or `"alone"` when it passes a bound on its own (neither counted:
   * leave it out); or, when it does not fit after the others, the bound it
   * passes, for {@linkcode AnswerBudget.refusal}.
   */
  add(event: Dict): "added" | "deep" | "alone" | keyof typeof ANSWER_LIMITS {
    const verdict = this.#add(event);
    if (verdict === "added" || verdict === "deep") return verdict;
    // Past a bound: on its own too? (counted again, at most as far as the bounds)
    if (this.#events === 0 || new AnswerBudget().#add(event) !== "added") return "alone";
    return verdict;
  }

  /** Counts `event` in after those added so far, as {@linkcode AnswerBudget.add} without "alone". */
  #add(event: Dict): "added" | "deep" | keyof typeof ANSWER_LIMITS {
    const count = {
      bytes: this.#bytes,
      keys: this.#keys,
      values: this.#values,
      binaries: this.#binaries,
    };
    const stack: unknown[] = [event];
    const levels: number[] = [EVENT_LEVEL];
    while (stack.length > 0) {
      const value = stack.pop();
      const level = levels.pop()!;
      if (typeof value === "string") count.bytes += value.length;
      else if (value instanceof Uint8Array) {
        count.bytes += value.byteLength;
        count.binaries++;
      } else if (typeof value === "object" && value !== null) {
        if (level > MAX_NESTING_DEPTH) return "deep";
        const list = Array.isArray(value);
        const keys = list ? [] : Object.keys(value);
        const items = list ? value.length : keys.length;
        // Each entry of a dict: its key (a value too, to the pre-scans) and its value.
        count.bytes += 8 + (list ? items : 0);
        count.values += CONTAINER_WEIGHT + 1 + (list ? items : 2 * items);
        count.keys += list ? 0 : items;
        for (const key of keys) count.bytes += key.length + 1;
        const over = overBound(count);
        if (over !== undefined) return over;
        for (let i = 0; i < items; i++) {
          stack.push(list ? value[i] : (value as Dict)[keys[i]!]);
          levels.push(level + 1);
        }
        continue;
      } else count.bytes += 8;
      const over = overBound(count);
      if (over !== undefined) return over;
    }
    this.#bytes = count.bytes;
    this.#keys = count.keys;
    this.#values = count.values;
    this.#binaries = count.binaries;
    this.#events++;
    return "added";
  }

  /** How many events were added. */
  get events(): number {
    return this.#events;
  }

  /**
   * The message of the refusal once an event passed `bound`.
   *
   * @param bound The bound {@linkcode AnswerBudget.add} named.
   * @returns A one-line message for `cloverleaf.error.limit_exceeded`.
   */
  refusal(bound: keyof typeof ANSWER_LIMITS): string {
    const what = {
      bytes: "bytes (estimated)",
      keys: "dict keys",
      values: "values",
      binaries: "byte strings",
    }[bound];
    return `Cannot answer get_events: the events take more than ` +
      `${ANSWER_LIMITS[bound]} ${what}; the first ${this.#events} fit (ask with "limit")`;
  }
}

/** The first bound `count` passes, if any. */
function overBound(
  count: Record<keyof typeof ANSWER_LIMITS, number>,
): keyof typeof ANSWER_LIMITS | undefined {
  if (count.bytes > ANSWER_LIMITS.bytes) return "bytes";
  if (count.keys > ANSWER_LIMITS.keys) return "keys";
  if (count.values > ANSWER_LIMITS.values) return "values";
  if (count.binaries > ANSWER_LIMITS.binaries) return "binaries";
  return undefined;
}
