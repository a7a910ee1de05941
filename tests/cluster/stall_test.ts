/**
 * A node taken for down while it is alive: its process stopped (SIGSTOP)
 * past the other nodes' `nodeTimeout`, then run again (SIGCONT). It takes no
 * node for down itself (its own stall, `node_test.ts`), so only the other
 * side's view says down: the calls the two shared end on both sides, every
 * caller answered and every callee interrupted, and calls go both ways again
 * once it is heard from. A stall short of `nodeTimeout` that outlasts a
 * call's timeout still times the call out, on the caller's node. Real
 * nats-server, the node in its own process.
 */

/** The nodes that tell `node` they had taken it for down (what NATS carries to it). */
async function toldDown(
  natsUrl: string,
  subject: string,
): Promise<[string[], () => Promise<void>]> {
  const { connect } = await import("@nats-io/transport-node");
  const nc = await connect({ servers: [natsUrl] });
  const from: string[] = [];
  nc.subscribe(subject, {
    callback: (_error, msg) => {
      for (const one of unbatch(msg.data)) {
        const envelope = decode(one) as { k: string; from: string };
        if (envelope.k === "down") from.push(envelope.from);
      }
    },
  });
  await nc.flush();
  return [from, () => nc.close()];
}

import { deepEqual, ok } from "node:assert/strict";
import { decode, encode } from "@msgpack/msgpack";
import { ApplicationError, connect, type Session } from "../../mod.ts";
import { unbatch } from "../../cluster/batch.ts";
import { clusterNodeOf } from "../../router/router.ts";
import { rawWebSocket } from "../_helpers/raw_websocket.ts";
import { until, within } from "../_helpers/router.ts";
import { joinNode, seen, spawnNode, startCluster } from "./_cluster.ts";

/** A callee that never answers: it records the INVOCATION and the INTERRUPT's reason. */
async function hanging(session: Session, procedure: string, log: string[]): Promise<void> {
  await session.register(
    procedure,
    (_args, _kwargs, _details, invocation) =>
      new Promise((_resolve, reject) => {
        log.push(`${procedure} invoked`);
        invocation.signal.addEventListener("abort", () => {
          const reason = invocation.signal.reason;
          log.push(`${procedure} interrupted: ${reason instanceof ApplicationError && reason.uri}`);
          reject(invocation.signal.reason);
        });
      }),
  );
}

/** How a call ended: RESULT, or the ERROR's URI. */
function outcome(call: Promise<unknown>): Promise<string> {
  return call.then(() => "RESULT", (e) => e instanceof ApplicationError ? e.uri : String(e));
}

