/**
 * A `node:net` socket stand-in for tests that need no socket: a
 * {@linkcode Wire} over it writes at once and records each write.
 *
 * @module
 */

import type { Socket } from "node:net";

/**
 * A connected socket that records what is written, acknowledges every
 * write at once and never reads.
 *
 * @param written Where each write's bytes go, oldest first.
 * @returns The socket.
 */
export function recordingSocket(written: Uint8Array[]): Socket {
  return {
    on() {},
    once() {},
    setNoDelay() {},
    write(chunk: Uint8Array, done?: () => void) {
      written.push(chunk);
      done?.();
      return true;
    },
    writableLength: 0,
  } as unknown as Socket;
}
