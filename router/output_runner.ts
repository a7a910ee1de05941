/**
 * The router-wide half of the shell: runs what realms return. It hands an
 * {@linkcode Output}'s messages to the {@linkcode Delivery}, then runs its
 * effects: timers with `setTimeout` (one table for the router, so a call's
 * timeout re-armed by its callee's progress replaces the one its caller's
 * CALL armed), tasks (dynamic authorizers, router procedures) with their
 * promise (no longer than its `limit`, see {@linkcode OutputRunner.settle}),
 * killed sessions' GOODBYE, aborts. What a timer or task continues with is
 * run the same way. Per-connection effects (the handshake's) are run by
 * `connection.ts`.
 *
 * @module
 */

import { type Dict, ErrorUri, type Payload, ProtocolViolationError } from "../wamp/mod.ts";
import {
  type ClusterInterest,
  type ClusterPublish,
  type ClusterSend,
  type ClusterSession,
  type ClusterTestaments,
  type Effect,
  NOTHING,
  type Output,
  type RunTask,
  type Settled,
} from "./core/output.ts";
import { CallError } from "./core/errors.ts";
import { ROUTER_CALL_TIMEOUT } from "./core/internal_session.ts";
import type { Realm } from "./core/realm.ts";
import type { Logger } from "./core/types.ts";
import type { Delivery } from "./delivery.ts";

/** A session that waits for the realm to release its requests. */
export interface WaitingSession {
  /** Handles what it kept back while its requests waited for an authorization. */
  resume(): void;
}

/** Runs the brokers' cluster effects (`cluster/pubsub.ts`). */
export interface PubSubEffects {
  /** Runs a `cluster-publish` effect. */
  publish(effect: ClusterPublish): void;
  /** Runs a `cluster-interest` effect. */
  interest(effect: ClusterInterest): void;
  /** Runs a `cluster-testaments` effect. */
  testaments?(effect: ClusterTestaments): void;
}

/** Delivers outputs and runs their effects. */
export class OutputRunner {
  #delivery: Delivery;
  #timers = new Map<unknown, ReturnType<typeof setTimeout>>();
  /** The timers of tasks' limits ({@linkcode OutputRunner.settle}). */
  #limits = new Set<ReturnType<typeof setTimeout>>();
  /** Sessions that kept messages back behind a pending authorization. */
  #waiting = new Set<WaitingSession>();
  /** A microtask that lets waiting sessions go on is queued. */
  #resuming = false;
  #log: Logger;
  /** Runs `cluster` effects, once the router joined a cluster. */
  cluster: ((effect: ClusterSend) => void) | undefined;
  /** Runs the brokers' cluster effects, once the router joined a cluster. */
  pubsub: PubSubEffects | undefined;
  /** Runs `cluster-session` effects (the session meta API), once the router joined a cluster. */
  sessions: ((effect: ClusterSession) => void) | undefined;

  /**
   * Creates the runner.
   *
   * @param log Where failures of continuations are logged.
   * @param delivery Where messages go.
   */
  constructor(log: Logger, delivery: Delivery) {
    this.#log = log;
    this.#delivery = delivery;
  }

  /** Has `session.resume()` called after the next asynchronous continuation. */
  wait(session: WaitingSession): void {
    this.#waiting.add(session);
  }

