/**
 * A publication as the broker keeps it (for fan-out, event retention and
 * event history): how a PUBLISH is checked and becomes one, and the EVENT
 * it becomes for one subscription.
 *
 * @module
 */

import {
  type Dict,
  ErrorUri,
  type EventDetails,
  type EventMessage,
  isReservedUri,
  isValidUri,
  type MatchPolicy,
  MessageType,
  type PublishMessage,
} from "../../../wamp/mod.ts";
import { copyPassthru, hasPassthruKey, passthruProblem, usesPassthru } from "../passthru.ts";
import { keptPayloadSize, PAYLOAD_KEYS } from "../limits.ts";
import { PublishFilter } from "./publish_filter.ts";
import type { SessionInfo } from "../types.ts";

/** One accepted PUBLISH. */
export interface Publication {
  /** Global-scope publication ID. */
  readonly id: number;
  /** The concrete topic published to. */
  readonly topic: string;
  /**
   * When the broker accepted it (milliseconds since the epoch); 0 until
   * something keeps it (an event history, the cluster), which stamps it in
   * the same turn ({@linkcode stamped}).
   */
  timestamp: number;
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

/** The broker's options that decide about a PUBLISH (see `BrokerOptions`). */
export interface PublishPolicy {
  /** Only `[0-9a-z_]` URI components. */
  readonly strictUris?: boolean;
  /** Publisher identification. */
  readonly disclosePublisher?: "request" | "always" | "never";
}

/**
 * The refusal of a PUBLISH (ERROR URI and message), or its black/white
 * lists when it is acceptable.
 *
 * @param msg The PUBLISH.
 * @param internal Whether the router itself publishes (reserved topics allowed).
 * @param options The broker's URI and disclosure policies.
 * @returns The refusal, the lists, or `undefined` for none.
 */
export function checkPublish(
  msg: PublishMessage,
  internal: boolean,
  broker: PublishPolicy,
): PublishFilter | undefined | [string, string?] {
  const options = msg.options;
  if (
    !isValidUri(msg.topic, { strict: broker.strictUris ?? false }) ||
    (isReservedUri(msg.topic) && !internal)
  ) {
    return [ErrorUri.INVALID_URI];
  }
  if (options.disclose_me === true && broker.disclosePublisher === "never") {
    return [ErrorUri.OPTION_DISALLOWED_DISCLOSE_ME, "this realm never discloses publishers"];
  }
  if (usesPassthru(options)) {
    const problem = passthruProblem(options);
    if (problem !== undefined) return [ErrorUri.INVALID_ARGUMENT, problem];
  } else if (hasPassthruKey(options)) {
    return [ErrorUri.INVALID_ARGUMENT, "ppt_* options need a non-empty ppt_scheme"];
  }
  const filter = PublishFilter.from(options);
  if (typeof filter === "string") {
    return [ErrorUri.INVALID_ARGUMENT, filter];
  }
  return filter;
}

/**
 * The publication a PUBLISH makes.
 *
 * @param session The publisher.
 * @param msg The PUBLISH.
 * @param filter Its black/white lists.
 * @param forced Disclose the publisher whatever it asked (unless the realm never does).
 * @param broker The broker's policy, ID source and clock.
 * @returns The publication.
 */
export function publicationOf(
  session: SessionInfo,
  msg: PublishMessage,
  filter: PublishFilter | undefined,
  forced: boolean,
  broker: PublishPolicy & { readonly publicationIds: () => number },
): Publication {
  const options = msg.options;
  const details: EventDetails = {};
  const disclosure = broker.disclosePublisher ?? "request";
  if (
    disclosure === "always" ||
    (disclosure === "request" && (forced || options.disclose_me === true))
  ) {
    details.publisher = session.id;
    details.publisher_authid = session.authid;
    details.publisher_authrole = session.authrole;
  }
  if (session.trustlevel !== undefined) details.trustlevel = session.trustlevel;
  copyPassthru(options, details, msg.payload !== undefined);
  // Built field by field: one object per PUBLISH, no temporaries.
  const pub: { -readonly [K in keyof Publication]: Publication[K] } = {
    id: broker.publicationIds(),
    topic: msg.topic,
    timestamp: 0, // most are never kept: the clock is read for those that are (`stamped`)
    details,
  };
  if (msg.args !== undefined) pub.args = msg.args;
  if (msg.kwargs !== undefined) pub.kwargs = msg.kwargs;
  if (msg.payload !== undefined) pub.payload = msg.payload;
  if (filter !== undefined) pub.filter = filter;
  if (options.exclude_me !== false) pub.excluded = session.id;
  return pub;
}

/**
 * A publication with its timestamp taken, if it was not yet: the clock is
 * read only for publications something keeps (a `Date.now()` for each
 * PUBLISH was 2-3% of a JSON fan-out to two subscribers).
 *
 * @param pub The publication.
 * @param now The broker's clock.
 * @returns `pub`.
 */
export function stamped(pub: Publication, now: () => number): Publication {
  if (pub.timestamp === 0) pub.timestamp = now();
  return pub;
}

/**
 * A publication as it travels between the nodes of a cluster: plain data
 * (its black/white lists as the PUBLISH options they came from).
 */
export type SharedPublication = Omit<Publication, "filter"> & {
  /** The `exclude*` / `eligible*` options, if any. */
  readonly lists?: Dict;
};

/**
 * A publication as plain data for the other nodes.
 *
 * @param pub The publication.
 * @returns Its shared form.
 */
export function sharedOf(pub: Publication): SharedPublication {
  const { filter, ...rest } = pub;
  return filter === undefined ? rest : { ...rest, lists: filter.lists };
}

/**
 * A publication from another node, ready for this node's subscribers.
 *
 * @param shared What the other node shared.
 * @returns The publication (its lists read again), or `undefined` when
 * the lists are malformed.
 */
export function publicationFrom(shared: SharedPublication): Publication | undefined {
  const { lists, ...rest } = shared;
  if (lists === undefined) return rest;
  const filter = PublishFilter.from(lists);
  if (typeof filter === "string") return undefined;
  return filter === undefined ? rest : { ...rest, filter };
}

/**
 * The estimated size of a publication a broker keeps (retained, or in an
 * event history): its topic, payload, EVENT details (passthru keys) and
 * black/white lists, each counted until the total passes `budget`.
 *
 * @param pub The publication.
 * @param budget The size past which counting may stop.
 * @returns The size, in the units of `keptPayloadSize`.
 */
export function keptPublicationSize(pub: Publication, budget: number): number {
  let size = pub.topic.length + keptPayloadSize(pub, budget, PAYLOAD_KEYS);
  if (size <= budget) size += keptPayloadSize(pub.details, budget - size);
  if (size <= budget && pub.filter !== undefined) {
    const lists = pub.filter.lists;
    size += keptPayloadSize(lists, budget - size);
    // Each entry is also a slot in the list and in the set the filter builds from it.
    for (const key in lists) {
      const list = lists[key];
      if (Array.isArray(list)) size += list.length * LIST_ENTRY_COST;
    }
  }
  return size;
}

/**
 * What a black/white list entry costs besides its value: its slots in the
 * list and in the filter's set (short unique authids took about 72 bytes
 * each in all, session IDs 54).
 */
const LIST_ENTRY_COST = 64;
