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
export function subscriptionDetails(sub: Subscription): Dict {
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
      if (isReservedUri(sub.topic)) return;
      if (created) {
        events.publish(MetaTopic.SUBSCRIPTION_ON_CREATE, () => [session, subscriptionDetails(sub)]);
      }
      events.publish(MetaTopic.SUBSCRIPTION_ON_SUBSCRIBE, () => [session, sub.id]);
    },
    unsubscribed(session, sub, deleted) {
      if (isReservedUri(sub.topic)) return;
      events.publish(MetaTopic.SUBSCRIPTION_ON_UNSUBSCRIBE, () => [session, sub.id]);
      if (deleted) events.publish(MetaTopic.SUBSCRIPTION_ON_DELETE, () => [session, sub.id]);
    },
  };
}

/**
 * The subscription meta procedures over a broker, keyed by URI.
 *
 * @param broker The realm's broker.
 * @returns URI → handler, for `Realm.provide`.
 */
export function subscriptionProcedures(broker: Broker): RouterProcedures {
  const get = (args: unknown[]): Subscription => {
    const id = idArg(args, 0, "subscription");
    const sub = broker.subscription(id);
    if (sub === undefined) {
      throw new CallError(ErrorUri.NO_SUCH_SUBSCRIPTION, `no subscription ${id}`);
    }
    return sub;
  };
  return {
    [MetaProcedure.SUBSCRIPTION_LIST]: () => {
      const lists: Record<string, number[]> = { exact: [], prefix: [], wildcard: [] };
      for (const sub of broker.subscriptions()) lists[sub.match]!.push(sub.id);
      return { args: [lists] };
    },
    [MetaProcedure.SUBSCRIPTION_LOOKUP]: (_caller, args) => {
      const topic = stringArg(args, 0, "topic");
      const match = matchOption(dictArg(args, 1, "options"));
      return { args: [broker.lookup(topic, match)?.id ?? null] };
    },
    [MetaProcedure.SUBSCRIPTION_MATCH]: (_caller, args) => {
      const ids = broker.matching(stringArg(args, 0, "topic")).map((sub) => sub.id);
      return { args: [ids.length === 0 ? null : ids] };
    },
    [MetaProcedure.SUBSCRIPTION_GET]: (_caller, args) => ({
      args: [subscriptionDetails(get(args))],
    }),
    [MetaProcedure.SUBSCRIPTION_LIST_SUBSCRIBERS]: (_caller, args) => ({
      args: [[...get(args).subscribers]],
    }),
    [MetaProcedure.SUBSCRIPTION_COUNT_SUBSCRIBERS]: (_caller, args) => ({
      args: [get(args).subscribers.size],
    }),
  };
}
