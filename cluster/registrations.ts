/**
 * The cluster's shared registration table, in a JetStream KV bucket
 * (`clv_<name>_registrations`), one key per callee so that a callee
 * joining or leaving costs O(1) whatever the registration's size:
 *
 * - the head `<realm>.<match>.<procedure>` holds the invocation policy, an
 *   epoch (random, new with each new registration of the procedure) and
 *   what `wamp.reflect.define` set;
 * - each callee is `<head>.<node>.<session>`, holding the epoch it joined
 *   and its {@linkcode CalleeEntry}. Only callees of the head's epoch, on
 *   nodes not down, count.
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
 * as on one router. A head left without callees is removed the same way.
 * Every node watches the bucket and mirrors other nodes' callees into its
 * dealers; each burst of changes reaches a dealer once per registration.
 *
 * @module
 */

import { decode, encode } from "@msgpack/msgpack";
import type { Dict, InvocationPolicy, MatchPolicy } from "../wamp/mod.ts";
import type { CalleeEntry } from "../router/core/dealer/remote.ts";
import type { Logger } from "../router/core/types.ts";
import type { ClusterNode } from "./node.ts";
import {
  deleteAsRead,
  type Head,
  keyToken,
  type Kv,
  listKeys,
  live,
  type RegistrationChange,
  RegistrationMirror,
  type Stored,
  untoken,
} from "./registration_mirror.ts";

export { keyToken, type RegistrationChange };

