/**
 * Creating a JetStream KV bucket that every node of a cluster (every
 * worker of `--workers`) creates at start: two creations at the same
 * moment may fail on the server ("subjects overlap with an existing
 * stream": a worker failed to start once in five runs), so a creation
 * that lost the race is tried again, and then finds the bucket made.
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
      return await kvm.create(name, options);
    } catch (error) {
      if (attempt >= ATTEMPTS || !/overlap|already in use/i.test(String(error))) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }
}
