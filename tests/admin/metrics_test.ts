/**
 * The admin listener's metrics, health and access rules, over real
 * sockets: after a scripted run (joins over WebSocket and RawSocket,
 * calls answered with a result, an error, a timeout and a cancel,
 * publications, an authentication failure, an authorization denial, a
 * slow consumer, a refused connection) `/metrics` parses as Prometheus
 * text (tests/admin/_prometheus.ts checks the grammar) and every counter
 * has the value the run implies.
 */

import { deepEqual, equal, match, ok, rejects } from "node:assert/strict";
import net from "node:net";
import { ApplicationError, connect, listen, Router, type Session } from "../../mod.ts";
import { serveAdmin } from "../../router/mod.ts";
import { isLoopback, refusal } from "../../admin/access.ts";
import { realmOf } from "../../router/router.ts";
import { metricsOf } from "../../router/metrics.ts";
import { stalledSubscriber } from "../_helpers/raw_rawsocket.ts";
import { until, within } from "../_helpers/router.ts";
import { parsePrometheus, valueOf } from "./_prometheus.ts";
import { assertUsageError, runCli, withConfig } from "../cli/_service.ts";

const FLOOD = 300;

async function get(url: string, headers: Record<string, string> = {}): Promise<Response> {
  return await within(fetch(url, { headers }), 5000, `GET ${url}`);
}

