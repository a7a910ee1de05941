/**
 * What `wamp.reflect.define` set on a registration of the shared table
 * (`registrations.ts`), in its own key `<head>.d` holding the head's epoch,
 * the description and who defined it (node and session, which that node
 * charges for it: `Descriptions.synced`): the head, which the takeover protocol compares and
 * sets, is never written for it, so a callee defining in a loop disturbs no
 * REGISTER. One write is in flight per registration; definitions arriving
 * meanwhile coalesce into the last one. A description of an epoch that is
 * not the head's (the registration went and came again) counts for nothing
 * (`registration_mirror.ts`), and one written as the head went is removed.
 * A write is made at the revision of the description key read before the
 * head: whatever is there then was written for that head's epoch or an
 * older one, so a write for an epoch gone never replaces the next
 * registration's description.
 *
 * @module
 */

import { encode } from "@msgpack/msgpack";
import type { Dict } from "../wamp/mod.ts";
import { type Described, type Kv, live, readHead } from "./registration_mirror.ts";

/** A description and the session of this node that defined it. */
type Definition = readonly [description: Dict, session: number];

/** How many times a description write is tried when others write the key meanwhile. */
const ATTEMPTS = 5;

/**
 * The description key of a head.
 *
 * @param head The head's key.
 * @returns Its description's key.
 */
export function descriptionKey(head: string): string {
  return `${head}.d`;
}

/** The descriptions of one table's registrations. */
export class RegistrationDescriptions {
  #kv: Kv;
  #node: string;
  /** Heads with a write in flight → the description to write next and its definer (undefined: none). */
  #pending = new Map<string, Definition | undefined>();
  /** Writes to the table (for tests). */
  writes = 0;

  /**
   * Creates it over the table's bucket.
   *
   * @param kv The bucket.
   * @param node This node's ID, written with each description.
   */
  constructor(kv: Kv, node: string) {
    this.#kv = kv;
    this.#node = node;
  }

  /**
   * Sets the description of the registration at `head`, unless it is gone;
   * with a write for it in flight, only the last description given
   * meanwhile is written after it.
   *
   * @param head The head's key.
   * @param description The description.
   * @param session The session of this node that defined it.
   * @returns A promise that settles when this description is written or coalesced.
   */
  async define(head: string, description: Dict, session: number): Promise<void> {
    if (this.#pending.has(head)) {
      this.#pending.set(head, [description, session]);
      return;
    }
    this.#pending.set(head, undefined);
    let next: Definition | undefined = [description, session];
    try {
      while (next !== undefined) {
        await this.#write(head, next);
        next = this.#pending.get(head);
        this.#pending.set(head, undefined);
      }
    } finally {
      this.#pending.delete(head);
    }
  }

  /**
   * Writes a description for the head's epoch as first read: at the
   * description key's revision read before the head (a newer registration's
   * description written since makes the write fail, and is kept), never
   * onto another epoch's registration.
   */
  async #write(head: string, [description, session]: Definition): Promise<void> {
    const key = descriptionKey(head);
    let first: string | undefined;
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const current = await this.#kv.get(key); // before the head: see the class's doc
      const before = await this.#kv.get(head);
      if (!live(before)) return;
      const epoch = readHead(before.value)?.epoch;
      if (epoch === undefined || (first ??= epoch) !== epoch) return; // malformed, or the registration it was for went
      const value = encode([epoch, description, this.#node, session] satisfies Described);
      this.writes++;
      const revision = await (live(current)
        ? this.#kv.update(key, value, current.revision)
        : this.#kv.create(key, value)).catch(() =>
          undefined
        );
      if (revision === undefined) continue; // written meanwhile: look again
      const after = await this.#kv.get(head);
      if (live(after) && readHead(after.value)?.epoch === epoch) return;
      // The registration went meanwhile (its removal may have missed this key): not left behind.
      await this.#kv.delete(key, { previousSeq: revision }).catch(() => {});
      return;
    }
  }
}
