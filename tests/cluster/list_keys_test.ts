/**
 * `listKeys`: a listing of the shared registration table that NATS stalls
 * (nats-server 2.9 can, for about 30 s after deletes) gives way to the
 * mirror's keys after 2 s, so a REGISTER or a dead node's cleanup never
 * waits on it.
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import { type Kv, listKeys } from "../../cluster/registration_mirror.ts";

function kvListing(keys: () => AsyncIterable<string>): Kv {
  return { keys: () => Promise.resolve(keys()) } as unknown as Kv;
}

Deno.test("listKeys: the table's keys when NATS lists them, the mirror's when it stalls", async () => {
  const lines: string[] = [];
  const log = (_level: string, message: string) => void lines.push(message);
  const listed = kvListing(async function* () {
    yield "a.b.c.n1.1";
    yield "a.b.c.n1.2";
  });
  deepEqual(await listKeys(listed, "a.b.c.*.*", () => ["mirror"], log), [
    "a.b.c.n1.1",
    "a.b.c.n1.2",
  ]);
  equal(lines.length, 0);

  let stopped = false;
  const stalled = kvListing(() => ({
    [Symbol.asyncIterator]: () => ({
      next: () => new Promise<IteratorResult<string>>(() => {}),
      return: () => {
        stopped = true;
        return Promise.resolve({ done: true, value: undefined });
      },
    }),
  }));
  const t0 = Date.now();
  deepEqual(await listKeys(stalled, "a.b.c.*.*", () => ["a.b.c.n2.7"], log), ["a.b.c.n2.7"]);
  const took = Date.now() - t0;
  ok(took >= 1900 && took < 5000, `gave way after ${took} ms`);
  ok(stopped, "the stalled listing is stopped");
  ok(lines[0]?.includes('listing "a.b.c.*.*" took over 2000 ms'), lines[0]);
});
