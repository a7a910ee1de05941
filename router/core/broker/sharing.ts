/**
 * The broker's part in a cluster, as data: which (topic, match) pairs this
 * node's subscriptions need publications for from other nodes (interest),
 * and which publications to share. The broker queues these effects here;
 * the realm appends them to its output (see `Realm`), and the shell
 * (`cluster/pubsub.ts`) runs them over NATS.
 *
 * A new subscription's first subscribers wait for their SUBSCRIBED until
 * the shell reports the interest in place (`ready`): a client that got
 * SUBSCRIBED receives what any node publishes from then on, as with one
 * router. Meanwhile they receive no EVENT of that subscription.
 *
 * @module
 */

import { ErrorUri, MessageType, type PublishMessage } from "../../../wamp/mod.ts";
import { errorReply } from "../errors.ts";
import { type Effect, messagesOnly, NOTHING, type Output, type Settled } from "../output.ts";
import type { Outbound } from "../types.ts";
import {
  type Publication,
  publicationFrom,
  sharedOf,
  type SharedPublication,
} from "./publication.ts";
import type { Subscription } from "./subscription.ts";

/** A broker's cluster effects and its subscribers waiting for interest. */
export class BrokerSharing {
  /** The realm's name. */
  readonly realm: string;
  /** Effects not yet taken by the realm. */
  #effects: Effect[] = [];
  /** Per subscription whose interest is not yet in place: its waiting subscribers' replies. */
  #waiting = new Map<Subscription, Map<number, Outbound[]>>();
  #fanOut: (pub: Publication) => Outbound[];

  /**
   * Starts sharing.
   *
   * @param realm The realm's name.
   * @param fanOut The broker's fan-out: EVENTs for a publication (history kept).
   */
  constructor(realm: string, fanOut: (pub: Publication) => Outbound[]) {
    this.realm = realm;
    this.#fanOut = fanOut;
  }

  /**
   * Delivers a publication another node shared, as a local one (prefix
   * matching by string here; black/white lists and `exclude_me` applied;
   * history kept; not retained here: retained events come through the
   * cluster's retained store, see `cluster/retained.ts`).
   *
   * @param shared The publication.
   * @returns The EVENTs.
   */
  deliver(shared: SharedPublication): Outbound[] {
    const pub = publicationFrom(shared);
    return pub === undefined ? [] : this.#fanOut(pub);
  }

  /** Whether effects are queued. */
  get pending(): boolean {
    return this.#effects.length > 0;
  }

  /**
   * Queues an effect for the realm's next output (testaments use it).
   *
   * @param effect The effect.
   */
  queue(effect: Effect): void {
    this.#effects.push(effect);
  }

  /**
   * Moves the queued effects to `to`.
   *
   * @param to Where they go.
   */
  take(to: Effect[]): void {
    for (const effect of this.#effects) to.push(effect);
    this.#effects.length = 0;
  }

  /** A subscription was created: its interest starts; its first subscribers wait. */
  created(sub: Subscription): void {
    this.#waiting.set(sub, new Map());
    this.#effects.push({
      kind: "cluster-interest",
      realm: this.realm,
      topic: sub.topic,
      match: sub.match,
      on: true,
      ready: () => this.#ready(sub),
    });
  }

  /** A subscription was deleted: its interest ends. */
  deleted(sub: Subscription): void {
    this.#waiting.delete(sub);
    this.#effects.push({
      kind: "cluster-interest",
      realm: this.realm,
      topic: sub.topic,
      match: sub.match,
      on: false,
    });
  }

  /**
   * Holds a subscriber's replies while its subscription's interest is not
   * in place.
   *
   * @returns Whether they are held (else deliver them now).
   */
  hold(sub: Subscription, session: number, replies: Outbound[]): boolean {
    const waiting = this.#waiting.get(sub);
    if (waiting === undefined) return false;
    const held = waiting.get(session);
    if (held === undefined) waiting.set(session, replies);
    else held.push(...replies);
    return true;
  }

  /** The sessions of `sub` still waiting (they get no EVENT yet), if any. */
  waiting(sub: Subscription): Map<number, Outbound[]> | undefined {
    return this.#waiting.size === 0 ? undefined : this.#waiting.get(sub);
  }

  /** A session left `sub`: it no longer waits. */
  left(sub: Subscription, session: number): void {
    this.#waiting.get(sub)?.delete(session);
  }

  /**
   * Shares a publication. An acknowledged one gets PUBLISHED (or ERROR)
   * only once NATS accepted it (or did not).
   *
   * @param pub The publication.
   * @param msg Its PUBLISH.
   * @param publisher The publisher's session ID.
   */
  publish(pub: Publication, msg: PublishMessage, publisher: number): void {
    const ack = msg.options.acknowledge === true;
    this.#effects.push({
      kind: "cluster-publish",
      realm: this.realm,
      publication: sharedOf(pub),
      ...(msg.options.retain === true ? { retain: true } : {}),
      ...(ack
        ? {
          acknowledged: (result: Settled<void>) =>
            messagesOnly([
              result.ok
                ? {
                  to: publisher,
                  msg: { type: MessageType.PUBLISHED, request: msg.request, publication: pub.id },
                }
                : errorReply(
                  publisher,
                  msg.type,
                  msg.request,
                  ErrorUri.CLUSTER_UNAVAILABLE,
                  `delivered on this node only: ${String(result.error)}`,
                ),
            ]),
        }
        : {}),
    });
  }

  /** The interest of `sub` is in place: its waiting subscribers get their replies. */
  #ready(sub: Subscription): Output {
    const waiting = this.#waiting.get(sub);
    if (waiting === undefined) return NOTHING;
    this.#waiting.delete(sub);
    const out: Outbound[] = [];
    for (const [session, replies] of waiting) {
      if (sub.subscribers.has(session)) out.push(...replies);
    }
    return messagesOnly(out);
  }
}
