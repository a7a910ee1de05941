/**
 * A reflection list (`wamp.reflection.procedure.list`,
 * `wamp.reflection.topic.list`) costs what its caller can receive: one its
 * caller's transport cannot take (a RawSocket client announcing 512 bytes)
 * is refused with `wamp.error.payload_size_exceeded` from the lists' sizes,
 * before anything is merged or encoded; a caller whose transport takes
 * more gets the whole list.
 */

import { equal, match, ok } from "node:assert/strict";
import { ApplicationError, connect, connectLocal } from "../../mod.ts";
import { SortedTopics } from "../../router/core/broker/sorted_topics.ts";
import { SortedUris } from "../../router/core/sorted_uris.ts";
import { startRouter } from "../_helpers/router.ts";

/** How many times a sorted URI list was read (to be merged into an answer) while `body` ran. */
async function readsDuring(body: () => Promise<void>): Promise<number> {
  const [uris, topics] = [SortedUris.prototype.sorted, SortedTopics.prototype.sorted];
  let reads = 0;
  SortedUris.prototype.sorted = function (this: SortedUris, max?: number) {
    reads++;
    return uris.call(this, max);
  };
  SortedTopics.prototype.sorted = function (this: SortedTopics, max: number) {
    reads++;
    return topics.call(this, max);
  };
  try {
    await body();
  } finally {
    SortedUris.prototype.sorted = uris;
    SortedTopics.prototype.sorted = topics;
  }
  return reads;
}

Deno.test("wamp.reflection.*.list is refused from the lists' sizes to a caller that cannot receive it, and whole to one that can", async () => {
  await using r = await startRouter();
  const owner = await connectLocal(r.router, "realm1");
  const url = r.listener.urls.rawsocket!;
  const tiny = await connect(url, { realm: "realm1", serializers: ["json"], maxMessageSize: 512 });
  const roomy = await connect(url, { realm: "realm1", serializers: ["json"] });
  try {
    const pad = "x".repeat(1000);
    for (let i = 0; i < 100; i++) {
      await owner.register(`com.${pad}.p${i}`, () => {});
      await owner.subscribe(`com.${pad}.t${i}`, () => {});
      owner.publish(`com.${pad}.r${i}`, { args: [i] }, { retain: true });
    }
    for (const what of ["procedure", "topic"] as const) {
      let refused: unknown;
      const reads = await readsDuring(async () => {
        refused = await tiny.call(`wamp.reflection.${what}.list`).catch((e) => e);
      });
      ok(refused instanceof ApplicationError, `${what}.list answered`);
      equal(refused.uri, "wamp.error.payload_size_exceeded");
      match(`${refused.args[0]}`, /take at least 10\d{4} bytes, over the 512 /);
      equal(reads, 0, `${what}.list merged for a caller that could not receive it`);
      const listed = (await roomy.call(`wamp.reflection.${what}.list`)).args[0] as string[];
      equal(listed.length, what === "procedure" ? 100 : 200);
    }
  } finally {
    for (const session of [tiny, roomy, owner]) await session.close();
  }
});
