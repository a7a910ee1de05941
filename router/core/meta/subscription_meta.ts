/**
 * Subscription meta API (feature `subscription_meta_api`): the broker's
 * observer publishes `wamp.subscription.on_create` (before
 * `on_subscribe`) and `on_delete` (after `on_unsubscribe`), and the
 * procedures read the broker's table. Subscriptions the realm's
 * `eventHistory` keeps without subscribers are listed too.
 *
 * Subscriptions to reserved topics (`wamp` and `wamp.*`, any match policy)
 * make no meta events, as in Crossbar and nexus: a session that listens to
 * `on_create` and then subscribes to more meta topics does not see its own
 * plumbing. The procedures still list them. Registrations need no such
 * rule: `wamp.*` procedures cannot be registered.
 *
 * @module
 */

import { type Dict, ErrorUri, isReservedUri, MetaProcedure, MetaTopic } from "../../../wamp/mod.ts";
import type { Broker, Subscription, SubscriptionObserver } from "../broker/broker.ts";
import { CallError } from "../errors.ts";
import type { RouterProcedures } from "../procedures.ts";
import { dictArg, idArg, matchOption, stringArg } from "./args.ts";
import type { MetaEvents } from "./events.ts";

/** SubscriptionDetails as the meta API reports them. */
export function subscriptionDetails(
  sub: Pick<Subscription, "id" | "topic" | "match" | "created">,
): Dict {
  return { id: sub.id, created: sub.created, uri: sub.topic, match: sub.match };
}

/**
 * The observer that publishes subscription meta events, except for
 * subscriptions to `wamp` and `wamp.*` topics.
 *
 * @param events Where meta events go.
 * @returns An observer for the broker.
 */
export function subscriptionEvents(events: MetaEvents): SubscriptionObserver {
  return {
    subscribed(session, sub, created) {
      events.share?.changed(session, sub, true);
      if (isReservedUri(sub.topic)) return;
      if (created) {
        events.publish(MetaTopic.SUBSCRIPTION_ON_CREATE, () => [session, subscriptionDetails(sub)]);
      }
      events.publish(MetaTopic.SUBSCRIPTION_ON_SUBSCRIBE, () => [session, sub.id]);
    },
    unsubscribed(session, sub, deleted) {
      events.share?.changed(session, sub, false);
      if (isReservedUri(sub.topic)) return;
      events.publish(MetaTopic.SUBSCRIPTION_ON_UNSUBSCRIBE, () => [session, sub.id]);
      if (deleted) events.publish(MetaTopic.SUBSCRIPTION_ON_DELETE, () => [session, sub.id]);
    },
  };
}

/** A subscription as the procedures see it: this node's, or another node's. */
type Described = Pick<Subscription, "id" | "topic" | "match" | "created">;

/**
 * The subscription meta procedures over a broker, keyed by URI. In a
 * cluster they also see the other nodes' subscriptions (`events.share`):
 * each node has its own subscription (and ID) for a (topic, match), and
 * `get`, `list_subscribers` and `count_subscribers` take any node's ID;
 * the subscribers are those of (topic, match) on every node. `list`,
 * `lookup` and `match` give this node's ID when it has the subscription,
 * else another node's (the lowest).
 *
 * @param broker The realm's broker.
 * @param events The realm's meta events (their `share`, in a cluster).
 * @returns URI → handler, for `Realm.provide`.
 */
export function subscriptionProcedures(broker: Broker, events?: MetaEvents): RouterProcedures {
  const get = (args: unknown[]): Described => {
    const id = idArg(args, 0, "subscription");
    const sub = broker.subscription(id) ?? events?.share?.remote.get(id);
    if (sub === undefined) {
      throw new CallError(ErrorUri.NO_SUCH_SUBSCRIPTION, `no subscription ${id}`);
    }
    return sub;
  };
  const subscribers = (sub: Described): number[] => {
    const ids = [...broker.lookup(sub.topic, sub.match)?.subscribers ?? []];
    for (const r of events?.share?.remote.of(sub.topic, sub.match) ?? []) {
      ids.push(...r.subscribers);
    }
    return ids;
  };
  /** The other nodes' subscriptions this node has none for: one ID per (topic, match). */
  const others = (subs: Iterable<Described>): Described[] => {
    const picked = new Map<string, Described>();
    for (const sub of subs) {
      if (broker.lookup(sub.topic, sub.match) !== undefined) continue;
      const key = `${sub.match}\u0000${sub.topic}`;
      if ((picked.get(key)?.id ?? Infinity) > sub.id) picked.set(key, sub);
    }
    return [...picked.values()];
  };
  return {
    [MetaProcedure.SUBSCRIPTION_LIST]: () => {
      const lists: Record<string, number[]> = { exact: [], prefix: [], wildcard: [] };
      for (const sub of broker.subscriptions()) lists[sub.match]!.push(sub.id);
      for (const sub of others(events?.share?.remote.values() ?? [])) {
        lists[sub.match]!.push(sub.id);
      }
      return { args: [lists] };
    },
    [MetaProcedure.SUBSCRIPTION_LOOKUP]: (_caller, args) => {
      const topic = stringArg(args, 0, "topic");
      const match = matchOption(dictArg(args, 1, "options"));
      const sub = broker.lookup(topic, match) ??
        others(events?.share?.remote.of(topic, match) ?? [])[0];
      return { args: [sub?.id ?? null] };
    },
    [MetaProcedure.SUBSCRIPTION_MATCH]: (_caller, args) => {
      const topic = stringArg(args, 0, "topic");
      const ids = broker.matching(topic).map((sub) => sub.id);
      for (const sub of others(events?.share?.remote.matching(topic) ?? [])) ids.push(sub.id);
      return { args: [ids.length === 0 ? null : ids] };
    },
    [MetaProcedure.SUBSCRIPTION_GET]: (_caller, args) => ({
      args: [subscriptionDetails(get(args))],
    }),
    [MetaProcedure.SUBSCRIPTION_LIST_SUBSCRIBERS]: (_caller, args) => ({
      args: [subscribers(get(args))],
    }),
    [MetaProcedure.SUBSCRIPTION_COUNT_SUBSCRIBERS]: (_caller, args) => ({
      args: [subscribers(get(args)).length],
    }),
  };
}
