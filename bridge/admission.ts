/**
 * A request an HTTP bridge path let in from its head, and what it holds of
 * the path meanwhile: an in-flight slot (a signed request: first a place
 * for verifying), and its source's counts of pending requests and open
 * streams.
 *
 * @module
 */

import type { HttpAdmission } from "../transports/stream/http_server.ts";
import type { SourceLimit } from "../transports/sources.ts";
import type { SignedFields } from "./auth.ts";
import type { BridgeOptions } from "./config.ts";

/** What one path keeps count of for the requests it let in. */
export interface PathPlaces {
  /** The path's options (`maxInFlight`). */
  readonly options: BridgeOptions;
  /** Requests let in and not yet answered, and streams open. */
  inFlight: number;
  /** Signed requests let in whose signature is not verified yet (a bound on their bodies). */
  verifying: number;
  /** Requests pending (body not arrived; signed: not verified) per source, `maxPendingPerSource`. */
  readonly pending: SourceLimit;
  /** Subscriber requests let in (streams open) per source, `maxStreamsPerSource`. */
  readonly streams: SourceLimit;
}

/**
 * Signed requests a path reads bodies of, not yet verified, per in-flight
 * slot: enough that heads whose bodies never come must outnumber the
 * slots four times to delay the key's holder, few enough that the bodies
 * buffered stay bounded (`maxInFlight` x 4 x `maxBodySize`).
 */
export const UNVERIFIED_PER_SLOT = 4;

/**
 * A request a path let in from its head: it holds one of the path's
 * in-flight slots from then until it is answered (a stream: until it
 * ends) and the router took everything the path's session had sent by
 * then, or until the listener drops it unanswered (`abandon`). The router
 * takes the path session's messages in turns: a CALL whose client hung
 * up, and its CANCEL, may still wait there, and they count against
 * `maxInFlight` until taken, so what waits stays within `maxInFlight`
 * requests' bodies. A signed request takes its slot only once its
 * signature verified: its head shows only the key, which is public, so
 * anyone could otherwise hold every slot with heads whose bodies never
 * come. Until then it holds one of the path's places for unverified
 * bodies ({@linkcode UNVERIFIED_PER_SLOT}). Until its body arrived
 * (signed: until verified) it counts against its source's
 * `maxPendingPerSource`; a subscriber request counts against its source's
 * `maxStreamsPerSource` until its stream ended. One from an unknown peer
 * counts against neither. Those places are freed once it is answered
 * (refused or not), without waiting for the router as its slot does.
 */
export class Admitted implements HttpAdmission {
  /** The path it was let in on. */
  readonly path: PathPlaces;
  /** The request URL, as the head gave it. */
  readonly url: URL;
  readonly maxBodySize: number;
  /** A signed request's fields, for the signature check once the body is read. */
  readonly signed: SignedFields | undefined;
  #held = false;
  /** The peer it came from (undefined: unknown), counted in the path's `pending` and `streams`. */
  readonly #peer: string | undefined;
  /** Whether it is pending (body not arrived; signed: not verified), and counted in `streams`. */
  #pending = true;
  #streaming = true;

  /**
   * Counts a request let in from its head: against its source's pending
   * and streams, and takes a slot (signed: a place for verifying).
   *
   * @param path The path.
   * @param url The request URL.
   * @param maxBodySize The largest body it may bring.
   * @param signed A signed request's fields, else undefined.
   * @param peer Its peer's address; undefined when unknown (not counted per source).
   */
  constructor(
    path: PathPlaces,
    url: URL,
    maxBodySize: number,
    signed: SignedFields | undefined,
    peer: string | undefined,
  ) {
    this.path = path;
    this.url = url;
    this.maxBodySize = maxBodySize;
    this.signed = signed;
    this.#peer = peer;
    path.pending.add(peer);
    path.streams.add(peer);
    if (signed === undefined) this.take();
    else path.verifying++;
  }

  /** Its body arrived: an unsigned request is no longer pending (a signed one is until verified). */
  arrived(): void {
    if (this.signed === undefined) this.#settled();
  }

  /** Takes a slot, if one is free (else false); a signed request's place for verifying is freed. */
  take(): boolean {
    if (this.signed !== undefined) this.#settled();
    if (this.#held || this.path.inFlight >= this.path.options.maxInFlight) return this.#held;
    this.#held = true;
    this.path.inFlight++;
    return true;
  }

  /**
   * Answered (a stream: ended): its source's places, pending and a
   * stream's count, and a signed request's place for verifying are freed
   * now (once); its slot is kept until {@linkcode Admitted.release}.
   */
  answered(): void {
    this.#settled();
    if (this.#streaming) {
      this.#streaming = false;
      this.path.streams.remove(this.#peer);
    }
  }

  /** Gives everything it holds back (once): {@linkcode Admitted.answered}'s places, and its slot. */
  release(): void {
    this.answered();
    if (!this.#held) return;
    this.#held = false;
    this.path.inFlight--;
  }

  /** No longer pending: its source's count (and a signed request's place for verifying) freed. */
  #settled(): void {
    if (!this.#pending) return;
    this.#pending = false;
    const { path } = this;
    if (this.signed !== undefined) path.verifying--;
    path.pending.remove(this.#peer);
  }

  /** Dropped by the listener unanswered: everything it holds is freed at once. */
  abandon(): void {
    this.release();
  }
}
