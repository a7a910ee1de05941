/**
 * The HTTP bridge's used signatures, shared by every node of a cluster (and
 * so by the workers of one `--workers` service): a signed request one node
 * took is refused by all the others, as one router refuses it on its
 * second arrival. Each signature is a key of a memory-stored NATS KV
 * bucket whose entries expire after the time it must be remembered; the
 * first node to create the key takes the request.
 *
 * @module
 */

import { kvBucket } from "./kv_bucket.ts";
import type { ClusterNode } from "./node.ts";

/**
 * How much longer than asked a used signature is kept: each node judges a
 * request's timestamp by its own clock, so a node whose clock is behind
 * the first one's would take a replay this long after the record expired.
 * Nodes' clocks must agree within it.
 */
export const CLOCK_SKEW_MS = 60_000;

/** JetStream's "wrong last sequence" (and its "unknown" form): the key exists (the signature was used). */
const KEY_EXISTS: ReadonlySet<unknown> = new Set([10071, 10164]);

/**
 * Keys that are used once across the cluster (the bridge's
 * `SharedSignatures`, which this satisfies without the cluster knowing
 * the bridge).
 */
export interface ClusterOnce {
  /**
   * Records a key, unless a node recorded it before.
   *
   * @param key The key (letters, digits, `-`, `_`).
   * @param keep Milliseconds it is remembered.
   * @returns Whether it is new.
   * @throws {Error} When NATS cannot be reached.
   */
  spend(key: string, keep: number): Promise<boolean>;
}

/** What this module needs of a NATS KV bucket. */
interface SignatureBucket {
  create(key: string, data: Uint8Array): Promise<number>;
}

/**
 * The cluster's memory of used bridge signatures.
 *
 * @param node The cluster node.
 * @returns The memory, for `httpBridge`.
 */
export function clusterSignatures(node: ClusterNode): ClusterOnce {
  // One bucket per retention: the paths of a service share a few timestampDelta values at most.
  const buckets = new Map<number, Promise<SignatureBucket>>();
  const open = async (keep: number): Promise<SignatureBucket> => {
    return await kvBucket(node, `clv_${node.name}_bridge_signatures_${keep}`, {
      ttl: keep + CLOCK_SKEW_MS,
      history: 1,
      storage: "memory",
    }) as unknown as SignatureBucket;
  };
  return {
    async spend(signature: string, keep: number): Promise<boolean> {
      let bucket = buckets.get(keep);
      if (bucket === undefined) {
        buckets.set(keep, bucket = open(keep));
        bucket.catch(() => buckets.delete(keep)); // tried again with the next request
      }
      try {
        await (await bucket).create(signature, EMPTY);
        return true;
      } catch (error) {
        if (KEY_EXISTS.has((error as { code?: unknown }).code)) return false;
        throw error;
      }
    },
  };
}

const EMPTY = new Uint8Array(0);
