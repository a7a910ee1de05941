/**
 * The dashboard snapshot's sessions table: the sessions in trouble first,
 * best first, at most MAX_SESSION_ROWS, each session looked at once (its
 * cost does not grow with how many ever dropped an EVENT beyond one pass).
 */

import { deepEqual, equal, match, ok, rejects } from "node:assert/strict";
import { ApplicationError, connectLocal, Router } from "../../mod.ts";
import { Ring } from "../../router/counters.ts";
import { serveAdmin } from "../../admin/mod.ts";
import { type MeteredSession, metricsOf } from "../../router/metrics.ts";
import { MAX_SESSION_ROWS, snapshot } from "../../admin/snapshot.ts";

Deno.test("snapshot: the top sessions in trouble in one pass (backlog read once per session)", async () => {
  const router = new Router({ realms: [{ name: "realm1" }], logger: () => {} });
  const sessions = metricsOf(router).sessions;
  let backlogReads = 0;
  const fake = (id: number, dropped: number, backlog: number): MeteredSession =>
    ({
      info: { id, realm: "realm1", authid: `a${id}`, authrole: "r", authmethod: "anonymous" },
      peer: {
        info: { type: "websocket", serializer: "json", peer: "127.0.0.1" },
        backlog: () => (backlogReads++, backlog),
      },
      droppedEvents: dropped,
      joinedAt: Date.now(),
    }) as unknown as MeteredSession;
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

Deno.test("a dashboard reading at full speed stays connected though each snapshot is over 1 MiB", async () => {
  const realms = Array.from({ length: 14_000 }, (_, i) => ({
    name: `com.tenant.customer-${String(i).padStart(6, "0")}`,
  }));
  const router = new Router({ realms, logger: () => {} });
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
    await admin.close();
    await router.close();
  }
});
