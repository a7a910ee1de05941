/**
 * What the descriptions of `wamp.reflect.define` may hold (the realm's
 * limits `descriptionBytesPerSession` and `descriptionBytes`): each
 * registration's description counts its estimated size against the realm
 * and against the session that defined it, until the registration goes or
 * the description is replaced. The definer keeps paying after it left the
 * registration (or the realm) that others still serve: the description it
 * paid for is still kept, and a session could otherwise define on a shared
 * registration, leave it to an accomplice, and define again, two sessions
 * filling the realm's limit.
 *
 * In a cluster (`DealerCluster.sync`, {@linkcode Descriptions.synced}) a
 * description another node defined is counted by that node's realm, not
 * here; one that replaces a description this node's session defined frees
 * it here, as a local definition would; one this node's session defined
 * that comes back after another node's is counted against it again.
 *
 * @module
 */

import type { Dict } from "../../../wamp/mod.ts";
import { keptPayloadSize, limitMessage, type LimitOptions, resolveLimits } from "../limits.ts";
import type { SessionInfo } from "../types.ts";
import type { Registration, RegistrationObserver } from "./registrations.ts";

/** The limits that bound the descriptions. */
export type DescriptionLimits = Pick<
  LimitOptions,
  "descriptionBytesPerSession" | "descriptionBytes"
>;

/** A description this node's session defined: its estimated size and who pays for it. */
interface Kept {
  readonly size: number;
  /** The session charged, while the description is kept. */
  readonly definer: number;
}

/** The descriptions of a realm's registrations, with what they cost whom. */
export class Descriptions {
  #kept = new Map<Registration, Kept>();
  /** The shared table's description of a registration as last applied (cluster). */
  #synced = new WeakMap<Registration, Dict>();
  #bySession = new Map<number, number>();
  #total = 0;
  #perSession: number;
  #max: number;

  /**
   * Creates an empty budget.
   *
   * @param limits The size limits; the defaults of `DEFAULT_LIMITS` for
   * those not given.
   */
  constructor(limits: DescriptionLimits = {}) {
    const resolved = resolveLimits(limits);
    this.#perSession = resolved.descriptionBytesPerSession;
    this.#max = resolved.descriptionBytes;
  }

  /**
   * Sets a registration's description, replacing (and freeing) the one it
   * had, unless that would take the session or the realm past its limit
   * (one that costs no more than what it replaces always goes through).
   * Sessions of the router itself are not limited per session.
   *
   * @param session The defining session, a callee of `reg`.
   * @param reg The registration.
   * @param description The description.
   * @param size Its estimated size (`keptPayloadSize`).
   * @returns Why it is refused (`cloverleaf.error.limit_exceeded`'s
   * argument), or undefined once it is set.
   */
  define(
    session: SessionInfo,
    reg: Registration,
    description: Dict,
    size: number,
  ): string | undefined {
    const old = this.#kept.get(reg);
    const mine = this.#bySession.get(session.id) ?? 0;
    const freed = old !== undefined && old.definer === session.id ? old.size : 0;
    // A definition that shrinks what it pays goes through: a race of two nodes' definitions
    // can leave a session past its limit (`synced`), and it may always pay less.
    const over = mine - freed + size > this.#perSession && size > freed;
    if (session.transport !== "internal" && over) {
      return limitMessage(
        "define a description",
        "descriptionBytesPerSession",
        this.#perSession,
      );
    }
    if (this.#total - (old?.size ?? 0) + size > this.#max && size > (old?.size ?? 0)) {
      return limitMessage("define a description", "descriptionBytes", this.#max);
    }
    if (old !== undefined) this.#release(reg, old);
    this.#kept.set(reg, { size, definer: session.id });
    this.#charge(session.id, size);
    this.#total += size;
    reg.description = description;
    return undefined;
  }

  /**
   * The estimated bytes of the descriptions a session pays for, or of all
   * that this node's sessions defined.
   *
   * @param session A session ID; all when omitted.
   * @returns The estimate.
   */
  bytes(session?: number): number {
    return session === undefined ? this.#total : this.#bySession.get(session) ?? 0;
  }

  /**
   * The shared table's description of a registration (cluster mode:
   * `DealerCluster.sync`), once per value the table holds: it replaces what
   * this node's sessions defined, which is freed, unless one of them defined
   * it; then it is counted against that session (its own coming back, or
   * coming back after another node's, within its limits when defined), and
   * a newer definition of this node's, on its way to the table, is kept.
   *
   * @param reg The registration.
   * @param description The table's description.
   * @param definer The session of this node that defined it, if one did.
   */
  synced(reg: Registration, description: Dict, definer: number | undefined): void {
    if (this.#synced.get(reg) === description) return; // a callee's change: the same value
    this.#synced.set(reg, description);
    const kept = this.#kept.get(reg);
    if (definer !== undefined && kept !== undefined) return; // this node's, or newer
    if (kept !== undefined) this.#release(reg, kept);
    reg.description = description;
    if (definer === undefined) return;
    const size = keptPayloadSize([description], Number.MAX_SAFE_INTEGER);
    this.#kept.set(reg, { size, definer });
    this.#charge(definer, size);
    this.#total += size;
  }

  /**
   * An observer for the dealer that frees what a registration's
   * description costs when the registration goes, and sets the shared
   * table's descriptions through {@linkcode Descriptions.synced}; it tells
   * `observer` of the callees.
   *
   * @param observer The observer told next (the registration meta events).
   * @returns The observer to give the dealer.
   */
  watching(observer?: RegistrationObserver): RegistrationObserver {
    return {
      registered: (callee, reg, created) => observer?.registered(callee, reg, created),
      unregistered: (callee, reg, deleted) => {
        const kept = this.#kept.get(reg);
        if (kept !== undefined && deleted) this.#release(reg, kept);
        observer?.unregistered(callee, reg, deleted);
      },
      described: (reg, description, definer) => this.synced(reg, description, definer),
    };
  }

  #release(reg: Registration, kept: Kept): void {
    this.#kept.delete(reg);
    this.#total -= kept.size;
    this.#charge(kept.definer, -kept.size);
  }

  #charge(session: number, bytes: number): void {
    const left = (this.#bySession.get(session) ?? 0) + bytes;
    if (left > 0) this.#bySession.set(session, left);
    else this.#bySession.delete(session);
  }
}
