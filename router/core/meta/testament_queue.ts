/**
 * The testaments of sessions that left, still to publish: a few per turn
 * of the event loop (each may fan out to every subscriber of its topic),
 * taken from the leaving sessions in turn, so that one session's hundreds
 * cannot hold back another's for long, nor its `on_leave`.
 *
 * @module
 */

import { Fifo } from "../fifo.ts";
import { EVENTS_PER_TURN } from "./events.ts";
import { append, type Effect, type Output, output } from "../output.ts";
import type { SessionInfo } from "../types.ts";

/**
 * The most testaments that go out per turn: cheap ones do not wait a timer
 * tick each (about 1 ms: 4 sessions leaving with 512 each held another's
 * `on_leave` 4.3 s when one went per turn).
 */
export const TESTAMENTS_PER_TURN = 8;

export { EVENTS_PER_TURN };

const NO_ROLES = Object.freeze({});

/**
 * What is kept of a session that left while its testaments (and its
 * `on_leave`) wait their turn: its identity, what publishing as it needs;
 * not its HELLO's attributes nor its roles (a publisher's features matter
 * only to payload passthru, which testaments cannot use: 64 of them per
 * queued session held 10 times `testamentBytes`).
 *
 * @param session The session that left.
 * @returns A slim copy.
 */
export function departed(session: SessionInfo): SessionInfo {
  const { hello: _, roles: __, ...identity } = session;
  return { ...identity, roles: NO_ROLES };
}

/** A session that left: its testaments from `next` on, then what follows them. */
interface Leaving<T> {
  readonly session: SessionInfo;
  readonly testaments: readonly T[];
  next: number;
  readonly after: () => void;
}

/** The sessions that left through one source (a connection), in the order they left. */
interface Line<T> {
  readonly source: unknown;
  readonly leaving: Fifo<Leaving<T>>;
}

/**
 * A queue of leaving sessions' testaments, served in rotation: one turn
 * each for the sources they left through (a connection), and within a
 * source, one session after another. A connection that joins, adds
 * testaments and leaves again and again takes one turn in a rotation, not
 * one per session it left (~10,000 sessions of 8 held another's 4-7 s).
 *
 * @example
 * ```ts
 * import { TestamentQueue } from "./testament_queue.ts";
 * import type { SessionInfo } from "../types.ts";
 * import { deepEqual, equal } from "node:assert/strict";
 *
 * const sessionInfo = (id: number): SessionInfo => ({
 *   id,
 *   realm: "realm1",
 *   authid: `a${id}`,
 *   authrole: "anonymous",
 *   authmethod: "anonymous",
 *   authprovider: "static",
 *   roles: {},
 *   transport: "local",
 * });
 * const published: string[] = [];
 * const queue = new TestamentQueue<string>((_session, t) => published.push(t), (out) => out);
 * const timer = queue.add(sessionInfo(1), ["a1", "a2"], () => published.push("a left"));
 * queue.add(sessionInfo(2), ["b1"], () => published.push("b left"));
 * if (timer?.kind !== "arm") throw new Error("armed when idle");
 * timer.fire();
 * deepEqual(published, ["a1", "b1", "b left", "a2", "a left"]);
 * equal(queue.size, 0);
 * ```
 */
export class TestamentQueue<T> {
  /** Sources with sessions queued, in turn. */
  #rotation = new Fifo<Line<T>>();
  #lines = new Map<unknown, Line<T>>();
  #sessions = 0;
  #publish: (session: SessionInfo, testament: T) => void;
  #settle: (out: Output) => Output;
  /** Whether a timer publishes what is queued. */
  #chained = false;

  /**
   * Creates an empty queue.
   *
   * @param publish Publishes one testament as its session.
   * @param settle Completes what a turn's publications return.
   */
  constructor(
    publish: (session: SessionInfo, testament: T) => void,
    settle: (out: Output) => Output,
  ) {
    this.#publish = publish;
    this.#settle = settle;
  }

  /** How many sessions have testaments queued. */
  get size(): number {
    return this.#sessions;
  }

  /**
   * Queues a session's testaments, in order, and what follows them.
   *
   * @param session The session that left.
   * @param testaments Its testaments (at least one).
   * @param after What follows its last (its `on_leave`).
   * @param source What it left through (its connection): sessions of one
   * source take one turn in the rotation; none given, it has a turn of its own.
   * @returns The timer that publishes what is queued, when none was armed.
   */
  add(
    session: SessionInfo,
    testaments: readonly T[],
    after: () => void,
    source: unknown = {},
  ): Effect | undefined {
    let line = this.#lines.get(source);
    if (line === undefined) {
      line = { source, leaving: new Fifo() };
      this.#lines.set(source, line);
      this.#rotation.push(line);
    }
    line.leaving.push({ session, testaments, next: 0, after });
    this.#sessions++;
    if (this.#chained) return undefined;
    this.#chained = true;
    return this.#tick();
  }

  /**
   * Publishes every queued testament now, in the order the turns would
   * have (the router is closing: what it shares must go before NATS
   * closes). The timer armed for the next turn then finds nothing.
   */
  drain(): void {
    while (this.#step());
    this.#chained = false; // a later add arms its own timer
  }

  /**
   * Publishes the next source's first session's next testament (its `after`
   * once it was the last); false when none waits.
   */
  #step(): boolean {
    const line = this.#rotation.shift();
    if (line === undefined) return false;
    const leaving = line.leaving.at(0)!;
    this.#publish(leaving.session, leaving.testaments[leaving.next++]!);
    if (leaving.next === leaving.testaments.length) {
      line.leaving.shift();
      this.#sessions--;
    }
    if (line.leaving.length > 0) this.#rotation.push(line);
    else this.#lines.delete(line.source);
    if (leaving.next === leaving.testaments.length) leaving.after();
    return true;
  }

  /**
   * Publishes testaments, one session after another, until
   * {@linkcode TESTAMENTS_PER_TURN} or {@linkcode EVENTS_PER_TURN}; then
   * re-arms while some are left.
   */
  #tick(): Effect {
    const fire = (): Output => {
      const done = output();
      let events = 0;
      for (let n = 0; n < TESTAMENTS_PER_TURN && events < EVENTS_PER_TURN; n++) {
        if (!this.#step()) break;
        const out = this.#settle(output());
        for (const { to } of out.messages) events += typeof to === "number" ? 1 : to.length;
        append(done, out);
      }
      if (this.#rotation.length > 0) done.effects.push(this.#tick());
      else this.#chained = false;
      return done;
    };
    return { kind: "arm", key: this, ms: 0, fire };
  }
}
