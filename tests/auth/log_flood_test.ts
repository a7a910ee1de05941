/**
 * A client cannot flood the router's log with failed logins or protocol
 * violations: over real sockets, 40 failed logins and 15 violations give
 * `EVENT_LOG_LIMIT` lines of each kind (the kinds counted apart), then one
 * line per kind saying how many more there were.
 */

import { deepEqual, equal, match, ok } from "node:assert/strict";
import { connect, type LogFields, type LogLevel } from "../../mod.ts";
import { EVENT_LOG_LIMIT } from "../../router/session_log.ts";
import { MessageType } from "../../wamp/mod.ts";
import { rawWamp } from "../_helpers/auth.ts";
import { startRouter, until, within } from "../_helpers/router.ts";

interface Line {
  level: LogLevel;
  message: string;
  fields: LogFields;
}

/** Runs `n` attempts, `width` at a time. */
async function inBatches(n: number, width: number, attempt: () => Promise<void>): Promise<void> {
  for (let done = 0; done < n; done += width) {
    await Promise.all(Array.from({ length: Math.min(width, n - done) }, attempt));
  }
}

Deno.test("router log: failed logins and protocol violations are limited per kind, the rest counted", async () => {
  const lines: Line[] = [];
  const t = await startRouter({
    realms: [
      { name: "realm1", auth: { ticket: { principals: { alice: { ticket: "t0p", role: "u" } } } } },
      { name: "open" },
    ],
    logger: (level, message, fields = {}) => void lines.push({ level, message, fields }),
  });
  const of = (event: string) => lines.filter((l) => l.fields.event === event);
  try {
    await inBatches(40, 10, async () => {
      const joining = connect(t.url, { realm: "realm1", authid: "alice", ticket: "wrong" });
      await within(joining.then(() => ok(false, "joined"), () => {}), 5000, "the refusal");
    });
    await until(() => of("authentication_failed").length >= EVENT_LOG_LIMIT, 5000, "the lines");
    await inBatches(15, 5, async () => {
      await using raw = await rawWamp(t.url);
      await raw.send([MessageType.HELLO, "open", { roles: { caller: {} } }]);
      equal((await raw.next("WELCOME"))?.[0], MessageType.WELCOME);
      await raw.send([MessageType.CALL, 7, {}, "com.example.x"]); // request ID out of sequence
      equal((await raw.next("ABORT"))?.[0], MessageType.ABORT);
    });
    await until(() => of("protocol_violation").length >= EVENT_LOG_LIMIT, 5000, "the lines");
    // Each kind has its own budget: the failed logins did not use up the violations'.
    for (const line of of("authentication_failed")) match(line.message, /authentication failed/);
    for (const line of of("protocol_violation")) match(line.message, /protocol violation/);
    equal(of("authentication_failed").length, EVENT_LOG_LIMIT);
    equal(of("protocol_violation").length, EVENT_LOG_LIMIT);
  } finally {
    await t.router.close(); // ends the windows: the counts are written
    await t.listener.close();
  }
  const summaries = lines.filter((l) => l.fields.suppressed !== undefined);
  deepEqual(summaries.map((l) => [l.level, l.fields.event, l.fields.suppressed]).sort(), [
    ["warn", "authentication_failed", 30],
    ["warn", "protocol_violation", 5],
  ]);
  match(
    summaries[0]!.message,
    /^\d+ more "\w+" lines suppressed \(over 10 per source or 50 in 10 s\); most from tcp4:127\.0\.0\.1 \(\d+\)$/,
  );
});

Deno.test("router log: connections refused past maxConnections are limited too (listener lines through router.log)", async () => {
  const { listen, Router } = await import("../../mod.ts");
  const lines: Line[] = [];
  const router = new Router({
    realms: [{ name: "realm1" }],
    logger: (level, message, fields) => void lines.push({ level, message, fields: fields ?? {} }),
  });
  const listener = await listen(router, {
    hostname: "127.0.0.1",
    port: 0,
    maxConnections: 1,
    log: router.log,
  });
  const port = listener.addr.transport === "tcp" ? listener.addr.port : 0;
  const held = await Deno.connect({ hostname: "127.0.0.1", port });
  const more: Deno.Conn[] = [];
  try {
    await until(() => listener.stats().accepted === 1, 5000, "the first one accepted");
    for (let i = 0; i < 30; i++) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      more.push(conn);
      // A refusal is told at the first byte (a NUL would be an accept check, not told).
      await conn.write(new TextEncoder().encode("GET / HTTP/1.1\r\n"));
    }
    await until(() => listener.stats().refused === 30, 5000, "30 refused");
    const told = () => lines.filter((l) => l.fields.event === "connection_refused");
    await until(() => told().length === EVENT_LOG_LIMIT, 5000, "the first refusals told");
    await new Promise((resolve) => setTimeout(resolve, 200)); // and no more
    const refused = told();
    equal(refused.length, EVENT_LOG_LIMIT);
    match(refused[0]!.message, /refused: 1 connections open/);
  } finally {
    held.close();
    for (const conn of more) conn.close();
    await listener.close();
    await router.close();
  }
  const summary = lines.find((l) => l.fields.event === "connection_refused" && l.fields.suppressed);
  ok(summary !== undefined, "the count of the rest, at router close");
  equal(summary!.fields.suppressed, 20);
});
