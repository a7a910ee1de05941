/**
 * This node's copy of the shared registration table (`registrations.ts`),
 * fed by a KV watcher: heads and callee keys by registration. Changes are
 * gathered and told to the dealers once per registration per turn of the
 * event loop, so a burst of n callees joining costs each dealer n updates
 * of the registrations they touch, not one per key written. Also the
 * table's key tokens (`key_tokens.ts`, shared by the other buckets).
 *
 * @module
 */

import type { Dict, InvocationPolicy, MatchPolicy } from "../wamp/mod.ts";
import { isMatchPolicy } from "../wamp/mod.ts";
import type { CalleeEntry } from "../router/core/dealer/remote.ts";
import type { Logger } from "../router/core/types.ts";
import { untoken } from "./key_tokens.ts";
import {
  type Described,
  type Head,
  readDescribed,
  readHead,
  readStored,
  type Stored,
} from "./registration_values.ts";

export { headNames, keyToken, untoken } from "./key_tokens.ts";
export { type Described, type Head, readHead, readStored, type Stored };

/** Told of every change: the registration's callees now (empty: gone). */
export type RegistrationChange = (
  realm: string,
  procedure: string,
  match: MatchPolicy,
  invoke: InvocationPolicy,
  callees: readonly CalleeEntry[],
  description: Dict | undefined,
  definer: readonly [node: string, session: number] | undefined,
) => void;

/** A KV entry, as the table reads it. */
export interface KvEntry {
  /** The key. */
  key: string;
  /** The value. */
  value: Uint8Array;
  /** The revision. */
  revision: number;
  /** What was done. */
  operation: "PUT" | "DEL" | "PURGE";
}

/** The part of a JetStream KV bucket the table uses. */
export interface Kv {
  /** Reads a key (null: never written). */
  get(key: string): Promise<KvEntry | null>;
  /** Writes a key that is absent or deleted (else rejects). */
  create(key: string, data: Uint8Array): Promise<number>;
  /** Writes a key. */
  put(key: string, data: Uint8Array): Promise<number>;
  /** Writes a key at `revision` only (else rejects). */
  update(key: string, data: Uint8Array, revision: number): Promise<number>;
  /** Deletes a key (at `previousSeq` only, when given); wildcards allowed. */
  delete(key: string, options?: { previousSeq?: number }): Promise<void>;
  /** The keys present matching `filter`. */
  keys(filter?: string): Promise<AsyncIterable<string>>;
  /** Every key's value now, then every change. */
  watch(options?: { key?: string }): Promise<AsyncIterable<KvEntry> & { stop(): void }>;
}

/** How long a listing of the table may take before the mirror stands in for it. */
const LIST_MS = 2000;

/**
 * The table's keys matching `filter`, or, when NATS does not list them
 * within 2 s (nats-server 2.9 can stall a listing for about 30 s after
 * deletes), what this node's mirror shows, or an error without `mirrored`
 * (where a lagging mirror could let a check pass that must not).
 *
 * @param kv The table.
 * @param filter The keys to list (wildcards allowed).
 * @param mirrored The same keys as the mirror shows them, if they may stand in.
 * @param log Where a late listing is told.
 * @returns The keys.
 * @throws {Error} When the listing is late and there is no `mirrored`.
 */
