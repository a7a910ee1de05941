/**
 * A publication as the broker keeps it (for fan-out, event retention and
 * event history), and the EVENT it becomes for one subscription.
 *
 * @module
 */

import { type Dict, type EventMessage, type MatchPolicy, MessageType } from "../../../wamp/mod.ts";
import type { PublishFilter } from "./publish_filter.ts";

/** One accepted PUBLISH. */
export interface Publication {
  /** Global-scope publication ID. */
  readonly id: number;
  /** The concrete topic published to. */
  readonly topic: string;
  /** When the broker accepted it (milliseconds since the epoch). */
  readonly timestamp: number;
  /**
   * EVENT.Details shared by every subscription: `publisher*`, `trustlevel`,
   * `ppt_*`. Never mutated once built.
   */
  readonly details: Dict;
  /** Positional arguments, if any. */
  readonly args?: unknown[];
  /** Keyword arguments, if any. */
  readonly kwargs?: Dict;
  /** An opaque (Autobahn `enc_algo`) payload, if any. */
  readonly payload?: unknown;
  /** Black/white lists, if the publisher gave any. */
  readonly filter?: PublishFilter;
  /** The publisher's session ID when `exclude_me` applies. */
  readonly excluded?: number;
}

/** What an EVENT needs to know about its subscription. */
export interface EventSubscription {
  /** The subscription ID. */
  readonly id: number;
  /** Its match policy: pattern subscriptions get `details.topic`. */
  readonly match: MatchPolicy;
}

/**
 * Builds the EVENT a publication becomes for one subscription. Pattern
 * subscriptions get `details.topic` (spec "Pattern-based Subscription").
 *
 * @param sub The subscription.
 * @param pub The publication.
 * @param extra Further details (e.g. `retained: true`).
 * @returns The EVENT, sharing the publication's payload.
 */
export function eventFor(sub: EventSubscription, pub: Publication, extra?: Dict): EventMessage {
  let details = pub.details;
  if (sub.match !== "exact" || extra !== undefined) {
    details = { ...details, ...extra };
    if (sub.match !== "exact") details.topic = pub.topic;
  }
  const event: EventMessage = {
    type: MessageType.EVENT,
    subscription: sub.id,
    publication: pub.id,
    details,
  };
  if (pub.args !== undefined) event.args = pub.args;
  if (pub.kwargs !== undefined) event.kwargs = pub.kwargs;
  if (pub.payload !== undefined) event.payload = pub.payload;
  return event;
}
