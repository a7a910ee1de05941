/**
 * The dealer's registration table: registrations by ID, by (procedure,
 * match) and by callee, with pattern lookup through {@linkcode MatchIndex}.
 *
 * @module
 */

import {
  type Dict,
  type IdGenerator,
  type InvocationPolicy,
  isReservedUri,
  type MatchPolicy,
} from "../../../wamp/mod.ts";
import type { CalleeList } from "./invocation_policy.ts";
import { MatchIndex } from "../match_index.ts";

/** A registration: a procedure (or pattern) and the callees that serve it. */
export interface Registration extends CalleeList {
  /** Router-scope registration ID. */
  readonly id: number;
  /** The procedure URI or pattern. */
  readonly procedure: string;
  /** The match policy. */
  readonly match: MatchPolicy;
  /** The invocation policy. */
  readonly invoke: InvocationPolicy;
  /** When it was created (ISO 8601). */
  readonly created: string;
  /** Callee session IDs, in registration order. */
  readonly callees: number[];
  /**
   * Each callee's REGISTER options that the dealer reads later
   * (`disclose_caller`, `forward_timeout`); other keys are not kept, so a
   * REGISTER's size does not decide what the router holds.
   */
  readonly options: Map<number, Dict>;
  /** A description set through `wamp.reflect.define` (reflection). */
  description?: Dict;
}

/**
 * Told as callees join and leave registrations (the registration meta
 * API publishes from here).
 */
export interface RegistrationObserver {
  /** `callee` joined `reg`; `created` when this made the registration. */
  registered(callee: number, reg: Registration, created: boolean): void;
  /** `callee` left `reg`; `deleted` when that removed the registration. */
  unregistered(callee: number, reg: Registration, deleted: boolean): void;
  /**
   * The shared table describes `reg` (cluster mode): the observer sets
   * `reg.description` (`Descriptions.synced`); `definer` is the session of
   * this node that defined it, if one did. Without it the description is
   * set as it comes.
   */
  described?(reg: Registration, description: Dict, definer: number | undefined): void;
}

/** Registrations of one realm. */
export class Registrations {
  #ids: IdGenerator;
  #now: () => number;
  #observer: RegistrationObserver | undefined;
  #index = new MatchIndex<Registration>();
  #byId = new Map<number, Registration>();
  #byCallee = new Map<number, Set<Registration>>();

  /**
   * Creates an empty table.
   *
   * @param ids Router-scope IDs for new registrations.
   * @param now The clock, for `created`.
   * @param observer Told as callees join and leave registrations.
   */
  constructor(ids: IdGenerator, now: () => number, observer?: RegistrationObserver) {
    this.#ids = ids;
    this.#now = now;
    this.#observer = observer;
  }

  /** A registration by ID. */
  get(id: number): Registration | undefined {
    return this.#byId.get(id);
  }

  /** The registration for exactly this procedure or pattern and match policy. */
  lookup(procedure: string, match: MatchPolicy = "exact"): Registration | undefined {
    return this.#index.get(procedure, match);
  }

  /**
   * The registration a call to `procedure` reaches (the spec's precedence).
   * None for a `wamp.` procedure: those are the router's, and no client may
   * register one, so a pattern (`wam`, `..`) must not catch a CALL to one
   * the router does not serve (`wamp.session.kill` when off) either.
   */
  best(procedure: string): Registration | undefined {
    return isReservedUri(procedure) ? undefined : this.#index.best(procedure);
  }

  /** Every registration. */
  values(): IterableIterator<Registration> {
    return this.#byId.values();
  }

  /** How many registrations exist. */
  get size(): number {
    return this.#byId.size;
  }

  /** How many of them are patterns (`prefix`, `wildcard`). */
  get patterns(): number {
    return this.#index.patterns;
  }

  /** Whether a new wildcard pattern might take the index past `max` nodes (`MatchIndex`). */
  wildcardFull(pattern: string, max: number): boolean {
    return this.#index.wildcardFull(pattern, max);
  }

  /** How many registrations a callee holds. */
  countOf(sessionId: number): number {
    return this.#byCallee.get(sessionId)?.size ?? 0;
  }

  /** The registrations a callee holds. */
  ofCallee(sessionId: number): readonly Registration[] {
    return [...this.#byCallee.get(sessionId) ?? []];
  }

  /**
   * Adds a callee to the registration for (procedure, match), creating it.
   * The caller has checked that the policies agree.
   *
   * @returns The registration.
   */
  add(
    procedure: string,
    match: MatchPolicy,
    invoke: InvocationPolicy,
    callee: number,
    options: Dict,
  ): Registration {
    let reg = this.#index.get(procedure, match);
    const created = reg === undefined;
    if (reg === undefined) {
      reg = {
        id: this.#ids(),
        procedure,
        match,
        invoke,
        created: new Date(this.#now()).toISOString(),
        callees: [],
        options: new Map(),
        next: 0,
      };
      this.#index.set(procedure, match, reg);
      this.#byId.set(reg.id, reg);
    }
    reg.callees.push(callee);
    reg.options.set(callee, options);
    let mine = this.#byCallee.get(callee);
    if (mine === undefined) this.#byCallee.set(callee, mine = new Set());
    mine.add(reg);
    this.#observer?.registered(callee, reg, created);
    return reg;
  }

  /**
   * Sets the description the shared table holds for a registration
   * (cluster mode), through the observer when it takes it.
   *
   * @param reg The registration.
   * @param description The description.
   * @param definer The session of this node that defined it, if one did.
   */
  describe(reg: Registration, description: Dict, definer?: number): void {
    if (this.#observer?.described === undefined) reg.description = description;
    else this.#observer.described(reg, description, definer);
  }

  /**
   * Removes a callee from a registration; the registration goes with its
   * last callee.
   */
  remove(callee: number, reg: Registration): void {
    const at = reg.callees.indexOf(callee);
    if (at < 0) return;
    reg.callees.splice(at, 1);
    if (reg.next > at) reg.next--;
    reg.options.delete(callee);
    const mine = this.#byCallee.get(callee);
    mine?.delete(reg);
    if (mine?.size === 0) this.#byCallee.delete(callee);
    const deleted = reg.callees.length === 0;
    if (deleted) {
      this.#index.delete(reg.procedure, reg.match);
      this.#byId.delete(reg.id);
    }
    this.#observer?.unregistered(callee, reg, deleted);
  }
}
