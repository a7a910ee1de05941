/**
 * Secrets kept off the command line: every secret flag's file form
 * (`--ticket-file`, `--secret-file`, `--password-file`,
 * `--private-key-file`, `hash-secret --password-file`, the service's
 * `--http-token-file`) and the `CLOVERLEAF_HTTP_TOKEN` variable; errors
 * name the flag and never show a secret.
 */

import { deepEqual, equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { cryptosignKeyPair, scramDeriveCredentials } from "../../wamp/mod.ts";
import { startRouter } from "../_helpers/router.ts";
import { assertUsage, jsonLines, runClient } from "./_client.ts";
import { assertUsageError, runCli } from "./_service.ts";

/** Runs `fn` with a temp dir holding `files` (name → text, mode 0600). */
async function withFiles(
  files: Record<string, string>,
  fn: (path: (name: string) => string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "cloverleaf_secrets_" });
  try {
    for (const [name, text] of Object.entries(files)) {
      await Deno.writeTextFile(join(dir, name), text, { mode: 0o600 });
    }
    await fn((name) => join(dir, name));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("cli client: --ticket-file, --secret-file, --password-file and --private-key-file log in", async () => {
  const key = cryptosignKeyPair();
  const salt = "W22ZaJ0SNY7soEsUEjb6gQ==";
  const scram = { kdf: "pbkdf2" as const, salt, iterations: 4096 };
  await using t = await startRouter({
    realms: [{
      name: "realm1",
      auth: {
        ticket: { principals: { alice: { ticket: "alice-ticket-1", role: "guest" } } },
        wampcra: { users: { bob: { secret: "bob-secret-2", role: "user" } } },
        scram: {
          users: {
            dave: { role: "admin", ...scram, ...scramDeriveCredentials("pencil-3", scram) },
          },
        },
        cryptosign: { principals: { carol: { role: "device", authorizedKeys: [key.publicKey] } } },
      },
    }],
  });
  await withFiles({
    ticket: "alice-ticket-1\n",
    secret: "bob-secret-2\r\n",
    password: "pencil-3",
    key: `${key.seed}\n`,
  }, async (path) => {
    const logins: [string[], string, string][] = [
      [["--authid", "alice", "--ticket-file", path("ticket")], "alice", "ticket"],
      [["--authid", "bob", "--secret-file", path("secret")], "bob", "wampcra"],
      [["--authid", "dave", "--password-file", path("password")], "dave", "wamp-scram"],
      [["--private-key-file", path("key")], "carol", "cryptosign"],
    ];
    for (const [flags, authid, authmethod] of logins) {
      const out = await runClient(["meta", "sessions", ...flags, "--url", t.url]);
      equal(out.code, 0, `${authid}: ${out.stderr}`);
      const [own] = jsonLines(out) as Record<string, unknown>[];
      deepEqual([own!.authid, own!.authmethod], [authid, authmethod]);
    }
  });
});

Deno.test("cli client: a secret and its file form together, or a file that is missing or empty, is bad usage", async () => {
  const url = "ws://127.0.0.1:9/ws";
  await withFiles({ ticket: "hunter2-ticket", empty: "\n" }, async (path) => {
    assertUsage(
      await runClient([
        "call",
        "a.b",
        "--ticket",
        "x",
        "--ticket-file",
        path("ticket"),
        "--url",
        url,
      ]),
      /Give --ticket or --ticket-file, not both/,
    );
    assertUsage(
      await runClient(["call", "a.b", "--password-file", path("nothing"), "--url", url]),
      /Cannot read --password-file ".*nothing"/,
    );
    assertUsage(
      await runClient(["call", "a.b", "--secret-file", path("empty"), "--url", url]),
      /Invalid --secret-file ".*empty": the file is empty/,
    );
    // A file that holds no key: named, its contents not shown.
    const out = await runClient([
      "call",
      "a.b",
      "--private-key-file",
      path("ticket"),
      "--url",
      url,
    ]);
    assertUsage(out, /--private-key-file ".*ticket": the file does not hold 64 hex characters/);
    ok(!out.stderr.includes("hunter2"), out.stderr);
  });
});

Deno.test("cli hash-secret --password-file hashes the file's password as --password does", async () => {
  await withFiles({ password: "bob's pa55word\n" }, async (path) => {
    const common = ["hash-secret", "wampcra", "--salt", "c2FsdA=="];
    const fromFile = await runClient([...common, "--password-file", path("password")]);
    const fromFlag = await runClient([...common, "--password", "bob's pa55word"]);
    equal(fromFile.code, 0, fromFile.stderr);
    equal(fromFile.stdout, fromFlag.stdout);
  });
});

Deno.test("cli --http-token-file and CLOVERLEAF_HTTP_TOKEN give --http-bridge its token; errors name them", async () => {
  const token = "a-bridge-token-of-24-chr";
  await withFiles({ token: `${token}\n`, short: "short\n" }, async (path) => {
    const bridge = ["check", "--http-bridge", "/api"];
    const file = await runCli([...bridge, "--http-token-file", path("token")]);
    equal(file.code, 0, file.stderr);
    match(file.stdout, /^config OK/);
    const env = await runCli(bridge, { env: { CLOVERLEAF_HTTP_TOKEN: token } });
    equal(env.code, 0, env.stderr);
    assertUsageError(
      await runCli([...bridge, "--http-token-file", path("short")]),
      /^cloverleaf: Invalid --http-token-file: expected at least 16 characters$/,
    );
    assertUsageError(
      await runCli(bridge, { env: { CLOVERLEAF_HTTP_TOKEN: "short" } }),
      /^cloverleaf: Invalid CLOVERLEAF_HTTP_TOKEN: expected at least 16 characters$/,
    );
    assertUsageError(
      await runCli([...bridge, "--http-token-file", path("missing")]),
      /^cloverleaf: Cannot read --http-token-file ".*missing"/,
    );
    assertUsageError(
      await runCli(["check", "--http-token-file", path("token")]),
      /^cloverleaf: Invalid --http-token-file: only with --http-bridge <path>$/,
    );
    assertUsageError(
      await runCli([...bridge, "--http-token", token, "--http-token-file", path("token")]),
      /^cloverleaf: Give --http-token or --http-token-file, not both$/,
    );
  });
});

Deno.test("cli --cluster refuses a URL with credentials, without repeating it", async () => {
  const line = assertUsageError(
    await runCli(["check", "--cluster", "nats://hunter2-token@127.0.0.1:4222"]),
    /^cloverleaf: Invalid --cluster: a URL with credentials shows in the process list; give the token in CLOVERLEAF_CLUSTER_TOKEN/,
  );
  ok(!line.includes("hunter2"), line);
});
