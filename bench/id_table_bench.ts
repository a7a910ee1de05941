/**
 * Calls in flight kept in a `Map` or in an `IdTable` (`wamp/id_table.ts`):
 * records of the shape of a call go through a table of 8 entries, as a
 * session's calls do. The table lives long (old generation), as the
 * dealer's do; with a `Map`, V8 promotes every record that went through it
 * (or allocates them old), and the time per record includes the
 * mark-compacts that free them.
 *
 * Run: `deno bench bench/id_table_bench.ts`; add
 * `--v8-flags=--trace-gc` to see the mark-compacts.
 */

import { IdTable } from "../wamp/id_table.ts";

/** A record like the dealer's `PendingCall`, from a literal, as it was. */
function record(i: number): { caller: number; request: number; armed: boolean } {
  return { caller: i, request: i, armed: false };
}

const map = new Map<number, unknown>();
const table = new IdTable<unknown>();
// Old data for the collectors to walk, and time for both tables to be promoted.
const old: unknown[] = Array.from({ length: 200_000 }, (_, i) => ({ i }));
let mapId = 0;
let tableId = 0;

Deno.bench("Map: 1000 records through 8 entries", { group: "in flight" }, () => {
  for (let k = 0; k < 1000; k++) {
    const id = ++mapId;
    map.set(id, record(id));
    if (id > 8) map.delete(id - 8);
  }
});

Deno.bench("IdTable: 1000 records through 8 entries", {
  group: "in flight",
  baseline: true,
}, () => {
  for (let k = 0; k < 1000; k++) {
    const id = ++tableId;
    table.set(id, record(id));
    if (id > 8) table.delete(id - 8);
  }
});

globalThis.addEventListener("unload", () => old.length);
