/**
 * Requests to another node's sessions (`wamp.session.kill` and its kin,
 * `modify_details`) that the node does not answer in time: what came of
 * them is not known (a stalled node still carries them out when it
 * resumes), so they fail with `cloverleaf.error.cluster_unavailable`,
 * never answered as done (a kill) or as refused (`no_such_session`).
 */

import { equal, rejects } from "node:assert/strict";
import { ClusterNode } from "../../cluster/node.ts";
import { ClusterSessions } from "../../cluster/meta.ts";
import { connect } from "../../mod.ts";
import type {
  SessionCluster,
  SessionClusterHooks,
} from "../../router/core/meta/cluster_sessions.ts";
import { NOTHING } from "../../router/core/output.ts";
import type { Realm } from "../../router/core/realm.ts";
import { realmOf } from "../../router/router.ts";
import { startNats } from "../_helpers/nats.ts";
import { startRouter } from "../_helpers/router.ts";
import { isUri, TIMING } from "./_cluster.ts";

const quiet = () => {};

/** A realm of one node that has no sessions, and answers every request. */
function emptyRealm(linked: (hooks: SessionClusterHooks) => void): Realm {
  const sessions = {
    snapshot: () => NOTHING,
    receive: () => NOTHING,
    nodeDown: () => NOTHING,
    kill: () => NOTHING,
    modify: () => ({ refused: undefined, out: NOTHING }),
  } as unknown as SessionCluster;
  return {
    shareSessions: (hooks: SessionClusterHooks) => {
      linked(hooks);
      return sessions;
    },
  } as unknown as Realm;
}

Deno.test("a kill or modify_details another node does not answer in time fails; one it answers is done", async () => {
  const nats = await startNats();
  const options = { servers: [nats.url], name: "mt", ...TIMING };
  const [a, b, c] = [
    await ClusterNode.connect(options, quiet),
    await ClusterNode.connect(options, quiet),
    await ClusterNode.connect(options, quiet),
  ];
  const logged: string[] = [];
  const onA = new ClusterSessions(a, () => {}, quiet); // 5 s for B's answers
  const onB = new ClusterSessions(b, () => {}, quiet);
  const onC = new ClusterSessions(c, () => {}, (_level, line) => logged.push(line), 300);
  try {
    let fromA!: SessionClusterHooks;
    let fromC!: SessionClusterHooks;
    onA.link("realm1", emptyRealm((linked) => fromA = linked));
    onB.link("realm1", emptyRealm(() => {}));
    onC.link("realm1", emptyRealm((linked) => fromC = linked));
    await b.flush(); // B's subscriptions are at the server
    // B answers (the control): done.
    await fromA.kill(new Map([[b.id, [5]]]), "wamp.close.killed", undefined, false);
    equal(await fromA.modify(b.id, 5, { label: "x" }), undefined);
    // A node that never answers (stalled, or gone unnoticed): the requests fail.
    await rejects(
      Promise.resolve(
        fromC.kill(new Map([["silent", [5]]]), "wamp.close.killed", undefined, false),
      ),
      /node silent did not answer a kill request/,
    );
    await rejects(
      Promise.resolve(fromC.modify("silent", 5, { label: "x" })),
      /node silent did not answer a modify_details request/,
    );
    equal(logged.length, 2, logged.join("\n"));
  } finally {
    for (const sessions of [onA, onB, onC]) sessions.close();
    for (const node of [a, b, c]) await node.close(500);
    await nats.stop();
  }
});

Deno.test("modify_details whose request to the session's node failed is cluster_unavailable, not no_such_session", async () => {
  await using t = await startRouter({
    realms: [{ name: "realm1", meta: { kill: true, modifyDetails: true } }],
  });
  const cluster = realmOf(t.router, "realm1")!.shareSessions({
    node: "n1",
    realm: "realm1",
    kill: () => Promise.reject(new Error("node n2 did not answer a kill request")),
    modify: () => Promise.reject(new Error("node n2 did not answer a modify_details request")),
  });
  cluster.receive({ k: "join", realm: "realm1", node: "n2", details: { session: 9999 } });
  const admin = await connect(t.url, { realm: "realm1" });
  await rejects(
    admin.meta.sessions.modifyDetails(9999, { label: "x" }),
    isUri("cloverleaf.error.cluster_unavailable"),
  );
  await rejects(admin.meta.sessions.kill(9999), isUri("cloverleaf.error.cluster_unavailable"));
  await admin.close();
});
