/**
 * Event history across a cluster: a JetStream stream per realm holds what
 * the realm's rules cover (and nothing else), every node reads it, and a
 * node that restarts reads it back; over real sockets and a real
 * nats-server.
 */

import { deepEqual, equal } from "node:assert/strict";
import { connect } from "../../mod.ts";
import { startRouter, type TestRouter } from "../_helpers/router.ts";
import { startNats } from "../_helpers/nats.ts";
import { joinNode, TIMING } from "./_cluster.ts";

const HISTORY = {
  name: "realm1",
  eventHistory: [
    { topic: "com.example.log", match: "prefix" as const, limit: 5 },
    { topic: "com.example.one", limit: 2 },
  ],
};

function historyNode(url: string): Promise<TestRouter> {
  return startRouter({
    realms: [HISTORY],
    cluster: { servers: [url], name: "hist", ...TIMING },
  }).then(async (node) => {
    await node.router.ready;
    return node;
  });
}

/** The first arguments of a history subscription's events, as `get_events` on `node` returns them. */
async function historyOn(node: TestRouter, topic: string, match = "exact"): Promise<unknown[]> {
  const s = await joinNode(node, "msgpack");
  try {
    const id = (await s.call("wamp.subscription.lookup", { args: [topic, { match }] })).args[0];
    const events = (await s.call("wamp.subscription.get_events", { args: [id] })).args as {
      args: unknown[];
    }[];
    return events.map((e) => e.args[0]);
  } finally {
    await s.close();
  }
}

Deno.test("cluster: event history is the same on every node and survives restarts (JetStream stream)", async () => {
  const nats = await startNats();
  const nodes: TestRouter[] = [];
  try {
    nodes.push(await historyNode(nats.url), await historyNode(nats.url));
    const [a, b] = nodes;
    const onA = await joinNode(a!);
    const onB = await joinNode(b!, "cbor");
    for (let i = 1; i <= 4; i++) {
      await onA.publish(`com.example.log.a${i}`, { args: [`a${i}`] }, { acknowledge: true });
      await onB.publish(`com.example.log.b${i}`, { args: [`b${i}`] }, { acknowledge: true });
    }
    for (let i = 1; i <= 3; i++) {
      await onB.publish("com.example.one", { args: [i] }, { acknowledge: true });
    }
    // Lists of session IDs mean nothing to a later requester: not kept (authid lists are).
    const ack = { acknowledge: true };
    await onB.publish("com.example.one", { args: ["excluded"] }, { ...ack, exclude: [onA.id] });
    await onB.publish("com.example.one", { args: ["eligible"] }, { ...ack, eligible: [onA.id] });
    await onA.publish("com.example.one", { args: [4] }, { ...ack, exclude_authid: ["nobody"] });
    await onA.publish("com.example.other", { args: ["no rule"] }, { acknowledge: true });
    const expected = ["b2", "a3", "b3", "a4", "b4"];
    for (const node of nodes) {
      let got: unknown[] = [];
      for (let tries = 0; tries < 200; tries++) {
        got = await historyOn(node, "com.example.log", "prefix");
        const one = await historyOn(node, "com.example.one");
        if (got.length === 5 && got[4] === "b4" && one.at(-1) === 4) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      deepEqual(got, expected);
      deepEqual(await historyOn(node, "com.example.one"), [3, 4]);
    }
    await onA.close();
    await onB.close();
    // B restarts: it reads the same history back.
    await nodes.pop()![Symbol.asyncDispose]();
    nodes.push(await historyNode(nats.url));
    deepEqual(await historyOn(nodes[1]!, "com.example.log", "prefix"), expected);
    // Every node down, then one up: still there.
    for (const node of nodes.splice(0)) await node[Symbol.asyncDispose]();
    nodes.push(await historyNode(nats.url));
    deepEqual(await historyOn(nodes[0]!, "com.example.log", "prefix"), expected);
    deepEqual(await historyOn(nodes[0]!, "com.example.one"), [3, 4]);
  } finally {
    for (const node of nodes) await node[Symbol.asyncDispose]();
    await nats.stop();
  }
});

Deno.test("cluster: one realm's history flood does not push out another realm's stored history", async () => {
  const realms = [
    { name: "realm1", eventHistory: [{ topic: "com.victim.log", limit: 10 }] },
    { name: "realm2", eventHistory: [{ topic: "com.attacker.log", limit: 100 }] },
  ];
  const nats = await startNats();
  const start = async () => {
    const node = await startRouter({
      realms,
      cluster: { servers: [nats.url], name: "hx", ...TIMING },
    });
    await node.router.ready;
    return node;
  };
  // A stream all realms shared, as earlier versions made it: removed, its subjects overlap.
  const { connect: natsConnect } = await import("@nats-io/transport-node");
  const { jetstreamManager } = await import("@nats-io/jetstream");
  const nc = await natsConnect({ servers: [nats.url] });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: "clv_hx_history", subjects: ["clv.hx.pub.>"] });
  const nodes: TestRouter[] = [];
  try {
    nodes.push(await start());
    const names: string[] = [];
    for await (const info of jsm.streams.list()) {
      if (info.config.name.includes("history")) names.push(info.config.name);
    }
    deepEqual(names.sort(), ["clv_hx_history_realm1", "clv_hx_history_realm2"]);
    const victim = await connect(nodes[0]!.url, { realm: "realm1" });
    for (let i = 1; i <= 3; i++) {
      await victim.publish("com.victim.log", { args: [`v${i}`] }, { acknowledge: true });
    }
    await victim.close();
    const attacker = await connect(nodes[0]!.url, { realm: "realm2", serializers: ["msgpack"] });
    for (let i = 0; i < 60; i++) {
      await attacker.publish("com.attacker.log", { args: [i, "x".repeat(60_000)] }, {
        acknowledge: true,
      });
    }
    await attacker.close();
    await nodes.pop()![Symbol.asyncDispose]();
    nodes.push(await start()); // reads the history back from the streams
    const s = await connect(nodes[0]!.url, { realm: "realm1" });
    const id = (await s.call("wamp.subscription.lookup", { args: ["com.victim.log"] })).args[0];
    const events = (await s.call("wamp.subscription.get_events", { args: [id] })).args as {
      args: unknown[];
    }[];
    deepEqual(events.map((e) => e.args[0]), ["v1", "v2", "v3"]);
    await s.close();
  } finally {
    await nc.close();
    for (const node of nodes) await node[Symbol.asyncDispose]();
    await nats.stop();
  }
});

