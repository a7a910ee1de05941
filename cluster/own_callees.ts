/**
 * This node's callees in the shared registration table
 * (`registrations.ts`), kept so that the table and this node's dealers
 * agree on who holds a registration:
 *
 * - when a node this node took for down is back, each callee whose key
 *   the mirror shows in (of the head's epoch) is written again at the
 *   revision seen (a survivor's delete from before then fails), with no
 *   read of the table; the others are restored;
 * - when the watcher shows one of them out (its key deleted by a node
 *   that took this one for down, or the head moved to another epoch), it is
 *   restored at once;
 * - restoring reads the table (the mirror may lag) and claims the callee
 *   again; when that is refused (another node's registration took the
 *   procedure meanwhile, e.g. a `single` one during a partition), the
 *   callee is lost: {@linkcode OwnCallees.onLost} revokes it on this node,
 *   so exactly one holder is left, the one in the table.
 *
 * @module
 */

import { encode } from "@msgpack/msgpack";
import type { InvocationPolicy, MatchPolicy } from "../wamp/mod.ts";
import type { CalleeEntry } from "../router/core/dealer/remote.ts";
import type { Logger } from "../router/core/types.ts";
import {
  type Kv,
  type KvEntry,
  live,
  readHead,
  readStored,
  type RegistrationMirror,
  type Stored,
} from "./registration_mirror.ts";

const PACK = { ignoreUndefined: true } as const;

/** Claims a callee in the table again: undefined when in, else why not. */
export type Claim = (
  realm: string,
  procedure: string,
  match: MatchPolicy,
  invoke: InvocationPolicy,
  entry: CalleeEntry,
) => Promise<string | undefined>;

/** Told of a callee of this node that lost its registration to another node's. */
export type Lost = (
  realm: string,
  procedure: string,
  match: MatchPolicy,
  session: number,
  reason: string,
) => void;

interface Own {
  invoke: InvocationPolicy;
  entry: CalleeEntry;
  /** The epoch it joined. */
  epoch: string;
  /** The realm and procedure (a key may hash them). */
  names: [realm: string, procedure: string];
}

/** The reason a lost callee's UNREGISTERED carries. */
export const LOST_REASON = "cloverleaf.registration.taken_over";

/** This node's callees in the table, by head and session. */
export class OwnCallees {
  #mine = new Map<string, Map<number, Own>>();
  /**
   * Callee keys being restored (one restore at a time each), with whether
   * another trigger came meanwhile (the restore then runs once again).
   */
  #restoring = new Map<string, boolean>();
  /** Callee keys whose session left while being restored (a claim may write them after). */
  #left = new Set<string>();
  #kv: Kv;
  #mirror: RegistrationMirror;
  #claim: Claim;
  #log: Logger;
  /** Told of each callee lost to another node's registration. */
  onLost: Lost | undefined;
  /** Callees restored or lost (for tests). */
  restores = 0;

  /**
   * Creates it.
   *
   * @param kv The table.
   * @param mirror The table as watched.
   * @param claim Claims a callee again.
   * @param log Where failures are logged.
   */
  constructor(kv: Kv, mirror: RegistrationMirror, claim: Claim, log: Logger) {
    this.#kv = kv;
    this.#mirror = mirror;
    this.#claim = claim;
    this.#log = log;
  }

  /** A callee of this node is in (of `epoch`), to `names` (realm, procedure). */
  remember(
    key: string,
    invoke: InvocationPolicy,
    entry: CalleeEntry,
    epoch: string,
    names: [realm: string, procedure: string],
  ): void {
    let sessions = this.#mine.get(key);
    if (sessions === undefined) this.#mine.set(key, sessions = new Map());
    sessions.set(entry.session, { invoke, entry, epoch, names });
  }

  /** A callee of this node leaves (before its key is deleted). */
  forget(key: string, session: number): void {
    const mine = this.#mine.get(key);
    const own = mine?.get(session);
    if (own === undefined) return;
    const name = `${key}.${own.entry.node}.${session}`;
    if (this.#restoring.has(name)) this.#left.add(name);
    mine!.delete(session);
    if (mine!.size === 0) this.#mine.delete(key);
  }

  /**
   * A node taken for down is back: every callee of this node is asserted
   * again (one write each when the mirror shows it in, else a restore).
   */
  async resync(): Promise<void> {
    for (const [key, sessions] of this.#mine) {
      for (const own of [...sessions.values()]) {
        const { node, session } = own.entry;
        const revision = this.#mirror.counts(key, `${node}.${session}`);
        if (revision === undefined) {
          await this.#restore(key, own);
          continue;
        }
        const value = encode([own.epoch, own.entry] satisfies Stored, PACK);
        const written = await this.#kv.update(`${key}.${node}.${session}`, value, revision)
          .then(() => true, () => false);
        if (!written) await this.#restore(key, own);
      }
    }
  }

  /**
   * What the watcher saw: one of this node's callee keys deleted, or a
   * head with callees here gone or moved to another epoch, restores them.
   *
   * @param entry The entry watched.
   * @param node This node's ID.
   */
  seen(entry: KvEntry, node: string): void {
    const parts = entry.key.split(".");
    const key = parts.slice(0, 3).join(".");
    const mine = this.#mine.get(key);
    if (mine === undefined) return;
    if (parts.length === 5) {
      const own = parts[3] === node ? mine.get(Number(parts[4])) : undefined;
      if (own !== undefined && !live(entry)) this.#restore(key, own).catch(() => {});
    } else if (parts.length === 3) {
      const head = live(entry) ? readHead(entry.value) : undefined;
      for (const own of [...mine.values()]) {
        if (head === undefined || head.epoch !== own.epoch) this.#restore(key, own).catch(() => {});
      }
    }
  }

  /** Claims a callee again, unless the table shows it in; refused, it is lost. */
  async #restore(key: string, own: Own): Promise<void> {
    const { entry, invoke, names: [realm, uri] } = own;
    const name = `${key}.${entry.node}.${entry.session}`;
    if (this.#restoring.has(name)) {
      this.#restoring.set(name, true); // once more after this one: it may have read too early
      return;
    }
    this.#restoring.set(name, false);
    const match = key.split(".")[1];
    try {
      const stored = await this.#kv.get(name);
      const head = await this.#kv.get(key);
      if (live(stored) && live(head)) {
        const epoch = readHead(head.value)?.epoch;
        if (readStored(stored.value)?.[0] === epoch && epoch === own.epoch) return;
      }
      if (this.#mine.get(key)?.get(entry.session) !== own) return; // it left meanwhile
      this.restores++;
      const refused = await this.#claim(realm, uri, match as MatchPolicy, invoke, entry);
      if (refused === undefined) {
        if (!this.#left.has(name)) return;
        // It left during the claim: the claim's write may have landed after its delete.
        this.forget(key, entry.session);
        await this.#kv.delete(name);
        return;
      }
      this.#log("warn", `Cluster: registration ${uri} was taken over elsewhere: ${refused}`);
      this.forget(key, entry.session);
      await this.#kv.delete(name).catch(() => {}); // its key of an epoch gone, if left
      this.onLost?.(realm, uri, match as MatchPolicy, entry.session, LOST_REASON);
      this.#mirror.touch(key); // the dealers take the holder the table shows
    } catch (error) {
      this.#log("warn", `Cluster: cannot restore ${uri}: ${error}`);
    } finally {
      const again = this.#restoring.get(name);
      this.#restoring.delete(name);
      this.#left.delete(name);
      const now = this.#mine.get(key)?.get(entry.session);
      if (again && now !== undefined) this.#restore(key, now).catch(() => {});
    }
  }
}
