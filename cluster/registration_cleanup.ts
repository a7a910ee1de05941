/**
 * The shared registration table's chores (`registrations.ts`), done by the
 * live node with the smallest ID so that no two nodes do them at once:
 *
 * - a node down: its callees' keys are removed (each deleted at the
 *   revision read: a node back meanwhile keeps what it wrote again), with
 *   those of every node down in the last {@linkcode TAKEOVER_MS} (a
 *   takeover when the smallest died too);
 * - a head shown without a callee key of its epoch on any node, down or
 *   not (two nodes released the last two callees at once, each seeing the
 *   other's; or a down node's callees were removed) for {@linkcode SWEEP_MS}
 *   is removed by the takeover protocol, so a callee joining meanwhile is
 *   never lost; so is a description left without its head. A head that
 *   only a down node's callees hold is left to the node-down cleanup: a
 *   node taken for down that still reaches the bucket writes its callees
 *   again, and the head stands with them (no sweep and restore in a loop).
 *
 * @module
 */

import type { Logger } from "../router/core/types.ts";
import type { ClusterNode } from "./node.ts";
import { deleteAsRead, type Kv, listKeys, type RegistrationMirror } from "./registration_mirror.ts";
import { descriptionKey } from "./registration_descriptions.ts";

/** How long after a node's death a survivor that becomes the smallest still removes its callees. */
const TAKEOVER_MS = 5 * 60_000;
/** How long a head shows no callee before the smallest node removes it. */
const SWEEP_MS = 1000;

/** The smallest live node's chores on one table. */
export class RegistrationCleanup {
  #kv: Kv;
  #mirror: RegistrationMirror;
  #down: Set<string>;
  #node: ClusterNode;
  #removeHead: (key: string, sweeping?: boolean) => Promise<void>;
  #log: Logger;
  #closed = false;
  /** Nodes down lately, whose callees the smallest survivor may not have removed yet. */
  #uncleaned = new Map<string, number>();
  /** Heads shown without callees, to remove if still so at the next sweep. */
  #empty = new Set<string>();
  #sweep: ReturnType<typeof setTimeout> | undefined;
  /** Callee keys of nodes down that this node removed (for tests). */
  released = 0;

  /**
   * Creates it.
   *
   * @param kv The table.
   * @param mirror The table as watched.
   * @param down The nodes known to be down (shared with the table).
   * @param node This node.
   * @param removeHead Removes a head left without callees (unless one joined meanwhile;
   * `sweeping`, unless a takeover is in flight).
   * @param log Where failures are logged.
   */
  constructor(
    kv: Kv,
    mirror: RegistrationMirror,
    down: Set<string>,
    node: ClusterNode,
    removeHead: (key: string, sweeping?: boolean) => Promise<void>,
    log: Logger,
  ) {
    this.#kv = kv;
    this.#mirror = mirror;
    this.#down = down;
    this.#node = node;
    this.#removeHead = removeHead;
    this.#log = log;
  }

  /**
   * A node is down: its callees are ignored from now on, and the survivor
   * with the smallest ID removes them from the table.
   *
   * @param node The node.
   */
  async nodeDown(node: string): Promise<void> {
    this.#down.add(node);
    for (const key of this.#mirror.headsOf(node)) this.#mirror.touch(key);
    const now = Date.now();
    this.#uncleaned.set(node, now);
    for (const [id, at] of this.#uncleaned) if (now - at > TAKEOVER_MS) this.#uncleaned.delete(id);
    if (this.#node.nodes()[0] !== this.#node.id) return;
    // Heads left behind before (a node taken for down, then heard again,
    // then down); those emptied below come by the watcher: the sweep removes both.
    for (const key of this.#mirror.empty()) this.emptied(key);
    for (const down of [...this.#uncleaned.keys()]) {
      this.#uncleaned.delete(down);
      if (!this.#down.has(down) || this.#closed) continue; // it came back meanwhile
      const mirrored = () => this.#mirror.calleeKeysOf(down);
      const keys = await listKeys(this.#kv, `*.*.*.${down}.*`, mirrored, this.#log);
      for (const key of keys) {
        if (!this.#down.has(down) || this.#closed) break; // it came back: its keys stand
        if (await deleteAsRead(this.#kv, key)) this.released++;
      }
    }
  }

  /**
   * A head shows no callee that counts: the smallest live node removes it
   * if it shows no callee key of its epoch at the next sweep.
   *
   * @param key The head's key.
   */
  emptied(key: string): void {
    if (this.#closed || this.#node.nodes()[0] !== this.#node.id) return;
    this.#empty.add(key);
    this.#sweep ??= setTimeout(() => this.#sweepEmpty().catch(() => {}), SWEEP_MS);
  }

  async #sweepEmpty(): Promise<void> {
    const keys = [...this.#empty];
    this.#empty.clear();
    try {
      for (const key of keys) {
        if (this.#closed) break;
        if (this.#mirror.orphanDescription(key)) { // its head's removal missed it
          await deleteAsRead(this.#kv, descriptionKey(key));
          continue;
        }
        if (!this.#mirror.emptyHead(key)) continue; // a callee came (or a down node's), or it went
        await this.#removeHead(key, true);
        // Still there, marked: a takeover in flight, or a mark to outlive first.
        if (this.#mirror.emptyHead(key) && this.#mirror.marked(key)) this.#empty.add(key);
      }
    } finally {
      this.#sweep = undefined;
      if (this.#empty.size > 0 && !this.#closed) {
        this.#sweep = setTimeout(() => this.#sweepEmpty().catch(() => {}), SWEEP_MS);
      }
    }
  }

  /** Stops: no chore starts any more. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#sweep);
  }
}
