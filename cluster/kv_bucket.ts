/**
 * Creating a JetStream KV bucket that every node of a cluster (every
 * worker of `--workers`) creates at start: two creations at the same
 * moment may fail on the server ("subjects overlap with an existing
 * stream": a worker failed to start once in five runs), so a creation
 * that lost the race is tried again, and then finds the bucket made.
 *
 * A bucket's push consumers (its listings, `keys`, and watches) start only
 * on a connection that is neither draining nor closed: nats.js arms a push
 * consumer's idle-heartbeat timer before it subscribes, and a subscription
 * refused there leaves the timer running for good, trying every 5 s to
 * resubscribe on the closed connection, so the process never exits. A
 * listing is set up over two JetStream requests; one under way as its node
 * closed (a registration released as the router closed) started its
 * consumer while the connection drained: a teardown hung after a NATS pause
 * in 3 of 22 runs.
 *
 * @module
 */

import type { KV, KvOptions } from "@nats-io/kv";
import type { ClusterNode } from "./node.ts";

/** Tries after a lost race, each a little later. */
const ATTEMPTS = 5;

/**
 * Creates (or opens, when it exists with the same settings) a KV bucket.
 *
 * @param node The node (its NATS connection).
 * @param name The bucket's name.
 * @param options Its settings.
 * @returns The bucket.
 * @throws What JetStream answers, once the race is not the cause or the
 * attempts are spent.
 */
export async function kvBucket(
  node: ClusterNode,
  name: string,
  options: Partial<KvOptions>,
): Promise<KV> {
  const { Kvm } = await import("@nats-io/kv");
  // deno-lint-ignore no-explicit-any
  const kvm = new Kvm(node.connection as any);
  for (let attempt = 1;; attempt++) {
    try {
      const kv = await kvm.create(name, options);
      startOnlyOpen(kv, node.connection as Connection);
      return kv;
    } catch (error) {
      if (attempt >= ATTEMPTS || !/overlap|already in use/i.test(String(error))) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }
}

/** The connection's state, as nats.js tells it. */
interface Connection {
  isClosed(): boolean;
  isDraining(): boolean;
}

/** The part of a bucket's JetStream client that makes push consumers (nats.js `Bucket.js`). */
interface PushConsumers {
  getPushConsumer(...args: unknown[]): Promise<{ consume(...args: unknown[]): Promise<unknown> }>;
}

/** A bucket's push consumers start on an open connection only; else they are refused. */
function startOnlyOpen(kv: KV, nc: Connection): void {
  const consumers = (kv as unknown as { js: { consumers: PushConsumers } }).js.consumers;
  const get = consumers.getPushConsumer.bind(consumers);
  consumers.getPushConsumer = async (...args) => {
    const consumer = await get(...args);
    const consume = consumer.consume.bind(consumer);
    consumer.consume = (...options) =>
      nc.isClosed() || nc.isDraining()
        ? Promise.reject(new Error("the node's NATS connection is closing"))
        : consume(...options);
    return consumer;
  };
}
