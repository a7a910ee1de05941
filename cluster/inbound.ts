/**
 * What NATS brings a node, handled in order and in turns, as a client
 * connection's messages are (`transports/stream/inbox.ts`): at most
 * {@linkcode TURN_MS} of it per turn of the event loop, the rest after a
 * timer, so that the node's own sessions get the event loop between turns.
 * Before, a flood of publications from another node, fanned out here to
 * 1,000 subscriptions, held this node's sessions 2.6 s.
 *
 * - **Order.** One line for every subscription, and node events (another
 *   node down, up or back; this node back on NATS) wait in it too, so an
 *   event never overtakes what that node sent before it. Only heartbeats
 *   skip the line (`node.ts`): a backlog must not get a live node taken for
 *   down.
 * - **Memory.** What waits is copied out of the NATS client's read buffer
 *   (a view would keep the whole buffer). A node that cannot keep up with
 *   what other nodes publish to its subscribers (a publisher there costs
 *   that node one message, here one EVENT per subscriber) drops those
 *   publications past {@linkcode DROP_AT}, as NATS would drop them for a
 *   slow consumer, and stays responsive; other messages (calls, session
 *   news) still wait, and past {@linkcode MAX_WAITING_BYTES} the oldest is
 *   handled at once. Before, such a flood held the node for seconds at a
 *   time, NATS cut it off as a slow consumer, and the other nodes took it
 *   for down.
 * - **Closing.** Once closed, nothing more is handled.
 *
 * @module
 */

import { Fifo } from "../router/core/fifo.ts";
import type { Logger } from "../router/core/types.ts";
import { BatchCursor } from "./batch.ts";

/** Milliseconds of NATS messages handled per turn of the event loop. */
export const TURN_MS = 20;

/** Past this much publications waiting (estimated: bytes plus {@linkcode ENTRY_BYTES} each), more are dropped. */
export const DROP_AT = 16 * 1024 * 1024;

/** The memory what waits (node events included) may take: past it the oldest is handled at once. */
export const MAX_WAITING_BYTES = 2 * DROP_AT;

/** Milliseconds between two warnings that publications are dropped. */
const WARN_EVERY_MS = 10_000;

/**
 * What a waiting message costs besides its bytes: the entry, its copy's
 * header, its subject (measured: about 350 bytes for a 10-byte message).
 */
export const ENTRY_BYTES = 384;

/** What a subscription does with each message NATS delivers. */
export type InboundHandler = (data: Uint8Array, subject: string) => void;

/** A NATS message waiting, perhaps partly handled (a batch). */
interface Waiting {
  readonly cursor: BatchCursor;
  readonly subject: string;
  readonly handler: InboundHandler;
  readonly bytes: number;
  /** Whether it is publications (counted in `#publicationBytes`). */
  readonly droppable: boolean;
}

/** A message or a node event. */
type Entry = Waiting | (() => void);

/**
 * NATS messages and node events, handled in order and in turns.
 *
 * @example
 * ```ts
 * import { Inbound } from "./inbound.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const inbound = new Inbound(() => {});
 * const seen: string[] = [];
 * inbound.message(new Uint8Array([0x91, 1]), "a", (_data, subject) => seen.push(subject));
 * inbound.event(() => seen.push("event"));
 * deepEqual(seen, ["a", "event"]); // nothing waited: both at once
 * inbound.close();
 * ```
 */
export class Inbound {
  #log: Logger;
  #waiting = new Fifo<Entry>();
  /** Estimated memory of what waits. */
  #bytes = 0;
  /** The part of `#bytes` that is publications: what {@linkcode DROP_AT} is about. */
  #publicationBytes = 0;
  /** `Date.now()` when this turn began; 0 between turns. */
  #turnStart = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #dropped = 0;
  #warnedAt = 0;

  /** @param log Where a handler's failure is logged. */
  constructor(log: Logger) {
    this.#log = log;
  }

  /** How many messages and events wait. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Publications dropped so far (`droppable` messages past {@linkcode DROP_AT}). */
  get dropped(): number {
    return this.#dropped;
  }

