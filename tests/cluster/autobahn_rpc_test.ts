/**
 * Autobahn|JS against a 2-node cluster: an Autobahn caller on one node, an
 * Autobahn callee on the other, once per serializer.
 */

import { deepEqual } from "node:assert/strict";
import { autobahn, AutobahnPeer, SERIALIZERS, unavailable } from "../interop/_autobahn.ts";
import { seen, startCluster } from "./_cluster.ts";

for (const serializer of SERIALIZERS) {
  Deno.test({
    name: `[autobahn ${serializer}] caller on node A, callee on node B`,
    async fn() {
      if (autobahn === undefined) throw new Error(unavailable);
      await using c = await startCluster(2, "ab");
      const [a, b] = c.nodes;
      const peers: AutobahnPeer[] = [];
      const track = (peer: AutobahnPeer) => peers.push(peer);
      try {
        const options = { serializer, realm: "realm1" };
        const callee = await AutobahnPeer.open(autobahn, b!.url, options, track);
        const caller = await AutobahnPeer.open(autobahn, a!.url, options, track);
        await callee.session.register(
          "com.example.add2",
          (args) => Number(args[0]) + Number(args[1]),
        );
        await seen(a!, "com.example.add2", 1);
        deepEqual(await caller.session.call("com.example.add2", [20, 22]), 42);
      } finally {
        for (const peer of peers) await peer.close().catch(() => {});
      }
    },
  });
}
