/**
 * `--admin` with `--workers`: the supervisor's admin listener
 * (`cli/workers_admin.ts`) answers /health, /ready and /metrics from the
 * workers' own admin listeners on their private Unix sockets, each sample with a
 * `worker` label.
 */

import { deepEqual, equal, match, ok } from "node:assert/strict";
import { connect, type Session } from "../../mod.ts";
import { within } from "../_helpers/router.ts";
import { runCli } from "./_service.ts";
import { slotOf, startWorkers } from "./_workers.ts";
import { freePort } from "../../cli/ports.ts";
import { mergeExpositions } from "../../cli/workers_admin.ts";

Deno.test("mergeExpositions() labels every sample with its worker and keeps each family together", () => {
  const worker = (n: number) =>
    [
      "# HELP a_total A.",
      "# TYPE a_total counter",
      `a_total ${n}`,
      "# HELP h_seconds H.",
      "# TYPE h_seconds histogram",
      `h_seconds_bucket{le="0.1"} ${n}`,
      `h_seconds_bucket{le="+Inf"} ${n}`,
      `h_seconds_sum ${n / 10}`,
      `h_seconds_count ${n}`,
      "# HELP g Gauge.",
      "# TYPE g gauge",
      `g{realm="r\\"1"} ${n}`,
      "",
    ].join("\n");
  const merged = mergeExpositions(new Map([[1, worker(1)], [2, worker(2)]]));
  equal(
    merged,
    [
      "# HELP a_total A.",
      "# TYPE a_total counter",
      'a_total{worker="1"} 1',
      'a_total{worker="2"} 2',
      "# HELP h_seconds H.",
      "# TYPE h_seconds histogram",
      'h_seconds_bucket{worker="1",le="0.1"} 1',
      'h_seconds_bucket{worker="1",le="+Inf"} 1',
      'h_seconds_sum{worker="1"} 0.1',
      'h_seconds_count{worker="1"} 1',
      'h_seconds_bucket{worker="2",le="0.1"} 2',
      'h_seconds_bucket{worker="2",le="+Inf"} 2',
      'h_seconds_sum{worker="2"} 0.2',
      'h_seconds_count{worker="2"} 2',
      "# HELP g Gauge.",
      "# TYPE g gauge",
      'g{worker="1",realm="r\\"1"} 1',
      'g{worker="2",realm="r\\"1"} 2',
      "",
    ].join("\n"),
  );
  equal(mergeExpositions(new Map()), "");
});

Deno.test("cli check accepts --admin with --workers", async () => {
  const out = await runCli(["check", "--workers", "2", "--admin", "127.0.0.1:9090"]);
  equal(out.stderr, "");
  equal(out.stdout, "config OK: 1 realm, 1 listener, 2 workers\n");
});

Deno.test({
  name: "cli --workers 2 --admin: the supervisor serves /health, /ready and every worker's " +
    "/metrics with a worker label; the workers' own admin sockets need a token",
  sanitizeResources: false,
  fn: async () => {
    const port = await freePort();
    const adminPort = await freePort();
    const base = `http://127.0.0.1:${adminPort}`;
    await using service = await startWorkers(port, {
      deno: ["run", "-A", "cli.ts", "--admin", `127.0.0.1:${adminPort}`],
    });
    const sessions: Session[] = [];
    try {
      const lines = service.lines.join("\n");
      match(lines, new RegExp(`Supervisor: admin listener on ${base} \\(/metrics of every worker`));
      const workerAdmins = [...lines.matchAll(/Worker (\d): Admin listener on (\S+) /g)];
      equal(workerAdmins.length, 2, lines);
      for (const [, n, url] of workerAdmins) {
        // On a Unix socket in the supervisor's private directory, not a port anyone could take.
        const path = /^unix:(\/.*\/admin-(\d)\.sock)$/.exec(url!);
        ok(path !== null && path[2] === n, url);
        equal((await Deno.stat(path[1]!.replace(/\/[^/]*$/, ""))).mode! & 0o777, 0o700);
        // Private: a token the supervisor made is required.
        using client = Deno.createHttpClient({ proxy: { transport: "unix", path: path[1]! } });
        const res = await fetch("http://worker/metrics", { client });
        await res.body?.cancel();
        equal(res.status, 401);
      }

      const health = await (await fetch(`${base}/health`)).json();
      equal(health.status, "up");
      deepEqual(health.workers, { 1: "up", 2: "up" });
      let ready: Response | undefined;
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        ready = await fetch(`${base}/ready`);
        if (ready.status === 200) break;
        await ready.body?.cancel();
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      equal(ready!.status, 200);
      deepEqual(await ready!.json(), { status: "ready", workers: { 1: "ready", 2: "ready" } });

      // Sessions on both workers: each worker's joins show under its label.
      const slots = new Set<number>();
      while (slots.size < 2 && sessions.length < 40) {
        const session = await within(
          connect(`ws://127.0.0.1:${port}/ws`, { realm: "realm1" }),
          10_000,
          "join",
        );
        sessions.push(session);
        slots.add(slotOf(session));
      }
      equal(slots.size, 2);
      const res = await fetch(`${base}/metrics`);
      match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      match(text, /^cloverleaf_worker_up\{worker="1"\} 1$/m);
      match(text, /^cloverleaf_worker_up\{worker="2"\} 1$/m);
      let joins = 0;
      for (const worker of [1, 2]) {
        const m = new RegExp(
          `^cloverleaf_session_joins_total\\{worker="${worker}",realm="realm1"\\} (\\d+)$`,
          "m",
        ).exec(text);
        ok(m !== null, `worker ${worker}'s joins in:\n${text}`);
        ok(Number(m[1]) >= 1);
        joins += Number(m[1]);
      }
      equal(joins, sessions.length);
      equal(text.match(/^# TYPE cloverleaf_session_joins_total /gm)?.length, 1, "one family");
      match(text, /^cloverleaf_call_duration_seconds_bucket\{worker="2",le="\+Inf"\} \d+$/m);

      // No dashboard under --workers: the workers' own are on their private sockets.
      const page = await fetch(`${base}/`);
      await page.body?.cancel();
      equal(page.status, 404);
    } finally {
      for (const session of sessions) await session.close().catch(() => {});
    }
  },
});
