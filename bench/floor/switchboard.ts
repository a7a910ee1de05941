/**
 * The relays' only logic, shared by both WebSocket stacks: who gets a
 * message, by the role in the URL path. No WAMP: messages pass as they are.
 *
 * - every message from a `pub` peer goes to every `sub` peer;
 * - every message from a `caller` goes to the `callee` (the most recent
 *   one), and each message from the callee goes back to the caller whose
 *   message it answers (first in, first out: the load tool's callee
 *   answers in order);
 * - `idle` peers are only held open.
 *
 * @module
 */

/** A peer the switchboard can send to. */
export interface Line<M> {
  /** Sends one message. */
  send(message: M): void;
  /** Whether it can still be sent to. */
  readonly open: boolean;
}

/** Routes messages between the peers of one relay. */
export class Switchboard<M> {
  #subs = new Set<Line<M>>();
  #callee: Line<M> | undefined;
  #waiting: Line<M>[] = []; // callers, one entry per forwarded call, oldest first
  #head = 0;

  /** A peer opened with `role`. */
  open(role: string, line: Line<M>): void {
    if (role === "sub") this.#subs.add(line);
    else if (role === "callee") this.#callee = line;
  }

  /** A peer closed. */
  close(line: Line<M>): void {
    this.#subs.delete(line);
    if (this.#callee === line) this.#callee = undefined;
  }

  /** A message arrived from a peer with `role`: passes it on. */
  message(role: string, from: Line<M>, message: M): void {
    if (role === "pub") {
      for (const sub of this.#subs) sub.send(message);
    } else if (role === "caller") {
      if (this.#callee === undefined) return;
      this.#waiting.push(from);
      this.#callee.send(message);
    } else if (role === "callee") {
      const caller = this.#waiting[this.#head++];
      if (this.#head > 4096 && this.#head * 2 > this.#waiting.length) {
        this.#waiting.splice(0, this.#head);
        this.#head = 0;
      }
      if (caller?.open) caller.send(message);
    }
  }
}

/** Prints the port the way the load tool's `compare` and the tests read it. */
export function announce(port: number): void {
  console.log(`listening on ${port}`);
}
