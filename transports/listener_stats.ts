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
  /**
   * Connections that opened as accept checks (a NUL byte: this listener's
   * own over a Unix socket, another worker's on a shared port, or anyone's)
   * and were closed at once: not in `accepted` or `refused`, nor their bytes.
   */
  readonly checks: number;
  /** Bytes read from its connections. */
  readonly bytesIn: number;
  /** Bytes written to its connections. */
  readonly bytesOut: number;
}

/** A listener's counters. */
export class ListenerCounts {
  #accepted = 0;
  #refused = 0;
  #checks = 0;
  #bytesIn = 0;
  #bytesOut = 0;

  /** Counts a connection, refused when the listener is full. */
  connection(refused: boolean): void {
    if (refused) this.#refused++;
    else this.#accepted++;
  }

  /** Counts apart a connection counted that was an accept check (`accept_watchdog.ts`). */
  check(refused: boolean): void {
    if (refused) this.#refused--;
    else this.#accepted--;
    this.#checks++;
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
    const [accepted, refused, checks] = [this.#accepted, this.#refused, this.#checks];
    return { listening, accepted, refused, checks, bytesIn, bytesOut };
  }
}
