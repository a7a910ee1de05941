/**
 * Topic reflection (role key `roles.broker.reflection`, spec "Interface
 * Reflection", a sketch that defines the procedure names but no payloads):
 * `wamp.reflection.topic.list` and `wamp.reflection.topic.describe`,
 * answered from what the broker knows about its topics.
 *
 * - `list` returns `args: [topics]`: every topic or pattern with a
 *   subscription, and every topic with a retained event, sorted (each
 *   source kept in order as it changes: a call merges them), or
 *   `cloverleaf.error.limit_exceeded` past `MAX_LIST_CHARS`, or
 *   `wamp.error.payload_size_exceeded` past what the caller can receive
 *   (`mergedUris`).
 * - `describe` takes `args: [topic]` and returns `kwargs`:
 *   `{ topic, subscriptions: [{ id, match, created, subscribers, history }],
 *   retained }`, covering the subscriptions whose topic or pattern is
 *   exactly `topic`; ERROR `wamp.error.invalid_argument` when the broker
 *   knows nothing of it.
 * - In a cluster both also see the other nodes' subscriptions, as one
 *   router would: one entry per (topic, match), this node's ID when it has
 *   the subscription, else another node's (the lowest, as
 *   `wamp.subscription.lookup` gives), with the subscribers of every node.
 *
 * @module
 */

import { type Dict, ErrorUri, type MatchPolicy, ReflectionUri } from "../../../wamp/mod.ts";
import type { Broker, SubscriptionObserver } from "./broker.ts";
import type { RemoteSubscription, RemoteSubscriptions } from "../meta/remote_subscriptions.ts";
import { CallError } from "../errors.ts";
import { mergedUris, type RouterProcedures, type UriList } from "../procedures.ts";
import type { SortedUris } from "../sorted_uris.ts";

/**
 * The observer to give a broker so that its subscriptions' topics are kept
 * in order in `topics`, for {@linkcode topicReflection}; it then tells
 * `observer`.
 *
 * @param topics Where the topics go.
 * @param observer The observer told next (the subscription meta events).
 * @returns The broker's observer.
 */
export function listedTopics(
  topics: SortedUris,
  observer?: SubscriptionObserver,
): SubscriptionObserver {
  return {
    subscribed: (session, sub, created) => {
      if (created) topics.add(sub.topic);
      observer?.subscribed(session, sub, created);
    },
    unsubscribed: (session, sub, deleted) => {
      if (deleted) topics.delete(sub.topic);
      observer?.unsubscribed(session, sub, deleted);
    },
  };
}

/**
 * The topic reflection procedures of a broker.
 *
 * @param broker The realm's broker.
 * @param topics Its subscriptions' topics, as {@linkcode listedTopics} keeps
 * them; those the broker made before any observer could see (the
 * persistent ones of its history rules) are added here.
 * @param remote The other nodes' subscriptions (in a cluster).
 * @returns Procedure URI → implementation, for `Realm.provide()`.
 */
export function topicReflection(
  broker: Broker,
  topics: SortedUris,
  remote: () => RemoteSubscriptions | undefined = () => undefined,
): RouterProcedures {
  for (const sub of broker.subscriptions()) if (sub.persistent) topics.add(sub.topic);
  return {
    [ReflectionUri.TOPIC_LIST]: (caller) => {
      const lists: UriList[] = [broker.retained.sortedTopics, topics];
      const others = remote();
      if (others !== undefined) lists.push(others.topics);
      return { args: [mergedUris(lists, "topics", caller.sendLimit)] };
    },
    [ReflectionUri.TOPIC_DESCRIBE]: (_caller, args) => ({
      kwargs: describeTopic(broker, remote()?.values() ?? [], args[0]),
    }),
  };
}

const MATCH_POLICIES: readonly MatchPolicy[] = ["exact", "prefix", "wildcard"];

function describeTopic(broker: Broker, remote: Iterable<RemoteSubscription>, topic: unknown): Dict {
  if (typeof topic !== "string") {
    throw new CallError(ErrorUri.INVALID_ARGUMENT, "args[0] must be a topic URI");
  }
  // Per match policy: the other nodes' subscriptions to `topic`, and their subscribers.
  const others = new Map<string, { first: RemoteSubscription; subscribers: number }>();
  for (const sub of remote) {
    if (sub.topic !== topic) continue;
    const seen = others.get(sub.match);
    if (seen === undefined) {
      others.set(sub.match, { first: sub, subscribers: sub.subscribers.size });
    } else {
      seen.subscribers += sub.subscribers.size;
      if (sub.id < seen.first.id) seen.first = sub;
    }
  }
  const subscriptions: Dict[] = [];
  // One subscription per match policy at most: looked up, not searched for among them all.
  const local = MATCH_POLICIES.map((match) => broker.lookup(topic, match))
    .filter((sub) => sub !== undefined)
    .sort((a, b) => a.created < b.created ? -1 : a.created > b.created ? 1 : 0);
  for (const sub of local) {
    subscriptions.push({
      id: sub.id,
      match: sub.match,
      created: sub.created,
      subscribers: sub.subscribers.size + (others.get(sub.match)?.subscribers ?? 0),
      history: broker.history.has(sub.id),
    });
    others.delete(sub.match);
  }
  // Every node has the subscriptions its history rules ask for: none of these has history.
  for (const { first, subscribers } of others.values()) {
    const { id, match, created } = first;
    subscriptions.push({ id, match, created, subscribers, history: false });
  }
  const retained = broker.retained.has(topic);
  if (subscriptions.length === 0 && !retained) {
    throw new CallError(ErrorUri.INVALID_ARGUMENT, `the broker knows no topic "${topic}"`);
  }
  return { topic, subscriptions, retained };
}