  /**
   * Handles a NATS message (each of a batch's on its own): now, while
   * nothing waits and this turn has time, else after what waits.
   *
   * @param data The payload.
   * @param subject Its subject.
   * @param handler Its subscription's handler.
   * @param droppable Whether it is a publication, dropped past {@linkcode DROP_AT}.
   */
  message(data: Uint8Array, subject: string, handler: InboundHandler, droppable = false): void {
    if (this.#closed) return;
    const cursor = new BatchCursor(data);
    if (this.#waiting.length === 0) {
      this.#begin();
      if (this.#read(cursor, subject, handler)) return;
    }
    const bytes = cursor.bytes + ENTRY_BYTES;
    // A publication is dropped rather than make what waits run at once (past MAX_WAITING_BYTES).
    const full = this.#publicationBytes >= DROP_AT || this.#bytes + bytes > MAX_WAITING_BYTES;
    if (droppable && full) return this.#drop(cursor);
    cursor.detach();
    this.#wait({ cursor, subject, handler, bytes, droppable });
  }

  /**
   * Runs a node event after what waits (now, if nothing does).
   *
   * @param work The event's handlers.
   */
  event(work: () => void): void {
    if (this.#closed) return;
    if (this.#waiting.length > 0) return this.#wait(work);
    this.#run(work);
  }

  /** Drops what waits and handles nothing more. */
  close(): void {
    this.#closed = true;
    this.#waiting = new Fifo();
    this.#bytes = this.#publicationBytes = 0;
    clearTimeout(this.#timer);
  }

  #drop(cursor: BatchCursor): void {
    while (cursor.next() !== undefined) this.#dropped++;
    const now = Date.now();
    if (now - this.#warnedAt < WARN_EVERY_MS) return;
    this.#warnedAt = now;
    this.#log(
      "warn",
      `Cluster: this node cannot keep up with what other nodes publish to its subscribers, dropping their publications (${this.#dropped} so far)`,
    );
  }

  #wait(entry: Entry): void {
    this.#waiting.push(entry);
    if (typeof entry === "function") this.#bytes += ENTRY_BYTES; // a node event: small, but counted
    else {
      this.#bytes += entry.bytes;
      if (entry.droppable) this.#publicationBytes += entry.bytes;
    }
    while (this.#bytes > MAX_WAITING_BYTES && !this.#closed) this.#next(Infinity);
    this.#schedule();
  }

  /** Starts this turn's clock, if this turn has not started it. */
  #begin(): void {
    if (this.#turnStart !== 0) return;
    this.#turnStart = Date.now();
    this.#schedule();
  }

  /** The next turn: a timer, so that the event loop polls for I/O before it. */
  #schedule(): void {
    this.#timer ??= setTimeout(this.#turn);
  }

  #turn = (): void => {
    this.#timer = undefined;
    this.#turnStart = 0;
    if (this.#waiting.length === 0) return;
    this.#begin();
    while (this.#waiting.length > 0 && !this.#closed) {
      if (!this.#next(this.#turnStart + TURN_MS)) break;
    }
  };

  /**
   * Handles the oldest entry, until `deadline`.
   *
   * @returns Whether it was handled whole (and taken out of the line).
   */
  #next(deadline: number): boolean {
    const entry = this.#waiting.at(0)!;
    if (typeof entry === "function") {
      this.#waiting.shift();
      this.#bytes -= ENTRY_BYTES;
      this.#run(entry);
      return Date.now() < deadline;
    }
    if (!this.#read(entry.cursor, entry.subject, entry.handler, deadline)) return false;
    // Closed, or taken out already by a handler that made room (an event past MAX_WAITING_BYTES).
    if (this.#closed || this.#waiting.at(0) !== entry) return false;
    this.#waiting.shift();
    this.#bytes -= entry.bytes;
    if (entry.droppable) this.#publicationBytes -= entry.bytes;
    return true;
  }

  /**
   * Hands a payload's messages to its handler until `deadline`.
   *
   * @returns Whether every message was handed on.
   */
  #read(
    cursor: BatchCursor,
    subject: string,
    handler: InboundHandler,
    deadline = this.#turnStart + TURN_MS,
  ): boolean {
    for (;;) {
      if (Date.now() >= deadline) return cursor.done;
      const data = cursor.next();
      if (data === undefined) return true;
      try {
        handler(data, subject);
      } catch (failure) {
        this.#log("error", `Cluster: handling ${subject}: ${failure}`);
      }
      if (this.#closed) return true;
    }
  }

  #run(work: () => void): void {
    try {
      work();
    } catch (failure) {
      this.#log("error", `Cluster: node event: ${failure}`);
    }
  }
}
