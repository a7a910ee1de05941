/** readBounded: a body read up to a limit, a request's or a response's, and stopped by a signal. */

import { deepEqual, equal, rejects } from "node:assert/strict";
import { readBounded } from "../../../transports/stream/bytes.ts";

/** A body that sends `first` and then nothing more until canceled; `canceled()` says whether it was. */
function stalled(first: string) {
  let canceled = false;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(first));
    },
    cancel() {
      canceled = true;
    },
  });
  return { body, canceled: () => canceled };
}

Deno.test("readBounded() stops a body that never ends once its signal aborts, and cancels it", async () => {
  const { body, canceled } = stalled("{");
  const deadline = new AbortController();
  const read = readBounded(new Request("http://x/", { method: "POST", body }), 100, {
    signal: deadline.signal,
  });
  await new Promise((resolve) => setTimeout(resolve)); // the first chunk read, the next awaited
  equal(canceled(), false);
  deadline.abort(new Error("late"));
  await rejects(read, /late/);
  equal(canceled(), true);
});

Deno.test("readBounded() given an aborted signal reads nothing and cancels the body", async () => {
  const { body, canceled } = stalled("{}");
  await rejects(
    readBounded(new Response(body), 100, { signal: AbortSignal.abort(new Error("gone")) }),
    /gone/,
  );
  equal(canceled(), true);
});

Deno.test("readBounded() reads a chunked request body up to its limit, and no further", async () => {
  let pulled = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled++;
      controller.enqueue(new Uint8Array(10));
    },
  }, { highWaterMark: 0 });
  equal(await readBounded(new Request("http://x/", { method: "POST", body }), 25), undefined);
  equal(pulled, 3);
  const whole = await readBounded(new Request("http://x/", { method: "POST", body: "ok" }), 2);
  deepEqual(whole, new TextEncoder().encode("ok"));
});
