/**
 * A `Connection` under a router that goes away and comes back on the same
 * port: an in-process router closed and reopened, and the `cli.ts` service
 * killed with SIGKILL and started again. Its subscriptions (handler and
 * `for await`) and registrations come back; a second client proves it.
 * Plus the backoff, giving up (`unreachable`), `close()`, and the reasons.
 */

import { deepEqual, equal, match, ok, rejects } from "node:assert/strict";
import { Backoff } from "../../client/backoff.ts";
import {
  connect,
  Connection,
  type ConnectionCloseDetails,
  type ConnectionCloseReason,
  type ConnectionOptions,
  NotConnectedError,
  type Session,
  UnsupportedUrlError,
} from "../../client/mod.ts";
import { openLink } from "../../client/connect.ts";
import { listen, type Listener, Router } from "../../mod.ts";
import { DENO_RUN, startService } from "../cli/_service.ts";
import { until, within } from "../_helpers/router.ts";

/** A TCP port nothing listens on (until a test starts something there). */
function freePort(): number {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = probe.addr as Deno.NetAddr;
  probe.close();
  return port;
}

/** An in-process router with a listener on `port`. */
async function routerOn(port: number): Promise<{ router: Router; listener: Listener }> {
  const router = new Router({ realms: [{ name: "realm1" }], logger: () => {} });
  const listener = await listen(router, { port });
  return { router, listener };
}

/** A connection that records what it reports, with test-sized delays. */
function recorded(url: string, options: Partial<ConnectionOptions> = {}) {
  const closes: { reason: ConnectionCloseReason; details: ConnectionCloseDetails; at: number }[] =
    [];
  let opens = 0;
  const connection = new Connection(url, {
    realm: "realm1",
    initialRetryDelay: 20,
    maxRetryDelay: 200,
    retryDelayJitter: 0,
    maxRetries: 1000,
    ...options,
    onopen: () => void opens++,
    onclose: (reason, details) => void closes.push({ reason, details, at: Date.now() }),
  });
  return { connection, closes, opens: () => opens };
}

Deno.test("Connection restores subscriptions and registrations after an in-process router restarts on its port", async () => {
  const port = freePort();
  const url = `ws://127.0.0.1:${port}`;
  let server = await routerOn(port);
  const { connection, closes, opens } = recorded(url);
  try {
    const first = await within(connection.open(), 5000, "first join");
    const handled: unknown[] = [];
    const handler = (event: { args: unknown[] }) => void handled.push(event.args[0]);
    const withHandler = await connection.subscribe("com.example.a", handler);
    const iterated = await connection.subscribe("com.example.b");
    const seen: unknown[] = [];
    const loop = (async () => {
      for await (const event of iterated) seen.push(event.args[0]);
    })();
    const registration = await connection.register("com.example.add", (args) => ({
      args: [Number(args[0]) + Number(args[1])],
    }));

    const fromOutside = async (n: number): Promise<unknown> => {
      const other = await connect(url, { realm: "realm1", serializers: ["cbor"] });
      try {
        await other.publish("com.example.a", { args: [n] }, { acknowledge: true });
        await other.publish("com.example.b", { args: [n] }, { acknowledge: true });
        return (await other.call("com.example.add", { args: [n, 10] })).args[0];
      } finally {
        await other.close();
      }
    };
    equal(await fromOutside(1), 11);
    await until(() => handled.length === 1 && seen.length === 1, 5000, "events before");

    // The router shuts down (GOODBYE system_shutdown): lost, retried.
    await server.router.close();
    await server.listener.close();
    await until(() => closes.length >= 3, 5000, "lost, then unreachable attempts");
    equal(closes[0]!.reason, "lost");
    equal(closes[0]!.details.reason, "wamp.close.system_shutdown");
    equal(closes[0]!.details.willRetry, true);
    equal(closes[1]!.reason, "unreachable");
    equal(connection.isOpen, false);
    equal(connection.session, undefined);
    await rejects(connection.call("com.example.add", { args: [1, 2] }), (e: Error) => {
      ok(e instanceof NotConnectedError);
      match(e.message, /^Not connected: (lost|unreachable).*; reconnecting/);
      return true;
    });
    ok(!withHandler.done && !iterated.done && registration.active, "kept while away");

    server = await routerOn(port);
    await until(() => opens() === 2, 5000, "the second join");
    const now = connection.session as Session | undefined; // narrowed to undefined above
    ok(now !== undefined && now !== first && now.isOpen);
    equal(await fromOutside(2), 12);
    await until(() => handled.length === 2 && seen.length === 2, 5000, "events after");
    deepEqual(handled, [1, 2]);
    deepEqual(seen, [1, 2]);

    await connection.close();
    await within(loop, 5000, "the for await loop ends on close()");
    equal(await connection.closed, "closed");
    equal(closes.at(-1)!.reason, "closed");
    equal(registration.active, false);
    ok(withHandler.done);
  } finally {
    await connection.close();
    await server.router.close();
    await server.listener.close();
  }
});