export async function listKeys(
  kv: Kv,
  filter: string,
  mirrored: (() => string[]) | undefined,
  log: Logger,
): Promise<string[]> {
  const keys: string[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) => timer = setTimeout(() => resolve("late"), LIST_MS));
  const byMirror = () => {
    const what = `Cluster: listing "${filter}" took over ${LIST_MS} ms`;
    if (mirrored === undefined) throw new Error(what);
    log("warn", `${what}: going by the mirror`);
    return mirrored();
  };
  try {
    const listing = await Promise.race([kv.keys(filter), late]);
    if (listing === "late") return byMirror();
    const iterator = listing[Symbol.asyncIterator]();
    while (true) {
      const next = await Promise.race([iterator.next(), late]);
      if (next === "late") {
        iterator.return?.()?.catch(() => {});
        return byMirror();
      }
      if (next.done) return keys;
      keys.push(next.value);
    }
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Deletes a key at the revision it has now: a write that comes between
 * (a node back from the dead writing its callee again) makes it fail.
 *
 * @param kv The table.
 * @param key The key.
 * @returns Whether this deleted it.
 */
export async function deleteAsRead(kv: Kv, key: string): Promise<boolean> {
  const entry = await kv.get(key);
  if (!live(entry)) return false;
  return await kv.delete(key, { previousSeq: entry.revision }).then(() => true, () => false);
}

/**
 * Whether an entry holds a value (not absent, deleted or purged).
 *
 * @param entry The entry read.
 * @returns Whether it is a PUT.
 */
export function live(entry: KvEntry | null): entry is KvEntry {
  return entry !== null && entry.operation === "PUT";
}

interface Mirrored {
  head: Head | undefined;
  callees: Map<string, Stored>;
  /** The callee keys' revisions, by the same IDs. */
  revisions: Map<string, number>;
  described: Described | undefined;
  /** The realm and procedure, from a head (when the key hashes them). */
  names?: Head["names"];
  /** The head's takeover mark: its revision, and when the watcher first saw it (monotonic ms). */
  mark?: { revision: number; since: number } | undefined;
}

/** The table as this node watches it. */
export class RegistrationMirror {
  #regs = new Map<string, Mirrored>();
  #dirty = new Set<string>();
  #down: ReadonlySet<string>;
  #log: Logger;
  /** Where changes go (none: kept until set). */
  change: RegistrationChange | undefined;
  /** Set once the table closes: nothing is told any more. */
  closed = false;
  /** Told of each head left without a callee that counts, and each description without its head. */
  emptied: ((key: string) => void) | undefined;

  /**
   * Creates an empty mirror.
   *
   * @param down The nodes known to be down (their callees do not count).
   * @param log Where failures are logged.
   */
  constructor(down: ReadonlySet<string>, log: Logger) {
    this.#down = down;
    this.#log = log;
  }

  /**
   * Applies what the watcher saw. A key of another shape, or a value that
   * does not read as its kind ({@linkcode readHead}, {@linkcode readStored},
   * `readDescribed`), is logged and counts as absent: nothing malformed is
   * mirrored.
   *
   * @param entry A head (3 tokens), description (4) or callee (5) key's new state.
   */
  apply(entry: KvEntry): void {
    const parts = entry.key.split(".");
    const n = parts.length;
    if (n < 3 || n > 5 || !isMatchPolicy(parts[1]) || (n === 4 && parts[3] !== "d")) {
      this.#log(
        "warn",
        `Cluster: registration table key ${entry.key} ignored: not a key of the table`,
      );
      return;
    }
    const key = parts.slice(0, 3).join(".");
    let reg = this.#regs.get(key);
    if (reg === undefined) {
      reg = { head: undefined, callees: new Map(), revisions: new Map(), described: undefined };
      this.#regs.set(key, reg);
    }
    const id = `${parts[3]}.${parts[4]}`;
    const value = live(entry) ? this.#read(entry, parts) : undefined;
    if (n === 3) {
      reg.head = value as Head | undefined;
      reg.names ??= reg.head?.names; // kept past the head: its removal is told by them
      // The watcher sees every revision of the head: a mark's age counts from here.
      if (reg.head?.next === undefined) reg.mark = undefined;
      else if (reg.mark?.revision !== entry.revision) {
        reg.mark = { revision: entry.revision, since: performance.now() };
      }
    } else if (n === 4) {
      reg.described = value as Described | undefined;
    } else if (value !== undefined) {
      reg.callees.set(id, value as Stored);
      reg.revisions.set(id, entry.revision);
    } else {
      reg.callees.delete(id);
      reg.revisions.delete(id);
    }
    this.touch(key);
  }

  /** A live entry's value as its kind; undefined (logged) when malformed. */
  #read(entry: KvEntry, parts: string[]): Head | Described | Stored | undefined {
    let value: Head | Described | Stored | undefined;
    if (parts.length === 3) value = readHead(entry.value);
    else if (parts.length === 4) value = readDescribed(entry.value);
    else {
      const stored = readStored(entry.value); // its entry names its key's node and session
      if (stored?.[1].node === parts[3] && `${stored?.[1].session}` === parts[4]) value = stored;
    }
    if (value === undefined) {
      this.#log("warn", `Cluster: registration table key ${entry.key} ignored: malformed value`);
    }
    return value;
  }

  /** Forgets a callee at once (deleted by this node; the watcher confirms later). */
  forget(key: string, id: string): void {
    this.#regs.get(key)?.callees.delete(id);
  }

  /**
   * The revision of callee `id`'s key when it counts: of the head's epoch
   * (no takeover marked), as mirrored; else undefined.
   */
  counts(key: string, id: string): number | undefined {
    const reg = this.#regs.get(key);
    const stored = reg?.callees.get(id);
    if (reg?.head === undefined || reg.head.next !== undefined) return undefined;
    return stored?.[0] === reg.head.epoch ? reg.revisions.get(id) : undefined;
  }

  /** Whether a description key of the head is mirrored (whatever its epoch). */
  described(key: string): boolean {
    return this.#regs.get(key)?.described !== undefined;
  }

  /** The heads listing a callee of `node`. */
  headsOf(node: string): string[] {
    const heads: string[] = [];
    for (const [key, reg] of this.#regs) {
      for (const [, entry] of reg.callees.values()) {
        if (entry.node === node) {
          heads.push(key);
          break;
        }
      }
    }
    return heads;
  }

  /** The table keys of a head's callees, as mirrored (whatever their epoch or node). */
  calleeKeys(key: string): string[] {
    return [...this.#regs.get(key)?.callees.keys() ?? []].map((id) => `${key}.${id}`);
  }

  /** The table keys of `node`'s callees, as mirrored. */
  calleeKeysOf(node: string): string[] {
    const out: string[] = [];
    for (const [key, reg] of this.#regs) {
      for (const [id, [, entry]] of reg.callees) if (entry.node === node) out.push(`${key}.${id}`);
    }
    return out;
  }

  /** The heads with no callee key of their epoch (left behind, or just being made). */
  empty(): string[] {
    const out: string[] = [];
    for (const key of this.#regs.keys()) if (this.emptyHead(key)) out.push(key);
    return out;
  }

  /**
   * Whether a head is mirrored with no callee key of its epoch on any node,
   * down or not: a down node's callees are removed by the node-down cleanup
   * first (a node taken for down may still be writing them again).
   */
  emptyHead(key: string): boolean {
    const reg = this.#regs.get(key);
    if (reg?.head === undefined) return false;
    for (const [epoch] of reg.callees.values()) if (epoch === reg.head.epoch) return false;
    return true;
  }

  /**
   * When the watcher first saw the head's mark at `revision` (monotonic ms);
   * undefined when it has not seen that mark (yet).
   */
  markSeen(key: string, revision: number): number | undefined {
    const mark = this.#regs.get(key)?.mark;
    return mark?.revision === revision ? mark.since : undefined;
  }

  /** Whether a description is mirrored without its head (and no callee): left behind. */
  orphanDescription(key: string): boolean {
    const reg = this.#regs.get(key);
    return reg?.head === undefined && reg?.described !== undefined && reg.callees.size === 0;
  }

  /** Whether a head is mirrored with a takeover's mark. */
  marked(key: string): boolean {
    return this.#regs.get(key)?.head?.next !== undefined;
  }

  /** Every head key known. */
  keys(): IterableIterator<string> {
    return this.#regs.keys();
  }

  /** The callees of a head that count: of its epoch, on nodes not down. */
  valid(key: string): CalleeEntry[] {
    const out: CalleeEntry[] = [];
    const reg = this.#regs.get(key);
    if (reg?.head === undefined) return out;
    for (const [epoch, entry] of reg.callees.values()) {
      if (epoch === reg.head.epoch && !this.#down.has(entry.node)) out.push(entry);
    }
    return out;
  }

  /** Marks a registration changed: told at the end of this turn. */
  touch(key: string): void {
    if (this.#dirty.size === 0) setTimeout(() => this.#flush(), 0);
    this.#dirty.add(key);
  }

  /**
   * Tells the dealers of every registration changed since last time (run
   * from a timer: nothing may escape it, or the process ends).
   */
  #flush(): void {
    const change = this.change;
    const dirty = [...this.#dirty];
    this.#dirty.clear();
    if (change === undefined || this.closed) return;
    for (const key of dirty) {
      try {
        this.#tell(key, change);
      } catch (error) {
        this.#log("error", `Cluster: registration ${key}: ${error}`);
      }
    }
  }

  /** Tells the dealers of one registration as mirrored now. */
  #tell(key: string, change: RegistrationChange): void {
    const reg = this.#regs.get(key);
    if (reg === undefined) return;
    const [realmToken, match, procedureToken] = key.split(".");
    const realm = reg.names?.[0] ?? untoken(realmToken!);
    const procedure = reg.names?.[1] ?? untoken(procedureToken!);
    const callees = this.valid(key);
    const { head, described } = reg;
    if (head === undefined && reg.callees.size === 0 && described === undefined) {
      this.#regs.delete(key);
    }
    if (callees.length === 0 && (head !== undefined || described !== undefined)) {
      this.emptied?.(key); // a head without callees, or a description left without its head
    }
    if (realm === undefined || procedure === undefined) return; // hashed and no head seen, or malformed
    if (head === undefined || callees.length === 0) {
      change(realm, procedure, match as MatchPolicy, "single", [], undefined, undefined);
    } else {
      // A description of an earlier epoch is not this registration's.
      const current = described?.[0] === head.epoch ? described : undefined;
      const definer = current?.length === 4 ? [current[2], current[3]] as const : undefined;
      const policy = head.invoke;
      change(realm, procedure, match as MatchPolicy, policy, callees, current?.[1], definer);
    }
  }
}
