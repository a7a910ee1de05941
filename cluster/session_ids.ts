/**
 * Global-scope IDs (sessions, publications) unique across a cluster.
 *
 * Why node-prefixed IDs from a leased slot: a random 53-bit ID per session,
 * checked and reserved in JetStream KV, would cost a NATS round trip on
 * every join and a cleanup on every leave (and after every node's death).
 * Instead each node leases one of 65,535 slots once, atomically (KV
 * `create` fails when the key exists), and issues IDs
 * `slot × 2^37 + p(n)`, where `p` is a keyed permutation of [0, 2^37) and
 * `n` counts up: IDs of different nodes never collide (different slots),
 * a node repeats none before 2^37 (137 billion) were issued, and they stay
 * unguessable in sequence, within [2^37, 2^53). The spec asks for IDs drawn
 * uniformly from [1, 2^53]; these are uniform within the node's slot, which
 * is the price of uniqueness without a round trip per session.
 *
 * The lease: the KV bucket's TTL is the lease time; the node renews its key
 * every third of it, so a node that dies frees its slot within one lease,
 * and one that closes frees it at once. A node that lost its lease (NATS
 * unreachable longer than the lease) claims a slot again.
 *
 * @module
 */

import { kvBucket } from "./kv_bucket.ts";
import type { IdGenerator } from "../wamp/mod.ts";
import { keyedPermutation } from "../wamp/permutation.ts";
import type { Logger } from "../router/core/types.ts";
import type { ClusterNode } from "./node.ts";

/** How many IDs a slot holds: 2^37. */
export const SLOT_SIZE = 2 ** 37;
/** The highest slot (slot 0 is never used, so no ID is 0). */
export const MAX_SLOT = 2 ** 16 - 1;

const HALF_BITS = 19; // the permutation works on 38 bits, two halves of 19

/** The part of a JetStream KV bucket used here. */
export interface SlotBucket {
  create(key: string, data: Uint8Array): Promise<number>;
  update(key: string, data: Uint8Array, version: number): Promise<number>;
  delete(key: string): Promise<void>;
}

/** Options for {@linkcode clusterIds}. */
export interface ClusterIdOptions {
  /**
   * Milliseconds a slot stays leased without renewal.
   * @default {15000}
   */
  leaseMs?: number;
  /** The slot to try first (tests); then random ones. */
  prefer?: number;
}

/** A node's ID source. */
export interface ClusterIds {
  /** The node's slot (IDs are in `[slot × 2^37, (slot + 1) × 2^37)`). */
  readonly slot: number;
  /** The next ID. */
  readonly next: IdGenerator;
  /** Stops renewing the lease and frees the slot. */
  close(): Promise<void>;
}

/**
 * Leases a slot in the cluster's KV bucket and returns the node's ID source.
 *
 * @param node The cluster node.
 * @param log Where lease problems are logged.
 * @param options Lease time, preferred slot.
 * @returns The ID source.
 * @throws {Error} When JetStream is unavailable or no slot is free.
 */
export async function clusterIds(
  node: ClusterNode,
  log: Logger,
  options: ClusterIdOptions = {},
): Promise<ClusterIds> {
  const leaseMs = options.leaseMs ?? 15_000;
  const bucket = await kvBucket(node, `clv_${node.name}_slots`, { ttl: leaseMs, history: 1 }) as
    & SlotBucket
    & Record<string, unknown>;
  const lease = await leaseSlot(bucket, node.id, leaseMs, log, options.prefer);
  const permute = keyedPermutation(HALF_BITS, crypto.getRandomValues(new Uint32Array(6)));
  let counter = 0;
  return {
    get slot() {
      return lease.slot;
    },
    next: () => {
      let id = permute(counter);
      while (id >= SLOT_SIZE) id = permute(id); // cycle-walk into [0, 2^37)
      counter = counter + 1 >= SLOT_SIZE ? 0 : counter + 1;
      return lease.slot * SLOT_SIZE + id;
    },
    close: () => lease.close(),
  };
}

/** A slot a node holds: {@linkcode leaseSlot}. */
export interface SlotLease {
  /** The slot now (another, once the lease was lost and claimed again). */
  readonly slot: number;
  /** Stops renewing and frees the slot. */
  close(): Promise<void>;
}

/**
 * Claims a free slot (`prefer` first, then random ones) and renews it
 * every third of the lease, one renewal at a time: a renewal still in
 * flight when the next is due (NATS slow) makes the next wait, where a
 * second one would fail on the first's revision and claim another slot.
 *
 * @param bucket The slots' bucket.
 * @param owner The node's ID, stored with its slot.
 * @param leaseMs The bucket's TTL.
 * @param log Where a lost or unrenewable lease is logged.
 * @param prefer The slot to try first.
 * @returns The lease.
 * @throws {Error} When no slot is free (64 tries).
 */
export async function leaseSlot(
  bucket: SlotBucket,
  owner: string,
  leaseMs: number,
  log: Logger,
  prefer?: number,
): Promise<SlotLease> {
  const bytes = new TextEncoder().encode(owner);
  const claim = async (first?: number): Promise<[number, number]> => {
    for (let attempt = 0; attempt < 64; attempt++) {
      const slot = attempt === 0 && first !== undefined
        ? first
        : 1 + Math.floor(Math.random() * MAX_SLOT);
      try {
        return [slot, await bucket.create(String(slot), bytes)];
      } catch {
        // taken: try another
      }
    }
    throw new Error("no free ID slot in the cluster");
  };
  let [slot, revision] = await claim(prefer);
  let closed = false;
  let renewing = false;
  const renew = async () => {
    if (renewing) return;
    renewing = true;
    try {
      revision = await bucket.update(String(slot), bytes, revision);
    } catch {
      if (closed) return;
      const old = slot;
      try {
        [slot, revision] = await claim(old);
        if (slot !== old) log("warn", `Cluster: ID slot ${old} was lost, now ${slot}`);
      } catch (error) {
        log("warn", `Cluster: cannot renew ID slot ${old}: ${error}`);
      }
    } finally {
      renewing = false;
    }
  };
  const timer = setInterval(renew, Math.max(50, Math.floor(leaseMs / 3)));
  return {
    get slot() {
      return slot;
    },
    async close() {
      closed = true;
      clearInterval(timer);
      await bucket.delete(String(slot)).catch(() => {});
    },
  };
}