Deno.test("Connection over RawSocket survives the cli.ts service killed with SIGKILL and restarted", async () => {
  const port = freePort();
  const args = [...DENO_RUN, "--listen", `127.0.0.1:${port}`, "--realm", "realm1"];
  let service = await startService(Deno.execPath(), args);
  const { connection, closes, opens } = recorded(`tcp://127.0.0.1:${port}`, {
    serializers: ["msgpack"],
  });
  try {
    await within(connection.open(), 10_000, "first join");
    const handled: unknown[] = [];
    await connection.subscribe("com.example.news", (event) => void handled.push(event.args[0]));
    await connection.register("com.example.twice", (args) => ({ args: [2 * Number(args[0])] }));

    await service.stop("SIGKILL");
    await until(() => closes.length >= 1, 5000, "the loss");
    equal(closes[0]!.reason, "lost");
    equal(closes[0]!.details.reason, "wamp.close.transport_lost");
    await rejects(
      connection.publish("com.example.news"),
      /^NotConnectedError: Not connected: lost/,
    );

    service = await startService(Deno.execPath(), args);
    await until(() => opens() === 2, 10_000, "the second join");
    const other = await connect(`ws://127.0.0.1:${port}`, { realm: "realm1" });
    try {
      await other.publish("com.example.news", { args: ["back"] }, { acknowledge: true });
      equal((await other.call("com.example.twice", { args: [21] })).args[0], 42);
    } finally {
      await other.close();
    }
    await until(() => handled.length === 1, 5000, "the event after the restart");
    deepEqual(handled, ["back"]);
  } finally {
    await connection.close();
    await service[Symbol.asyncDispose]();
  }
});

Deno.test("Connection backs off exponentially and gives up after maxRetries with unreachable", async () => {
  const { connection, closes } = recorded(`ws://127.0.0.1:${freePort()}`, {
    maxRetries: 3,
    initialRetryDelay: 40,
    retryDelayGrowth: 2,
  });
  await rejects(within(connection.open(), 5000, "giving up"), (e: Error) => {
    ok(e instanceof NotConnectedError);
    match(e.message, /^Not connected: the connection has stopped: unreachable/);
    return true;
  });
  equal(await connection.closed, "unreachable");
  deepEqual(closes.map((c) => c.reason), [
    "unreachable",
    "unreachable",
    "unreachable",
    "unreachable",
  ]);
  deepEqual(closes.map((c) => c.details.retryDelay), [40, 80, 160, undefined]);
  deepEqual(closes.map((c) => c.details.willRetry), [true, true, true, false]);
  deepEqual(closes.map((c) => c.details.retryCount), [1, 2, 3, 3]);
  for (let i = 1; i < closes.length; i++) {
    const waited = closes[i]!.at - closes[i - 1]!.at;
    ok(waited >= closes[i - 1]!.details.retryDelay! - 5, `attempt ${i}: waited ${waited} ms`);
  }
  await rejects(connection.call("com.example.x"), /the connection has stopped: unreachable/);
});

