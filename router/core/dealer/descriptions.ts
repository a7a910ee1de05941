/**
 * What the descriptions of `wamp.reflect.define` may hold (the realm's
 * limits `descriptionBytesPerSession` and `descriptionBytes`): each
 * registration's description counts its estimated size against the realm
 * until the registration goes or the description is replaced, and against
 * the session that defined it while that session is one of the
 * registration's callees.
 *
 * A description another node defined (cluster mode: `DealerCluster.sync`)
 * is counted by that node's realm, not here.
 *
 * @module
 */

import type { Dict } from "../../../wamp/mod.ts";
import { limitMessage, type LimitOptions, resolveLimits } from "../limits.ts";
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
  /** The session charged (undefined once it is no longer a callee of the registration). */
  definer: number | undefined;
}

/** The descriptions of a realm's registrations, with what they cost whom. */
export class Descriptions {
  #kept = new Map<Registration, Kept>();
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
   * had, unless that would take the session or the realm past its limit.
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
    if (session.transport !== "internal" && mine - freed + size > this.#perSession) {
      return limitMessage(
        "define a description",
        "descriptionBytesPerSession",
        this.#perSession,
      );
    }
    if (this.#total - (old?.size ?? 0) + size > this.#max) {
      return limitMessage("define a description", "descriptionBytes", this.#max);
    }
    if (old !== undefined) this.#release(reg, old);
    this.#kept.set(reg, { size, definer: session.id });
    this.#bySession.set(session.id, (this.#bySession.get(session.id) ?? 0) + size);
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
   * An observer for the dealer that frees what a registration's
   * description costs as callees leave it, then tells `observer`.
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
        else if (kept !== undefined && kept.definer === callee) {
          this.#charge(callee, -kept.size);
          kept.definer = undefined; // the realm still pays, as long as the registration stays
        }
        observer?.unregistered(callee, reg, deleted);
      },
    };
  }

  #release(reg: Registration, kept: Kept): void {
    this.#kept.delete(reg);
    this.#total -= kept.size;
    if (kept.definer !== undefined) this.#charge(kept.definer, -kept.size);
  }

  #charge(session: number, bytes: number): void {
    const left = (this.#bySession.get(session) ?? 0) + bytes;
    if (left > 0) this.#bySession.set(session, left);
    else this.#bySession.delete(session);
  }
}
