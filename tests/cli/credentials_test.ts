/**
 * `keygen` and `hash-secret` as subprocesses: what they print goes into a
 * config file as it is, the service starts with it, and the client
 * commands log in with the key file and the passwords.
 */

import { deepEqual, equal, match, notEqual, ok, rejects } from "node:assert/strict";
import { join } from "node:path";
import { parse } from "yaml";
import { cryptosignKeyPair } from "../../wamp/mod.ts";
import { jsonLines, readmeBlocks, readmeCommands, runClient } from "./_client.ts";
import { DENO_RUN, type Output, startService } from "./_service.ts";

function assertUsage(out: Output, pattern: RegExp): void {
  equal(out.code, 2, `exit code (stderr: ${out.stderr})`);
  equal(out.stdout, "");
  match(out.stderr, /^cloverleaf: [^\n]*\(see cloverleaf (keygen|hash-secret) --help\)\n$/);
  match(out.stderr, pattern);
}

Deno.test("cli keygen prints an Ed25519 pair whose public key matches its private key", async () => {
  const out = await runClient(["keygen"]);
  equal(out.code, 0, out.stderr);
  const m = /^Private key: ([0-9a-f]{64})\nPublic key: ([0-9a-f]{64})\n$/.exec(out.stdout);
  ok(m, out.stdout);
  equal(cryptosignKeyPair(m[1]!).publicKey, m[2]);
  const again = await runClient(["keygen"]);
  notEqual(again.stdout, out.stdout, "a fresh key each time");
});

Deno.test("cli keygen -o writes the private key with mode 0600 and never overwrites it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloverleaf_keygen_" });
  try {
    const file = join(dir, "alice.key");
    const out = await runClient(["keygen", "-o", file]);
    equal(out.code, 0, out.stderr);
    const seed = (await Deno.readTextFile(file)).trim();
    const pub = (await Deno.readTextFile(`${file}.pub`)).trim();
    equal(out.stdout, `Public key: ${pub}\n`);
    equal(cryptosignKeyPair(seed).publicKey, pub);
    if (Deno.build.os !== "windows") equal((await Deno.stat(file)).mode! & 0o777, 0o600);
    assertUsage(await runClient(["keygen", "-o", file]), /the file exists/);
    equal((await Deno.readTextFile(file)).trim(), seed, "the key is still there");
    assertUsage(await runClient(["keygen", "extra"]), /Unexpected argument "extra"/);
    // A .pub in the way: no private key is written without its public half.
    const lone = join(dir, "bob.key");
    await Deno.writeTextFile(`${lone}.pub`, "someone else's\n");
    assertUsage(await runClient(["keygen", "-o", lone]), /the file exists/);
    await rejects(Deno.stat(lone), Deno.errors.NotFound);
    // A mistyped key is not repeated on stderr.
    const typo = "0x" + "ab".repeat(31);
    const bad = await runClient([
      "call",
      "p",
      "--private-key",
      typo,
      "--url",
      "ws://127.0.0.1:9/ws",
    ]);
    match(bad.stderr, /Cannot read --private-key: not 64 hex characters/);
    equal(bad.stderr.includes(typo), false, bad.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli hash-secret refuses bad methods, parameters and an empty password", async () => {
  assertUsage(await runClient(["hash-secret"]), /Missing method/);
  assertUsage(await runClient(["hash-secret", "md5", "--password", "x"]), /Unknown method "md5"/);
  assertUsage(
    await runClient(["hash-secret", "scram", "--kdf", "bcrypt", "--password", "x"]),
    /Invalid --kdf "bcrypt"/,
  );
  assertUsage(
    await runClient(["hash-secret", "scram", "--salt", "not base64!", "--password", "x"]),
    /--salt/,
  );
  assertUsage(
    await runClient(["hash-secret", "wampcra", "--memory", "64", "--password", "x"]),
    /--memory is for scram/,
  );
  assertUsage(await runClient(["hash-secret", "wampcra"], { stdin: "" }), /Missing password/);
});

Deno.test("cli hash-secret wampcra derives the salted key as Autobahn does", async () => {
  const out = await runClient([
    "hash-secret",
    "wampcra",
    "--salt",
    "salt123",
    "--iterations",
    "100",
    "--keylen",
    "16",
    "--role",
    "admin",
  ], { stdin: "secret1\n" });
  equal(out.code, 0, out.stderr);
  // The vector of wamp/auth/wampcra.ts (Autobahn's derive_key).
  deepEqual(JSON.parse(out.stdout), {
    role: "admin",
    secret: "prq7+YkJ1/KlW1X0YczMHw==",
    salt: "salt123",
    iterations: 100,
    keylen: 16,
  });
});