Deno.test("Backoff: jittered delays center on a nominal delay that grows to the cap", () => {
  const plain = new Backoff({ retryDelayJitter: 0, maxRetries: 20 });
  const delays = Array.from({ length: 20 }, () => plain.next());
  deepEqual(delays.slice(0, 4), [1500, 2250, 3375, 5063]);
  equal(delays.at(-1), 300_000);
  equal(plain.next(), undefined, "15 retries by default… here 20, then none");
  plain.reset();
  equal(plain.next(), 1500);

  const samples: number[] = [];
  for (let i = 0; i < 4000; i++) samples.push(new Backoff().next()!);
  const mean = samples.reduce((a, b) => a + b) / samples.length;
  const sd = Math.sqrt(samples.reduce((a, b) => a + (b - mean) ** 2, 0) / samples.length);
  ok(Math.abs(mean - 1500) < 15, `mean ${mean}`);
  ok(Math.abs(sd - 150) < 15, `standard deviation ${sd}`);
  equal(new Backoff().count, 0);

  for (
    const [options, key] of [
      [{ retryDelayGrowth: 0.5 }, "retryDelayGrowth"],
      [{ initialRetryDelay: -1 }, "initialRetryDelay"],
      [{ maxRetryDelay: 10, initialRetryDelay: 20 }, "maxRetryDelay"],
      [{ retryDelayJitter: Number.NaN }, "retryDelayJitter"],
      [{ maxRetries: -1 }, "maxRetries"],
    ] as const
  ) {
    try {
      new Connection("ws://127.0.0.1:1", { realm: "realm1", ...options });
      throw new Error(`accepted ${key}`);
    } catch (e) {
      ok(e instanceof RangeError, String(e));
      match(e.message, new RegExp(`"${key}"`));
    }
  }
});

Deno.test("Connection: unreachable without retryIfUnreachable, onclose returning true, unsupported schemes and refused joins end the retries", async () => {
  const once = recorded(`ws://127.0.0.1:${freePort()}`, { retryIfUnreachable: false });
  await rejects(once.connection.open(), NotConnectedError);
  deepEqual(once.closes.map((c) => [c.reason, c.details.willRetry]), [["unreachable", false]]);

  // onclose returning true stops the retries.
  let asked = 0;
  const stopped = new Connection(`ws://127.0.0.1:${freePort()}`, {
    realm: "realm1",
    initialRetryDelay: 10,
    onclose: (_reason, details) => {
      asked++;
      return details.retryCount === 2;
    },
  });
  await rejects(stopped.open(), /stopped: unreachable/);
  equal(asked, 2);
  equal(await stopped.closed, "unreachable");

  const scheme = recorded("ftp://127.0.0.1:21");
  await rejects(scheme.connection.open(), /stopped: unsupported/);
  deepEqual(scheme.closes.map((c) => c.reason), ["unsupported"]);

  const port = freePort();
  const server = await routerOn(port);
  try {
    const refused = recorded(`ws://127.0.0.1:${port}`, { realm: "no.such.realm" });
    await rejects(refused.connection.open(), /stopped: closed.*no_such_realm/);
    deepEqual(refused.closes.map((c) => c.reason), ["closed"]);
    equal(await refused.connection.closed, "closed");
  } finally {
    await server.router.close();
    await server.listener.close();
  }
});

Deno.test("Connection: the retry decision goes by the error's class, not its text", async () => {
  // Unreachable (long-poll errors name the URL), with a path that reads like the
  // messages of an unsupported URL: retried.
  const path = recorded(`http://127.0.0.1:${freePort()}/not a URL/unsupported scheme`, {
    maxRetries: 2,
  });
  await rejects(path.connection.open(), /stopped: unreachable/);
  deepEqual(path.closes.map((c) => [c.reason, c.details.willRetry]), [
    ["unreachable", true],
    ["unreachable", true],
    ["unreachable", false],
  ]);
  // Not a URL at all: an UnsupportedUrlError, not retried.
  const bad = recorded("127.0.0.1:8080");
  await rejects(bad.connection.open(), /stopped: unsupported/);
  deepEqual(bad.closes.map((c) => [c.reason, c.details.willRetry]), [["unsupported", false]]);
  await rejects(openLink("gopher://127.0.0.1"), UnsupportedUrlError);
  // A RawSocket URL without a port, a relative unix: path: not retried either.
  for (const url of ["tcp://127.0.0.1", "unix:relative.sock"]) {
    const malformed = recorded(url);
    await rejects(malformed.connection.open(), /stopped: unsupported/);
    deepEqual(malformed.closes.map((c) => [c.reason, c.details.willRetry]), [[
      "unsupported",
      false,
    ]]);
  }
});

