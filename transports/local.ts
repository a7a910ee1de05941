/**
 * In-process transport: two linked ends that pass typed messages with no
 * serialization. Delivery is asynchronous (a microtask per batch), so a
 * handler never runs inside the sender's call stack.
 *
 * @module
 */

import type { Link, PeerHandler, TransportInfo, WampMessage } from "../wamp/mod.ts";

class LocalEnd implements Link {
  readonly info: TransportInfo = { type: "local" };
  other!: LocalEnd;
  #handler: PeerHandler | undefined;
  #inbox: WampMessage[] = [];
  #scheduled = false;
  #closed = false;
  #peerClosed = false;

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
      handler.receive(this.#inbox.shift()!);
    }
    if (this.#peerClosed) {
      this.#closed = true;
      this.#inbox.length = 0;
      this.#handler = undefined;
      handler.closed();
    }
  }
}

/**
 * Creates two linked in-process ends. What one end sends, the other's
 * handler receives; closing either end closes both, after the messages
 * already sent are delivered.
 *
 * @returns The two ends.
 *
 * @example
 * ```ts
 * import { linkedPeers, MessageType, type WampMessage } from "@cloverleaf/wamp";
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
export function linkedPeers(): [Link, Link] {
  const a = new LocalEnd();
  const b = new LocalEnd();
  a.other = b;
  b.other = a;
  return [a, b];
}