Deno.test("cluster: the history stream holds only what a rule covers: a prefix rule's parent's flood pushes out nothing", async () => {
  // "com.example.log" has the subject com.example.> (it covers com.example.logs too); the exact rule
  // is under it, captured by its own subject.
  const realms = [{
    name: "realm1",
    limits: { historyBytes: 64 * 1024 }, // the stream: 2 rules x 64 KiB
    eventHistory: [
      { topic: "com.example.log", match: "prefix" as const, limit: 5 },
      { topic: "com.example.log.a1", limit: 2 },
    ],
  }];
  const nats = await startNats();
  const start = async () => {
    const node = await startRouter({
      realms,
      cluster: { servers: [nats.url], name: "hsc", ...TIMING },
    });
    await node.router.ready;
    return node;
  };
  const { connect: natsConnect } = await import("@nats-io/transport-node");
  const { jetstreamManager } = await import("@nats-io/jetstream");
  const nc = await natsConnect({ servers: [nats.url] });
  const nodes: TestRouter[] = [];
  try {
    nodes.push(await start());
    const s = await connect(nodes[0]!.url, { realm: "realm1", serializers: ["msgpack"] });
    for (let i = 1; i <= 3; i++) {
      await s.publish(`com.example.log.a${i}`, { args: [`a${i}`] }, { acknowledge: true });
    }
    // 400 kB no rule covers, under com.example: before, the stream took them and dropped a1..a3.
    for (let i = 0; i < 20; i++) {
      await s.publish(`com.example.zzz${i}`, { args: [i, "x".repeat(20_000)] }, {
        acknowledge: true,
      });
    }
    await s.close();
    await nodes.pop()![Symbol.asyncDispose]();
    nodes.push(await start()); // reads the history back from the stream
    deepEqual(await historyOn(nodes[0]!, "com.example.log", "prefix"), ["a1", "a2", "a3"]);
    deepEqual(await historyOn(nodes[0]!, "com.example.log.a1"), ["a1"]);
    const info = await (await jetstreamManager(nc)).streams.info("clv_hsc_history_realm1");
    equal(info.state.messages, 3, "a1 (its subject), copies of a2 and a3; nothing else");
  } finally {
    await nc.close();
    for (const node of nodes) await node[Symbol.asyncDispose]();
    await nats.stop();
  }
});
