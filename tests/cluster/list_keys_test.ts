/**
 * `listKeys`: a listing of the shared registration table that NATS stalls
 * (nats-server 2.9 can, for about 30 s after deletes) gives way to the
 * mirror's keys after 2 s, so a REGISTER or a dead node's cleanup never
 * waits on it.
 */

import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { deleteAsRead, type Kv, listKeys } from "../../cluster/registration_mirror.ts";

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

Deno.test("listKeys without a mirror to stand in: a stalled listing is an error (a takeover must not pass on it)", async () => {
  const stalled = kvListing(() => ({
    [Symbol.asyncIterator]: () => ({ next: () => new Promise<IteratorResult<string>>(() => {}) }),
  }));
  await rejects(listKeys(stalled, "a.b.c.*.*", undefined, () => {}), /took over 2000 ms/);
});

Deno.test("deleteAsRead: a key written again between the read and the delete stays", async () => {
  let revision = 7;
  const deleted: number[] = [];
  const kv = {
    get: (key: string) =>
      Promise.resolve({ key, value: new Uint8Array(), revision: revision++, operation: "PUT" }),
    delete: (_key: string, options?: { previousSeq?: number }) =>
      options?.previousSeq === revision
        ? Promise.resolve(void deleted.push(options.previousSeq))
        : Promise.reject(new Error("wrong last sequence")),
  } as unknown as Kv;
  equal(await deleteAsRead(kv, "a.b.c.n1.1"), false); // read at 7, written again (8) before the delete
  revision = 9;
  const exact = {
    ...kv,
    get: (key: string) =>
      Promise.resolve({ key, value: new Uint8Array(), revision: 9, operation: "PUT" as const }),
  };
  equal(await deleteAsRead(exact as unknown as Kv, "a.b.c.n1.1"), true);
  deepEqual(deleted, [9]);
});
