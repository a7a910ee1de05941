/**
 * The meta events that may wait for a later turn, in lanes: one per
 * session that left (the events of everything it held, its testaments,
 * then its `on_leave`), and one for what the realm publishes on no
 * session's behalf (a revocation, a request released after an
 * authorization, other nodes' sessions). A lane's events keep their order;
 * lanes do not wait for each other. What a lane got while it was idle goes
 * out with the turn that queued it, up to that turn's budget; the rest
 * waits in a rotation that later turns serve one event per lane at a time,
 * so that one session leaving with thousands delays no other's testaments
 * or `on_leave` behind them.
 *
 * @module
 */

import { Fifo } from "../fifo.ts";

/** A lane: its key and its events, oldest first. */
interface Lane<T> {
  readonly key: unknown;
  readonly items: Fifo<T>;
}

/**
 * Lanes of queued items (each with its estimated size), the idle ones
 * that got some, and the rotation of those that wait.
 *
 * @example
 * ```ts
 * import { Lanes } from "./event_lanes.ts";
 * import { deepEqual, equal } from "node:assert/strict";
 *
 * const lanes = new Lanes<{ name: string; size: number }>();
 * const out: string[] = [];
 * lanes.push(1, { name: "a1", size: 10 });
 * lanes.push(1, { name: "a2", size: 10 });
 * lanes.push(2, { name: "b1", size: 10 });
 * lanes.takeFresh(({ name }) => out.push(name) < 1); // a budget of one
 * deepEqual(out, ["a1"]);
 * equal(lanes.bytes, 20);
 * lanes.takeWaiting(({ name }) => out.push(name) > 0); // one from each lane in turn
 * deepEqual(out, ["a1", "a2", "b1"]);
 * equal(lanes.waiting, false);
 * ```
 */
export class Lanes<T extends { readonly size: number }> {
  #lanes = new Map<unknown, Lane<T>>();
  /** Lanes that were idle when they got their first item since the last take. */
  #fresh: Lane<T>[] = [];
  /** Lanes whose items wait for later turns, in turn. */
  #rotation = new Fifo<Lane<T>>();
  #bytes = 0;

  /** The estimated size of every item queued, in bytes. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Whether lanes that were idle got items ({@linkcode Lanes.takeFresh} takes them). */
  get fresh(): boolean {
    return this.#fresh.length > 0;
  }

  /** Whether lanes wait in the rotation ({@linkcode Lanes.takeWaiting} takes from them). */
  get waiting(): boolean {
    return this.#rotation.length > 0;
  }

  /**
   * Queues an item at the end of a lane.
   *
   * @param key The lane (a session that left, or the realm).
   * @param item The item; its `size` counts in {@linkcode Lanes.bytes} until it is taken.
   */
  push(key: unknown, item: T): void {
    let lane = this.#lanes.get(key);
    if (lane === undefined) {
      lane = { key, items: new Fifo() };
      this.#lanes.set(key, lane);
      this.#fresh.push(lane);
    }
    lane.items.push(item);
    this.#bytes += item.size;
  }

  /**
   * Takes the items of the lanes that were idle, lane after lane, while
   * `take` says to go on (it is given one at least); the rest of those
   * lanes joins the rotation.
   *
   * @param take Handles an item; returns whether to go on.
   */
  takeFresh(take: (item: T) => boolean): void {
    const fresh = this.#fresh;
    this.#fresh = [];
    let go = true;
    for (const lane of fresh) {
      while (go && lane.items.length > 0) go = take(this.#take(lane));
      if (lane.items.length === 0) this.#lanes.delete(lane.key);
      else this.#rotation.push(lane);
    }
  }

  /**
   * Takes from the waiting lanes, one item from each in turn, while `take`
   * says to go on (it is given one at least, if any waits).
   *
   * @param take Handles an item; returns whether to go on.
   */
  takeWaiting(take: (item: T) => boolean): void {
    let go = true;
    while (go && this.#rotation.length > 0) {
      const lane = this.#rotation.shift()!;
      go = take(this.#take(lane));
      if (lane.items.length > 0) this.#rotation.push(lane);
      else this.#lanes.delete(lane.key);
    }
  }

  #take(lane: Lane<T>): T {
    const item = lane.items.shift()!;
    this.#bytes -= item.size;
    return item;
  }
}
