/**
 * A node that loses NATS for a moment (shorter than the node timeout, so
 * no node is taken for down) misses what was published meanwhile: a
 * forwarded call's RESULT, the other nodes' join/leave broadcasts. Back on
 * NATS, it ends the calls it forwarded (ERROR `canceled`, freeing their
 * `callsPerSession` slots) and takes every node's sessions afresh (no
 * ghost). It says so (`nodes.back.<id>`): the others end the calls they
 * forwarded to it, whose CALL it may never have had. Node A (or B) reaches
 * nats-server through a TCP relay the test cuts.
 */

import { equal, ok } from "node:assert/strict";
import { ApplicationError, type Session } from "../../mod.ts";
import { startNats } from "../_helpers/nats.ts";
import { join, startRouter, type TestRouter, within } from "../_helpers/router.ts";

/** A TCP relay to `port` whose connections can be cut, refusing new ones for a while. */
function relay(port: number): { url: string; cut(ms: number): void; close(): void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const live = new Set<Deno.Conn>();
  let blockedUntil = 0;
  const pipe = (from: Deno.Conn, to: Deno.Conn) =>
    from.readable.pipeTo(to.writable).catch(() => {}).finally(() => {
      for (const c of [from, to]) {
        live.delete(c);
        try {
          c.close();
        } catch { /* closed */ }
      }
    });
  (async () => {
    for await (const conn of listener) {
      if (Date.now() < blockedUntil) {
        conn.close();
        continue;
      }
      const upstream = await Deno.connect({ hostname: "127.0.0.1", port }).catch(() => undefined);
      if (upstream === undefined) {
        conn.close();
        continue;
      }
      live.add(conn).add(upstream);
      pipe(conn, upstream);
      pipe(upstream, conn);
    }
  })().catch(() => {});
  return {
    url: `nats://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    cut(ms) {
      blockedUntil = Date.now() + ms;
      for (const c of live) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      live.clear();
    },
    close: () => listener.close(),
  };
}

const count = async (s: Session) => (await s.call("wamp.session.count")).args[0] as number;

/**
 * Runs `body` with nodes A and B (callsPerSession 1, a node timeout no cut
 * reaches), the one at `relayed` reaching NATS through the relay.
 */
async function withNodes(
  name: string,
  relayed: 0 | 1,
  body: (a: TestRouter, b: TestRouter, link: ReturnType<typeof relay>) => Promise<void>,
): Promise<void> {
  const nats = await startNats();
  const link = relay(nats.port);
  const nodes: TestRouter[] = [];
  try {
    for (const i of [0, 1]) {
      const node = await startRouter({
        realms: [{ name: "realm1", limits: { callsPerSession: 1 } }],
        cluster: {
          servers: [i === relayed ? link.url : nats.url],
          name,
          heartbeat: 100,
          nodeTimeout: 10_000,
        },
      });
      nodes.push(node);
      await node.router.ready;
    }
    await body(nodes[0]!, nodes[1]!, link);
  } finally {
    for (const node of nodes) await node[Symbol.asyncDispose]();
    link.close();
    await nats.stop();
  }
}

Deno.test("a node back on NATS ends its forwarded calls and repairs its view of the sessions", async () => {
  await withNodes("back", 0, async (a, b, link) => {
    const callee = await join(b!, "json");
    let answered = 0;
    await callee.register("com.slow", async () => {
      await new Promise((r) => setTimeout(r, 400));
      answered++;
      return { args: ["late"] };
    });
    const caller = await join(a!, "json");
    const ghost = await join(b!, "json");
    for (let i = 0; i < 50 && await count(caller) !== 3; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    equal(await count(caller), 3, "A sees the sessions on B");
    equal((await within(caller.call("com.slow"), 5000, "a first call")).args[0], "late");

    // The RESULT comes while A is off NATS (cut for 1 s): lost.
    const call = caller.call("com.slow").then(() => "result", (e) => e);
    await new Promise((r) => setTimeout(r, 100));
    link.cut(1000);
    await ghost.close(); // its leave is broadcast while A is off NATS
    const ended = await within(call, 6000, "the call forwarded before the cut to end");
    ok(ended instanceof ApplicationError, `the call ended with ${ended}`);
    equal(ended.uri, "wamp.error.canceled");
    equal(answered, 2, "the callee answered, into the gap");
    // Its slot is free (callsPerSession 1), and calls work again.
    equal((await within(caller.call("com.slow"), 5000, "a call after")).args[0], "late");
    // No ghost: A's view of B's sessions was taken afresh.
    for (let i = 0; i < 30 && await count(caller) !== 2; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    equal(await count(caller), 2, "the session that left during the cut is gone on A");
    await caller.close();
    await callee.close();
  });
});

Deno.test("the callee's node back on NATS: calls forwarded to it meanwhile end", async () => {
  await withNodes("back2", 1, async (a, b, link) => { // B, the callee's, through the relay
    const callee = await join(b!, "json");
    await callee.register("com.echo", () => ({ args: ["pong"] }));
    const caller = await join(a!, "json");
    let first: unknown;
    for (let i = 0; i < 50 && first !== "pong"; i++) {
      first = await caller.call("com.echo").then((r) => r.args[0], () => undefined);
      if (first !== "pong") await new Promise((r) => setTimeout(r, 100));
    }
    equal(first, "pong");
    link.cut(1000); // the CALL forwarded now finds no B on NATS: lost
    await new Promise((r) => setTimeout(r, 50));
    const ended = await within(caller.call("com.echo").then(() => "result", (e) => e), 6000, "end");
    ok(ended instanceof ApplicationError, `the call ended with ${ended}`);
    equal(ended.uri, "wamp.error.canceled");
    equal((await within(caller.call("com.echo"), 5000, "a call after")).args[0], "pong");
    await caller.close();
    await callee.close();
  });
});
