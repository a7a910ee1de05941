/**
 * In-process transport: two linked ends that pass typed messages with no
 * serialization. Delivery is asynchronous (a microtask per batch), so a
 * handler never runs inside the sender's call stack.
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

class LocalEnd implements Link {
  readonly info: TransportInfo;
  other!: LocalEnd;
  /** Whether received messages must be plain data, as a parser would insist. */
  readonly validate: boolean;
  #handler: PeerHandler | undefined;
  #inbox: WampMessage[] = [];
  #scheduled = false;
  #closed = false;
  #peerClosed = false;

  constructor(validate: boolean, info: TransportInfo = { type: "local" }) {
    this.validate = validate;
    this.info = info;
  }

  bind(handler: PeerHandler): void {
    this.#handler = handler;
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

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.other.#peerClosed = true;
    this.other.#schedule();
    this.#peerClosed = true;
    this.#schedule();
  }

  #deliver(msg: WampMessage): void {
    if (this.#closed) return;
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
    while (this.#inbox.length > 0 && !this.#closed) {
      const msg = this.#inbox.shift()!;
      if (!this.validate) {
        handler.receive(msg);
        continue;
      }
      // Read as a serializer reads what arrives: plain data, each field and option of its type.
      let read: WampMessage;
      try {
        read = parseMessage(toWire(msg));
      } catch (error) {
        const fault = error instanceof Error ? error.message : String(error);
        handler.fail(new ProtocolViolationError(`Cannot accept message: ${fault}`));
        continue;
      }
      handler.receive(read);
    }
    if (this.#peerClosed) {
      this.#closed = true;
      this.#inbox.length = 0;
      this.#handler = undefined;
      handler.closed();
    }
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
}

/**
 * Creates two linked in-process ends. What one end sends, the other's
 * handler receives; closing either end closes both, after the messages
 * already sent are delivered.
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
export function linkedPeers(options: LinkedPeersOptions = {}): [Link, Link] {
  const a = new LocalEnd(options.validate ?? false, options.info);
  const b = new LocalEnd(false);
  a.other = b;
  b.other = a;
  return [a, b];
}
