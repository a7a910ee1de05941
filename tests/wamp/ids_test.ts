import { deepEqual, equal, ok } from "node:assert/strict";
import { globalIdGenerator, isId, MAX_ID, sequentialIdGenerator } from "../../wamp/ids.ts";

Deno.test("MAX_ID is 2^53", () => {
  equal(MAX_ID, 2 ** 53);
});

Deno.test("isId() accepts integers in [1, 2^53] only", () => {
  for (const id of [1, 2, 4429313566, Number.MAX_SAFE_INTEGER, MAX_ID]) {
    equal(isId(id), true, String(id));
  }
  for (
    const id of [
      0,
      -0,
      -1,
      1.5,
      MAX_ID + 2,
      2 ** 60,
      NaN,
      Infinity,
      "1",
      1n,
      null,
      undefined,
    ]
  ) {
    equal(isId(id), false, String(id));
  }
});

Deno.test("sequentialIdGenerator() starts at 1 and increments by 1", () => {
  const next = sequentialIdGenerator();
  deepEqual(Array.from({ length: 5 }, () => next()), [1, 2, 3, 4, 5]);
});

Deno.test("sequentialIdGenerator() counts each generator separately", () => {
  const a = sequentialIdGenerator();
  const b = sequentialIdGenerator();
  equal(a(), 1);
  equal(a(), 2);
  equal(b(), 1);
  equal(a(), 3);
});

Deno.test("globalIdGenerator() draws valid, varied IDs", () => {
  const next = globalIdGenerator();
  const draws = 10_000; // several refills of the 256-word random pool
  const seen = new Set<number>();
  let above32Bits = 0;
  for (let i = 0; i < draws; i++) {
    const id = next();
    ok(isId(id), `draw ${i} gave ${id}`);
    seen.add(id);
    if (id > 2 ** 32) above32Bits++;
  }
  // 10,000 draws over 2^53 values: a repeat is (practically) impossible.
  equal(seen.size, draws);
  // The high 21 bits are used: almost every draw exceeds 2^32.
  ok(above32Bits > draws * 0.99, `${above32Bits} of ${draws} draws above 2^32`);
});

Deno.test("globalIdGenerator() gives separate generators separate sequences", () => {
  const a = globalIdGenerator();
  const b = globalIdGenerator();
  const fromA = Array.from({ length: 8 }, () => a());
  const fromB = Array.from({ length: 8 }, () => b());
  ok(fromA.some((id, i) => id !== fromB[i]));
});
