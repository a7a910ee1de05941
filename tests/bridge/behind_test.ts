/**
 * An SSE stream whose reader fell behind and to which no more events come:
 * the heartbeat finds it behind and starts the slow-reader timer. Without a
 * socket: the stream's body is simply never read.
 */

import { equal, ok } from "node:assert/strict";
import { subscribe } from "../../bridge/subscriber.ts";
import { resolveBridgeOptions } from "../../bridge/config.ts";
import type { Session } from "../../client/session.ts";
import type { Event } from "../../client/subscription.ts";

/** A session that takes one subscription and hands back its handler. */
function fakeSession(): { session: Session; deliver: (event: Event) => void } {
  let handler: (event: Event) => void = () => {};
  const session = {
    subscribe(_topic: string, on: (event: Event) => void) {
      handler = on;
      return Promise.resolve({ id: 1, done: false, unsubscribe: () => Promise.resolve() });
    },
  } as unknown as Session;
  return { session, deliver: (event) => handler(event) };
}

Deno.test("SSE: a reader more than maxBacklog behind, with no more events coming, is dropped after a heartbeat finds it", async () => {
  const bridge = resolveBridgeOptions({
    path: "/sse",
    type: "subscriber",
    realm: "realm1",
    role: "app",
    auth: { token: "behind-token-0123" },
    heartbeat: 100,
    maxBacklog: 1024,
  }, "bridges[0]");
  const { session, deliver } = fakeSession();
  const ended = Promise.withResolvers<void>();
  const response = await subscribe(
    session,
    new URL("http://127.0.0.1/sse?topic=com.example.quiet"),
    new Request("http://127.0.0.1/sse?topic=com.example.quiet"),
    bridge,
    () => ended.resolve(),
  );
  equal(response.status, 200);
  // One event of 10 KB (past 4 times maxBacklog: no allowance), queued and never read.
  deliver({
    args: ["x".repeat(10_000)],
    kwargs: {},
    details: {},
    publication: 1,
    topic: "com.example.quiet",
  });
  const timeout = new Promise<false>((r) => {
    const id = setTimeout(() => r(false), 10_000);
    ended.promise.then(() => clearTimeout(id));
  });
  ok(await Promise.race([ended.promise.then(() => true), timeout]), "still open after 10 s");
  await response.body?.cancel().catch(() => {});
});