Deno.test("cluster: a node stopped past nodeTimeout and run again: the calls it shared end on both sides, callees interrupted", async () => {
  await using c = await startCluster(1, "stall");
  const a = c.nodes[0]!;
  const b = await spawnNode(c.nats.url, "stall");
  const sessions: Session[] = [];
  let stopped = false;
  const idA = clusterNodeOf(a.router)!.id;
  await until(() => clusterNodeOf(a.router)!.nodes().length === 2, 5000, "A hears B");
  const idB = clusterNodeOf(a.router)!.nodes().find((id) => id !== idA)!;
  const [told, stopWatching] = await toldDown(c.nats.url, `clv.stall.node.${idB}.rpc`);
  try {
    const join = async (url: string) => {
      const session = await connect(url, { realm: "realm1", serializers: ["msgpack"] });
      sessions.push(session);
      return session;
    };
    const log: string[] = [];
    await hanging(await join(a.listener.urls.websocket!), "com.example.on_a", log);
    const calleeB = await join(b.url);
    await hanging(calleeB, "com.example.on_b", log);
    await calleeB.register("com.example.echo_b", (args) => ({ args }));
    const callerA = await join(a.listener.urls.websocket!);
    await callerA.register("com.example.echo_a", (args) => ({ args }));
    const callerB = await join(b.url);
    await seen(a, "com.example.on_b", 1);
    await seen(a, "com.example.echo_b", 1);
    const lookup = (procedure: string) =>
      callerB.call("wamp.registration.lookup", { args: [procedure] }).then((r) => r.args[0]);
    for (const procedure of ["com.example.on_a", "com.example.echo_a"]) {
      const deadline = Date.now() + 5000;
      while (await lookup(procedure) === null) {
        ok(Date.now() < deadline, `B sees ${procedure}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    // A call each way in flight: A's caller to B's callee, B's caller to A's callee.
    const fromA = outcome(callerA.call("com.example.on_b"));
    const fromB = outcome(callerB.call("com.example.on_a"));
    await until(() => log.length === 2, 5000, "both callees invoked");

    const down: string[] = [];
    clusterNodeOf(a.router)!.onNodeDown((id) => down.push(id));
    b.process.kill("SIGSTOP");
    stopped = true;
    await until(() => down.length === 1, 10_000, "A takes B for down");
    b.process.kill("SIGCONT");
    stopped = false;

    // Both callers are answered (B's learns it from A once it runs again; it waited for ever),
    // and both callees are interrupted (B's waited for ever).
    const canceled = "wamp.error.canceled";
    deepEqual(await within(Promise.all([fromA, fromB]), 10_000, "the callers' answers"), [
      canceled,
      canceled,
    ]);
    await until(() => log.length === 4, 10_000, "both callees interrupted");
    deepEqual(log.slice(2).sort(), [
      "com.example.on_a interrupted: wamp.error.canceled",
      "com.example.on_b interrupted: wamp.error.canceled",
    ]);

    // Heard again, B is told by A (it drops the proxies of A's callers, should A's CANCELs have
    // been lost: "forgottenBy" below).
    await until(() => told.length === 1, 5000, "A tells B");
    deepEqual(told, [idA]);
    // Heard again: calls go both ways (B's callers' proxies on A went, B's callee is back on A).
    await seen(a, "com.example.echo_b", 1);
    deepEqual((await callerA.call("com.example.echo_b", { args: [1] })).args, [1]);
    deepEqual((await callerB.call("com.example.echo_a", { args: [2] })).args, [2]);
  } finally {
    await stopWatching();
    if (stopped) b.process.kill("SIGCONT");
    for (const session of sessions) await session.close().catch(() => {});
    b.process.kill("SIGKILL");
    await b.process.status;
  }
});

Deno.test("cluster: a node told that another had taken it for down drops that node's callers' proxies, their callees interrupted", async () => {
  await using c = await startCluster(2, "forgotten");
  const [a, b] = c.nodes as [typeof c.nodes[0], typeof c.nodes[0]];
  const log: string[] = [];
  const callee = await joinNode(b);
  await hanging(callee, "com.example.on_b", log);
  await seen(a, "com.example.on_b", 1);
  const caller = await joinNode(a);
  const call = outcome(caller.call("com.example.on_b"));
  await until(() => log.length === 1, 5000, "the callee invoked");
  // What A sends B when it hears B again after taking it for down (A ended the call then).
  const [idA, idB] = [a, b].map((node) => clusterNodeOf(node.router)!.id);
  const { connect } = await import("@nats-io/transport-node");
  const nc = await connect({ servers: [c.nats.url] });
  nc.publish(`clv.forgotten.node.${idB}.rpc`, encode({ k: "down", from: idA }));
  await nc.flush();
  await nc.close();
  await until(() => log.length === 2, 5000, "the callee interrupted");
  deepEqual(log, ["com.example.on_b invoked", "com.example.on_b interrupted: wamp.error.canceled"]);
  ok(b.logs.some((line) => line.includes(`node ${idA} had taken this node for down`)));
  await caller.close(); // A still waits: it did not take B for down here
  ok((await call).length > 0);
  await callee.close();
});

Deno.test("cluster: a call whose callee's node stalls short of nodeTimeout still times out, on the caller's node", async () => {
  // A takes no node for down within a minute: B's stall is one it waits out.
  await using c = await startCluster(1, "late", {}, { heartbeat: 100, nodeTimeout: 60_000 });
  const a = c.nodes[0]!;
  const b = await spawnNode(c.nats.url, "late");
  let stopped = false;
  const log: string[] = [];
  const callee = await connect(b.url, { realm: "realm1" });
  try {
    await hanging(callee, "com.example.slow", log);
    await seen(a, "com.example.slow", 1);
    // A raw caller: the client's own timer (1 s past the timeout) would answer it too.
    await using ws = await rawWebSocket(a.listener.urls.websocket!, ["wamp.2.json"]);
    const read = async () => JSON.parse(new TextDecoder().decode((await ws.read()).payload));
    await ws.send(JSON.stringify([1, "realm1", { roles: { caller: {} } }]));
    deepEqual((await read())[0], 2);
    await ws.send(JSON.stringify([48, 1, { timeout: 1000 }, "com.example.slow"]));
    await until(() => log.length === 1, 5000, "the callee invoked");
    b.process.kill("SIGSTOP"); // B's timer for the call cannot fire while it is stopped
    stopped = true;
    deepEqual(await within(read(), 10_000, "the caller's answer while B is stopped"), [
      8,
      48,
      1,
      {},
      "wamp.error.timeout",
    ]);
    b.process.kill("SIGCONT");
    stopped = false;
    // B's own timer interrupts its callee once B runs (A sent no CANCEL: it would say canceled).
    await until(() => log.length === 2, 5000, "the callee interrupted");
    deepEqual(log[1], "com.example.slow interrupted: wamp.error.timeout");
  } finally {
    if (stopped) b.process.kill("SIGCONT");
    await callee.close().catch(() => {});
    b.process.kill("SIGKILL");
    await b.process.status;
  }
});
