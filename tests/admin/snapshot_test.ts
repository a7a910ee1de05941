/**
 * The dashboard snapshot's sessions table: the sessions in trouble first,
 * best first, at most MAX_SESSION_ROWS, each session looked at once (its
 * cost does not grow with how many ever dropped an EVENT beyond one pass);
 * its realms table: the MAX_REALM_ROWS with most sessions and the total.
 */

import { deepEqual, equal, match, ok, rejects } from "node:assert/strict";
import { ApplicationError, connectLocal, Router } from "../../mod.ts";
import { Ring } from "../../router/counters.ts";
import { serveAdmin } from "../../admin/mod.ts";
import { type MeteredSession, metricsOf } from "../../router/metrics.ts";
import { MAX_REALM_ROWS, MAX_SESSION_ROWS, snapshot } from "../../admin/snapshot.ts";

/** A joined session as the metrics see it, without a connection. */
function fakeSession(
  id: number,
  dropped: number,
  backlog: () => number,
  authid = `a${id}`,
): MeteredSession {
  return {
    info: { id, realm: "realm1", authid, authrole: "r", authmethod: "anonymous" },
    peer: { info: { type: "websocket", serializer: "json", peer: "127.0.0.1" }, backlog },
    droppedEvents: dropped,
    joinedAt: Date.now(),
  } as unknown as MeteredSession;
}

Deno.test("snapshot: the top sessions in trouble in one pass (backlog read once per session)", async () => {
  const router = new Router({ realms: [{ name: "realm1" }], logger: () => {} });
  const sessions = metricsOf(router).sessions;
  let backlogReads = 0;
  const fake = (id: number, dropped: number, backlog: number) =>
    fakeSession(id, dropped, () => (backlogReads++, backlog));
  const added: MeteredSession[] = [];
  const n = 3000;
  for (let i = 0; i < n; i++) {
    // Every third session is fine; the others dropped 0-4 EVENTs and have a backlog.
    const session = i % 3 === 0 ? fake(i, 0, 0) : fake(i, i % 5, (i * 7919) % 1000 + 1);
    added.push(session);
    sessions.add(session);
  }
  try {
    const snap = snapshot({ router, listeners: [], lag: () => 0 }, {
      topics: [],
      procedures: [],
    }, Date.now());
    equal(snap.sessions.total, n);
    const rows = snap.sessions.rows;
    equal(rows.length, MAX_SESSION_ROWS);
    const expected = added.filter((s) => s.droppedEvents > 0 || s.peer.backlog() > 0)
      .map((s) => ({ id: s.info.id, dropped: s.droppedEvents, backlog: s.peer.backlog() }))
      .sort((a, b) => b.dropped - a.dropped || b.backlog - a.backlog || a.id - b.id)
      .slice(0, MAX_SESSION_ROWS);
    deepEqual(rows.map((r) => [r.dropped, r.backlog]), expected.map((e) => [e.dropped, e.backlog]));
    backlogReads = 0;
    snapshot({ router, listeners: [], lag: () => 0 }, { topics: [], procedures: [] }, Date.now());
    equal(backlogReads <= n, true, `${backlogReads} backlog reads for ${n} sessions`);
  } finally {
    for (const session of added) sessions.delete(session);
    await router.close();
  }
});

Deno.test("recent errors keep at most 512 characters of a callee's ERROR URI (it may be megabytes)", async () => {
  const router = new Router({ realms: [{ name: "realm1" }], logger: () => {} });
  const metrics = metricsOf(router);
  metrics.recent = { errors: new Ring(50), sessions: new Ring(50) };
  const callee = await connectLocal(router, "realm1");
  const caller = await connectLocal(router, "realm1");
  const uri = `com.example.${"x".repeat(1 << 20)}`;
  await callee.register("com.example.fail", () => {
    throw new ApplicationError(uri);
  });
  await rejects(caller.call("com.example.fail"), (e: Error) => e instanceof ApplicationError);
  const [entry] = metrics.recent.errors.list();
  ok(entry !== undefined && entry.text.length <= 513, `${entry?.text.length} characters`);
  match(entry!.text, /^CALL by .*: com\.example\.x+…$/);
  await caller.close();
  await callee.close();
  await router.close();
});

Deno.test("snapshot: the realms with most sessions, at most MAX_REALM_ROWS, and the total", async () => {
  const n = 1000;
  const name = (i: number) => `com.tenant.customer-${String(i).padStart(6, "0")}`;
  const router = new Router({
    realms: Array.from({ length: n }, (_, i) => ({ name: name(i) })),
    logger: () => {},
  });
  const sessions = [
    ...await Promise.all([0, 1, 2].map(() => connectLocal(router, name(999)))),
    await connectLocal(router, name(500)),
  ];
  try {
    await sessions[0]!.register("com.example.echo", () => {});
    await sessions[3]!.subscribe("com.example.news", () => {});
    const snap = snapshot({ router, listeners: [], lag: () => 0 }, {
      topics: [],
      procedures: [],
    }, Date.now());
    equal(snap.realms.total, n);
    equal(snap.realms.rows.length, MAX_REALM_ROWS);
    deepEqual(snap.realms.rows.slice(0, 3), [
      { name: name(999), sessions: 3, subscriptions: 0, registrations: 1 },
      { name: name(500), sessions: 1, subscriptions: 1, registrations: 0 },
      { name: name(0), sessions: 0, subscriptions: 0, registrations: 0 },
    ]);
    // Among equals, the router's order.
    deepEqual(
      snap.realms.rows.slice(2).map((r) => r.name),
      Array.from({ length: MAX_REALM_ROWS - 2 }, (_, i) => name(i)),
    );
    const bytes = JSON.stringify(snap).length;
    ok(bytes < 16_384, `${bytes} bytes for ${n} realms`);
  } finally {
    for (const session of sessions) await session.close();
    await router.close();
  }
});

Deno.test("a dashboard reading at full speed stays connected though each snapshot is over 1 MiB", async () => {
  const router = new Router({ realms: [{ name: "realm1" }], logger: () => {} });
  // 200 sessions (a full table) whose authids, from the config, are 6,000 characters each.
  const sessions = metricsOf(router).sessions;
  const added = Array.from(
    { length: MAX_SESSION_ROWS },
    (_, i) => fakeSession(i + 1, 0, () => 0, `${i}`.padEnd(6000, "x")),
  );
  for (const session of added) sessions.add(session);
  const admin = await serveAdmin(router, { port: 0 });
  try {
    const response = await fetch(`${admin.url}/events`);
    const reader = response.body!.getReader();
    let bytes = 0;
    let snapshots = 0;
    const deadline = Date.now() + 2500;
    while (Date.now() < deadline && snapshots < 3) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.length;
      snapshots = Math.floor(bytes / (1 << 20)); // about one MiB each
    }
    ok(snapshots >= 2, `${(bytes / (1 << 20)).toFixed(1)} MiB in 2.5 s`);
    await reader.cancel();
  } finally {
    for (const session of added) sessions.delete(session);
    await admin.close();
    await router.close();
  }
});