Deno.test("after a scripted run, /metrics parses and every counter has its value", async () => {
  const router = new Router({
    logger: () => {},
    realms: [{ name: "realm1" }, {
      name: "secure",
      anonymous: false,
      auth: { ticket: { principals: { alice: { ticket: "right-ticket", role: "user" } } } },
      roles: [{
        name: "user",
        permissions: [{ uri: "com.example.", match: "prefix", allow: { call: true } }],
      }],
    }],
  });
  const listener = await listen(router, {
    port: 0,
    attach: { maxBacklog: 64 * 1024, slowConsumer: "drop" },
  });
  const small = await listen(router, { port: 0, maxConnections: 1 });
  const admin = await serveAdmin(router, {
    port: 0,
    listeners: [listener, small],
    callSampling: 1,
  });
  const sessions: Session[] = [];
  let stalled: net.Socket | undefined;
  const held: net.Socket[] = [];
  try {
    const ws = listener.urls.websocket!;
    const join = async (realm = "realm1", options = {}) => {
      const session = await connect(ws, { realm, ...options });
      sessions.push(session);
      return session;
    };
    const callee = await join();
    const caller = await join();
    const subscriber = await join();
    const publisher = await join();
    await callee.register("com.example.ok", () => ({ args: [1] }));
    await callee.register("com.example.fail", () => {
      throw new ApplicationError("com.example.oops");
    });
    await callee.register("com.example.slow", () => new Promise(() => {}));
    await callee.register("com.example.hang", () => new Promise(() => {}));
    let events = 0;
    await subscriber.subscribe("com.example.topic", () => {
      events++;
    });
    for (let i = 0; i < 3; i++) await caller.call("com.example.ok");
    await rejects(caller.call("com.example.fail"), /com\.example\.oops/);
    await rejects(caller.call("com.example.slow", {}, { timeout: 100 }), /wamp\.error\.timeout/);
    const abort = new AbortController();
    const hanging = caller.call("com.example.hang", {}, { signal: abort.signal });
    await new Promise((resolve) => setTimeout(resolve, 50));
    abort.abort();
    await rejects(hanging);
    for (let i = 0; i < 5; i++) {
      await publisher.publish("com.example.topic", { args: [i] }, { acknowledge: true });
    }
    await until(() => events === 5, 5000, "5 events");
    // A slow consumer: a RawSocket subscriber that stops reading.
    stalled = await stalledSubscriber(listener.urls.rawsocket!, "com.example.flood");
    const payload = "x".repeat(16 * 1024);
    for (let i = 0; i < FLOOD; i++) publisher.publish("com.example.flood", { args: [payload] });
    await publisher.publish("com.example.flood", {}, { acknowledge: true }); // after the flood
    await until(() => metricsOf(router).eventsDropped > 0, 10_000, "events dropped");
    // An authentication failure, a ticket session, an authorization denial.
    await rejects(
      join("secure", { authid: "alice", ticket: "wrong-ticket" }),
      /authentication_failed/,
    );
    const alice = await join("secure", { authid: "alice", ticket: "right-ticket" });
    await rejects(alice.publish("com.other", {}, { acknowledge: true }), /not_authorized/);
    // A refused connection (the small listener takes one).
    for (let i = 0; i < 2; i++) {
      const socket = net.connect({
        host: "127.0.0.1",
        port: (small.addr as { port: number }).port,
      });
      socket.on("error", () => {});
      held.push(socket);
      await new Promise((resolve) => socket.once("connect", resolve));
    }
    await until(() => small.stats().refused === 1, 5000, "one refusal");
    // One session leaves with GOODBYE.
    await sessions.splice(sessions.indexOf(caller), 1)[0]!.close();
    await until(() => listener.connections() === 5, 5000, "the caller's connection closed");

    const response = await get(`${admin.url}/metrics`);
    equal(response.status, 200);
    equal(response.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    const m = parsePrometheus(await response.text());
    const v = (name: string, labels: Record<string, string> = {}) => valueOf(m, name, labels);
    for (const family of m.values()) ok(family.name.startsWith("cloverleaf_"), family.name);
    for (const family of m.values()) ok(family.help !== undefined, `HELP of ${family.name}`);

    equal(
      v("cloverleaf_sessions", { realm: "realm1", transport: "websocket", serializer: "json" }),
      3,
    );
    equal(
      v("cloverleaf_sessions", { realm: "realm1", transport: "rawsocket", serializer: "json" }),
      1,
    );
    equal(
      v("cloverleaf_sessions", { realm: "secure", transport: "websocket", serializer: "json" }),
      1,
    );
    equal(v("cloverleaf_session_joins_total", { realm: "realm1" }), 5);
    equal(v("cloverleaf_session_joins_total", { realm: "secure" }), 1);
    equal(v("cloverleaf_session_leaves_total", { reason: "wamp.close.normal" }), 1);
    equal(v("cloverleaf_session_aborts_total", { reason: "wamp.error.authentication_failed" }), 1);
    equal(v("cloverleaf_messages_received_total", { type: "CALL" }), 6);
    equal(v("cloverleaf_messages_received_total", { type: "HELLO" }), 7);
    equal(v("cloverleaf_messages_received_total", { type: "PUBLISH" }), 5 + FLOOD + 2);
    equal(v("cloverleaf_messages_sent_total", { type: "WELCOME" }), 6);
    equal(v("cloverleaf_messages_sent_total", { type: "INVOCATION" }), 6);
    equal(v("cloverleaf_publications_total"), 5 + FLOOD + 2);
    const dropped = v("cloverleaf_events_dropped_total")!;
    const member = [...realmOf(router, "realm1")!.members()].find((s) =>
      s.peer.info.type === "rawsocket"
    ) as unknown as { droppedEvents: number };
    ok(dropped > 0 && dropped < FLOOD, `dropped ${dropped}`);
    equal(dropped, member.droppedEvents);
    // Every EVENT was either sent or dropped: 5 to the subscriber, FLOOD + 1 to the stalled one.
    equal(v("cloverleaf_events_delivered_total")! + dropped, 5 + FLOOD + 1);
    equal(
      v("cloverleaf_messages_sent_total", { type: "EVENT" }),
      v("cloverleaf_events_delivered_total"),
    );
    equal(v("cloverleaf_calls_total", { outcome: "result" }), 3);
    equal(v("cloverleaf_calls_total", { outcome: "error" }), 1);
    equal(v("cloverleaf_calls_total", { outcome: "timeout" }), 1);
    equal(v("cloverleaf_calls_total", { outcome: "canceled" }), 1);
    equal(v("cloverleaf_call_duration_seconds_count"), 6);
    ok(v("cloverleaf_call_duration_seconds_sum")! >= 0.1, "the timed-out call took 100 ms");
    equal(v("cloverleaf_call_duration_seconds_bucket", { le: "+Inf" }), 6);
    equal(v("cloverleaf_registrations", { realm: "realm1" }), 4);
    equal(v("cloverleaf_subscriptions", { realm: "realm1" }), 2);
    equal(v("cloverleaf_registrations", { realm: "secure" }), 0);
    equal(v("cloverleaf_auth_successes_total", { method: "anonymous" }), 5);
    equal(v("cloverleaf_auth_successes_total", { method: "ticket" }), 1);
    equal(v("cloverleaf_auth_failures_total", { method: "ticket" }), 1);
    equal(v("cloverleaf_logins_refused_total"), 0, "failedLogins is off");
    equal(v("cloverleaf_authorization_denials_total"), 1);
    const name = `127.0.0.1:${(listener.addr as { port: number }).port}`;
    const smallName = `127.0.0.1:${(small.addr as { port: number }).port}`;
    equal(v("cloverleaf_listener_accepted_total", { listener: name }), 7);
    equal(v("cloverleaf_listener_refused_total", { listener: name }), 0);
    equal(v("cloverleaf_listener_accepted_total", { listener: smallName }), 1);
    equal(v("cloverleaf_listener_refused_total", { listener: smallName }), 1);
    equal(v("cloverleaf_listener_connections", { listener: name }), 5);
    ok(v("cloverleaf_received_bytes_total", { listener: name })! > FLOOD * 16 * 1024);
    ok(v("cloverleaf_sent_bytes_total", { listener: name })! > 0);
    ok(v("cloverleaf_outbound_backlog_max_bytes")! > 0, "the stalled subscriber's backlog");
    ok(v("cloverleaf_outbound_backlog_bytes")! >= v("cloverleaf_outbound_backlog_max_bytes")!);
    ok(v("cloverleaf_process_resident_memory_bytes")! > 1_000_000);
    ok(v("cloverleaf_process_heap_used_bytes")! > 0);
    ok(v("cloverleaf_event_loop_lag_seconds")! >= 0);
    equal(v("cloverleaf_cluster_nodes"), undefined, "no cluster metrics without a cluster");
    deepEqual(m.get("cloverleaf_call_duration_seconds")?.type, "histogram");
    deepEqual(m.get("cloverleaf_calls_total")?.type, "counter");

    // The dashboard's stream: one snapshot at once, with the failed login and no secret.
    const stream = await get(`${admin.url}/events`);
    equal(stream.headers.get("content-type"), "text/event-stream");
    const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
    let chunk = "";
    while (!chunk.includes("\n\n")) {
      chunk += (await within(reader.read(), 5000, "a snapshot")).value;
    }
    await reader.cancel();
    const snapshot = JSON.parse(/^data: (.*)$/m.exec(chunk)![1]!);
    equal(snapshot.sessions.total, 5);
    equal(snapshot.sessions.rows.length, 5);
    equal(snapshot.totals.calls.timeout, 1);
    const failed = snapshot.recent.filter((e: { kind: string }) => e.kind === "auth");
    equal(failed.length, 1);
    match(
      failed[0].text,
      /^ticket authid "alice" from tcp4:127\.0\.0\.1:\d+: wamp\.error\.authentication_failed$/,
    );
    ok(
      !chunk.includes("wrong-ticket") && !chunk.includes("right-ticket"),
      "no ticket in the snapshot",
    );
    ok(
      snapshot.recent.some((e: { text: string }) => e.text.includes("com.example.oops")),
      "the failed call",
    );

    // Health and readiness.
    const health = await get(`${admin.url}/health`);
    equal(health.status, 200);
    equal((await health.json()).status, "up");
    const ready = await get(`${admin.url}/ready`);
    equal(ready.status, 200);
    deepEqual(await ready.json(), {
      status: "ready",
      router: true,
      listeners: true,
      cluster: "none",
    });
    await small.close();
    const notReady = await get(`${admin.url}/ready`);
    equal(notReady.status, 503);
    equal((await notReady.json()).listeners, false);
    equal((await get(`${admin.url}/nothing`)).status, 404);
  } finally {
    stalled?.destroy();
    for (const socket of held) socket.destroy();
    for (const session of sessions) await session.close().catch(() => {});
    await admin.close();
    await router.close();
    await listener.close();
    await small.close();
  }
});

Deno.test("with more realms than MAX_LABELS, every metric labelled by realm shows the same 32 realms and other", async () => {
  const names = Array.from({ length: 40 }, (_, i) => `com.realm.r${i}`);
  const router = new Router({ realms: names.map((name) => ({ name })), logger: () => {} });
  const listener = await listen(router, { port: 0 });
  const admin = await serveAdmin(router, { port: 0, listeners: [listener] });
  const sessions: Session[] = [];
  try {
    // A session (a registration and a subscription) in each realm, the later ones first.
    for (const name of [...names].reverse()) {
      const session = await connect(listener.urls.websocket!, { realm: name });
      sessions.push(session);
      await session.register("com.example.p", () => {});
      await session.subscribe("com.example.t", () => {});
    }
    const text = await (await get(`${admin.url}/metrics`)).text();
    const families = parsePrometheus(text);
    const realms = (name: string) => {
      const samples = families.get(name)?.samples ?? [];
      return new Map(samples.map((s) => [s.labels.realm!, s.value]));
    };
    const registrations = realms("cloverleaf_registrations");
    equal(registrations.size, 33);
    equal(registrations.get("other"), 8);
    const shown = [...registrations.keys()].sort();
    for (
      const name of [
        "cloverleaf_subscriptions",
        "cloverleaf_sessions",
        "cloverleaf_session_joins_total",
      ]
    ) {
      const series = realms(name);
      deepEqual([...series.keys()].sort(), shown, name);
      equal(series.get("other"), 8, name);
      equal([...series.values()].reduce((a, b) => a + b), 40, name);
    }
  } finally {
    for (const session of sessions) await session.close().catch(() => {});
    await admin.close();
    await router.close();
    await listener.close();
  }
});

Deno.test("with a token, requests need Authorization: Bearer; the page itself is served", async () => {
  const router = new Router({ realms: [{ name: "realm1" }], logger: () => {} });
  const token = "s3cret-token-0123456789";
  const admin = await serveAdmin(router, { port: 0, token });
  try {
    const unauthorized = await get(`${admin.url}/metrics`);
    equal(unauthorized.status, 401);
    equal(unauthorized.headers.get("www-authenticate"), 'Bearer realm="cloverleaf-admin"');
    await unauthorized.body?.cancel();
    const wrong = await get(`${admin.url}/ready`, {
      authorization: "Bearer s3cret-token-0123456780",
    });
    equal(wrong.status, 401);
    await wrong.body?.cancel();
    const right = await get(`${admin.url}/metrics`, { authorization: `Bearer ${token}` });
    equal(right.status, 200);
    ok((await right.text()).includes("cloverleaf_sessions"));
    const page = await get(`${admin.url}/`);
    equal(page.status, 200);
    ok((await page.text()).includes("<title>Cloverleaf</title>"));
  } finally {
    await admin.close();
    await router.close();
  }
});

Deno.test("without a token, a client from a non-loopback address is refused", async () => {
  const address = Deno.networkInterfaces().find((i) =>
    i.family === "IPv4" && !isLoopback(i.address)
  )?.address;
  ok(address !== undefined, "this test needs a non-loopback IPv4 interface");
  const router = new Router({ realms: [{ name: "realm1" }], logger: () => {} });
  const admin = await serveAdmin(router, { hostname: "0.0.0.0", port: 0 });
  try {
    const remote = await get(`http://${address}:${admin.addr.port}/metrics`);
    equal(remote.status, 403);
    await remote.body?.cancel();
    const page = await get(`http://${address}:${admin.addr.port}/`);
    equal(page.status, 403, "not even the page");
    await page.body?.cancel();
    const local = await get(`http://127.0.0.1:${admin.addr.port}/health`);
    equal(local.status, 200);
    await local.body?.cancel();
  } finally {
    await admin.close();
    await router.close();
  }
});

Deno.test("loopback addresses and the bearer check", () => {
  for (const a of ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"]) ok(isLoopback(a), a);
  for (const a of ["192.0.2.2", "::ffff:10.0.0.1", "fd00::2", "1127.0.0.1"]) ok(!isLoopback(a), a);
  const request = (auth?: string) =>
    new Request("http://x/metrics", auth === undefined ? {} : { headers: { authorization: auth } });
  equal(refusal(request(), "127.0.0.1", undefined), undefined);
  equal(refusal(request(), "192.0.2.2", undefined)?.status, 403);
  equal(refusal(request("Bearer abcdefghijklmnop"), "192.0.2.2", "abcdefghijklmnop"), undefined);
  equal(refusal(request("Bearer abcdefghijklmnoq"), "127.0.0.1", "abcdefghijklmnop")?.status, 401);
  equal(refusal(request("Basic abcdefghijklmnop"), "127.0.0.1", "abcdefghijklmnop")?.status, 401);
  equal(refusal(request("Bearer abcdefghijklmno"), "127.0.0.1", "abcdefghijklmnop")?.status, 401);
});

Deno.test("bad admin config keys and flags give one-line errors naming the key", async () => {
  const cases: [string, RegExp][] = [
    [
      '{"admin": {"port": 9090, "bogus": 1}}',
      /^cloverleaf: Invalid config "admin\.bogus": unknown key$/,
    ],
    [
      '{"admin": {"port": 70000}}',
      /Invalid config "admin\.port": expected an integer from 0 to 65535, got 70000$/,
    ],
    [
      '{"admin": {"token": "short"}}',
      /Invalid config "admin\.token": expected at least 16 characters$/,
    ],
    ['{"admin": {"host": 7}}', /Invalid config "admin\.host": expected a non-empty string/],
    ['{"admin": "on"}', /Invalid config "admin"/],
  ];
  for (const [config, pattern] of cases) {
    await withConfig(config, async (file) => {
      assertUsageError(await runCli(["-c", file, "--listen", "127.0.0.1:1"]), pattern);
    });
  }
  assertUsageError(await runCli(["--admin", "nowhere"]), /Invalid --admin address "nowhere"/);
});

Deno.test("the test's exposition parser rejects what the format forbids", () => {
  const bad = [
    "cloverleaf_x 1", // no final newline
    "9bad 1\n",
    'x{a="b} 1\n',
    'x{a="\\t"} 1\n',
    "x one\n",
    "# TYPE x counter\n# TYPE x gauge\n",
    "x 1\n# TYPE x counter\n",
    "x 1\ny 1\nx 2\n",
    "x 1\nx 1\n",
    '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
    '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n',
    "# TYPE h histogram\nh_bucket 1\nh_sum 1\nh_count 1\n",
  ];
  for (const text of bad) {
    let threw = false;
    try {
      parsePrometheus(text);
    } catch (error) {
      threw = error instanceof SyntaxError;
    }
    ok(threw, `rejects ${JSON.stringify(text)}`);
  }
  const good = parsePrometheus(
    '# HELP a A \\\\ help\\n.\n# TYPE a counter\na{l="q\\"\\\\\\n"} +Inf 123\na{l="2"} NaN\n',
  );
  equal(good.get("a")?.help, "A \\ help\n.");
  equal(good.get("a")?.samples[0]?.labels.l, 'q"\\\n');
});
