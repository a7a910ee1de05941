/**
 * What NATS brings a node, handled in turns, as a client connection's
 * messages are (`transports/stream/inbox.ts`): at most {@linkcode TURN_MS}
 * of it per turn of the event loop, the rest after a timer, so that the
 * node's own sessions get the event loop between turns. Before, a flood of
 * publications from another node, fanned out here to 1,000 subscriptions,
 * held this node's sessions 2.6 s (audit). Heartbeats do not wait here
 * (`node.ts`): a backlog must not get a live node taken for down.
 *
 * @module
 */

/** Milliseconds of NATS messages handled per turn of the event loop. */
export const TURN_MS = 20;

/**
 * Bytes that may wait: past them, what waits is handled at once, without
 * turns (NATS keeps sending, and the node must keep up or run out of memory).
 */
export const MAX_WAITING_BYTES = 64 * 1024 * 1024;

/** Work on NATS messages, in order, in turns. */
export class Inbound {
  #queue: ({ work: () => void; bytes: number } | undefined)[] = [];
  #next = 0;
  #bytes = 0;
  /** `Date.now()` when this turn's first message was handled; 0 between turns. */
  #turnStart = 0;
  #scheduled = false;

  /**
   * Handles a message's work now, or after what waits (once this turn's
   * time is up).
   *
   * @param work The work.
   * @param bytes The message's size.
   */
  push(work: () => void, bytes: number): void {
    if (this.#next < this.#queue.length || this.#over()) {
      this.#queue.push({ work, bytes });
      this.#bytes += bytes;
      if (this.#bytes > MAX_WAITING_BYTES) return this.#run(Infinity);
      return this.#schedule();
    }
    work();
  }

  /** Whether this turn's time is up (starting the turn's clock if it is new). */
  #over(): boolean {
    const now = Date.now();
    if (this.#turnStart === 0) {
      this.#turnStart = now;
      queueMicrotask(() => this.#turnStart = 0);
      return false;
    }
    return now - this.#turnStart >= TURN_MS;
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setTimeout(() => {
      this.#scheduled = false;
      this.#run(TURN_MS);
    });
  }

  /** Handles what waits, for up to `ms`; schedules the rest. */
  #run(ms: number): void {
    const start = Date.now();
    while (this.#next < this.#queue.length) {
      const { work, bytes } = this.#queue[this.#next]!;
      this.#queue[this.#next++] = undefined;
      this.#bytes -= bytes;
      work();
      if (Date.now() - start >= ms) break;
    }
    if (this.#next < this.#queue.length) return this.#schedule();
    this.#queue = [];
    this.#next = 0;
    this.#bytes = 0;
  }
}
