/**
 * What a `Connection`'s application has subscribed and registered, kept
 * across sessions: each new session subscribes and registers the same
 * objects again (same handlers, same endpoints, iterators still going).
 *
 * @module
 */

import { CloseUri, ErrorUri, type SubscribeOptions } from "../wamp/mod.ts";
import type { Endpoint, RegisterRequestOptions } from "./callee.ts";
import { endRegistration, type Registration } from "./registration.ts";
import { ApplicationError, SendBacklogError, SessionClosedError } from "./errors.ts";
import { rolesOf, type Session } from "./session.ts";
import { endSubscription, type EventHandler, type Subscription } from "./subscription.ts";

interface Registered {
  readonly endpoint: Endpoint;
  readonly options: RegisterRequestOptions;
}

/**
 * Restore requests in flight at once: a `Connection` with 100,000
 * subscriptions does not write them all in one turn (past
 * `maxSendBacklog` the rest would end as refused).
 */
const RESTORE_WINDOW = 1024;

/** The smallest registry size that triggers dropping ended entries. */
const PRUNE_FLOOR = 64;

/** A connection's durable subscriptions and registrations. Internal. */
export class Durables {
  /** Whether the last restore got no reply in time and closed its session. */
  stalled = false;
  #subscriptions = new Map<Subscription, SubscribeOptions>();
  #registrations = new Map<Registration, Registered>();
  #pruneAt = PRUNE_FLOOR;

  /**
   * Subscribes on `session`, durably.
   *
   * @param session The connection's open session.
   * @param topic The topic or pattern.
   * @param handler The event handler, or none to iterate.
   * @param options SUBSCRIBE options.
   * @returns The subscription, which outlives the session.
   */
  async subscribe(
    session: Session,
    topic: string,
    handler: EventHandler | undefined,
    options: SubscribeOptions,
  ): Promise<Subscription> {
    const sub = await rolesOf(session).subscriber.subscribe(topic, handler, options, true);
    this.#subscriptions.set(sub, options);
    this.#prune();
    return sub;
  }

  /**
   * Registers on `session`, durably.
   *
   * @param session The connection's open session.
   * @param procedure The procedure URI or pattern.
   * @param endpoint Its implementation.
   * @param options REGISTER options plus `onRevoked`.
   * @returns The registration, which outlives the session.
   */
  async register(
    session: Session,
    procedure: string,
    endpoint: Endpoint,
    options: RegisterRequestOptions,
  ): Promise<Registration> {
    const reg = await rolesOf(session).callee.register(procedure, endpoint, options, true);
    this.#registrations.set(reg, { endpoint, options });
    this.#prune();
    return reg;
  }

  /**
   * Subscribes and registers everything still wanted on a new session,
   * {@linkcode RESTORE_WINDOW} requests in flight at most, fewer while
   * `maxSendBacklog` would refuse one. What the router refuses ends, as if
   * revoked, with the error URI as the reason (a registration's `onRevoked` is called with it);
   * what fails because the session ended waits for the next one. A request
   * with no reply in `requestTimeout` (a router that stopped answering), or
   * refused by the client's own `maxSendBacklog` (one that stopped reading),
   * waits for the next one too, with everything not yet sent, and closes
   * this session with `wamp.close.timeout`, so the connection tries again.
   *
   * @param session The new session.
   * @returns When every request is answered, or the session closed.
   */
  async restore(session: Session): Promise<void> {
    this.#prune(true);
    const { subscriber, callee, sendBlocked } = rolesOf(session);
    const pending = new Set<Promise<void>>();
    let timedOut = false;
    const add = async (request: () => Promise<void>): Promise<void> => {
      while (pending.size >= RESTORE_WINDOW || (pending.size > 0 && sendBlocked())) {
        await Promise.race(pending); // an answer means what went before it was sent
      }
      // What is left waits for the next session (a router that stopped answering or reading
      // ends this one: one timeout, not one per window).
      if (!session.isOpen || timedOut) return;
      const settled: Promise<void> = request().finally(() => pending.delete(settled));
      pending.add(settled);
    };
    this.stalled = false;
    const retried = (error: unknown): boolean => {
      if (error instanceof SessionClosedError) return true; // the next session tries again
      // No reply in time, or the client's own backlog full: the router is not keeping up.
      if (error instanceof SendBacklogError) return timedOut = true;
      if (!(error instanceof ApplicationError) || error.uri !== ErrorUri.TIMEOUT) return false;
      return timedOut = true;
    };
    for (const [sub, options] of [...this.#subscriptions]) {
      if (sub.done) continue; // ended while earlier ones were restored
      await add(() =>
        subscriber.resubscribe(sub, options).catch((error) => {
          if (retried(error)) return;
          this.#subscriptions.delete(sub);
          endSubscription(sub, refusal(error));
        })
      );
    }
    for (const [reg, { endpoint, options }] of [...this.#registrations]) {
      if (!reg.active) continue;
      await add(() =>
        callee.reregister(reg, endpoint, options).catch((error) => {
          if (retried(error)) return;
          this.#registrations.delete(reg);
          const reason = refusal(error);
          endRegistration(reg, reason);
          try {
            options.onRevoked?.(reason);
          } catch (failed) {
            try {
              session.onUserError?.(failed, `onRevoked of ${reg.procedure}`);
            } catch {
              // onUserError failed too: the other restores go on regardless
            }
          }
        })
      );
    }
    await Promise.all(pending);
    if (timedOut && session.isOpen) {
      this.stalled = true;
      await session.close(CloseUri.TIMEOUT, "restoring got no reply in time");
    }
  }

  /** Ends every subscription and registration (the connection stopped). */
  retire(): void {
    for (const sub of this.#subscriptions.keys()) endSubscription(sub);
    for (const reg of this.#registrations.keys()) endRegistration(reg);
    this.#subscriptions.clear();
    this.#registrations.clear();
  }

  /** Drops what the application ended, now and then (or now, with `always`). */
  #prune(always = false): void {
    const size = this.#subscriptions.size + this.#registrations.size;
    if (!always && size < this.#pruneAt) return;
    for (const sub of this.#subscriptions.keys()) if (sub.done) this.#subscriptions.delete(sub);
    for (const reg of this.#registrations.keys()) if (!reg.active) this.#registrations.delete(reg);
    this.#pruneAt = Math.max(
      PRUNE_FLOOR,
      2 * (this.#subscriptions.size + this.#registrations.size),
    );
  }
}

function refusal(error: unknown): string {
  if (error instanceof ApplicationError) return error.uri;
  return error instanceof Error ? error.message : String(error);
}
