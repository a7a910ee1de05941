/**
 * Half of a connection's outbound limit is its own answers': another
 * session's EVENTs (or CALLs to a procedure it registered) stop at the
 * other half, so they can no longer fill it all and have the next RESULT
 * the connection was owed close it as a slow consumer (audit: a victim
 * reading at 4 MB/s was closed by a publisher's 12 MB/s of EVENTs).
 */

import { equal, ok } from "node:assert/strict";
import type net from "node:net";
import { connectLocal } from "../../mod.ts";
import { jsonFrame, rawTcp } from "../_helpers/raw_rawsocket.ts";
import { startRouter, until, within } from "../_helpers/router.ts";

const MAX_BACKLOG = 64 * 1024;

/** RawSocket JSON frames from `socket` (after the handshake's 4 bytes), as text. */
function frames(socket: net.Socket): { next(): Promise<string> } {
  let held = new Uint8Array(0);
  let handshake = 4;
  const waiting: (() => void)[] = [];
  socket.on("data", (chunk: Uint8Array) => {
    const joined = new Uint8Array(held.length + chunk.length);
    joined.set(held);
    joined.set(chunk, held.length);
    held = joined.subarray(handshake);
    handshake = Math.max(0, handshake - joined.length);
    for (const wake of waiting.splice(0)) wake();
  });
  return {
    async next() {
      for (;;) {
        if (held.length >= 4) {
          const length = new DataView(held.buffer, held.byteOffset).getUint32(0) & 0xffffff;
          if (held.length >= 4 + length) {
            const text = new TextDecoder().decode(held.subarray(4, 4 + length));
            held = held.slice(4 + length);
            return text;
          }
        }
        await new Promise<void>((resolve) => waiting.push(resolve));
      }
    },
  };
}

const CASES = [
  { flood: "EVENTs", progress: false },
  { flood: "INVOCATIONs", progress: false },
  { flood: "EVENTs", progress: true },
] as const;

for (const { flood, progress } of CASES) {
  const what = progress ? "end its progressive call" : "make its own RESULT close it";
  Deno.test(`another session's ${flood} sent to a connection cannot ${what}`, async () => {
    await using t = await startRouter({
      listener: { attach: { maxBacklog: MAX_BACKLOG, slowConsumer: "drop" } },
    });
    let release = () => {};
    const released = new Promise<void>((resolve) => release = resolve);
    const callee = await connectLocal(t.router, "realm1");
    await callee.register("svc.slow", async (_args, _kwargs, _details, invocation) => {
      await released;
      if (progress) invocation.progress({ args: ["part"] });
      return { args: ["done"] };
    });
    // The victim subscribes (or registers), calls, and stops reading.
    const victim = await rawTcp(t.listener.urls.rawsocket!);
    const read = frames(victim);
    victim.write(Uint8Array.of(0x7f, 0xf1, 0, 0));
    const caller = { features: { progressive_call_results: true } };
    victim.write(jsonFrame([1, "realm1", { roles: { subscriber: {}, caller, callee: {} } }]));
    victim.write(jsonFrame(flood === "EVENTs" ? [32, 1, {}, "room"] : [64, 1, {}, "victim.echo"]));
    victim.write(jsonFrame([48, 2, { receive_progress: progress }, "svc.slow", []]));
    for (let seen = ""; !seen.startsWith("[33,1,") && !seen.startsWith("[65,1,");) {
      seen = await read.next();
    }
    victim.pause();
    const attacker = await connectLocal(t.router, "realm1");
    const big = "x".repeat(16 * 1024);
    // Past the kernel's buffers, until the router holds back what it would send the victim.
    let refused = false;
    const crowded = () => refused || t.logs.some((l) => l.includes("dropping events"));
    for (let i = 0; i < 4000 && !crowded(); i++) {
      if (flood === "EVENTs") attacker.publish("room", { args: [big] });
      else {
        attacker.call("victim.echo", { args: [big] }).catch((e) => {
          if (String(e).includes("no_available_callee")) refused = true;
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    ok(crowded(), "the victim's outbound queue never filled");
    release(); // the victim's RESULT (after a progressive one) comes now, behind what was queued
    await new Promise((resolve) => setTimeout(resolve, 100));
    ok(!t.logs.some((l) => l.includes("closing session")), t.logs.join("\n"));
    victim.resume();
    const answers: string[] = [];
    await within(
      (async () => {
        while (!answers.at(-1)?.startsWith("[50,2,{},")) {
          const msg = await read.next();
          if (msg.startsWith("[50,2,") || msg.startsWith("[8,48,2,")) answers.push(msg);
          if (msg.startsWith("[8,48,2,")) break;
        }
      })(),
      10_000,
      "the victim's RESULT",
    );
    const done = '[50,2,{},["done"]]';
    equal(answers.join(" "), progress ? `[50,2,{"progress":true},["part"]] ${done}` : done);
    await until(() => !victim.destroyed, 100, "still connected");
    victim.destroy();
    await attacker.close();
    await callee.close();
  });
}
