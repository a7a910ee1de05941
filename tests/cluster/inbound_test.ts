/**
 * What NATS brings a node is handled in order and in turns of at most
 * TURN_MS, with node events in the same line, in bounded memory, and
 * nothing after close (`cluster/inbound.ts`); the last test runs two real
 * nodes over nats-server.
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import {
  DROP_AT,
  ENTRY_BYTES,
  Inbound,
  MAX_WAITING_BYTES,
  TURN_MS,
} from "../../cluster/inbound.ts";
import type { ClusterNode } from "../../cluster/node.ts";
import { serveAdmin } from "../../router/mod.ts";
import { clusterNodeOf, realmOf } from "../../router/router.ts";
import { join, until } from "../_helpers/router.ts";
import { startCluster, withTwoNodes } from "./_cluster.ts";

const quiet = () => {};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function busy(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) { /* work */ }
}

/** A batch (`cluster/batch.ts`) of one-byte messages `from`, `from + 1`, … */
function batch(from: number, count: number): Uint8Array {
  const data = new Uint8Array(1 + 5 * count);
  data[0] = 0xc1;
  for (let i = 0; i < count; i++) {
    data[1 + 5 * i + 3] = 1;
    data[1 + 5 * i + 4] = from + i;
  }
  return data;
}

Deno.test("Inbound: past TURN_MS the rest waits, in order, batches split between turns", async () => {
  const inbound = new Inbound(quiet);
  const done: number[] = [];
  const handler = (data: Uint8Array) => {
    busy(TURN_MS / 4);
    done.push(data[0]!);
  };
  inbound.message(batch(0, 6), "a", handler);
  inbound.message(batch(6, 6), "b", handler);
  const first = done.length;
  ok(first >= 3 && first <= 5, `${first} in the first turn`);
  let between = -1;
  setTimeout(() => between = done.length);
  await until(() => done.length === 12, 3000);
  deepEqual(done, Array.from({ length: 12 }, (_, i) => i));
  ok(between > first && between < 12, `the event loop turned with ${between} done`);
  inbound.close();
});

Deno.test("Inbound: what arrives within its turn's time runs at once", () => {
  const inbound = new Inbound(quiet);
  const done: number[] = [];
  for (let i = 0; i < 100; i++) inbound.message(new Uint8Array([i]), "a", (d) => done.push(d[0]!));
  equal(done.length, 100);
  equal(inbound.waiting, 0);
  inbound.close();
});

Deno.test("Inbound: a node event waits behind the messages before it, and runs before those after", async () => {
  const inbound = new Inbound(quiet);
  const seen: string[] = [];
  const slow = (data: Uint8Array) => {
    busy(TURN_MS / 2);
    seen.push(`m${data[0]}`);
  };
  for (let i = 0; i < 4; i++) inbound.message(new Uint8Array([i]), "a", slow);
  inbound.event(() => seen.push("down"));
  inbound.message(new Uint8Array([4]), "a", slow);
  ok(!seen.includes("down"), "the event waits");
  await until(() => seen.length === 6, 3000);
  deepEqual(seen, ["m0", "m1", "m2", "m3", "down", "m4"]);
  inbound.close();
});

Deno.test("Inbound: what waits is a copy, not a view of the NATS client's buffer", async () => {
  const inbound = new Inbound(quiet);
  const got: number[] = [];
  inbound.message(new Uint8Array([0]), "a", () => busy(TURN_MS));
  const buffer = new Uint8Array(1024).fill(7);
  inbound.message(buffer.subarray(0, 1), "a", (data) => {
    got.push(data[0]!);
    equal(data.buffer.byteLength, 1, "not the 1 KiB buffer");
  });
  buffer.fill(9); // the NATS client reuses its buffer
  await until(() => got.length === 1, 2000);
  deepEqual(got, [7]);
  inbound.close();
});

Deno.test("Inbound: past MAX_WAITING_BYTES the oldest is handled at once, so memory stays bounded", () => {
  const inbound = new Inbound(quiet);
  let handled = 0;
  inbound.message(new Uint8Array([0]), "a", () => busy(TURN_MS)); // this turn is over
  const size = 64 * 1024;
  const fits = Math.floor(MAX_WAITING_BYTES / (size + ENTRY_BYTES));
  for (let i = 0; i < fits + 50; i++) inbound.message(new Uint8Array(size), "a", () => handled++);
  equal(handled, 50, "the 50 past the limit made room at once, oldest first");
  equal(inbound.waiting, fits);
  inbound.close();
});

