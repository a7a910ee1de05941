/**
 * When a `Connection`'s retries start over: only after a session that stayed
 * open `stableAfter` ms. A router (here a TCP proxy in front of one) that
 * drops each client soon after it joins sees the delays grow, not the first
 * one forever. And `initialRetryDelay: 0` grows from a floor.
 */

import { deepEqual, equal, match, ok } from "node:assert/strict";
import { Backoff } from "../../client/backoff.ts";
import { Connection, type ConnectionCloseReason } from "../../client/mod.ts";
import { listen, Router } from "../../mod.ts";
import { until } from "../_helpers/router.ts";

Deno.test("Backoff: initialRetryDelay 0 retries at once, then grows from 100 ms", () => {
  const zero = new Backoff({ initialRetryDelay: 0, retryDelayJitter: 0, maxRetries: 6 });
  deepEqual(Array.from({ length: 6 }, () => zero.next()), [0, 100, 150, 225, 338, 506]);
  const capped = new Backoff({ initialRetryDelay: 0, maxRetryDelay: 40, retryDelayJitter: 0 });
  deepEqual([capped.next(), capped.next(), capped.next()], [0, 40, 40]);
  const flat = new Backoff({ initialRetryDelay: 0, retryDelayGrowth: 1, retryDelayJitter: 0 });
  deepEqual([flat.next(), flat.next(), flat.next()], [0, 100, 100]);
});

Deno.test("Backoff: the retries start over only after a session that stayed open stableAfter ms", () => {
  const backoff = new Backoff({ initialRetryDelay: 10, retryDelayGrowth: 2, retryDelayJitter: 0 });
  equal(backoff.next(0), 10);
  backoff.opened(100);
  equal(backoff.next(9_000), 20, "open 8.9 s: not stable (default 10 s)");
  equal(backoff.count, 2);
  backoff.opened(10_000);
  equal(backoff.next(20_000), 10, "open 10 s: stable, start over");
  equal(backoff.count, 1);
  equal(backoff.next(20_000), 20, "unreachable attempts go on growing");

  const always = new Backoff({ initialRetryDelay: 10, retryDelayJitter: 0, stableAfter: 0 });
  always.next(0);
  always.next(0);
  always.opened(5);
  equal(always.next(5), 10, "stableAfter 0: every join starts over");

  for (const stableAfter of [-1, Infinity, Number.NaN]) {
    try {
      new Backoff({ stableAfter });
      throw new Error(`accepted ${stableAfter}`);
    } catch (e) {
      ok(e instanceof RangeError, String(e));
      match(e.message, /"stableAfter"/);
    }
  }
});

/**
 * A TCP proxy on 127.0.0.1 in front of `target` that cuts its `n`th
 * connection `lifetimes[n]` ms after accepting it (the last lifetime for
 * the rest): a router that keeps dropping its clients soon after they join.
 */
function cuttingProxy(target: number, lifetimes: number[]) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  let accepted = 0;
  const serving = (async () => {
    for await (const client of listener) {
      const lifetime = lifetimes[Math.min(accepted++, lifetimes.length - 1)]!;
      const upstream = await Deno.connect({ hostname: "127.0.0.1", port: target });
      open.add(client).add(upstream);
      const cut = () => {
        for (const conn of [client, upstream]) {
          if (open.delete(conn)) conn.close();
        }
      };
      setTimeout(cut, lifetime);
      for (const [from, to] of [[client, upstream], [upstream, client]] as const) {
        from.readable.pipeTo(to.writable, { preventClose: true }).catch(() => {}).finally(cut);
      }
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    async close() {
      listener.close();
      for (const conn of open) conn.close();
      open.clear();
      await serving;
    },
  };
}

Deno.test("Connection: a router that drops each session soon after the join gets growing delays; one that stayed up stableAfter starts them over", async () => {
  const router = new Router({ realms: [{ name: "realm1" }], logger: () => {} });
  const listener = await listen(router, { port: 0, hostname: "127.0.0.1" });
  // Sessions 1-3 and 5-6 last 150 ms; the 4th lasts 700 ms (stable: over 400).
  const proxy = cuttingProxy(Number(new URL(listener.urls.websocket!).port), [
    150,
    150,
    150,
    700,
    150,
    150,
  ]);
  const closes: { reason: ConnectionCloseReason; delay: number | undefined }[] = [];
  let opens = 0;
  const connection = new Connection(`ws://127.0.0.1:${proxy.port}`, {
    realm: "realm1",
    initialRetryDelay: 20,
    retryDelayGrowth: 2,
    retryDelayJitter: 0,
    maxRetries: 100,
    stableAfter: 400,
    onopen: () => void opens++,
    onclose: (reason, details) => void closes.push({ reason, delay: details.retryDelay }),
  });
  try {
    await connection.open();
    await until(() => closes.length >= 6, 10_000, "six sessions dropped");
    equal(opens >= 6, true, `joined ${opens} times`);
    deepEqual(closes.slice(0, 6).map((c) => c.reason), Array(6).fill("lost"));
    // Without stableAfter every delay would be the first one: 20, 20, 20, ...
    deepEqual(closes.slice(0, 6).map((c) => c.delay), [20, 40, 80, 20, 40, 80]);
  } finally {
    await connection.close();
    await proxy.close();
    await listener.close();
    await router.close();
  }
});
