/**
 * Autobahn|JS against a 2-node cluster: an Autobahn subscriber on one node,
 * an Autobahn publisher on the other, once per serializer.
 */

import { deepEqual, equal } from "node:assert/strict";
import {
  autobahn,
  type AutobahnEventDetails,
  AutobahnPeer,
  type Dict,
  Inbox,
  SERIALIZERS,
  unavailable,
} from "../interop/_autobahn.ts";
import { startCluster } from "./_cluster.ts";

for (const serializer of SERIALIZERS) {
  Deno.test({
    name: `[${serializer}] cluster: Autobahn subscriber on B, Autobahn publisher on A`,
    fn: async () => {
      if (autobahn === undefined) throw new Error(unavailable);
      await using c = await startCluster(2, "test");
      const peers: AutobahnPeer[] = [];
      const open = (url: string) =>
        AutobahnPeer.open(autobahn!, url, { serializer, realm: "realm1" }, (p) => peers.push(p));
      try {
        const sub = await open(c.nodes[1]!.url);
        const pub = await open(c.nodes[0]!.url);
        const inbox = new Inbox<{ args: unknown[]; kwargs: Dict; details: AutobahnEventDetails }>();
        await sub.session.subscribe(
          "com.example.ab",
          (args: unknown[], kwargs: Dict, details: AutobahnEventDetails) =>
            inbox.push({ args, kwargs, details }),
        );
        await sub.session.subscribe(
          "com.example",
          (args: unknown[], kwargs: Dict, details: AutobahnEventDetails) =>
            inbox.push({ args, kwargs, details }),
          { match: "prefix" },
        );
        const published = await pub.session.publish("com.example.ab", [1, "two"], { k: 3 }, {
          acknowledge: true,
          disclose_me: true,
        }) as { id: number };
        const [first, second] = await inbox.take(2, "two events on B");
        for (const e of [first!, second!]) {
          deepEqual(e.args, [1, "two"]);
          deepEqual(e.kwargs, { k: 3 });
          equal(e.details.publication, published.id);
          equal(e.details.publisher, pub.session.id);
          equal(e.details.topic, "com.example.ab");
        }
      } finally {
        for (const p of peers) await p[Symbol.asyncDispose]();
      }
    },
  });
}
