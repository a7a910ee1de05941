/**
 * IdTable behaves as a Map from IDs: checked against a Map over random
 * operations, with few IDs (long probe runs), IDs past 2^32 (and families
 * that share a half, or the XOR of their halves), and the table growing and
 * shrinking.
 */

import { deepEqual, equal } from "node:assert/strict";
import { IdTable } from "../../wamp/id_table.ts";
import { MAX_ID } from "../../wamp/mod.ts";

/** A seeded generator, so a failure can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed / 4294967296;
  };
}

/** Applies `ops` random operations to a table and a Map, comparing them after each. */
function compare(seed: number, ops: number, pick: (r: () => number) => number): void {
  const r = random(seed);
  const table = new IdTable<number>();
  const model = new Map<number, number>();
  for (let n = 0; n < ops; n++) {
    const id = pick(r);
    const what = r();
    if (what < 0.5) {
      table.set(id, n);
      model.set(id, n);
    } else {
      equal(table.delete(id), model.delete(id), `delete ${id} at op ${n} (seed ${seed})`);
    }
    equal(table.size, model.size);
    const probe = pick(r);
    equal(table.get(probe), model.get(probe), `get ${probe} at op ${n} (seed ${seed})`);
    equal(table.has(probe), model.has(probe));
  }
  for (const [id, value] of model) equal(table.get(id), value);
  const ids = [...model.keys()].sort((a, b) => a - b);
  deepEqual(table.sortedValues(), ids.map((id) => model.get(id)));
}

Deno.test("IdTable agrees with a Map over random sets and deletes of few IDs", () => {
  // 40 IDs: long probe runs, and deletes that must shift entries back across the wrap-around.
  for (let seed = 1; seed <= 20; seed++) compare(seed, 2000, (r) => Math.floor(r() * 40));
});

Deno.test("IdTable agrees with a Map for IDs up to 2^53 and past 2^32", () => {
  const edges = [0, 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, MAX_ID - 1, MAX_ID];
  for (let seed = 1; seed <= 10; seed++) {
    compare(seed, 3000, (r) => {
      const kind = r();
      if (kind < 0.3) return edges[Math.floor(r() * edges.length)]!;
      if (kind < 0.6) return Math.floor(r() * MAX_ID) + 1;
      if (kind < 0.8) return 2 ** 32 * Math.floor(r() * 64); // equal low 32 bits
      // Halves whose XOR is the same: they folded to one value when the halves were XORed unkeyed.
      const high = 1 + Math.floor(r() * 2 ** 21 - 1);
      return high * 2 ** 32 + ((high ^ 0x5a5a) >>> 0);
    });
  }
});

Deno.test("IdTable grows to thousands of entries and shrinks back", () => {
  const table = new IdTable<string>();
  for (let id = 1; id <= 5000; id++) table.set(id, `v${id}`);
  equal(table.size, 5000);
  for (let id = 1; id <= 5000; id += 2) equal(table.delete(id), true);
  equal(table.size, 2500);
  for (let id = 2; id <= 4998; id += 2) equal(table.delete(id), true);
  equal(table.size, 1);
  equal(table.get(5000), "v5000");
  equal(table.get(4999), undefined);
  equal(table.delete(4999), false);
  deepEqual(table.sortedValues(), ["v5000"]);
  // Sequential IDs in flight, as calls are: a window of 16 sliding over 100,000 IDs.
  for (let id = 10_001; id <= 110_000; id++) {
    table.set(id, "x");
    if (id > 10_016) table.delete(id - 16);
  }
  equal(table.size, 17);
});

Deno.test("IdTable keeps its size through swings and shrinks after a quiet spell", () => {
  // A callee answering in batches: its calls in flight swing between 60 and 1100.
  const table = new IdTable<number>();
  let next = 1;
  let oldest = 1;
  const slotsSeen = new Set<number>();
  for (let swing = 0; swing < 200; swing++) {
    while (table.size < 1100) table.set(next, next++);
    while (table.size > 60) equal(table.delete(oldest++), true);
    if (swing > 0) slotsSeen.add(table.slots);
  }
  deepEqual([...slotsSeen], [4096]);
  // Then a few calls at a time: back to 1024 slots after as many deletions as it had slots.
  for (let n = 0; n < 5000; n++) {
    table.set(next, next++);
    table.delete(oldest++);
  }
  while (table.size > 10) table.delete(oldest++);
  for (let n = 0; n < 5000; n++) {
    table.set(next, next++);
    table.delete(oldest++);
  }
  equal(table.slots, 1024);
  equal(table.size, 10);
  for (let id = oldest; id < next; id++) equal(table.get(id), id);
});

Deno.test("IdTable replaces a value set again and lets go of deleted ones", () => {
  const table = new IdTable<object>();
  const a = {};
  const b = {};
  table.set(9, a);
  table.set(9, b);
  equal(table.size, 1);
  equal(table.get(9), b);
  table.delete(9);
  deepEqual(table.sortedValues(), []);
  for (let id = 1; id <= 100; id++) table.set(id, a);
  table.clear();
  equal(table.size, 0);
  equal(table.get(50), undefined);
  table.set(50, b);
  deepEqual(table.sortedValues(), [b]);
});
