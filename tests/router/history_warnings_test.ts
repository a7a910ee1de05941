/**
 * A history rule whose `limit` its subscription cannot reach (each kept
 * event counts `HISTORY_EVENT_OVERHEAD`, 256 bytes, against `historyBytes`:
 * at most 4,096 events with the default 1 MiB) is said once at startup,
 * one warn line per rule, instead of keeping fewer than it says quietly.
 */

import { deepEqual } from "node:assert/strict";
import { type LogLevel, Router } from "../../mod.ts";

Deno.test("Router: a warn line per history rule whose limit historyBytes cannot hold", async () => {
  const lines: [LogLevel, string, unknown][] = [];
  const router = new Router({
    logger: (level, message, fields) => lines.push([level, message, fields?.realm]),
    realms: [
      {
        name: "realm1",
        eventHistory: [
          { topic: "com.example.log", limit: 10_000 }, // 3,640 kept of 10,000 published
          { topic: "com.example.few" }, // 100
          { topic: "com.example.", match: "prefix", limit: 4096 },
          { topic: "com.example.all", limit: 4097 },
        ],
      },
      {
        name: "realm2",
        eventHistory: [{ topic: "com.example.log", limit: 10_000 }],
        limits: { historyBytes: 4 * 1024 * 1024 }, // 16,384 events at most
      },
    ],
  });
  await router.close();
  const warned = lines.filter(([level]) => level === "warn");
  const says = (i: number, limit: number) =>
    `Realm "realm1": realms[0].eventHistory[${i}] (com.example.${
      i === 0 ? "log" : "all"
    }) keeps at most 4096 events, not its limit of ${limit}: each counts 256 bytes besides its ` +
    "topic and payload against historyBytes (1048576); raise historyBytes";
  deepEqual(warned, [["warn", says(0, 10_000), "realm1"], ["warn", says(3, 4097), "realm1"]]);
});
