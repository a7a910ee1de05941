/**
 * Autobahn|JS against a 3-node cluster, once per serializer: a callee on
 * node B that publishes on every call, callers on nodes A and C,
 * subscribers on nodes A and C (and B, the publisher's own node).
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
import { seen, startCluster } from "./_cluster.ts";

interface Event {
  args: unknown[];
  kwargs: Dict;
  details: AutobahnEventDetails;
}

for (const serializer of SERIALIZERS) {
  Deno.test({
    name:
      `[autobahn ${serializer}] 3 nodes: callee+publisher on B, callers and subscribers on A and C`,
    async fn() {
      if (autobahn === undefined) throw new Error(unavailable);
      await using c = await startCluster(3, "ab3");
      const [a, b, cc] = c.nodes;
      const peers: AutobahnPeer[] = [];
      const open = (url: string) =>
        AutobahnPeer.open(autobahn!, url, { serializer, realm: "realm1" }, (p) => peers.push(p));
      try {
        const onA = await open(a!.url);
        const onB = await open(b!.url);
        const onC = await open(cc!.url);
        const inboxes = [new Inbox<Event>(), new Inbox<Event>(), new Inbox<Event>()];
        for (const [i, peer] of [onA, onB, onC].entries()) {
          await peer.session.subscribe(
            "com.example.sum",
            (args: unknown[], kwargs: Dict, details: AutobahnEventDetails) =>
              inboxes[i]!.push({ args, kwargs, details }),
          );
        }
        await onB.session.register("com.example.add2", async (args, _kwargs, details) => {
          const sum = Number(args[0]) + Number(args[1]);
          await onB.session.publish("com.example.sum", [sum], { caller: details.caller }, {
            acknowledge: true,
            exclude_me: false,
          });
          return sum;
        }, { disclose_caller: true });
        await seen(a!, "com.example.add2", 1);
        await seen(cc!, "com.example.add2", 1);

        equal(await onA.session.call("com.example.add2", [20, 22]), 42);
        equal(await onC.session.call("com.example.add2", [1, 2]), 3);
        for (const [i, inbox] of inboxes.entries()) {
          const events = await inbox.take(2, `two events on node ${"ABC"[i]}`);
          deepEqual(events.map((e) => e.args), [[42], [3]]);
          deepEqual(events.map((e) => e.kwargs), [
            { caller: onA.session.id },
            { caller: onC.session.id },
          ]);
        }

        // A publisher on A, a subscriber on C: publication ID and disclosed publisher.
        const extra = new Inbox<Event>();
        const sub = await onC.session.subscribe(
          "com.example.extra",
          (args: unknown[], kwargs: Dict, details: AutobahnEventDetails) =>
            extra.push({ args, kwargs, details }),
        );
        const published = await onA.session.publish("com.example.extra", ["x"], {}, {
          acknowledge: true,
          disclose_me: true,
        }) as { id: number };
        const [event] = await extra.take(1, "an event on C from A");
        deepEqual(event!.args, ["x"]);
        equal(event!.details.publication, published.id);
        equal(event!.details.publisher, onA.session.id);
        await sub.unsubscribe();
      } finally {
        for (const p of peers) await p[Symbol.asyncDispose]();
      }
    },
  });
}
