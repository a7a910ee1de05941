/**
 * OutgoingBatch, the one place that decides whether a message joins a
 * batch or the batch goes first: at most the limit's bytes with each
 * message's framing (4 bytes binary, 1 JSON), at most MAX_BATCH_MESSAGES,
 * and any message alone.
 */

import { deepEqual, equal } from "node:assert/strict";
import { OutgoingBatch } from "../../../transports/stream/outgoing_batch.ts";
import {
  batchFraming,
  MAX_BATCH_MESSAGES,
  splitBatch,
} from "../../../transports/stream/batched.ts";

const LIMIT = 4096;

for (const binary of [true, false]) {
  const link = { binary, batched: true };
  const framing = batchFraming(link);
  const half = LIMIT / 2 - framing;

  Deno.test(`OutgoingBatch (${binary ? "binary" : "JSON"}) holds up to the limit, framing included`, () => {
    const batch = new OutgoingBatch(link, LIMIT);
    equal(batch.fits(LIMIT * 2), true, "alone, any size");
    batch.add(new Uint8Array(half));
    equal(batch.fits(half + 1), false, "one byte over the limit");
    equal(batch.fits(half), true);
    batch.add(new Uint8Array(half));
    equal(batch.bytes, 2 * half);
    equal(batch.length, 2);
    equal(batch.take().length, LIMIT);
    equal(batch.length, 0);
    equal(batch.bytes, 0);
  });

  Deno.test(`OutgoingBatch (${binary ? "binary" : "JSON"}) takes from a queue what fits, at least one`, () => {
    const queue = [half + 1, half, half, 3 * LIMIT, 1].map((n) => new Uint8Array(n));
    const sizes: number[] = [];
    const batch = new OutgoingBatch(link, LIMIT);
    while (queue.length > 0) {
      batch.addFrom(queue);
      sizes.push(batch.take().length);
    }
    const f = framing;
    deepEqual(sizes, [half + 1 + f, 2 * (half + f), 3 * LIMIT + f, 1 + f]);
  });
}

Deno.test("OutgoingBatch holds at most MAX_BATCH_MESSAGES", () => {
  const batch = new OutgoingBatch({ binary: true, batched: true }, 1 << 24);
  const queue = Array.from({ length: MAX_BATCH_MESSAGES + 5 }, () => new Uint8Array([0xc0]));
  batch.addFrom(queue);
  equal(batch.length, MAX_BATCH_MESSAGES);
  equal(batch.fits(1), false);
  equal(splitBatch(batch.take()).length, MAX_BATCH_MESSAGES);
  equal(queue.length, 5);
});

Deno.test("OutgoingBatch on a link that does not batch holds one message, sent as it is", () => {
  const batch = new OutgoingBatch({ binary: true, batched: false }, LIMIT);
  const queue = [new Uint8Array([1, 2]), new Uint8Array([3])];
  batch.addFrom(queue);
  equal(batch.fits(1), false);
  deepEqual(batch.take(), new Uint8Array([1, 2]));
  equal(queue.length, 1);
});
