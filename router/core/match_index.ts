/**
 * An index of URI patterns (exact, prefix, wildcard), shared by the broker
 * (subscriptions) and the dealer (registrations). Sans-I/O, no validation:
 * callers check URIs with `isValidUri()` first.
 *
 * @module
 */

import type { MatchPolicy } from "../../wamp/mod.ts";
import { WildcardTrie } from "./wildcard_trie.ts";

/**
 * An index of URI patterns under the three WAMP match policies, each
 * (pattern, match) pair holding one value.
 *
 * Matching cost does not grow with the number of patterns that cannot
 * match: exact patterns live in a `Map`; prefix patterns in a `Map` probed
 * once per distinct prefix length (at most the URI's length); wildcard
 * patterns in a radix trie over components (`wildcard_trie.ts`), walked
 * only along branches that match.
 *
 * Semantics follow the spec's pattern-based subscription and registration
 * (https://wamp-proto.org/wamp_latest_ietf.html#name-pattern-based-registration,
 * feature key `pattern_based_registration` / `pattern_based_subscription`):
 * prefix patterns match as *string* prefixes (`com.myapp.a` matches
 * `com.myapp.a-b`; the empty prefix matches everything), and an empty
 * component of a wildcard pattern matches exactly one component of any
 * content, with equal component counts. These agree with `prefixMatch()`
 * and `wildcardMatch()` in `wamp/uri.ts`.
 *
 * @typeParam T The value stored per pattern (a subscription, a registration).
 */
export class MatchIndex<T> {
  #exact = new Map<string, T>();
  #prefix = new Map<string, T>();
  /** Distinct prefix lengths in use, longest first, and how many patterns have each. */
  #prefixLengths: number[] = [];
  #prefixLengthCounts = new Map<number, number>();
  #wildcard = new WildcardTrie<T>();

  /**
   * The value stored for exactly this (pattern, match) pair; no matching is
   * done.
   *
   * @param pattern The URI or pattern, as given to {@linkcode MatchIndex.set}.
   * @param match The match policy it was stored under.
   * @returns The value, or `undefined` when there is none.
   */
  get(pattern: string, match: MatchPolicy): T | undefined {
    switch (match) {
      case "exact":
        return this.#exact.get(pattern);
      case "prefix":
        return this.#prefix.get(pattern);
      case "wildcard":
        return this.#wildcard.get(pattern);
    }
  }

  /**
   * Stores `value` for the (pattern, match) pair, replacing any previous
   * value. The same pattern under two policies is two entries.
   *
   * @param pattern The URI or pattern.
   * @param match The match policy.
   * @param value The value to store.
   */
  set(pattern: string, match: MatchPolicy, value: T): void {
    switch (match) {
      case "exact":
        this.#exact.set(pattern, value);
        return;
      case "prefix":
        if (!this.#prefix.has(pattern)) this.#addPrefixLength(pattern.length);
        this.#prefix.set(pattern, value);
        return;
      case "wildcard":
        this.#wildcard.set(pattern, value);
        return;
    }
  }

  /**
   * Removes the entry for the (pattern, match) pair.
   *
   * @param pattern The URI or pattern.
   * @param match The match policy.
   * @returns Whether there was such an entry.
   */
  delete(pattern: string, match: MatchPolicy): boolean {
    switch (match) {
      case "exact":
        return this.#exact.delete(pattern);
      case "prefix":
        if (!this.#prefix.delete(pattern)) return false;
        this.#removePrefixLength(pattern.length);
        return true;
      case "wildcard":
        return this.#wildcard.delete(pattern);
    }
  }

  /**
   * The components of the wildcard patterns, those of a common beginning
   * counted once: what the patterns' trie holds.
   */
  get wildcardNodes(): number {
    return this.#wildcard.components;
  }

  /**
   * Whether storing a wildcard pattern would take the trie past `max`
   * nodes (counting each of its components as new).
   *
   * @param pattern The wildcard pattern.
   * @param max The most nodes allowed.
   * @returns True when it might.
   */
  wildcardFull(pattern: string, max: number): boolean {
    const components = pattern.split(".").length;
    return this.#wildcard.components + components > max && !this.#wildcard.has(pattern);
  }

  /** The number of stored `prefix` and `wildcard` entries. */
  get patterns(): number {
    return this.#prefix.size + this.#wildcard.size;
  }

  /** The number of stored entries, over all match policies. */
  get size(): number {
    return this.#exact.size + this.#prefix.size + this.#wildcard.size;
  }

  /**
   * Every stored value, in no particular order.
   *
   * @returns An iterator over the values.
   */
  *values(): IterableIterator<T> {
    yield* this.#exact.values();
    yield* this.#prefix.values();
    yield* this.#wildcard.values();
  }

  /**
   * Every value whose pattern matches the concrete `uri`: the exact entry
   * first, then prefix entries (longest pattern first), then wildcard
   * entries (in {@linkcode MatchIndex.best} order). For the broker: an event
   * goes to every matching subscription.
   *
   * @param uri A concrete URI (a topic).
   * @returns The matching values, in a new array.
   */
  matches(uri: string): T[] {
    const out: T[] = [];
    const exact = this.#exact.get(uri);
    if (exact !== undefined || this.#exact.has(uri)) out.push(exact as T);
    for (const length of this.#prefixLengths) {
      if (length > uri.length) continue;
      const key = uri.slice(0, length);
      const value = this.#prefix.get(key);
      if (value !== undefined || this.#prefix.has(key)) out.push(value as T);
    }
    this.#wildcard.collect(uri, out);
    return out;
  }

  /**
   * The single best match for a call, per the spec's rules for
   * pattern-based registrations: the exact entry; else the prefix entry
   * with the longest pattern; else the wildcard entry whose literal
   * components reach furthest, position by position from the left (for
   * `a1.b2.c33.d4.e5`, `a1.b2.c33..e5` beats `a1.b2..d4.e5`). For the
   * dealer.
   *
   * @param uri A concrete URI (a procedure).
   * @returns The best value, or `undefined` when nothing matches.
   */
  best(uri: string): T | undefined {
    const exact = this.#exact.get(uri);
    if (exact !== undefined || this.#exact.has(uri)) return exact;
    for (const length of this.#prefixLengths) {
      if (length > uri.length) continue;
      const key = uri.slice(0, length);
      const value = this.#prefix.get(key);
      if (value !== undefined || this.#prefix.has(key)) return value;
    }
    return this.#wildcard.best(uri);
  }

  #addPrefixLength(length: number): void {
    const count = this.#prefixLengthCounts.get(length) ?? 0;
    this.#prefixLengthCounts.set(length, count + 1);
    if (count > 0) return;
    let i = 0;
    while (i < this.#prefixLengths.length && this.#prefixLengths[i]! > length) i++;
    this.#prefixLengths.splice(i, 0, length);
  }

  #removePrefixLength(length: number): void {
    const count = this.#prefixLengthCounts.get(length) ?? 0;
    if (count > 1) {
      this.#prefixLengthCounts.set(length, count - 1);
      return;
    }
    this.#prefixLengthCounts.delete(length);
    this.#prefixLengths.splice(this.#prefixLengths.indexOf(length), 1);
  }
}
