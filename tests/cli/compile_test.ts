/**
 * Builds the single binary once (the `deno task compile` command, with the
 * output in a temp dir) and runs it. `deno compile` downloads the denort
 * runtime from dl.deno.land; when that download is impossible (no network),
 * the test is registered as ignored with the reason in its name. Any other
 * build failure fails the test.
 */

import { equal, fail, match } from "node:assert/strict";
import denoConfig from "../../deno.json" with { type: "json" };
import { connect } from "../../mod.ts";
import { within } from "../_helpers/router.ts";
import { ROOT, run, startService } from "./_service.ts";

const COMPILE_TIMEOUT_MS = 120_000;

interface Build {
  ok: boolean;
  /** Why the build failed, when it did. */
  reason: string;
  /** Whether it failed only because denort could not be downloaded. */
  noRuntime: boolean;
  stderr: string;
  dir: string;
  binary: string;
}

function stripAnsi(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, "");
}

async function build(): Promise<Build> {
  const dir = await Deno.makeTempDir({ prefix: "cloverleaf_compile_" });
  const binary = `${dir}/cloverleaf${Deno.build.os === "windows" ? ".exe" : ""}`;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), COMPILE_TIMEOUT_MS);
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(Deno.execPath(), {
      args: [
        "compile",
        "--allow-net",
        "--allow-read",
        "--allow-env",
        "--allow-write",
        "--v8-flags=--max-semi-space-size=4",
        "--output",
        binary,
        "cli.ts",
      ],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: controller.signal,
    }).output();
  } finally {
    clearTimeout(timer);
  }
  const stderr = stripAnsi(new TextDecoder().decode(out.stderr));
  if (out.success) {
    return { ok: true, reason: "", noRuntime: false, stderr, dir, binary };
  }

  const lines = stderr.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  const downloading = /Download https:\/\/dl\.deno\.land\/\S*denort/.test(
    stderr,
  );
  // The cause line that names the download URL, e.g. "1: error sending
  // request for url (https://dl.deno.land/...denort...zip): ... dns error: ...".
  const cause = lines.find((l) => /dl\.deno\.land\S*denort/.test(l) && !l.startsWith("Download"));
  const timedOut = controller.signal.aborted;
  let reason: string;
  let noRuntime = false;
  if (downloading && cause !== undefined) {
    noRuntime = true;
    reason = `deno compile could not download the denort runtime: ${cause.replace(/^\d+: /, "")}`;
  } else if (downloading && timedOut) {
    noRuntime = true;
    reason = `deno compile could not download the denort runtime: ` +
      `no answer within ${COMPILE_TIMEOUT_MS / 1000} s`;
  } else {
    const first = lines.find((l) => l.startsWith("error:")) ?? lines.at(-1) ??
      "no output";
    reason = timedOut
      ? `deno compile timed out after ${COMPILE_TIMEOUT_MS / 1000} s`
      : `deno compile failed (exit code ${out.code}): ${first}`;
  }
  return { ok: false, reason, noRuntime, stderr, dir, binary };
}

const result = await build();

if (result.ok) {
  Deno.test("compiled binary prints its version and serves --ws until SIGTERM", async () => {
    try {
      const version = await run(result.binary, ["--version"], 10_000);
      equal(version.stdout, `cloverleaf ${denoConfig.version}\n`);
      equal(version.code, 0);

      // `check` and ${NAME} need --allow-env in the compile task too.
      const file = `${result.dir}/cloverleaf.json`;
      await Deno.writeTextFile(
        file,
        JSON.stringify({ realms: [{ name: "${CLOVERLEAF_REALM}" }, { name: "realm2" }] }),
      );
      const check = await run(result.binary, ["check", "-c", file], {
        ms: 10_000,
        env: { CLOVERLEAF_REALM: "com.example.env" },
      });
      equal(check.stderr, "");
      equal(check.stdout, "config OK: 2 realms, 1 listener\n");
      equal(check.code, 0);
      const unset = await run(result.binary, ["check", "-c", file], { ms: 10_000 });
      equal(
        unset.stderr,
        'cloverleaf: Invalid config "realms[0].name": environment variable "CLOVERLEAF_REALM" is not set\n',
      );
      equal(unset.code, 2);

      await using service = await startService(result.binary, [
        "--ws",
        "127.0.0.1:0",
      ]);
      match(service.urls[0]!, /^ws:\/\/127\.0\.0\.1:\d+\/ws$/);
      const session = await within(
        connect(service.urls[0]!, { realm: "realm1" }),
        10_000,
      );
      try {
        await session.register("com.example.ping", () => ({ args: ["pong"] }));
        equal(
          (await within(session.call("com.example.ping"), 5000)).args[0],
          "pong",
        );
        equal((await service.stop("SIGTERM")).code, 0);
        equal(
          (await within(session.closed, 5000)).reason,
          "wamp.close.system_shutdown",
        );
      } finally {
        await session.close();
      }
    } finally {
      await Deno.remove(result.dir, { recursive: true });
    }
  });
} else {
  await Deno.remove(result.dir, { recursive: true });
  if (result.noRuntime) {
    console.log(`compile_test: skipped: ${result.reason}`);
    Deno.test({
      name: `compiled binary runs (skipped: ${result.reason})`,
      ignore: true,
      fn() {},
    });
  } else {
    Deno.test("compiled binary builds", () => {
      fail(`${result.reason}\n${result.stderr}`);
    });
  }
}
