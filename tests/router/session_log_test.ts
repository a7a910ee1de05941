/**
 * `SessionLog.log`, the logger sessions write through: lines with an
 * `event` field are limited per kind and window, the count of the rest is
 * written when the window ends (by its timer, or by `flush()`), a new
 * window writes again, and lines without `event` always pass.
 */

import { deepEqual, equal } from "node:assert/strict";
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
    '3 more "authentication_failed" lines suppressed (over 2 per source or 50 in 0.1 s)',
    { event: "authentication_failed", suppressed: 3 },
  ]);
  // A new window: written again; flush() (router close) ends it and its timer.
  for (let i = 5; i < 8; i++) log.log("warn", `failed ${i}`, { event: "authentication_failed" });
  log.flush();
  deepEqual(lines.slice(7).map(([message]) => message), [
    "failed 5",
    "failed 6",
    '1 more "authentication_failed" lines suppressed (over 2 per source or 50 in 0.1 s)',
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
    '3 more "authentication_failed" lines suppressed (over 2 per source or 50 in 60 s)',
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

Deno.test("SessionLog.log: limited per source, so one noisy client does not hide another's lines; the summary names the noisiest", () => {
  const lines: [string, LogFields | undefined][] = [];
  const log = new SessionLog(
    (_level, message, fields) => void lines.push([message, fields]),
    20,
    3,
    60_000,
    8,
  );
  const fail = (peer: string, i: number) =>
    log.log("warn", `failed ${peer} ${i}`, { event: "authentication_failed", peer });
  for (let i = 0; i < 100; i++) fail("tcp4:10.0.0.1:40000", i); // one client, any port
  for (let i = 0; i < 2; i++) fail(`tcp4:10.0.0.2:${5000 + i}`, i);
  // IPv6: one /64 is one source, however it is spelled.
  fail("tcp6:[2001:db8:1:2::5]:1", 0);
  fail("tcp6:[2001:db8:1:2:0:0:0:6]:2", 1);
  fail("tcp6:[2001:0db8:0001:0002::7]:3", 2);
  fail("tcp6:[2001:db8:1:2::8]:4", 3);
  deepEqual(lines.map(([m]) => m), [
    "failed tcp4:10.0.0.1:40000 0",
    "failed tcp4:10.0.0.1:40000 1",
    "failed tcp4:10.0.0.1:40000 2",
    "failed tcp4:10.0.0.2:5000 0",
    "failed tcp4:10.0.0.2:5001 1",
    "failed tcp6:[2001:db8:1:2::5]:1 0",
    "failed tcp6:[2001:db8:1:2:0:0:0:6]:2 1",
    "failed tcp6:[2001:0db8:0001:0002::7]:3 2",
  ]);
  // Past the kind's limit in all (8), further sources are counted too.
  fail("tcp4:10.0.0.3:1", 0);
  equal(lines.length, 8);
  log.flush();
  deepEqual(lines.at(-1), [
    '99 more "authentication_failed" lines suppressed (over 3 per source or 8 in 60 s); most from ' +
    "tcp4:10.0.0.1 (97), tcp6:[2001:db8:1:2::/64] (1), tcp4:10.0.0.3 (1)",
    {
      event: "authentication_failed",
      suppressed: 99,
      sources: "tcp4:10.0.0.1 (97), tcp6:[2001:db8:1:2::/64] (1), tcp4:10.0.0.3 (1)",
    },
  ]);
});
