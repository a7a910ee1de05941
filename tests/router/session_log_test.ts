/**
 * `SessionLog.log`, the logger sessions write through: lines with an
 * `event` field are limited per kind and window, the count of the rest is
 * written when the window ends (by its timer, or by `flush()`), a new
 * window writes again, and lines without `event` always pass.
 */

import { deepEqual } from "node:assert/strict";
import type { LogFields } from "../../wamp/log.ts";
import { SessionLog } from "../../router/session_log.ts";
import { until } from "../_helpers/router.ts";

Deno.test("SessionLog.log: a few lines per event kind and window, then the count when the window ends", async () => {
  const lines: [string, LogFields | undefined][] = [];
  const log = new SessionLog(
    (_level, message, fields) => void lines.push([message, fields]),
    20,
    2,
    100,
  );
  for (let i = 0; i < 5; i++) log.log("warn", `failed ${i}`, { event: "authentication_failed" });
  log.log("warn", "violation", { event: "protocol_violation" });
  for (let i = 0; i < 3; i++) log.log("error", `internal ${i}`);
  deepEqual(lines.map(([message]) => message), [
    "failed 0",
    "failed 1",
    "violation",
    "internal 0",
    "internal 1",
    "internal 2",
  ]);
  await until(() => lines.length === 7, 2000, "the count, by the window's timer");
  deepEqual(lines[6], [
    '3 more "authentication_failed" lines suppressed (over 2 in 0.1 s)',
    { event: "authentication_failed", suppressed: 3 },
  ]);
  // A new window: written again; flush() (router close) ends it and its timer.
  for (let i = 5; i < 8; i++) log.log("warn", `failed ${i}`, { event: "authentication_failed" });
  log.flush();
  deepEqual(lines.slice(7).map(([message]) => message), [
    "failed 5",
    "failed 6",
    '1 more "authentication_failed" lines suppressed (over 2 in 0.1 s)',
  ]);
});

Deno.test("SessionLog: the join/leave summary does not end the event windows (a join flood would reset them every second)", async () => {
  const lines: [string, LogFields | undefined][] = [];
  const log = new SessionLog(
    (_level, message, fields) => void lines.push([message, fields]),
    1,
    2,
    60_000,
  );
  const info = {
    id: 1,
    realm: "realm1",
    authid: "a",
    authrole: "anonymous",
    authmethod: "anonymous",
    transport: "websocket",
    roles: {},
  } as unknown as Parameters<SessionLog["joined"]>[0];
  for (let i = 0; i < 3; i++) log.joined(info); // over the rate: a summary within a second
  for (let i = 0; i < 4; i++) log.log("warn", `failed ${i}`, { event: "authentication_failed" });
  await until(() => lines.some(([m]) => m.includes("sessions joined")), 3000, "the join summary");
  log.log("warn", "failed 4", { event: "authentication_failed" });
  const failed = lines.filter(([m]) => m.startsWith("failed"));
  deepEqual(failed.map(([m]) => m), ["failed 0", "failed 1"]);
  log.flush();
  deepEqual(lines.at(-1), [
    '3 more "authentication_failed" lines suppressed (over 2 in 60 s)',
    { event: "authentication_failed", suppressed: 3 },
  ]);
});

Deno.test("SessionLog.log: a limited line's strings are cut short (a limit on lines is then one on bytes)", () => {
  const lines: [string, LogFields | undefined][] = [];
  const log = new SessionLog((_level, message, fields) => void lines.push([message, fields]));
  const long = "x".repeat(1 << 20);
  log.log("warn", `wrong ticket for "${long}"`, { event: "authentication_failed", authid: long });
  const [message, fields] = lines[0]!;
  deepEqual([message.length <= 201, String(fields?.authid).length <= 201], [true, true]);
  // Lines without `event` are the router's own: written as they are.
  log.log("info", long);
  deepEqual(lines[1]![0].length, long.length);
});
