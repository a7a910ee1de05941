/**
 * Typed helpers for `wamp.registration.*` (spec "Registration Meta API"):
 * what is registered, by whom, and the events when that changes.
 *
 * @module
 */

import { type MatchPolicy, MetaProcedure, MetaTopic } from "../../wamp/mod.ts";
import type { Event, Subscription } from "../subscription.ts";
import {
  first,
  lookupArgs,
  type MatchLists,
  type MetaPeer,
  pairHandler,
  type RegistrationDetails,
} from "./types.ts";

/** Wraps `wamp.registration.*`: what is registered, and by whom. */
export class RegistrationMetaApi {
  #peer: MetaPeer;

  /**
   * Usually reached as `session.meta.registrations`.
   *
   * @param peer The session that makes the calls.
   */
  constructor(peer: MetaPeer) {
    this.#peer = peer;
  }

  /**
   * Lists the registration IDs per match policy (`wamp.registration.list`).
   *
   * @returns The IDs.
   */
  async list(): Promise<MatchLists> {
    return first(await this.#peer.call(MetaProcedure.REGISTRATION_LIST));
  }

  /**
   * Finds the registration of exactly this URI and match policy
   * (`wamp.registration.lookup`).
   *
   * @param procedure The procedure URI or pattern.
   * @param options The match policy, `exact` by default.
   * @returns The registration ID, or `null` when there is none.
   */
  async lookup(procedure: string, options: { match?: MatchPolicy } = {}): Promise<number | null> {
    const args = lookupArgs(procedure, options.match);
    return first(await this.#peer.call(MetaProcedure.REGISTRATION_LOOKUP, { args }));
  }

  /**
   * Finds the registration a call to `procedure` would reach
   * (`wamp.registration.match`), under the pattern-based registration
   * rules.
   *
   * @param procedure A concrete procedure URI.
   * @returns The registration ID, or `null` when none matches.
   */
  async match(procedure: string): Promise<number | null> {
    const result = await this.#peer.call(MetaProcedure.REGISTRATION_MATCH, { args: [procedure] });
    return first(result);
  }

  /**
   * Describes a registration (`wamp.registration.get`).
   *
   * @param registration The registration ID.
   * @returns Its details.
   * @throws {ApplicationError} `wamp.error.no_such_registration` when unknown.
   */
  async get(registration: number): Promise<RegistrationDetails> {
    const result = await this.#peer.call(MetaProcedure.REGISTRATION_GET, { args: [registration] });
    return first(result);
  }

  /**
   * Lists the callees of a registration (`wamp.registration.list_callees`).
   *
   * @param registration The registration ID.
   * @returns Their session IDs.
   * @throws {ApplicationError} `wamp.error.no_such_registration` when unknown.
   */
  async listCallees(registration: number): Promise<number[]> {
    const result = await this.#peer.call(MetaProcedure.REGISTRATION_LIST_CALLEES, {
      args: [registration],
    });
    return first(result);
  }

  /**
   * Counts the callees of a registration
   * (`wamp.registration.count_callees`).
   *
   * @param registration The registration ID.
   * @returns How many callees it has.
   * @throws {ApplicationError} `wamp.error.no_such_registration` when unknown.
   */
  async countCallees(registration: number): Promise<number> {
    const result = await this.#peer.call(MetaProcedure.REGISTRATION_COUNT_CALLEES, {
      args: [registration],
    });
    return first(result);
  }

  /**
   * Subscribes to `wamp.registration.on_create`: a registration with a new
   * URI and match policy (always followed by `on_register`).
   *
   * @param handler Gets the registering session's ID and the details.
   * @returns The subscription.
   */
  onCreate(
    handler: (session: number, details: RegistrationDetails, event: Event) => void | Promise<void>,
  ): Promise<Subscription> {
    return this.#peer.subscribe(MetaTopic.REGISTRATION_ON_CREATE, pairHandler(handler));
  }

  /**
   * Subscribes to `wamp.registration.on_register`: a callee was added.
   *
   * @param handler Gets the callee's session ID and the registration ID.
   * @returns The subscription.
   */
  onRegister(
    handler: (session: number, registration: number, event: Event) => void | Promise<void>,
  ): Promise<Subscription> {
    return this.#peer.subscribe(MetaTopic.REGISTRATION_ON_REGISTER, pairHandler(handler));
  }

  /**
   * Subscribes to `wamp.registration.on_unregister`: a callee was removed
   * (unregistered, or its session left).
   *
   * @param handler Gets the callee's session ID and the registration ID.
   * @returns The subscription.
   */
  onUnregister(
    handler: (session: number, registration: number, event: Event) => void | Promise<void>,
  ): Promise<Subscription> {
    return this.#peer.subscribe(MetaTopic.REGISTRATION_ON_UNREGISTER, pairHandler(handler));
  }

  /**
   * Subscribes to `wamp.registration.on_delete`: the last callee is gone
   * (always preceded by `on_unregister`).
   *
   * @param handler Gets the last callee's session ID and the registration ID.
   * @returns The subscription.
   */
  onDelete(
    handler: (session: number, registration: number, event: Event) => void | Promise<void>,
  ): Promise<Subscription> {
    return this.#peer.subscribe(MetaTopic.REGISTRATION_ON_DELETE, pairHandler(handler));
  }
}