Deno.test("cli keygen and hash-secret output in a config: the service checks it and each user logs in", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloverleaf_creds_" });
  try {
    const keyFile = join(dir, "carol.key");
    equal((await runClient(["keygen", "-o", keyFile])).code, 0);
    const pub = (await Deno.readTextFile(`${keyFile}.pub`)).trim();

    const cra = await runClient(["hash-secret", "wampcra", "--authid", "bob"], {
      stdin: "bob's pa55word\n",
    });
    equal(cra.code, 0, cra.stderr);
    const scram = await runClient([
      "hash-secret",
      "scram",
      "--authid",
      "dave",
      "--role",
      "admin",
      "--kdf",
      "pbkdf2",
      "--password",
      "pencil",
    ]);
    equal(scram.code, 0, scram.stderr);
    const argon = await runClient([
      "hash-secret",
      "scram",
      "--authid",
      "erin",
      "--iterations",
      "2",
      "--memory",
      "256",
    ], { stdin: "erin-secret" });
    equal(argon.code, 0, argon.stderr);
    const users = JSON.parse(cra.stdout);
    equal(users.bob.role, "user");
    ok(!cra.stdout.includes("pa55word"), "the password is not printed");

    const config = join(dir, "cloverleaf.json");
    await Deno.writeTextFile(
      config,
      JSON.stringify({
        realms: [{
          name: "realm1",
          auth: {
            wampcra: { users },
            scram: { users: { ...JSON.parse(scram.stdout), ...JSON.parse(argon.stdout) } },
            cryptosign: { principals: { carol: { role: "device", authorizedKeys: [pub] } } },
            ticket: { principals: { alice: { ticket: "t0ps3cret", role: "guest" } } },
          },
        }],
      }),
    );
    const check = await runClient(["check", "-c", config]);
    equal(check.code, 0, check.stderr);
    match(check.stdout, /^config OK: 1 realm/);

    await using service = await startService(Deno.execPath(), [
      ...DENO_RUN,
      "-c",
      config,
      "--listen",
      "127.0.0.1:0",
    ]);
    const ws = service.urls[0]!;
    // The universal listener's line names its RawSocket URL after the WebSocket one.
    const tcp = /tcp:\/\/[^\s,]+/.exec(service.listening[0]!)![0];
    const logins: [string[], string, string, string][] = [
      [["--authid", "bob", "--secret", "bob's pa55word", "--url", ws], "bob", "user", "wampcra"],
      [["--authid", "dave", "--password", "pencil", "--url", tcp], "dave", "admin", "wamp-scram"],
      [
        ["--authid", "erin", "--password", "erin-secret", "--url", ws, "--serializer", "cbor"],
        "erin",
        "user",
        "wamp-scram",
      ],
      [
        ["--private-key", keyFile, "--url", tcp, "--serializer", "msgpack"],
        "carol",
        "device",
        "cryptosign",
      ],
    ];
    for (const [flags, authid, authrole, authmethod] of logins) {
      const out = await runClient(["meta", "sessions", ...flags]);
      equal(out.code, 0, `${authid}: ${out.stderr}`);
      const [own] = jsonLines(out) as Record<string, unknown>[];
      deepEqual(
        { authid: own!.authid, authrole: own!.authrole, authmethod: own!.authmethod },
        { authid, authrole, authmethod },
      );
    }
    const wrong = await runClient([
      "meta",
      "sessions",
      "--authid",
      "bob",
      "--secret",
      "nope",
      "--url",
      ws,
    ]);
    equal(wrong.code, 1);
    match(wrong.stderr, /^cloverleaf: .*wamp\.error\.(authentication_failed|not_authorized)/);
    const stranger = cryptosignKeyPair().seed;
    const unknownKey = await runClient([
      "meta",
      "sessions",
      "--private-key",
      stranger,
      "--url",
      ws,
    ]);
    equal(unknownKey.code, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli README: the config example's users log in as the Credentials section shows", async () => {
  const yaml = (await readmeBlocks("A config file")).find((b) => b.lang === "yaml")!;
  const start = (await readmeBlocks("A config file")).find((b) => b.lang === "sh")!;
  const env = Object.fromEntries(
    [...start.text.matchAll(/^([A-Z_]+)=(\S+) deno task start -c/gm)].map((m) => [m[1]!, m[2]!]),
  );
  deepEqual(Object.keys(env), ["ALICE_TICKET"]);
  const logins = readmeCommands((await readmeBlocks("Credentials")).at(-1)!.text);
  equal(logins.length, 4);
  const dir = await Deno.makeTempDir({ prefix: "cloverleaf_readme_" });
  try {
    const config = join(dir, "cloverleaf.yaml");
    await Deno.writeTextFile(config, yaml.text);
    const check = await runClient(["check", "-c", config], { env });
    equal(check.code, 0, check.stderr);
    // The example's realm on a free port (its listeners: 8080 and a Unix socket in /tmp).
    const { realms } = parse(yaml.text) as { realms: unknown[] };
    const free = join(dir, "free.json");
    await Deno.writeTextFile(free, JSON.stringify({ realms }));
    await using service = await startService(Deno.execPath(), [
      ...DENO_RUN,
      "-c",
      free,
      "--listen",
      "127.0.0.1:0",
    ], { env });
    for (const { args, comment } of logins) {
      const out = await runClient([...args, "--url", service.urls[0]!]);
      equal(out.code, 0, `${args.join(" ")}: ${out.stderr}`);
      if (comment.startsWith('{"publication":')) match(out.stdout, /^\{"publication":\d+\}\n$/);
      else {
        const authid = /"authid":"(\w+)"/.exec(comment)![1];
        const [own] = jsonLines(out) as { authid: string }[];
        equal(own!.authid, authid);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
