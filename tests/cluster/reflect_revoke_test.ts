/**
 * Registration state that any node may change, seen by every node:
 * `wamp.reflect.define` descriptions (kept in the shared registration
 * table) and `Router.revokeRegistration` of a callee on another node (its
 * node revokes it; the table, hence every view, follows). Three nodes, a
 * real nats-server.
 */

import { deepEqual, equal, rejects } from "node:assert/strict";
import { realmOf } from "../../router/router.ts";
import { startRouter, until } from "../_helpers/router.ts";
import { isUri, joinNode, seen, startCluster, tableHas, TIMING } from "./_cluster.ts";

Deno.test("wamp.reflect.define on the callee's node describes the procedure on every node", async () => {
  await using c = await startCluster(3, "define");
  const [a, b, n3] = c.nodes;
  const callee = await joinNode(b!, "msgpack");
  await callee.register("com.example.described", () => ({}));
  await callee.register("com.example.pat.", () => ({}), { match: "prefix" });
  for (const node of [a!, n3!]) await seen(node, "com.example.described", 1);
  await seen(a!, "com.example.pat.", 1, "prefix");
  const description = { summary: "adds", args: [{ name: "x", type: "int" }] };
  await callee.call("wamp.reflect.define", { args: ["com.example.described", description] });
  await callee.call("wamp.reflect.define", {
    args: ["com.example.pat.", { summary: "pattern" }],
    kwargs: { match: "prefix" },
  });
  for (const [node, serializer] of [[a!, "json"], [n3!, "cbor"]] as const) {
    const dealer = realmOf(node.router, "realm1")!.dealer;
    await until(
      () =>
        dealer.lookup("com.example.described")?.description !== undefined &&
        dealer.lookup("com.example.pat.", "prefix")?.description !== undefined,
      5000,
      "the descriptions reach every node",
    );
    const asker = await joinNode(node, serializer);
    const got = await asker.call("wamp.reflection.procedure.describe", {
      args: ["com.example.described"],
    });
    deepEqual(got.kwargs.description, description);
    equal(got.kwargs.callees, 1);
    const pattern = await asker.call("wamp.reflection.procedure.describe", {
      args: ["com.example.pat."],
      kwargs: { match: "prefix" },
    });
    deepEqual(pattern.kwargs.description, { summary: "pattern" });
    await asker.close();
  }
  // A node that joins later reads the description from the table.
  {
    await using late = await startRouter({
      realms: [{ name: "realm1" }],
      cluster: { servers: [c.nats.url], name: "define", ...TIMING },
    });
    await late.router.ready;
    const dealer = realmOf(late.router, "realm1")!.dealer;
    await until(() => dealer.lookup("com.example.described") !== undefined, 5000, "late node");
    deepEqual(dealer.lookup("com.example.described")!.description, description);
  }
  // Only a callee of the procedure may define it, on any node.
  const second = await joinNode(n3!);
  await rejects(
    second.call("wamp.reflect.define", { args: ["com.example.described", { summary: "no" }] }),
    isUri("wamp.error.no_such_registration"),
  );
  await second.close();
  await callee.close();
  // The description goes with the registration.
  await tableHas(c.nats, "define", 0);
  for (const node of [a!, b!, n3!]) {
    equal(realmOf(node.router, "realm1")!.dealer.lookup("com.example.described"), undefined);
  }
});

Deno.test("a description another node's session defines frees what this node's definer paid for the one it replaced", async () => {
  await using c = await startCluster(2, "redefine", {
    limits: { descriptionBytesPerSession: 25_000 },
  });
  const [a, b] = c.nodes;
  const [onA, onB] = [await joinNode(a!), await joinNode(b!)];
  const shared = { invoke: "roundrobin" as const };
  await onA.register("com.example.shared", () => ({}), shared);
  await onB.register("com.example.shared", () => ({}), shared);
  await onA.register("com.example.own", () => ({}));
  await seen(a!, "com.example.shared", 2);
  const doc = (letter: string) => ({ doc: letter.repeat(20_000) });
  const described = (node: typeof a, letter: string) => () =>
    (realmOf(node!.router, "realm1")!.dealer.lookup("com.example.shared")?.description as
      | { doc: string }
      | undefined)?.doc[0] === letter;
  await onA.call("wamp.reflect.define", { args: ["com.example.shared", doc("a")] });
  await until(described(b, "a"), 5000, "a's description on B");
  // a pays for it (20,012 of its 25,000): another 20,000 is refused.
  await rejects(
    onA.call("wamp.reflect.define", { args: ["com.example.own", doc("o")] }),
    isUri("cloverleaf.error.limit_exceeded"),
  );
  // B's session replaces it: on A it is gone, and a paid on for it (DealerCluster.sync
  // overwrote reg.description, leaving the charge): its next 20,000 were refused.
  await onB.call("wamp.reflect.define", { args: ["com.example.shared", doc("b")] });
  await until(described(a, "b"), 5000, "b's description on A");
  await onA.call("wamp.reflect.define", { args: ["com.example.own", doc("o")] });
  for (const session of [onA, onB]) await session.close();
});

Deno.test("Router.revokeRegistration of another node's callee revokes it on every node", async () => {
  await using c = await startCluster(3, "revoke");
  const [a, b, n3] = c.nodes;
  const onB = await joinNode(b!, "cbor");
  const onC = await joinNode(n3!, "msgpack");
  const caller = await joinNode(a!);
  const reasons: string[] = [];
  const regB = await onB.register("com.example.shared", () => ({ args: ["b"] }), {
    invoke: "roundrobin",
    onRevoked: (reason) => reasons.push(`b:${reason}`),
  });
  const regC = await onC.register("com.example.shared", () => ({ args: ["c"] }), {
    invoke: "roundrobin",
    onRevoked: (reason) => reasons.push(`c:${reason}`),
  });
  for (const node of [a!, b!, n3!]) await seen(node, "com.example.shared", 2);
  // Node A revokes B's callee only: B tells its callee, and every node
  // (A, B and C) is left with C's.
  const onA = realmOf(a!.router, "realm1")!.dealer.lookup("com.example.shared")!;
  equal(a!.router.revokeRegistration("realm1", onA.id, "wamp.close.maintenance", onB.id), true);
  await until(() => reasons.length === 1, 5000, "B's callee hears of it");
  deepEqual(reasons, ["b:wamp.close.maintenance"]);
  equal(regB.active, false);
  equal(regC.active, true);
  for (const node of [a!, b!, n3!]) await seen(node, "com.example.shared", 1);
  for (let i = 0; i < 4; i++) {
    deepEqual((await caller.call("com.example.shared")).args, ["c"]);
  }
  // Then the whole registration, from A again: C's callee goes too.
  equal(a!.router.revokeRegistration("realm1", onA.id, "gone"), true);
  await until(() => reasons.length === 2, 5000, "C's callee hears of it");
  deepEqual(reasons, ["b:wamp.close.maintenance", "c:gone"]);
  for (const node of [a!, b!, n3!]) await seen(node, "com.example.shared", 0);
  await tableHas(c.nats, "revoke", 0);
  await rejects(caller.call("com.example.shared"), isUri("wamp.error.no_such_procedure"));
  for (const s of [onB, onC, caller]) await s.close();
});
