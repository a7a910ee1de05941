/**
 * Tokens and bridge paths: each error names the key it is about, and every
 * configured token or shared secret keeps one rule, 16 characters or more
 * (`config/secret.ts`): the admin token, a bridge's token or signing
 * secret, `--http-token`.
 */

import { deepEqual, equal, match } from "node:assert/strict";
import { assertUsageError, runCli, withConfig } from "./_service.ts";

const SHORT = "fifteen-chars-x"; // 15
const LONG = "sixteen-chars-xx"; // 16

/** `check`'s error lines for a config (and flags), without the `cloverleaf: ` prefix. */
async function checkErrors(config: unknown, flags: string[] = []): Promise<string[]> {
  return await withConfig(JSON.stringify(config), async (file) => {
    const out = await runCli(["check", "-c", file, ...flags]);
    equal(out.code, 2, `check fails (stdout: ${out.stdout})`);
    return out.stderr.trimEnd().split("\n").map((line) => line.replace(/^cloverleaf: /, ""));
  });
}

const bridge = (path: string, auth: unknown) => ({
  path,
  type: "publisher",
  realm: "realm1",
  role: "anonymous",
  auth,
});

Deno.test("check: a short token or secret is named by its key, admin, bridges and --http-token alike", async () => {
  const lines = await checkErrors({
    admin: { token: SHORT },
    bridges: [bridge("/a", { token: SHORT }), bridge("/b", { key: "k", secret: SHORT })],
  }, ["--http-bridge", "/api", "--http-token", SHORT]);
  deepEqual(lines, [
    'Invalid config "admin.token": expected at least 16 characters',
    "Invalid --http-token: expected at least 16 characters",
    'Invalid config "bridges[0].auth.token": expected at least 16 characters',
    'Invalid config "bridges[1].auth.secret": expected at least 16 characters',
  ]);
  for (const line of lines) equal(line.includes(SHORT), false, "the value is never shown");
  // 16 characters pass everywhere.
  await withConfig(
    JSON.stringify({
      admin: { token: LONG },
      bridges: [bridge("/a", { token: LONG }), bridge("/b", { key: "k", secret: LONG })],
    }),
    async (file) => {
      const out = await runCli([
        "check",
        "-c",
        file,
        "--http-bridge",
        "/api",
        "--http-token",
        LONG,
      ]);
      equal(out.code, 0, out.stderr);
      match(out.stdout, /^config OK/);
    },
  );
});

Deno.test("a short --http-token is blamed on --http-token, not --http-bridge", async () => {
  assertUsageError(
    await runCli(
      ["--http-bridge", "/api", "--http-token", SHORT, "--listen", "127.0.0.1:0"],
      10_000,
    ),
    /^cloverleaf: Invalid --http-token: expected at least 16 characters$/,
  );
});

Deno.test("check: a bridge path mounted twice is named on the second bridge's path", async () => {
  const auth = { token: LONG };
  deepEqual(
    await checkErrors({ bridges: [bridge("/x", auth), bridge("/y", auth), bridge("/x", auth)] }),
    ['Invalid config "bridges[2].path": path /x is mounted twice'],
  );
  // An earlier bridge that failed does not shift the index named.
  deepEqual(
    await checkErrors({
      bridges: [bridge("/x", { token: SHORT }), bridge("/y", auth), bridge("/y", auth)],
    }),
    [
      'Invalid config "bridges[0].auth.token": expected at least 16 characters',
      'Invalid config "bridges[2].path": path /y is mounted twice',
    ],
  );
  // The quick start's paths clash with the file's: --http-bridge is named.
  deepEqual(
    await checkErrors({ bridges: [bridge("/api/call", auth)] }, [
      "--http-bridge",
      "/api",
      "--http-token",
      LONG,
    ]),
    ["Invalid --http-bridge: path /api/call is mounted twice"],
  );
});