Deno.test("Inbound: past DROP_AT publications are dropped (counted, warned once), other messages still wait", async () => {
  const warnings: string[] = [];
  const inbound = new Inbound((level, text) => level === "warn" && warnings.push(text));
  const handled: string[] = [];
  inbound.message(new Uint8Array([0]), "a", () => busy(TURN_MS)); // this turn is over
  const size = 64 * 1024;
  const fits = Math.ceil(DROP_AT / (size + ENTRY_BYTES));
  for (let i = 0; i < fits + 20; i++) {
    inbound.message(new Uint8Array(size), "pub", () => handled.push("pub"), true);
  }
  inbound.message(batch(0, 3), "pub", () => handled.push("pub"), true);
  inbound.message(new Uint8Array([1]), "rpc", () => handled.push("rpc"));
  equal(inbound.dropped, 23, "20 publications and a batch of 3");
  equal(inbound.waiting, fits + 1);
  equal(warnings.length, 1);
  ok(/dropping their publications \(1 so far\)$/.test(warnings[0]!), warnings[0]);
  await until(() => handled.length === fits + 1, 5000);
  equal(handled.at(-1), "rpc");
  inbound.close();
});

Deno.test("Inbound: other messages waiting do not count against DROP_AT: a publication behind them waits", async () => {
  const inbound = new Inbound(quiet);
  const handled: string[] = [];
  inbound.message(new Uint8Array([0]), "a", () => busy(TURN_MS)); // this turn is over
  const size = 64 * 1024;
  const count = Math.ceil(DROP_AT / (size + ENTRY_BYTES)) + 10; // more than DROP_AT of calls
  for (let i = 0; i < count; i++) {
    inbound.message(new Uint8Array(size), "rpc", () => handled.push("rpc"));
  }
  inbound.message(new Uint8Array([0x90]), "pub", () => handled.push("pub"), true);
  equal(inbound.dropped, 0);
  await until(() => handled.length === count + 1, 5000);
  equal(handled.at(-1), "pub");
  inbound.close();
});

Deno.test("Inbound: once closed, nothing waiting or new is handled", async () => {
  const inbound = new Inbound(quiet);
  const seen: number[] = [];
  inbound.message(new Uint8Array([0]), "a", () => busy(TURN_MS));
  inbound.message(new Uint8Array([1]), "a", (d) => seen.push(d[0]!));
  inbound.event(() => seen.push(-1));
  inbound.close();
  inbound.message(new Uint8Array([2]), "a", (d) => seen.push(d[0]!));
  inbound.event(() => seen.push(-2));
  await sleep(50);
  deepEqual(seen, []);
  equal(inbound.waiting, 0);
});

Deno.test("cluster node: a node's farewell is acted on after what it sent before it, and the loop turns meanwhile", async () => {
  await withTwoNodes(async (a, b) => {
    let handled = 0;
    let atDown = -1;
    let ticks = 0;
    a.subscribe(a.subject("flood"), () => {
      busy(1);
      handled++;
    });
    a.onNodeDown(() => atDown = handled);
    await a.flush();
    const n = 200; // 200 ms of work: ten turns
    for (let i = 0; i < n; i++) b.publish(b.subject("flood"), new Uint8Array([0x90])); // MessagePack, never 0xc1 (a batch)
    const timer = setInterval(() => ticks++, 5);
    await b.close();
    await until(() => atDown !== -1, 5000);
    clearInterval(timer);
    equal(atDown, n, `every message of the node before its farewell (${atDown}, ${handled} now)`);
    ok(ticks >= 5, `timers ran between turns (${ticks})`);
  });
});

/**
 * Gives `node` a line: 300 NATS messages of 2 ms each (as a burst of
 * publications to many subscribers would), sent from a connection of the
 * test's, which it returns (close it).
 */
async function busyLine(node: ClusterNode, url: string) {
  node.subscribe(node.subject("slow"), () => busy(2));
  await node.flush();
  const { connect } = await import("@nats-io/transport-node");
  const nc = await connect({ servers: [url] });
  for (let i = 0; i < 300; i++) nc.publish(node.subject("slow"), new Uint8Array([0x90]));
  return nc;
}

