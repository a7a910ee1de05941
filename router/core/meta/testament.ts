/**
 * Session testaments (feature `testament_meta_api`): events a session
 * leaves behind. `wamp.session.add_testament` stores one in the caller's
 * `detached` or `destroyed` bucket; when the session leaves (GOODBYE, a
 * kill, or a lost transport) the router publishes the `detached` bucket,
 * then the `destroyed` one, each in the order added, as the session
 * itself with the stored publish options (`acknowledge` ignored). Without
 * session resumption, detaching and destroying happen together.
 *
 * Memory is bounded: at most {@linkcode MAX_TESTAMENTS} per scope, and by
 * the estimate of `keptPayloadSize` (topic, args, kwargs and publish options,
 * plus `TESTAMENT_OVERHEAD` each; a session that left counts
 * {@linkcode QUEUED_SESSION_BYTES} while its testaments wait)
 * `testamentBytesPerSession` per session and `testamentBytes` per realm
 * (realm option `limits`); a testament over either is refused with
 * `cloverleaf.error.limit_exceeded`.
 *
 * Adding a testament needs the realm's permission to publish on its topic
 * (checked then, with the stored options); when it fires, the session is
 * gone and nothing is checked again. Both procedures return nothing, as
 * the spec says (Crossbar returns a publication ID and a count).
 *
 * @module
 */

import { type Dict, ErrorUri, MetaProcedure } from "../../../wamp/mod.ts";
import type { Decision } from "../authorizer.ts";
import { CallError } from "../errors.ts";
import { keptPayloadSize, limitMessage, type LimitOptions, resolveLimits } from "../limits.ts";
import type { Effect, Output, Settled, SharedTestament } from "../output.ts";
import { deferred, type RouterProcedures } from "../procedures.ts";
import type { SessionInfo } from "../types.ts";
import {
  parseTestament,
  scopeOf,
  type Testament,
  TESTAMENT_OVERHEAD,
  type TestamentScope,
} from "./testament_args.ts";
import type { MetaEvents } from "./events.ts";
import { departed, TestamentQueue } from "./testament_queue.ts";

const ALLOWED: Decision = { allow: true };

/** One session's testaments. */
interface Buckets extends Record<TestamentScope, Testament[]> {
  /** The estimated size of both buckets together. */
  bytes: number;
}

/** The limits that bound the testaments. */
export type TestamentLimits = Pick<LimitOptions, "testamentBytesPerSession" | "testamentBytes">;

/**
 * Asks the realm's authorizer whether a session may publish on a topic,
 * and continues with the decision.
 */
export type PublishCheck = (
  session: SessionInfo,
  topic: string,
  options: Dict,
  then: (decision: Decision) => Output,
) => Output;

/** Where a clustered realm queues its cluster effects (its broker's sharing), if clustered. */
export type ClusterQueue = () => { queue(effect: Effect): void } | undefined;

/** How many testaments one session may keep per scope. */
export const MAX_TESTAMENTS = 256;

/**
 * What a session that left costs while its testaments wait their turn
 * (`testament_queue.ts`): counted against `testamentBytes` until its last
 * is out. One connection that joins, adds testaments and leaves again and
 * again fills the realm's budget, not the router's memory.
 */
export const QUEUED_SESSION_BYTES = 512;

/** The testaments of one realm's sessions. */
export class Testaments {
  #events: MetaEvents;
  #strictUris: boolean;
  #mayPublish: PublishCheck;
  #buckets = new Map<number, Buckets>();
  #bytes = 0;
  #maxSessionBytes: number;
  #maxBytes: number;
  #cluster: ClusterQueue;
  #joined: (sessionId: number) => boolean;
  /** Testaments of sessions that left, not published yet. */
  #queue: TestamentQueue<Testament>;

