/**
 * A socket-free {@linkcode Peer} for unit tests: it records what the router
 * sends, reports whatever backlog a test sets, and counts `close()` calls.
 *
 * @module
 */

import { MessageType, type Peer, type TransportInfo, type WampMessage } from "../../wamp/mod.ts";
import type { Router } from "../../router/router.ts";
import type { Connection } from "../../router/connection.ts";

/** A recording peer. */
export class FakePeer implements Peer {
  /** Describes the fake transport. */
  readonly info: TransportInfo = { type: "fake" };
  /** Every message sent, oldest first. */
  readonly sent: WampMessage[] = [];
  /** What {@linkcode FakePeer.backlog} reports, in bytes. */
  bytesQueued = 0;
  /** What {@linkcode FakePeer.queued} reports, in messages. */
  messagesQueued = 0;
  /** How many times `close()` was called. */
  closeCount = 0;

  /** Records a message. */
  send(msg: WampMessage): void {
    this.sent.push(msg);
  }

  /** Returns {@linkcode FakePeer.bytesQueued}. */
  backlog(): number {
    return this.bytesQueued;
  }

  /** Returns {@linkcode FakePeer.messagesQueued}. */
  queued(): number {
    return this.messagesQueued;
  }

  /** Counts the call. */
  close(): void {
    this.closeCount++;
  }

  /** Whether `close()` was called at least once. */
  get isClosed(): boolean {
    return this.closeCount > 0;
  }

  /** Returns the messages sent since the last call and forgets them. */
  take(): WampMessage[] {
    return this.sent.splice(0);
  }
}

/** A session of a {@linkcode FakePeer} on a router, and the peer. */
export interface FakeSession {
  /** What the router sent it. */
  peer: FakePeer;
  /** The router's end, to hand it messages. */
  session: Connection;
}

/**
 * Attaches a {@linkcode FakePeer} to `router` and sends its HELLO to
 * `realm1` with every client role.
 *
 * @param router The router.
 * @returns The peer and its connection.
 */
export function joinFake(router: Router): FakeSession {
  const peer = new FakePeer();
  const session = router.attach(peer) as Connection;
  session.receive({
    type: MessageType.HELLO,
    realm: "realm1",
    details: { roles: { subscriber: {}, callee: {}, caller: {}, publisher: {} } },
  });
  return { peer, session };
}
