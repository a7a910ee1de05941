/**
 * `--workers 2` with its own nats-server: a message the listeners take
 * (up to `maxMessageSize`, 16 MiB by default) crosses to the other worker
 * as it reaches a peer on the same worker, not only up to NATS's default
 * 1 MiB `max_payload` (`natsMaxPayload`, `cli/local_nats.ts`).
 */

import { deepEqual, equal } from "node:assert/strict";
import { connect, type Session } from "../../mod.ts";
import { freePort } from "../../cli/ports.ts";
import { until, within } from "../_helpers/router.ts";
import { callUntil, slotOf, startWorkers } from "./_workers.ts";

Deno.test({
  name: "cli --workers 2: a 2 MiB CALL and acknowledged PUBLISH reach a peer on the other worker",
  sanitizeResources: false,
  fn: async () => {
    const port = await freePort();
    await using _service = await startWorkers(port);
    const sessions: Session[] = [];
    try {
      // Two sessions on one worker (callee, caller there) and one on the other.
      const bySlot = new Map<number, Session[]>();
      for (let i = 0; i < 40; i++) {
        const lists = [...bySlot.values()];
        if (lists.length === 2 && lists.some((l) => l.length >= 2)) break;
        const session = await within(
          connect(`ws://127.0.0.1:${port}/ws`, { realm: "realm1", serializers: ["msgpack"] }),
          10_000,
          "join",
        );
        sessions.push(session);
        bySlot.set(slotOf(session), [...bySlot.get(slotOf(session)) ?? [], session]);
      }
      const lists = [...bySlot.values()].sort((a, b) => b.length - a.length);
      equal(lists.length, 2, "sessions on both workers");
      const [[callee, sameWorker], [otherWorker]] = lists as [Session[], Session[]];
      const got: number[] = [];
      await callee!.register("com.example.size", (args) => ({
        args: [(args[0] as Uint8Array).length],
      }));
      await callee!.subscribe("com.example.big", (event) => {
        got.push((event.args[0] as Uint8Array).length);
      });
      const big = new Uint8Array(2 * 1024 * 1024);
      for (const caller of [sameWorker!, otherWorker!]) {
        deepEqual(await callUntil(caller, "com.example.size", [big]), [big.length]);
        await caller.publish("com.example.big", { args: [big] }, { acknowledge: true });
      }
      await until(() => got.length === 2, 10_000, "both publications");
      deepEqual(got, [big.length, big.length]);
    } finally {
      for (const session of sessions) await session.close().catch(() => {});
    }
  },
});
