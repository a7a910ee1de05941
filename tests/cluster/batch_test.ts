/**
 * A node's batches (`cluster/batch.ts`) against the server's `max_payload`:
 * a message NATS would refuse is handed over at once, so that its sender
 * hears of it, not held and lost at the turn's end with a log line.
 */

import { deepEqual, equal, throws } from "node:assert/strict";
import { Batches } from "../../cluster/batch.ts";

const MAX = 16 * 1024;

/** Batches over a NATS client that refuses what is over `MAX`, as nats.js does. */
function over(max: number | undefined) {
  const sent: number[] = [];
  const logged: string[] = [];
  const refused: number[] = [];
  const batches = new Batches(
    (_subject, data) => {
      if (data.length > MAX) {
        refused.push(data.length);
        throw new Error("'payload' max_payload size exceeded");
      }
      sent.push(data.length);
    },
    (_level, line) => logged.push(line),
    () => max === undefined ? undefined : { max_payload: max },
  );
  return { batches, sent, logged, refused };
}

Deno.test("Batches: a message over the server's max_payload throws to its sender, after what was held", () => {
  const { batches, sent, logged } = over(MAX);
  batches.add("s", new Uint8Array(100));
  throws(() => batches.add("s", new Uint8Array(20_000)), /max_payload/);
  deepEqual(sent, [100], "what was held went first");
  equal(logged.length, 0);
});

Deno.test("Batches: under a small max_payload, no batch is made that NATS refuses", async () => {
  const { batches, sent, logged, refused } = over(MAX);
  for (let i = 0; i < 4; i++) batches.add("s", new Uint8Array(6000));
  await new Promise((resolve) => setTimeout(resolve, 10)); // the turn's end
  deepEqual(sent, [1 + 2 * 6004, 1 + 2 * 6004], "two batches of two");
  deepEqual(refused, []);
  equal(logged.length, 0);
});

Deno.test("Batches: before the client knows its server, 64 KiB is the bound: a bigger message goes at once", () => {
  const { batches, sent } = over(undefined);
  throws(() => batches.add("s", new Uint8Array(70_000)));
  batches.add("s", new Uint8Array(20_000)); // held: refused only at the turn's end (and logged)
  deepEqual(sent, []);
  batches.send();
});
