/**
 * `--workers` keeps secrets off the workers' command lines: `--http-token`
 * given to the supervisor reaches each worker by environment (which only
 * the service's user and root can read), not by argv (which `ps` shows
 * every user).
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import { freePort } from "../../cli/ports.ts";
import { workerArgs } from "../../cli/workers.ts";
import { startWorkers } from "./_workers.ts";

Deno.test("workerArgs drops --workers and the secret flags, in both spellings", () => {
  deepEqual(
    workerArgs([
      "--workers",
      "2",
      "--http-bridge",
      "/api",
      "--http-token",
      "s3cret-s3cret-s3cret",
      "--http-token-file=/run/token",
      "--http-token=x",
      "--http-token-file",
      "/run/token",
      "--workers=3",
      "--listen",
      "127.0.0.1:8080",
    ], 1),
    ["--http-bridge", "/api", "--listen", "127.0.0.1:8080", "--worker", "1"],
  );
});

Deno.test({
  name: "cli --workers 2 --http-token: no worker's command line (ps) holds the token, " +
    "and every worker serves the bridge with it",
  sanitizeResources: false,
  fn: async () => {
    const token = `worker-token-${crypto.randomUUID()}`;
    const port = await freePort();
    // Each worker refuses to start without the token: both serving means both got it.
    await using service = await startWorkers(port, {
      extra: ["--http-bridge", "/api", "--http-token", token],
    });
    const pids = service.lines.flatMap((line) => {
      const m = /Supervisor: worker \d+ ready \(pid (\d+)\)/.exec(line);
      return m === null ? [] : [Number(m[1])];
    });
    equal(pids.length, 2, service.lines.join("\n"));
    for (const pid of pids) {
      // What `ps` shows every user: the command line, in full (reading /proc needs -A here).
      const ps = await new Deno.Command("ps", { args: ["-ww", "-o", "args=", "-p", String(pid)] })
        .output();
      const argv = new TextDecoder().decode(ps.stdout).trim();
      ok(/ --worker \d/.test(argv), `pid ${pid} is a worker: ${argv}`);
      ok(argv.includes("--http-bridge /api"), argv);
      equal(argv.includes(token), false, `the token on ${pid}'s command line`);
    }
    const publish = async (bearer: string) => {
      const response = await fetch(`http://127.0.0.1:${port}/api/publish`, {
        method: "POST",
        headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" },
        body: JSON.stringify({ topic: "com.example.news", args: [1] }),
      });
      await response.body?.cancel();
      return response.status;
    };
    for (let i = 0; i < 4; i++) equal(await publish(token), 202);
    equal(await publish("not-the-token-at-all"), 401);
    equal((await service.stop("SIGTERM")).code, 0);
  },
});
