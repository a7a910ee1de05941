/**
 * The dashboard in Debian's headless Chromium: `_dashboard_run.ts` starts
 * the service with `--admin`, opens the page, runs traffic and checks that
 * the sessions table and rate figures change without a reload, saving a
 * screenshot to a temp folder it removes. It runs as `deno run -A`:
 * playwright-core reads /proc paths when it loads, which Deno grants only
 * with --allow-all.
 */

import { equal, ok } from "node:assert/strict";
import { run } from "../cli/_service.ts";

Deno.test("the dashboard shows sessions and rates live, without a reload", async () => {
  const out = await run(Deno.execPath(), [
    "run",
    "-A",
    "--lock=deno.dev.lock",
    "tests/admin/_dashboard_run.ts",
  ], 120_000);
  equal(out.code, 0, `exit code\nstdout:\n${out.stdout}\nstderr:\n${out.stderr}`);
  ok(out.stdout.includes("dashboard ok"), out.stdout);
});
