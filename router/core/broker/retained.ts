/**
 * Event retention (feature key `event_retention`, spec "Event Retention",
 * https://wamp-proto.org/wamp_latest_ietf.html#name-event-retention): the
 * retained event of each topic, handed to subscribers that ask with
 * `get_retained`.
 *
 * Per topic the store keeps the latest retained event without black/white
 * lists, plus the (few) restricted retained events published after it, so
 * that a subscriber excluded from the newest one still gets the most recent
 * one it was eligible for. Publisher exclusion applies too: a publisher
 * that did not set `exclude_me: false` does not get its own retained event
 * back, as it would not have received it when it was published.
 *
 * @module
 */

import { type MatchPolicy, prefixMatch, wildcardMatch } from "../../../wamp/mod.ts";
import { limitMessage, type LimitOptions, resolveLimits } from "../limits.ts";
import { keptPublicationSize, type Publication } from "./publication.ts";
import { SortedTopics } from "./sorted_topics.ts";
import type { UriList } from "../procedures.ts";
import type { SessionInfo } from "../types.ts";

/** How many restricted retained events a topic keeps above its open one. */
const MAX_RESTRICTED = 8;

/**
 * What a retained event costs beyond what it carries: its objects and its
 * topic's entry (a million retained events without payload took 506 MiB).
 * Their number has no limit of its own: `retainedBytes` bounds it.
 */
export const RETAINED_EVENT_OVERHEAD = 512;

/** A retained publication and its estimated size. */
interface Kept {
  readonly pub: Publication;
  readonly size: number;
}

/** The limits that bound the retained events. */
export type RetainedLimits = Pick<LimitOptions, "retainedEventBytes" | "retainedBytes">;

/** The retained events of a broker. */
export class RetainedEvents {
  /** Per topic, newest last: at most one unrestricted event, then restricted ones. */
  #byTopic = new Map<string, Kept[]>();
  /** The same topics, in order: a pattern looks only at those that start as it does. */
  #topics = new SortedTopics();
  #bytes = 0;
  #maxEventBytes: number;
  #maxBytes: number;

  /**
   * Creates an empty store.
   *
   * @param limits The size limits; the defaults of `DEFAULT_LIMITS`
   * for those not given.
   */
  constructor(limits: RetainedLimits = {}) {
    const resolved = resolveLimits(limits);
    this.#maxEventBytes = resolved.retainedEventBytes;
    this.#maxBytes = resolved.retainedBytes;
  }

  /** The estimated size of every retained event together, in bytes. */
  get bytes(): number {
    return this.#bytes;
  }

  /** How many topics have a retained event. */
  get size(): number {
    return this.#byTopic.size;
  }

  /** Topics that have a retained event. */
  topics(): IterableIterator<string> {
    return this.#byTopic.keys();
  }

  /** The topics that have a retained event, in order (for a reflection list). */
  get sortedTopics(): UriList {
    return this.#topics;
  }

  /**
   * Whether a topic has a retained event.
   *
   * @param topic The concrete topic.
   * @returns True when it has one.
   */
  has(topic: string): boolean {
    return this.#byTopic.has(topic);
  }

  /**
   * Retains a publication as its topic's newest retained event, unless it
   * is over `retainedEventBytes` or would take the total over
   * `retainedBytes` (counting what it replaces as freed).
   *
   * @param pub The publication (PUBLISH with `retain: true`).
   * @returns Nothing when retained; otherwise why not, for ERROR
   * `cloverleaf.error.limit_exceeded`.
   */
  retain(pub: Publication): string | undefined {
    const budget = this.#maxEventBytes;
    const size = RETAINED_EVENT_OVERHEAD + keptPublicationSize(pub, budget);
    if (size > budget) {
      return limitMessage(`retain an event on "${pub.topic}"`, "retainedEventBytes", budget);
    }
    const kept = this.#byTopic.get(pub.topic) ?? [];
    // Publisher exclusion concerns one session: only black/white lists
    // make an event "restricted".
    const open = kept.length > 0 && kept[0]!.pub.filter === undefined ? 1 : 0;
    const evicted = pub.filter === undefined
      ? kept
      : kept.length - open >= MAX_RESTRICTED
      ? [kept[open]!]
      : [];
    const freed = evicted.reduce((sum, { size }) => sum + size, 0);
    if (this.#bytes - freed + size > this.#maxBytes) {
      return limitMessage(`retain an event on "${pub.topic}"`, "retainedBytes", this.#maxBytes);
    }
    this.#bytes += size - freed;
    if (kept.length === 0) this.#topics.add(pub.topic);
    if (pub.filter === undefined) {
      this.#byTopic.set(pub.topic, [{ pub, size }]);
      return undefined;
    }
    if (evicted.length > 0) kept.splice(open, 1);
    kept.push({ pub, size });
    this.#byTopic.set(pub.topic, kept);
    return undefined;
  }

  /**
   * The retained events a new subscription hands its subscriber: per
   * matching topic, the most recent one the session would have received.
   *
   * @param topic The subscription's topic or pattern.
   * @param match Its match policy.
   * @param session The subscriber.
   * @returns The events, one per topic at most.
   */
  for(topic: string, match: MatchPolicy, session: SessionInfo): Publication[] {
    if (match === "exact") {
      const found = newestFor(this.#byTopic.get(topic), session);
      return found === undefined ? [] : [found];
    }
    const out: Publication[] = [];
    const matches = match === "prefix" ? prefixMatch : wildcardMatch;
    // Only the topics that start as the pattern does; all of them when it starts with a wildcard.
    const start = literalStart(topic, match);
    const uris = start === "" ? this.#byTopic.keys() : this.#topics.startingWith(start);
    for (const uri of uris) {
      if (!matches(topic, uri)) continue;
      const found = newestFor(this.#byTopic.get(uri), session);
      if (found !== undefined) out.push(found);
    }
    return out;
  }
}

/**
 * What every topic a pattern matches starts with: a prefix itself; a
 * wildcard pattern's components before its first empty one.
 */
function literalStart(pattern: string, match: MatchPolicy): string {
  if (match === "prefix") return pattern;
  if (pattern.startsWith(".")) return "";
  const gap = pattern.indexOf("..");
  return gap < 0 ? pattern : pattern.slice(0, gap + 1);
}

function newestFor(
  kept: readonly Kept[] | undefined,
  session: SessionInfo,
): Publication | undefined {
  if (kept === undefined) return undefined;
  for (let i = kept.length - 1; i >= 0; i--) {
    const pub = kept[i]!.pub;
    if (pub.excluded === session.id) continue;
    if (pub.filter !== undefined && !pub.filter.allows(session)) continue;
    return pub;
  }
  return undefined;
}