Deno.test("Connection.close() stops the retries; whileDisconnected: wait holds requests until the next session", async () => {
  const port = freePort();
  let server = await routerOn(port);
  const { connection, closes, opens } = recorded(`ws://127.0.0.1:${port}`, {
    whileDisconnected: "wait",
    initialRetryDelay: 30,
  });
  try {
    await connection.open();
    await connection.register("com.example.ping", () => ({ args: ["pong"] }));
    await server.listener.close();
    await server.router.close();
    await until(() => closes.length >= 2, 5000, "retrying");
    // Made while away: answered by the endpoint restored on the next session.
    const waiting = connection.call("com.example.ping");
    server = await routerOn(port);
    equal((await within(waiting, 5000, "the held call")).args[0], "pong");
    equal(opens(), 2);

    await server.listener.close();
    await server.router.close();
    await until(() => closes.filter((c) => c.reason === "unreachable").length >= 1, 5000, "away");
    const held = connection.call("com.example.ping");
    await connection.close();
    await rejects(held, /^NotConnectedError: Not connected: the connection has stopped: closed/);
    equal(closes.at(-1)!.reason, "closed");
    const count = closes.length;
    await new Promise((resolve) => setTimeout(resolve, 150));
    equal(closes.length, count, "no attempt after close()");
    equal(await connection.closed, "closed");
  } finally {
    await connection.close();
    await server.router.close();
    await server.listener.close();
  }
});

Deno.test("Connection: a registration the new router refuses ends, revoked with the error URI", async () => {
  const port = freePort();
  let server = await routerOn(port);
  const revoked: string[] = [];
  const { connection, opens } = recorded(`ws://127.0.0.1:${port}`, { initialRetryDelay: 150 });
  try {
    await connection.open();
    const registration = await connection.register("com.example.only", () => ({}), {
      onRevoked: (reason) => revoked.push(reason),
    });
    await server.router.close();
    await server.listener.close();
    server = await routerOn(port);
    const squatter = await connect(`ws://127.0.0.1:${port}`, { realm: "realm1" });
    await squatter.register("com.example.only", () => ({ args: ["squatter"] }));
    await until(() => opens() === 2, 5000, "the second join");
    equal(registration.active, false);
    equal(registration.revoked, "wamp.error.procedure_already_exists");
    deepEqual(revoked, ["wamp.error.procedure_already_exists"]);
    await squatter.close();
  } finally {
    await connection.close();
    await server.router.close();
    await server.listener.close();
  }
});

Deno.test("Connection restores more subscriptions than maxSendBacklog holds: a window at a time, none refused", async () => {
  const port = freePort();
  let server = await routerOn(port);
  const { connection, opens } = recorded(`ws://127.0.0.1:${port}`, {
    initialRetryDelay: 50,
    maxSendBacklog: 16 * 1024,
  });
  try {
    await connection.open();
    const topic = (i: number) => `com.example.restored.${"x".repeat(64)}.${i}`;
    const subs = [];
    for (let i = 0; i < 600; i++) subs.push(await connection.subscribe(topic(i), () => {}));
    await server.router.close();
    await server.listener.close();
    server = await routerOn(port);
    await until(() => opens() === 2, 10_000, "the second join");
    // 600 SUBSCRIBEs of ~110 bytes written in one turn were 4x maxSendBacklog: most ended refused.
    equal(subs.filter((sub) => sub.done).length, 0, "subscriptions ended");
    const probe = await connect(`ws://127.0.0.1:${port}`, { realm: "realm1" });
    const lookup = await probe.call("wamp.subscription.lookup", { args: [topic(599)] });
    const count = await probe.call("wamp.subscription.count_subscribers", { args: lookup.args });
    deepEqual(count.args, [1], "the last one is back at the router");
    await probe.close();
  } finally {
    await connection.close();
    await server.router.close();
    await server.listener.close();
  }
});

Deno.test("onopen and onUserError both throwing: the failure is logged, and close() still ends the connection", async () => {
  const router = new Router({ realms: [{ name: "realm1" }], logger: () => {} });
  const listener = await listen(router, { hostname: "127.0.0.1", port: 0 });
  const lines: string[] = [];
  const connection = new Connection(listener.urls.websocket!, {
    realm: "realm1",
    logger: (_level, message) => lines.push(message),
    onUserError: () => {
      throw new Error("reporter broke");
    },
  });
  connection.onopen = () => {
    throw new Error("onopen broke");
  };
  try {
    await within(connection.open(), 5000, "open");
    await until(() => lines.length > 0, 5000, "the logged failure");
    match(lines[0]!, /onUserError failed: Error: reporter broke/);
    await within(connection.close(), 5000, "close");
  } finally {
    await router.close();
    await listener.close();
  }
});