  /**
   * Creates the store.
   *
   * @param events Where testaments are published.
   * @param strictUris Whether topics must use the strict URI rule.
   * @param mayPublish Whether a session may publish on a topic.
   * @param limits The size limits; the defaults of `DEFAULT_LIMITS` for
   * those not given.
   * @param cluster In cluster mode, where a session's testaments are
   * mirrored (`cluster-testaments`), so that another node fires them
   * should this one die.
   * @param joined Whether a session is still joined: a testament whose
   * permission check ends after its session left is not kept (it would
   * never fire, nor be freed).
   * @param settle Completes what a later testament's publication returns
   * (its EVENTs, the realm's meta events and cluster effects).
   */
  constructor(
    events: MetaEvents,
    strictUris: boolean,
    mayPublish: PublishCheck = (_session, _topic, _options, then) => then(ALLOWED),
    limits: TestamentLimits = {},
    cluster: ClusterQueue = () => undefined,
    joined: (sessionId: number) => boolean = () => true,
    settle: (out: Output) => Output = (out) => out,
  ) {
    this.#cluster = cluster;
    this.#joined = joined;
    this.#queue = new TestamentQueue((session, testament) => {
      this.#bytes -= testament.size;
      this.#publishAs(session, testament);
    }, settle);
    this.#events = events;
    this.#strictUris = strictUris;
    this.#mayPublish = mayPublish;
    const resolved = resolveLimits(limits);
    this.#maxSessionBytes = resolved.testamentBytesPerSession;
    this.#maxBytes = resolved.testamentBytes;
  }

  /** The estimated size of every testament kept, in bytes. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Publishes a session's testaments (detached, then destroyed) and
   * forgets them, then runs `after`: the first at once, the others a few
   * per turn of the event loop, in rotation with those of other connections'
   * sessions that left (`testament_queue.ts`). A queued testament still counts
   * against `testamentBytes` until it is published. None while meta events
   * are muted.
   *
   * @param session The session that left.
   * @param after What follows them (its `on_leave`).
   * @param source What it left through (its connection): the sessions of
   * one source take one turn among those waiting.
   * @returns The timer that publishes the next queued one, when the queue was idle.
   */
  fire(session: SessionInfo, after: () => void = () => {}, source?: unknown): Effect | undefined {
    const buckets = this.#buckets.get(session.id);
    if (buckets === undefined) return void after();
    this.#buckets.delete(session.id);
    this.#mirror(session, undefined);
    const [first, ...rest] = [...buckets.detached, ...buckets.destroyed];
    if (first === undefined || this.#events.silent) {
      this.#bytes -= buckets.bytes;
      return void after();
    }
    this.#bytes -= buckets.bytes - rest.reduce((sum, t) => sum + t.size, 0);
    this.#publishAs(session, first);
    if (rest.length === 0) return void after();
    return this.#enqueue(session, rest, after, source);
  }

  /**
   * Publishes the testaments of a session of another node that is down
   * (cluster mode, `cluster/testaments.ts`), as {@linkcode Testaments.fire}
   * does this node's: the first at once, the others in rotation with those
   * of other sessions, each counted against `testamentBytes` until it is
   * published. Before, all of them went out in one turn.
   *
   * @param session The session.
   * @param shared Its testaments, as the cluster keeps them.
   * @returns The timer that publishes the next queued one, when the queue was idle.
   */
  fireShared(session: SessionInfo, shared: readonly SharedTestament[]): Effect | undefined {
    const testaments = shared.map(({ topic, args, kwargs, options, disclose }): Testament => {
      const size = TESTAMENT_OVERHEAD + topic.length +
        keptPayloadSize([args, kwargs, options], Infinity);
      return { topic, args, kwargs, options, size, ...(disclose === true ? { disclose } : {}) };
    });
    const [first, ...rest] = testaments;
    if (first === undefined || this.#events.silent) return undefined;
    this.#publishAs(session, first);
    if (rest.length === 0) return undefined;
    for (const testament of rest) this.#bytes += testament.size;
    return this.#enqueue(session, rest, () => {});
  }

  /**
   * Queues what is left of a session's testaments, with a slim copy of the
   * session ({@linkcode departed}), counted against `testamentBytes` until
   * the last is out.
   */
  #enqueue(
    session: SessionInfo,
    rest: Testament[],
    after: () => void,
    source?: unknown,
  ): Effect | undefined {
    this.#bytes += QUEUED_SESSION_BYTES;
    const done = () => {
      this.#bytes -= QUEUED_SESSION_BYTES;
      after();
    };
    return this.#queue.add(departed(session), rest, done, source);
  }

  /** Publishes every queued testament now (the router is closing: no later turn comes). */
  drain(): void {
    this.#queue.drain();
  }

  #publishAs(session: SessionInfo, { topic, args, kwargs, options, disclose }: Testament): void {
    this.#events.publishAs(session, topic, args, kwargs, options, disclose === true);
  }

  /** `add_testament` and `flush_testaments`, keyed by URI. */
  procedures(): RouterProcedures {
    return {
      [MetaProcedure.SESSION_ADD_TESTAMENT]: (caller, args, kwargs) => {
        const scope = scopeOf(kwargs);
        const testament = parseTestament(args, kwargs, this.#strictUris, this.#maxSessionBytes);
        let kept = testament; // as the bucket holds it: disclosed if the decision says so
        // In cluster mode `stored` answers once the cluster's store has it.
        const add = ({ allow, disclose }: Decision, stored?: (result: Settled<void>) => Output) => {
          if (!allow) {
            throw new CallError(
              ErrorUri.NOT_AUTHORIZED,
              `publish on "${testament.topic}" is not allowed`,
            );
          }
          if (!this.#joined(caller.id)) return {}; // left while its permission was decided
          const buckets = this.#bucketsOf(caller.id);
          const bucket = buckets[scope];
          if (bucket.length >= MAX_TESTAMENTS) {
            throw new CallError(
              ErrorUri.LIMIT_EXCEEDED,
              `Cannot add a testament: a session may keep at most ${MAX_TESTAMENTS} per scope`,
            );
          }
          this.#admit(buckets, testament.size);
          if (disclose === true) kept = { ...testament, disclose };
          bucket.push(kept);
          buckets.bytes += testament.size;
          this.#bytes += testament.size;
          this.#mirror(caller, buckets, stored);
          return {};
        };
        return deferred((reply) =>
          this.#mayPublish(
            caller,
            testament.topic,
            testament.options,
            (decision) => {
              if (this.#cluster() === undefined) return reply(() => add(decision));
              // Cluster mode: durable before the RESULT; a failed write takes it back.
              const stored = (result: Settled<void>): Output =>
                reply(() => {
                  if (result.ok) return {};
                  this.#remove(caller, scope, kept);
                  throw new CallError(
                    ErrorUri.CLUSTER_UNAVAILABLE,
                    `the testament could not be stored in the cluster: ${result.error}`,
                  );
                });
              try {
                add(decision, stored);
              } catch (error) {
                return reply(() => {
                  throw error;
                });
              }
              return { messages: [], effects: [] };
            },
          )
        );
      },
      [MetaProcedure.SESSION_FLUSH_TESTAMENTS]: (caller, _args, kwargs) => {
        const scope = scopeOf(kwargs);
        const buckets = this.#buckets.get(caller.id);
        if (buckets === undefined) return {};
        const freed = buckets[scope].reduce((sum, { size }) => sum + size, 0);
        buckets[scope] = [];
        buckets.bytes -= freed;
        this.#bytes -= freed;
        if (buckets.detached.length === 0 && buckets.destroyed.length === 0) {
          this.#buckets.delete(caller.id);
        }
        if (this.#cluster() === undefined) return {};
        // Cluster mode: answered once the store has what is left (writes to it merge).
        return deferred((reply) => {
          this.#mirror(caller, buckets, (result) =>
            reply(() => {
              if (result.ok) return {};
              throw new CallError(
                ErrorUri.CLUSTER_UNAVAILABLE,
                `the testaments could not be flushed in the cluster: ${result.error}`,
              );
            }));
          return { messages: [], effects: [] };
        });
      },
    };
  }

  /** Takes back a testament the cluster could not store (if the session still has it). */
  #remove(session: SessionInfo, scope: "detached" | "destroyed", testament: Testament): void {
    const buckets = this.#buckets.get(session.id);
    const at = buckets?.[scope].indexOf(testament) ?? -1;
    if (buckets === undefined || at < 0) return;
    buckets[scope].splice(at, 1);
    buckets.bytes -= testament.size;
    this.#bytes -= testament.size;
    this.#mirror(session, buckets);
  }

  /**
   * Cluster mode: the session's testaments as they are now go to the
   * cluster's store; `stored` continues once they are there (or not).
   */
  #mirror(
    session: SessionInfo,
    buckets: Buckets | undefined,
    stored?: (result: Settled<void>) => Output,
  ): void {
    const queue = this.#cluster();
    if (queue === undefined) return;
    const testaments: SharedTestament[] = [];
    for (const scope of ["detached", "destroyed"] as const) {
      for (const { topic, args, kwargs, options, disclose } of buckets?.[scope] ?? []) {
        testaments.push({ scope, topic, args, kwargs, options, ...(disclose ? { disclose } : {}) });
      }
    }
    queue.queue({
      kind: "cluster-testaments",
      session,
      testaments,
      ...(stored === undefined ? {} : { stored }),
    });
  }

  /** Throws `limit_exceeded` unless `size` more bytes fit for the session and the realm. */
  #admit(buckets: Buckets, size: number): void {
    if (buckets.bytes + size > this.#maxSessionBytes) {
      throw new CallError(
        ErrorUri.LIMIT_EXCEEDED,
        limitMessage("add a testament", "testamentBytesPerSession", this.#maxSessionBytes),
      );
    }
    if (this.#bytes + size > this.#maxBytes) {
      throw new CallError(
        ErrorUri.LIMIT_EXCEEDED,
        limitMessage("add a testament", "testamentBytes", this.#maxBytes),
      );
    }
  }

  #bucketsOf(sessionId: number): Buckets {
    let buckets = this.#buckets.get(sessionId);
    if (buckets === undefined) {
      this.#buckets.set(sessionId, buckets = { detached: [], destroyed: [], bytes: 0 });
    }
    return buckets;
  }
}
