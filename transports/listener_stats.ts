/**
 * What a listener counts for the admin listener's metrics: connections
 * accepted and refused, and the bytes of its connections (each wire
 * counts its own; a closed one's are added up here). Per connection,
 * never per message.
 *
 * @module
 */

import type { Wire } from "./stream/wire.ts";

/** What a listener has seen. */
export interface ListenerStats {
  /** Whether it is listening. */
  readonly listening: boolean;
  /** Connections accepted. */
  readonly accepted: number;
  /** Connections refused (over `maxConnections`). */
  readonly refused: number;
  /** Bytes read from its connections. */
  readonly bytesIn: number;
  /** Bytes written to its connections. */
  readonly bytesOut: number;
}

/** A listener's counters. */
export class ListenerCounts {
  #accepted = 0;
  #refused = 0;
  #bytesIn = 0;
  #bytesOut = 0;

  /** Counts a connection, refused when the listener is full. */
  connection(refused: boolean): void {
    if (refused) this.#refused++;
    else this.#accepted++;
  }

  /** Takes back a connection counted that was an accept check (`accept_watchdog.ts`). */
  uncount(refused: boolean): void {
    if (refused) this.#refused--;
    else this.#accepted--;
  }

  /** Adds up the bytes of a connection that closed. */
  closed(wire: Wire): void {
    this.#bytesIn += wire.bytesRead;
    this.#bytesOut += wire.bytesWritten;
  }

  /**
   * The counts now.
   *
   * @param open The connections still open.
   * @param listening Whether the listener listens.
   * @returns The stats.
   */
  stats(open: Iterable<Wire>, listening: boolean): ListenerStats {
    let bytesIn = this.#bytesIn;
    let bytesOut = this.#bytesOut;
    for (const wire of open) {
      bytesIn += wire.bytesRead;
      bytesOut += wire.bytesWritten;
    }
    return { listening, accepted: this.#accepted, refused: this.#refused, bytesIn, bytesOut };
  }
}