  /**
   * Delivers the messages, then runs the effects, in order.
   *
   * @param out What the core returned.
   */
  run(out: Output): void {
    if (out.messages.length > 0) this.#delivery.deliver(out.messages);
    const effects = out.effects;
    for (let i = 0; i < effects.length; i++) {
      // An effect that fails (a cluster send on a closing NATS connection) is logged: the effects
      // after it still run, and the session whose message led here is not blamed for it. A
      // protocol violation (a held request of that session, run by a task) still ends it.
      try {
        this.#effect(effects[i]!);
      } catch (error) {
        if (error instanceof ProtocolViolationError) throw error;
        // With an `event`: a failure that repeats on every message is written a few times a window.
        this.#log("error", `Internal error in a router effect (${effects[i]!.kind}): ${error}`, {
          event: "effect_failed",
        });
      }
    }
  }

  /**
   * Continues once with how a task's promise settles, or, when it has not
   * settled within `limit` ms, with a `CallError` `wamp.error.timeout`
   * (`RunTask.limit`); what it settles with later is then ignored. Used for
   * the connections' tasks too: their limit outlives the connection (a
   * login step's place outlives its client) but not the router
   * ({@linkcode OutputRunner.close}).
   *
   * @param value The task's promise.
   * @param limit The most milliseconds to wait; none when undefined.
   * @param then Continues with the outcome.
   */
  settle(
    value: PromiseLike<unknown>,
    limit: number | undefined,
    then: (settled: Settled<unknown>) => void,
  ): void {
    let timer: ReturnType<typeof setTimeout> | undefined, done = false;
    const end = (settled: Settled<unknown>) => {
      if (done) return;
      done = true;
      if (timer !== undefined) {
        clearTimeout(timer);
        this.#limits.delete(timer);
      }
      then(settled);
    };
    if (limit !== undefined) {
      const error = () => new CallError(ErrorUri.TIMEOUT, `not settled within ${limit} ms`);
      timer = setTimeout(() => end({ ok: false, error: error() }), limit);
      this.#limits.add(timer);
    }
    // Through Promise.resolve: a promise-like that throws or calls back at once still settles later.
    Promise.resolve(value).then(
      (value) => end({ ok: true, value }),
      (error) => end({ ok: false, error }),
    );
  }

  /** The router closed: tasks' limits stop (what they held goes with the router). */
  close(): void {
    for (const timer of this.#limits) clearTimeout(timer);
    this.#limits.clear();
  }

  /**
   * Calls a procedure as a realm's router (a dynamic authenticator).
   *
   * @param realm The realm (undefined: it does not exist).
   * @param name Its name, for the error.
   * @param procedure The procedure URI.
   * @param args Positional arguments.
   * @param kwargs Keyword arguments.
   * @param ended Cancels the call when it aborts first (the handshake that asked ended).
   * @returns The result's payload.
   */
  call(
    realm: Realm | undefined,
    name: string,
    procedure: string,
    args: unknown[],
    kwargs: Dict,
    ended?: AbortSignal,
  ): Promise<Payload> {
    if (realm === undefined) {
      return Promise.reject(
        new CallError(ErrorUri.NO_SUCH_REALM, `realm "${name}" does not exist`),
      );
    }
    const ending = () => new CallError(ErrorUri.CANCELED, "the handshake ended"); // no answer
    if (ended?.aborted) return Promise.reject(ending());
    const { promise, resolve, reject } = Promise.withResolvers<Payload>();
    let cancel: (() => Output) | undefined;
    // After the step that ended the handshake returned (an abort listener's throw would be uncaught).
    const abandon = () => queueMicrotask(() => this.#later(() => cancel?.() ?? NOTHING));
    ended?.addEventListener("abort", abandon, { once: true });
    this.run(realm.callAsRouter(procedure, args, kwargs, ROUTER_CALL_TIMEOUT, (result) => {
      ended?.removeEventListener("abort", abandon);
      cancel = undefined;
      if (result.ok) resolve(result.value);
      else reject(result.error);
      return NOTHING;
    }, (c) => cancel = c));
    ended?.addEventListener("abort", () => reject(ending()), { once: true });
    return promise;
  }

  #effect(effect: Effect): void {
    switch (effect.kind) {
      case "arm": {
        const old = this.#timers.get(effect.key);
        if (old !== undefined) clearTimeout(old);
        this.#timers.set(
          effect.key,
          setTimeout(() => {
            this.#timers.delete(effect.key);
            this.#later(() => effect.fire());
          }, effect.ms),
        );
        return;
      }
      case "cancel": {
        const timer = this.#timers.get(effect.key);
        if (timer !== undefined) clearTimeout(timer);
        this.#timers.delete(effect.key);
        return;
      }
      case "task":
        return this.#task(effect);
      case "close":
        return this.#delivery.target(effect.session)?.shutdown(effect.reason, effect.message);
      case "abort":
        return this.#delivery.target(effect.session)?.violate(effect.message, effect.error);
      case "resume": // once what runs now is done (one microtask however many ask for it)
        if (this.#resuming) return;
        this.#resuming = true;
        return queueMicrotask(() => {
          this.#resuming = false;
          this.#resumeWaiting();
        });
      case "cluster":
        return this.cluster?.(effect);
      case "cluster-publish":
        return this.pubsub?.publish(effect);
      case "cluster-interest":
        return this.pubsub?.interest(effect);
      case "cluster-session":
        return this.sessions?.(effect);
      case "cluster-testaments":
        return this.pubsub?.testaments?.(effect);
    }
  }

  #task(task: RunTask): void {
    let value: unknown;
    try {
      value = task.run();
    } catch (error) {
      return this.run(task.resume({ ok: false, error }));
    }
    if (!isThenable(value)) return this.run(task.resume({ ok: true, value }));
    this.settle(value, task.limit, (settled) => this.#later(() => task.resume(settled)));
  }

  /** Runs what an asynchronous continuation returns, then lets waiting sessions go on. */
  #later(continuation: () => Output): void {
    try {
      this.run(continuation());
    } catch (error) {
      this.#log("error", `Internal error in a router continuation: ${error}`);
    }
    this.#resumeWaiting();
  }

  /** Lets the sessions waiting for a router call's answer go on. */
  #resumeWaiting(): void {
    if (this.#waiting.size === 0) return;
    const waiting = [...this.#waiting];
    this.#waiting.clear();
    for (const session of waiting) session.resume();
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === "function";
}