const PACK = { ignoreUndefined: true } as const;
/** How long a takeover's mark holds before others undo it: past its own two listings (2 s each). */
const MARK_MS = 6000;
const ATTEMPTS = 50;
/** How long after a node's death a survivor that becomes the smallest still removes its callees. */
const TAKEOVER_MS = 5 * 60_000;

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
  /** Nodes down lately, whose callees the smallest survivor may not have removed yet. */
  #uncleaned = new Map<string, number>();
  /** This node's callees in the table, by head and session: re-asserted after a partition. */
  #mine = new Map<string, Map<number, { invoke: InvocationPolicy; entry: CalleeEntry }>>();
  /** Callee keys of nodes down that this node removed (for tests). */
  released = 0;
  /** The table as watched. */
  #mirror: RegistrationMirror;

  private constructor(kv: Kv, node: ClusterNode, log: Logger) {
    this.#kv = kv;
    this.#node = node;
    this.#log = log;
    this.#mirror = new RegistrationMirror(this.#down, log);
  }

  /**
   * Opens (creating if needed) the cluster's bucket.
   *
   * @param node The cluster node.
   * @param log Where failures are logged.
   * @returns The table.
   */
  static async open(node: ClusterNode, log: Logger): Promise<ClusterRegistrations> {
    const { Kvm } = await import("@nats-io/kv");
    // deno-lint-ignore no-explicit-any
    const kvm = new Kvm(node.connection as any);
    const kv = await kvm.create(`clv_${node.name}_registrations`, { history: 1 });
    const table = new ClusterRegistrations(kv as unknown as Kv, node, log);
    node.onNodeUp((id) => {
      if (table.#down.delete(id)) table.#resync(id).catch(() => {});
    });
    return table;
  }

  /**
   * A node taken for down is back (NATS was unreachable, or the network
   * split): this node's callees go back into the table (the other node may
   * have removed them), and the returning node's callees count again.
   */
  async #resync(node: string): Promise<void> {
    this.#log("info", `Cluster: node ${node} is back, resyncing the registration table`);
    for (const key of this.#mirror.keys()) this.#mirror.touch(key);
    for (const [key, sessions] of this.#mine) {
      const [realm, match, procedure] = key.split(".");
      for (const { invoke, entry } of [...sessions.values()]) {
        const uri = untoken(procedure!);
        try {
          const stored = await this.#kv.get(`${key}.${entry.node}.${entry.session}`);
          const head = await this.#kv.get(key);
          if (live(stored) && live(head)) {
            const [epoch] = decode(stored.value) as Stored;
            if (epoch === (decode(head.value) as Head).epoch) {
              // Still in: written again, so a survivor's delete from before fails (its revision).
              await this.#kv.update(stored.key, stored.value, stored.revision);
              continue;
            }
          }
          const policy = match as MatchPolicy;
          const refused = await this.claim(untoken(realm!), uri, policy, invoke, entry);
          if (refused !== undefined) {
            this.#log("warn", `Cluster: cannot restore ${uri}: ${refused}`);
          }
        } catch (error) {
          this.#log("warn", `Cluster: cannot restore ${uri}: ${error}`);
        }
      }
    }
  }

  #remember(key: string, invoke: InvocationPolicy, entry: CalleeEntry): void {
    let sessions = this.#mine.get(key);
    if (sessions === undefined) this.#mine.set(key, sessions = new Map());
    sessions.set(entry.session, { invoke, entry });
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
    for (let attempt = 0; attempt < ATTEMPTS && !this.#closed; attempt++) {
      const current = await this.#kv.get(key);
      const head = live(current) ? decode(current.value) as Head : undefined;
      let epoch: string;
      if (head?.next !== undefined) { // a takeover in flight: wait, or undo a stale one
        if (this.#stale(head.next)) await this.#unmark(key, head, current!.revision);
        else await pause(5 + attempt * Math.random() * 10);
        continue;
      }
      if (head !== undefined && head.invoke === invoke && invoke !== "single") {
        epoch = head.epoch; // join
      } else if (head === undefined) {
        epoch = newEpoch(); // a new registration: no callee can hold a fresh epoch
        const value = encode({ invoke, epoch } satisfies Head, PACK);
        try {
          await this.#kv.create(key, value);
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
        now = live(after) ? decode(after.value) as Head : undefined;
      } catch (error) { // NATS failed mid-way: no callee key left behind, if it can help it
        await this.#kv.delete(mine).catch(() => {});
        throw error;
      }
      if (now !== undefined && now.epoch === epoch && now.next === undefined) {
        this.#remember(key, invoke, entry);
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
    const next = { node: this.#node.id, at: Date.now(), ...(invoke ? { invoke } : {}) };
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
        return "";
      }
      const epoch = newEpoch();
      await this.#kv.update(key, encode({ invoke, epoch } satisfies Head, PACK), marked);
      return epoch;
    } catch {
      return { refused: false };
    }
  }

  /** Whether a takeover's mark outlived its node or {@linkcode MARK_MS}. */
  #stale(next: NonNullable<Head["next"]>): boolean {
    return this.#down.has(next.node) || Date.now() - next.at > MARK_MS;
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
      const [its, callee] = decode(entry.value) as Stored;
      if (its === epoch && !this.#down.has(callee.node)) return true;
    }
    return false;
  }

  /**
   * Sets a registration's description (`wamp.reflect.define`), unless the
   * registration is gone.
   */
  async define(
    realm: string,
    procedure: string,
    match: MatchPolicy,
    description: Dict,
  ): Promise<void> {
    const key = keyOf(realm, procedure, match);
    for (let attempt = 0; attempt < ATTEMPTS && !this.#closed; attempt++) {
      const current = await this.#kv.get(key);
      if (!live(current)) return;
      const head = decode(current.value) as Head;
      try {
        await this.#kv.update(key, encode({ ...head, description }, PACK), current.revision);
        return;
      } catch {
        // changed meanwhile: look again
      }
    }
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
    const mine = this.#mine.get(key);
    if (mine?.delete(session) && mine.size === 0) this.#mine.delete(key);
    if (this.#closed) return;
    const id = `${node}.${session}`;
    await this.#kv.delete(`${key}.${id}`);
    this.#mirror.forget(key, id);
    if (this.#mirror.valid(key).length === 0) await this.#removeHead(key);
  }

  /**
   * Removes a head left without callees (unless one joined meanwhile),
   * trying again a few times when NATS fails mid-way (its own mark left).
   */
  async #removeHead(key: string): Promise<void> {
    for (let attempt = 0; attempt < 5 && !this.#closed; attempt++) {
      try {
        const current = await this.#kv.get(key);
        if (!live(current)) return;
        const head = decode(current.value) as Head;
        const { next } = head;
        if (next !== undefined && next.node !== this.#node.id && !this.#stale(next)) return;
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
   * with the smallest ID removes them from the table, with those of every
   * node down in the last {@linkcode TAKEOVER_MS} (a takeover when the one
   * before died too).
   */
  async releaseNode(node: string): Promise<void> {
    this.#down.add(node);
    for (const key of this.#mirror.headsOf(node)) this.#mirror.touch(key);
    const now = Date.now();
    this.#uncleaned.set(node, now);
    for (const [id, at] of this.#uncleaned) if (now - at > TAKEOVER_MS) this.#uncleaned.delete(id);
    if (this.#node.nodes()[0] !== this.#node.id) return;
    for (const down of [...this.#uncleaned.keys()]) {
      this.#uncleaned.delete(down);
      if (!this.#down.has(down) || this.#closed) continue; // it came back meanwhile
      // The heads to remove if left without callees: from the table itself
      // (the mirror may lag), the mirror's, and any left behind before (a
      // node taken for down, then heard again, then down).
      const heads = new Set([...this.#mirror.headsOf(down), ...this.#mirror.empty()]);
      const mirrored = () => this.#mirror.calleeKeysOf(down);
      const keys = await listKeys(this.#kv, `*.*.*.${down}.*`, mirrored, this.#log);
      for (const key of keys) {
        if (!this.#down.has(down) || this.#closed) break; // it came back: its keys stand
        if (await deleteAsRead(this.#kv, key)) this.released++;
        heads.add(key.split(".", 3).join("."));
      }
      for (const key of heads) await this.#removeHead(key);
    }
  }

  /** Stops watching. */
  close(): void {
    this.#closed = true;
    this.#mirror.closed = true;
    this.#watcher?.stop();
  }
}
