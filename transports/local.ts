/**
 * In-process transport: two linked ends that pass typed messages with no
 * serialization. Delivery is asynchronous (a microtask per batch), so a
 * handler never runs inside the sender's call stack. A paced end hands on
 * what it receives in turns shared with the network connections
 * (`stream/inbox.ts`).
 *
 * @module
 */

import {
  type Link,
  parseMessage,
  type PeerHandler,
  ProtocolViolationError,
  toWire,
  type TransportInfo,
  type WampMessage,
} from "../wamp/mod.ts";
import { Inbox } from "./stream/inbox.ts";

/**
 * Nothing stops a local end's reading: what waits for a turn is kept by its
 * inbox. Its sender bounds it ({@linkcode LocalLink.whenHandedOn}: the HTTP
 * bridge's requests keep their slots until what they sent was handed on).
 */
const KEEPS_READING = { hold(): void {}, drained: (): Promise<void> => Promise.resolve() };

/** An in-process end: a {@linkcode Link} that can tell when what it received was handed on. */
export interface LocalLink extends Link {
  /**
   * Calls `then` once every message the other end sent so far has left
   * this end: handed to its handler (a paced end's, in its turns), or
   * dropped (this end was closed, or a message it could not accept ended
   * its reading). At once when none waits.
   *
   * @param then What to call.
   */
  whenHandedOn(then: () => void): void;
}

class LocalEnd implements LocalLink {
  readonly info: TransportInfo;
  other!: LocalEnd;
  /** Whether received messages must be plain data, as a parser would insist. */
  readonly validate: boolean;
  #handler: PeerHandler | undefined;
  /** Where a paced end's messages go: handed on in turns, or kept for a later one. */
  #turns: Inbox | undefined;
  #inbox: WampMessage[] = [];
  #scheduled = false;
  #closed = false;
  /** Closed by its own side: what a paced end still keeps is dropped, not handed on. */
  #shut = false;
  #peerClosed = false;
  /** Messages the other end sent to this one, and how many of them left it since. */
  #received = 0;
  #passed = 0;
  /** {@linkcode LocalEnd.whenHandedOn}'s callbacks, in order, each with the `#passed` it waits for. */
  #waiters: { until: number; then: () => void }[] = [];

  constructor(validate: boolean, info: TransportInfo = { type: "local" }, paced = false) {
    this.validate = validate;
    this.info = info;
    if (paced) this.#turns = new Inbox(KEEPS_READING);
  }

  bind(handler: PeerHandler): void {
    this.#handler = handler;
    this.#turns?.bind(this.#unlessShut(handler), false);
    this.#schedule();
  }

