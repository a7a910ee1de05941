/**
 * A counter's label values are bounded; a `LabelSet` gives several metrics
 * the same values (the realm label), and `other` from it takes no place of
 * a named one.
 */

import { deepEqual, equal } from "node:assert/strict";
import { LabelCounter, LabelSet, MAX_LABELS } from "../../router/counters.ts";

Deno.test("LabelCounter and LabelSet keep the same realm values: other, seen first, takes no named place", () => {
  const set = new LabelSet();
  const joins = new LabelCounter();
  // A gauge scraped first: realm r39 falls past the set's 32 (r0..r31 asked for first).
  const realms = Array.from({ length: MAX_LABELS }, (_, i) => `r${i}`);
  for (const realm of realms) set.label(realm);
  equal(set.label("r39"), "other");
  joins.add(set.label("r39")); // "other" counted first
  for (const realm of realms) joins.add(set.label(realm));
  equal(joins.get("r31"), 1, "every realm the set names keeps its name in the counter");
  equal(joins.get("other"), 1);
  deepEqual([...joins.entries()].length, MAX_LABELS + 1);
  // A counter alone: 32 named values, then other.
  const alone = new LabelCounter();
  for (let i = 0; i < MAX_LABELS + 3; i++) alone.add(`v${i}`);
  equal(alone.get(`v${MAX_LABELS - 1}`), 1);
  equal(alone.get("other"), 3);
});
