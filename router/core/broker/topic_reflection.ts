/**
 * Topic reflection (role key `roles.broker.reflection`, spec "Interface
 * Reflection", a sketch that defines the procedure names but no payloads):
 * `wamp.reflection.topic.list` and `wamp.reflection.topic.describe`,
 * answered from what the broker knows about its topics.
 *
 * - `list` returns `args: [topics]`: every topic or pattern with a
 *   subscription, and every topic with a retained event, sorted.
 * - `describe` takes `args: [topic]` and returns `kwargs`:
 *   `{ topic, subscriptions: [{ id, match, created, subscribers, history }],
 *   retained }`, covering the subscriptions whose topic or pattern is
 *   exactly `topic`; ERROR `wamp.error.invalid_argument` when the broker
 *   knows nothing of it.
 *
 * @module
 */

import { type Dict, ErrorUri, ReflectionUri } from "../../../wamp/mod.ts";
import type { Broker } from "./broker.ts";
import { CallError } from "../errors.ts";
import type { RouterProcedures } from "../procedures.ts";

/**
 * The topic reflection procedures of a broker.
 *
 * @param broker The realm's broker.
 * @returns Procedure URI → implementation, for `Realm.provide()`.
 */
export function topicReflection(broker: Broker): RouterProcedures {
  return {
    [ReflectionUri.TOPIC_LIST]: () => ({ args: [listTopics(broker)] }),
    [ReflectionUri.TOPIC_DESCRIBE]: (_caller, args) => ({ kwargs: describeTopic(broker, args[0]) }),
  };
}

function listTopics(broker: Broker): string[] {
  const topics = new Set<string>(broker.retained.topics());
  for (const sub of broker.subscriptions()) topics.add(sub.topic);
  return [...topics].sort();
}

function describeTopic(broker: Broker, topic: unknown): Dict {
  if (typeof topic !== "string") {
    throw new CallError(ErrorUri.INVALID_ARGUMENT, "args[0] must be a topic URI");
  }
  const subscriptions: Dict[] = [];
  for (const sub of broker.subscriptions()) {
    if (sub.topic !== topic) continue;
    subscriptions.push({
      id: sub.id,
      match: sub.match,
      created: sub.created,
      subscribers: sub.subscribers.size,
      history: broker.history.has(sub.id),
    });
  }
  const retained = broker.retained.has(topic);
  if (subscriptions.length === 0 && !retained) {
    throw new CallError(ErrorUri.INVALID_ARGUMENT, `the broker knows no topic "${topic}"`);
  }
  return { topic, subscriptions, retained };
}