Deno.test("cluster: a node's 'back' waiting in line ends only the calls forwarded to it before it arrived", async () => {
  await using c = await startCluster(2, "back");
  const [a, b] = c.nodes as [typeof c.nodes[0], typeof c.nodes[0]];
  const callee = await join(b, "json");
  await callee.register("com.example.echo", () => ({ args: ["ok"] }));
  const caller = await join(a, "json");
  const dealer = realmOf(a.router, "realm1")!.dealer;
  await until(() => (dealer.lookup("com.example.echo", "exact")?.callees.length ?? 0) === 1, 5000);
  const nodeA = clusterNodeOf(a.router)!;
  const nodeB = clusterNodeOf(b.router)!;
  const nc = await busyLine(nodeA, c.nats.url);
  try {
    nc.publish(nodeA.subject("nodes", "back", nodeB.id)); // what B says after a reconnect
    await nc.flush();
    await sleep(60); // A has read it; its line is still busy
    const outcome = await caller.call("com.example.echo").then(
      (r) => `result ${r.args[0]}`,
      (e) => `error ${e.uri ?? e}`,
    );
    equal(outcome, "result ok");
  } finally {
    await nc.close();
  }
});

Deno.test("Inbound: a publication that would take what waits past MAX_WAITING_BYTES is dropped, not what waits run at once", () => {
  const inbound = new Inbound(quiet);
  inbound.message(new Uint8Array([0]), "a", () => busy(TURN_MS)); // this turn is over
  const size = 64 * 1024;
  const calls = Math.floor((MAX_WAITING_BYTES - 1024 * 1024) / (size + ENTRY_BYTES));
  let ran = 0;
  for (let i = 0; i < calls; i++) inbound.message(new Uint8Array(size), "rpc", () => ran++);
  for (let i = 0; i < 200; i++) inbound.message(new Uint8Array(size), "pub", () => {}, true);
  equal(ran, 0, "the calls still wait");
  ok(inbound.dropped > 150, `${inbound.dropped} publications dropped`);
  inbound.close();
});

Deno.test("cluster: /metrics shows what waits in line and the publications dropped", async () => {
  await using c = await startCluster(1, "metrics");
  const [a] = c.nodes as [typeof c.nodes[0]];
  const admin = await serveAdmin(a.router, { port: 0, listeners: [a.listener] });
  try {
    const text = await (await fetch(`${admin.url}/metrics`)).text();
    ok(/^cloverleaf_cluster_inbound_waiting 0$/m.test(text), text);
    ok(/^cloverleaf_cluster_dropped_publications_total 0$/m.test(text), text);
  } finally {
    await admin.close();
  }
});

Deno.test("Inbound: a handler that adds an event while the oldest are handled at once loses nothing", async () => {
  const inbound = new Inbound(quiet);
  const seen: string[] = [];
  inbound.message(new Uint8Array([0]), "a", () => busy(TURN_MS)); // this turn is over
  const size = 4 * 1024 * 1024;
  const count = Math.ceil(MAX_WAITING_BYTES / size) + 1;
  for (let i = 0; i < count; i++) {
    inbound.message(new Uint8Array(size), `m${i}`, (_data, subject) => {
      seen.push(subject);
      if (subject === "m0") inbound.event(() => seen.push("event"));
    });
  }
  await until(() => inbound.waiting === 0, 3000);
  inbound.close();
  deepEqual(seen.filter((s) => s !== "event"), Array.from({ length: count }, (_, i) => `m${i}`));
  equal(seen.filter((s) => s === "event").length, 1);
});

Deno.test("Inbound: node events count against MAX_WAITING_BYTES too: past it the oldest run at once", () => {
  const inbound = new Inbound(quiet);
  inbound.message(new Uint8Array([0]), "a", () => busy(TURN_MS)); // this turn is over
  inbound.message(new Uint8Array([1]), "a", () => {}); // waits: events now wait behind it
  let ran = 0;
  const events = Math.floor(MAX_WAITING_BYTES / ENTRY_BYTES) + 10;
  for (let i = 0; i < events; i++) inbound.event(() => ran++);
  ok(ran >= 9 && ran < events, `${ran} ran at once`);
  inbound.close();
});