  send(msg: WampMessage): void {
    if (this.#closed) return;
    this.other.#deliver(msg);
  }

  backlog(): number {
    return 0;
  }

  queued(): number {
    return this.other.#inbox.length;
  }

  whenHandedOn(then: () => void): void {
    if (this.#passed >= this.#received) return then();
    this.#waiters.push({ until: this.#received, then });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = this.#shut = true;
    this.other.#peerClosed = true;
    this.other.#schedule();
    this.#peerClosed = true;
    this.#schedule();
  }

  #deliver(msg: WampMessage): void {
    if (this.#closed) return;
    this.#received++;
    this.#inbox.push(msg);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled || this.#handler === undefined) return;
    this.#scheduled = true;
    queueMicrotask(() => this.#drain());
  }

  #drain(): void {
    this.#scheduled = false;
    const handler = this.#handler;
    if (handler === undefined) return;
    const turns = this.#turns;
    while (this.#inbox.length > 0 && !this.#closed) {
      const msg = this.#inbox.shift()!;
      // Paced: reading it (its validation) waits for its turn too, and counts against it.
      if (turns?.waitsFor(0)) {
        turns.defer(() => {
          if (this.#shut) this.#passOn(1);
          else this.#hand(handler, msg);
        });
      } else this.#hand(handler, msg);
    }
    if (this.#peerClosed) {
      this.#closed = true;
      this.#passOn(this.#inbox.length);
      this.#inbox.length = 0;
      this.#handler = undefined;
      if (turns === undefined) handler.closed();
      else turns.closed();
    }
  }

  /**
   * What a paced end's turns hand on: nothing once this end was closed by
   * its own side (as an end that is not paced stops at once), while what
   * the other end sent before closing still goes on.
   */
  #unlessShut(handler: PeerHandler): PeerHandler {
    return {
      receive: (msg) => {
        if (!this.#shut) handler.receive(msg);
        this.#passOn(1);
      },
      fail: (error) => {
        if (!this.#shut) handler.fail(error);
        this.#passOn(1);
      },
      closed: () => handler.closed(),
    };
  }

  /** Reads a message as a serializer would (when validating) and hands it on. */
  #hand(handler: PeerHandler, msg: WampMessage): void {
    const turns = this.#turns;
    if (turns?.failed) return this.#passOn(1); // its reading ended: what follows is dropped
    if (!this.validate) {
      if (turns !== undefined) return turns.deliver(msg);
      handler.receive(msg);
      return this.#passOn(1);
    }
    // Read as a serializer reads what arrives: plain data, each field and option of its type.
    let read: WampMessage | ProtocolViolationError;
    try {
      read = parseMessage(toWire(msg));
    } catch (error) {
      const fault = error instanceof Error ? error.message : String(error);
      read = new ProtocolViolationError(`Cannot accept message: ${fault}`);
    }
    if (turns !== undefined) return turns.deliver(read);
    if (read instanceof ProtocolViolationError) handler.fail(read);
    else handler.receive(read);
    this.#passOn(1);
  }

  /** Counts `n` received messages as gone from this end (handed on or dropped). */
  #passOn(n: number): void {
    this.#passed += n;
    const waiters = this.#waiters;
    while (waiters.length > 0 && waiters[0]!.until <= this.#passed) waiters.shift()!.then();
  }
}

/** Options for {@linkcode linkedPeers}. */
export interface LinkedPeersOptions {
  /**
   * The first end (the router's) refuses what a serializer would refuse at
   * arrival (it reads each message with `parseMessage`): values that are not
   * plain data or nest deeper than `MAX_NESTING_DEPTH`, fields and options
   * of the wrong type (its handler's `fail` gets a
   * `ProtocolViolationError`), so an in-process client cannot send what
   * remote peers could not be sent.
   * @default {false}
   */
  validate?: boolean;
  /**
   * What the first end (the router's) says about the transport, e.g. an
   * `identity` the router welcomes at once.
   * @default {{ type: "local" }}
   */
  info?: TransportInfo;
  /**
   * The first end (the router's) hands on what it receives in turns
   * shared with the router's network connections (`stream/inbox.ts`): a
   * busy in-process client waits for a later turn of the event loop, as
   * a busy socket does, instead of holding every other session.
   * @default {false}
   */
  paced?: boolean;
}

/**
 * Creates two linked in-process ends. What one end sends, the other's
 * handler receives; closing either end closes both: the other end still
 * gets what the closing end sent before, the closing end nothing more.
 *
 * @param options Whether the first end validates what it receives.
 * @returns The two ends.
 *
 * @example
 * ```ts
 * import { linkedPeers } from "@cloverleaf/wamp/transports";
 * import { MessageType, type WampMessage } from "@cloverleaf/wamp/wamp";
 * import { equal } from "node:assert/strict";
 *
 * const [a, b] = linkedPeers();
 * const got: WampMessage[] = [];
 * b.bind({ receive: (m) => got.push(m), fail: () => {}, closed: () => {} });
 * a.send({ type: MessageType.GOODBYE, details: {}, reason: "wamp.close.normal" });
 * await Promise.resolve();
 * equal(got.length, 1);
 * ```
 */
export function linkedPeers(options: LinkedPeersOptions = {}): [LocalLink, LocalLink] {
  const a = new LocalEnd(options.validate ?? false, options.info, options.paced ?? false);
  const b = new LocalEnd(false);
  a.other = b;
  b.other = a;
  return [a, b];
}
