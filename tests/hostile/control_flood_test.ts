/**
 * A joined connection that floods the router with frames that carry no
 * WAMP message (empty PINGs it reads the PONGs of, empty fragments of one
 * message) must end its turn as a flood of messages does: reading stops
 * after `TURN_MS` and other sessions' calls go on meanwhile. Before, only
 * WAMP messages counted: 32 MiB of empty PINGs held every other session
 * for the 1-1.7 s the flood lasted. The flooder runs in a process of its
 * own (`_flooder.ts`), over WebSocket and RawSocket.
 */

import { ok } from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { join, startRouter, within } from "../_helpers/router.ts";
import { measuredTwice } from "../_helpers/timed.ts";

const FLOODER = fileURLToPath(new URL("./_flooder.ts", import.meta.url));

const CASES = [
  ["WebSocket PINGs", "websocket", "ping"],
  ["WebSocket empty fragments", "websocket", "fragment"],
  ["RawSocket PINGs", "rawsocket", "ping"],
] as const;

for (const [what, transport, kind] of CASES) {
  Deno.test(
    `a flood of ${what} holds another session's calls for a turn or two, not its length`,
    measuredTwice(async () => {
      await using t = await startRouter();
      const callee = await join(t, "json");
      await callee.register("com.example.echo", (args) => ({ args }));
      const bystander = await join(t, "msgpack");
      const url = t.listener.urls[transport]!;
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", FLOODER, url, kind, "32"],
        stdout: "piped",
        stderr: "inherit",
      }).spawn();
      const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let said = "";
      const hear = async (word: string) => {
        while (!said.includes(word)) {
          const { value, done } = await lines.read();
          if (done) throw new Error(`the flooder ended before "${word}": ${said}`);
          said += value;
        }
      };
      try {
        await within(hear("joined"), 10_000, "the flooder joining");
        let flooding = true;
        const flood = hear("done").finally(() => flooding = false);
        let worst = 0;
        let calls = 0;
        while (flooding) {
          const start = performance.now();
          await within(bystander.call("com.example.echo", { args: [calls++] }), 10_000, "a call");
          worst = Math.max(worst, performance.now() - start);
        }
        await flood;
        ok(calls > 5, `${calls} calls during the flood`);
        ok(worst < 300, `a call waited ${worst.toFixed(0)} ms behind the flood`);
      } finally {
        await lines.cancel().catch(() => {});
        try {
          child.kill();
        } catch {
          // gone
        }
        await child.status;
      }
    }),
  );
}
