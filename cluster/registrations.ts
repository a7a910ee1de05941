/**
 * The cluster's shared registration table, in a JetStream KV bucket
 * (`clv_<name>_registrations`), one key per callee so that a callee
 * joining or leaving costs O(1) whatever the registration's size:
 *
 * - the head `<realm>.<match>.<procedure>` holds the invocation policy and
 *   an epoch (random, new with each new registration of the procedure);
 * - each callee is `<head>.<node>.<session>`, holding the epoch it joined
 *   and its {@linkcode CalleeEntry}. Only callees of the head's epoch, on
 *   nodes not down, count;
 * - what `wamp.reflect.define` set is `<head>.d` (`registration_descriptions.ts`).
 *
 * A callee joins a shared registration of its policy by writing its key,
 * then reading the head again: the epoch unchanged and no takeover in
 * flight, it is in (else it removes its key and tries again). A new
 * registration (no head, or one whose callees are all gone) takes the head
 * over: it marks the head (`next`), lists the head's callees, and only with
 * none moves the head to its policy and a new epoch (with some, it undoes
 * the mark and answers `procedure_already_exists`). A callee that joined
 * before the mark is seen by the listing; one that writes its key after the
 * mark sees it and backs off, so exactly one of two racing REGISTERs wins,
 * as on one router. A head left without callees is removed the same way, by
 * the last callee's node, and else (two nodes releasing the last two at
 * once) by the smallest live node (`registration_cleanup.ts`). A mark is
 * stale {@linkcode MARK_MS} after this node's watcher saw it, by this node's
 * monotonic clock (never by another node's clock). Every node watches the bucket and mirrors
 * other nodes' callees into its dealers; each burst of changes reaches a
 * dealer once per registration. This node's own callees are kept in by
 * `own_callees.ts`.
 *
 * @module
 */

import { kvBucket } from "./kv_bucket.ts";
import { encode } from "@msgpack/msgpack";
import type { Dict, InvocationPolicy, MatchPolicy } from "../wamp/mod.ts";
import type { CalleeEntry } from "../router/core/dealer/remote.ts";
import type { Logger } from "../router/core/types.ts";
import type { ClusterNode } from "./node.ts";
import {
  deleteAsRead,
  type Head,
  headNames,
  keyToken,
  type Kv,
  listKeys,
  live,
  readHead,
  readStored,
  type RegistrationChange,
  RegistrationMirror,
  type Stored,
} from "./registration_mirror.ts";
import { descriptionKey, RegistrationDescriptions } from "./registration_descriptions.ts";
import { type Claim, type Lost, OwnCallees } from "./own_callees.ts";
import { RegistrationCleanup } from "./registration_cleanup.ts";

export { keyToken, type RegistrationChange };

const PACK = { ignoreUndefined: true } as const;
/** How long a takeover's mark holds before others undo it: past its own two listings (2 s each). */
const MARK_MS = 6000;
const ATTEMPTS = 50;

/** The key of a registration's head. */
function keyOf(realm: string, procedure: string, match: MatchPolicy): string {
  return `${keyToken(realm)}.${match}.${keyToken(procedure)}`;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const newEpoch = () => crypto.randomUUID().slice(0, 8);

/** The shared registration table of one cluster. */
export class ClusterRegistrations {
  #kv: Kv;
  #node: ClusterNode;
  #log: Logger;
  #watcher: { stop(): void } | undefined;
  #closed = false;
  /** Nodes known to be down: their callees are ignored (and removed by one survivor). */
  #down = new Set<string>();
  /** Callee keys of nodes down that this node removed (for tests). */
  get released(): number {
    return this.cleanup.released;
  }
  /** The table as watched. */
  #mirror: RegistrationMirror;
  /** This node's callees in the table: re-asserted after a partition, revoked when taken over. */
  readonly own: OwnCallees;
  /** The registrations' descriptions (for tests: their writes). */
  readonly descriptions: RegistrationDescriptions;
  /** The smallest live node's chores: dead nodes' callees, empty heads. */
  readonly cleanup: RegistrationCleanup;

  private constructor(kv: Kv, node: ClusterNode, log: Logger) {
    this.#kv = kv;
    this.#node = node;
    this.#log = log;
    this.#mirror = new RegistrationMirror(this.#down, log);
    const removeHead = (key: string, sweeping?: boolean) => this.#removeHead(key, sweeping);
    this.cleanup = new RegistrationCleanup(kv, this.#mirror, this.#down, node, removeHead, log);
    this.#mirror.emptied = (key) => this.cleanup.emptied(key);
    this.descriptions = new RegistrationDescriptions(kv, node.id);
    const claim: Claim = (...args) => this.claim(...args); // (a test may wrap table.claim)
    this.own = new OwnCallees(kv, this.#mirror, claim, log);
  }

  /** Told of each callee of this node that lost its registration to another node's. */
  set onLost(lost: Lost) {
    this.own.onLost = lost;
  }

  /**
   * Opens (creating if needed) the cluster's bucket.
   *
   * @param node The cluster node.
   * @param log Where failures are logged.
   * @returns The table.
   */
  static async open(node: ClusterNode, log: Logger): Promise<ClusterRegistrations> {
    const kv = await kvBucket(node, `clv_${node.name}_registrations`, { history: 1 });
    const table = new ClusterRegistrations(kv as unknown as Kv, node, log);
    node.onNodeUp((id) => table.nodeUp(id).catch(() => {}));
    return table;
  }

  /**
   * A node taken for down is back (NATS was unreachable, or the network
   * split): this node's callees go back into the table (the other node may
   * have removed them), and the returning node's callees count again.
   *
   * @param node The node.
   */
  async nodeUp(node: string): Promise<void> {
    if (!this.#down.delete(node)) return;
    this.#log("info", `Cluster: node ${node} is back, resyncing the registration table`);
    for (const key of this.#mirror.keys()) this.#mirror.touch(key);
    await this.own.resync();
  }

  /**
   * Watches the table: `change` is called for every registration there
   * now, then for every change (once per registration for a burst).
   *
   * @param change The handler.
   */
  async watch(change: RegistrationChange): Promise<void> {
    this.#mirror.change = change;
    const watcher = await this.#kv.watch({ key: ">" });
    this.#watcher = watcher;
    (async () => {
      for await (const entry of watcher) {
        try {
          this.#mirror.apply(entry);
          this.own.seen(entry, this.#node.id);
        } catch (error) {
          this.#log("error", `Cluster: registration ${entry.key}: ${error}`);
        }
      }
    })().catch(() => {});
  }

  /**
   * Adds a callee atomically.
   *
   * @returns Undefined when it is in; the reason when another
   * registration is in the way (`procedure_already_exists`).
   */
  async claim(
    realm: string,
    procedure: string,
    match: MatchPolicy,
    invoke: InvocationPolicy,
    entry: CalleeEntry,
  ): Promise<string | undefined> {
    const key = keyOf(realm, procedure, match);
    const mine = `${key}.${entry.node}.${entry.session}`;
    // Waits on a live mark last until it is done or stale (MARK_MS), not ATTEMPTS tries.
    const marksUntil = performance.now() + 2 * MARK_MS;
    let waits = 0;
    for (let attempt = 0; attempt < ATTEMPTS && !this.#closed; attempt++) {
      const current = await this.#kv.get(key);
      // A head that does not read as one (registration_values.ts) is written over.
      const head = live(current) ? readHead(current.value) : undefined;
      let epoch: string;
      if (head?.next !== undefined) { // a takeover in flight: wait, or undo a stale one
        if (this.#stale(key, current!.revision, head.next)) {
          await this.#unmark(key, head, current!.revision);
        } else {
          await pause(Math.min(5 + waits++ * Math.random() * 10, 200));
          if (performance.now() < marksUntil) attempt--;
        }
        continue;
      }
      if (head !== undefined && head.invoke === invoke && invoke !== "single") {
        epoch = head.epoch; // join
      } else if (head === undefined) {
        epoch = newEpoch(); // a new registration: no callee can hold a fresh epoch
        const names = headNames(realm, procedure);
        const value = encode({ invoke, epoch, names } satisfies Head, PACK);
        try {
          await (live(current)
            ? this.#kv.update(key, value, current.revision)
            : this.#kv.create(key, value));
        } catch {
          continue; // another node created it first: look again
        }
      } else {
        const taken = await this.#takeover(key, head, current!.revision, invoke);
        if (typeof taken !== "string") {
          if (taken.refused) return `registered with invocation policy "${head.invoke}"`;
          continue;
        }
        epoch = taken;
      }
      let now: Head | undefined;
      try {
        await this.#kv.put(mine, encode([epoch, entry] satisfies Stored, PACK));
        const after = await this.#kv.get(key);
        now = live(after) ? readHead(after.value) : undefined;
      } catch (error) { // NATS failed mid-way: no callee key left behind, if it can help it
        await this.#kv.delete(mine).catch(() => {});
        throw error;
      }
      if (now !== undefined && now.epoch === epoch && now.next === undefined) {
        this.own.remember(key, invoke, entry, epoch, [realm, procedure]);
        return undefined;
      }
      await this.#kv.delete(mine); // the head moved meanwhile: look again
    }
    if (this.#closed) throw new Error("the cluster is closing");
    throw new Error(`registration "${procedure}" is changing too often`);
  }

  /**
   * Takes a head whose callees are all gone over for `invoke` (a new
   * epoch), or removes it (`invoke` undefined).
   *
   * @returns The new epoch; `refused` when the head has callees; `retry`
   * when it changed meanwhile.
   */
  async #takeover(
    key: string,
    head: Head,
    revision: number,
    invoke: InvocationPolicy | undefined,
  ): Promise<string | { refused: boolean }> {
    if (await this.#hasCallees(key, head.epoch)) return { refused: true };
    const next = { node: this.#node.id, ...(invoke ? { invoke } : {}) };
    let marked: number;
    try {
      marked = await this.#kv.update(key, encode({ ...head, next }, PACK), revision);
    } catch {
      return { refused: false };
    }
    const joined = await this.#hasCallees(key, head.epoch).catch(async (error) => {
      await this.#unmark(key, head, marked); // not left for others to wait out
      throw error;
    });
    if (joined) { // one joined before the mark: it won
      await this.#unmark(key, head, marked);
      return { refused: true };
    }
    try {
      if (invoke === undefined) {
        await this.#kv.delete(key, { previousSeq: marked });
        if (this.#mirror.described(key)) await deleteAsRead(this.#kv, descriptionKey(key));
        return "";
      }
      const epoch = newEpoch();
      const names = head.names;
      await this.#kv.update(key, encode({ invoke, epoch, names } satisfies Head, PACK), marked);
      return epoch;
    } catch {
      return { refused: false };
    }
  }

  /**
   * Whether a takeover's mark (at `revision` of head `key`) outlived its
   * node, or {@linkcode MARK_MS} since this node's watcher saw it (not yet
   * seen: it holds): no other node's clock is read, so clock skew makes no
   * live mark stale.
   */
  #stale(key: string, revision: number, next: NonNullable<Head["next"]>): boolean {
    if (this.#down.has(next.node)) return true;
    const seen = this.#mirror.markSeen(key, revision);
    return seen !== undefined && performance.now() - seen > MARK_MS;
  }

  async #unmark(key: string, head: Head, revision: number): Promise<void> {
    const { next: _, ...rest } = head;
    await this.#kv.update(key, encode(rest, PACK), revision).catch(() => {});
  }

  /** Whether the table lists a callee of `epoch` under `key` on a node not down (not the mirror). */
  async #hasCallees(key: string, epoch: string): Promise<boolean> {
    const names = await listKeys(this.#kv, `${key}.*.*`, undefined, this.#log);
    for (const name of names) {
      const entry = await this.#kv.get(name);
      if (!live(entry)) continue;
      const stored = readStored(entry.value); // a malformed one counts for nothing
      if (stored?.[0] === epoch && !this.#down.has(stored[1].node)) return true;
    }
    return false;
  }

  /**
   * Sets a registration's description (`wamp.reflect.define` by this
   * node's session `session`), unless the registration is gone.
   */
  define(
    realm: string,
    procedure: string,
    match: MatchPolicy,
    description: Dict,
    session: number,
  ): Promise<void> {
    return this.descriptions.define(keyOf(realm, procedure, match), description, session);
  }

  /**
   * Removes a callee from a registration; the registration goes with its
   * last callee (as this node's mirror sees it).
   */
  async release(
    realm: string,
    procedure: string,
    match: MatchPolicy,
    node: string,
    session: number,
  ): Promise<void> {
    const key = keyOf(realm, procedure, match);
    if (node === this.#node.id) this.own.forget(key, session);
    if (this.#closed) return;
    const id = `${node}.${session}`;
    await this.#kv.delete(`${key}.${id}`);
    this.#mirror.forget(key, id);
    if (this.#mirror.valid(key).length === 0) await this.#removeHead(key);
  }

  /**
   * Removes a head left without callees (unless one joined meanwhile),
   * trying again a few times when NATS fails mid-way (its own mark left);
   * `sweeping`, a mark of this node (a takeover in flight) holds as others' do.
   */
  async #removeHead(key: string, sweeping = false): Promise<void> {
    for (let attempt = 0; attempt < 5 && !this.#closed; attempt++) {
      try {
        const current = await this.#kv.get(key);
        if (!live(current)) return;
        const head = readHead(current.value);
        if (head === undefined) return; // malformed: a claim writes over it
        const { next } = head;
        const holds = next !== undefined && (sweeping || next.node !== this.#node.id);
        if (holds && !this.#stale(key, current.revision, next)) return;
        const done = await this.#takeover(key, head, current.revision, undefined);
        if (typeof done === "string" || done.refused) return;
      } catch (error) {
        this.#log("warn", `Cluster: removing registration ${key}: ${error}`);
      }
      await pause(50 * (attempt + 1));
    }
  }

  /**
   * A node is down: its callees are ignored from now on, and the survivor
   * with the smallest ID removes them (`registration_cleanup.ts`).
   *
   * @param node The node.
   */
  releaseNode(node: string): Promise<void> {
    return this.cleanup.nodeDown(node);
  }

  /** Stops watching. */
  close(): void {
    this.#closed = true;
    this.#mirror.closed = true;
    this.cleanup.close();
    this.#watcher?.stop();
  }
}
