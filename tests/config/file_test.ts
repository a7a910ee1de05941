import { deepEqual, equal, match, ok } from "node:assert/strict";
import { connect } from "../../mod.ts";
import { within } from "../_helpers/router.ts";
import { assertUsageError, DENO_RUN, runCli, startService } from "../cli/_service.ts";
import { sectionBlocks } from "../docs/_sections.ts";

/** Writes `text` to a temp file named `name` for the duration of `fn`. */
async function withFile<T>(
  name: string,
  text: string,
  fn: (file: string) => Promise<T>,
): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "cloverleaf_file_" });
  try {
    await Deno.writeTextFile(`${dir}/${name}`, text);
    return await fn(`${dir}/${name}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const YAML = `# comments are fine in YAML
$schema: ./config/schema.json
logLevel: info
listeners:
  - { type: websocket, host: 127.0.0.1, port: 0 }
realms:
  - name: com.example.yaml
    auth:
      ticket:
        principals:
          alice: { ticket: "\${YAML_TEST_TICKET}", role: user }
`;

Deno.test("a .yaml or .yml config file is read as YAML, with ${NAME} expanded", async () => {
  for (const name of ["cloverleaf.yaml", "cloverleaf.yml", "CLOVERLEAF.YML"]) {
    await withFile(name, YAML, async (file) => {
      const out = await runCli(["check", "-c", file], { env: { YAML_TEST_TICKET: "s3cret" } });
      equal(out.stderr, "");
      equal(out.stdout, "config OK: 1 realm, 1 listener\n");
    });
  }
  await withFile("cloverleaf.yaml", YAML, async (file) => {
    const out = await runCli(["check", "-c", file]);
    assertUsageError(
      out,
      /"realms\[0\]\.auth\.ticket\.principals\.alice\.ticket": environment variable "YAML_TEST_TICKET" is not set$/,
    );
  });
});

Deno.test("the router serves a YAML config, and a ticket from the environment logs in", async () => {
  await withFile("cloverleaf.yaml", YAML, async (file) => {
    await using service = await startService(Deno.execPath(), [...DENO_RUN, "-c", file], {
      env: { YAML_TEST_TICKET: "s3cret" },
    });
    const session = await within(
      connect(service.urls[0]!, { realm: "com.example.yaml", authid: "alice", ticket: "s3cret" }),
      10_000,
      "ticket login",
    );
    equal(session.details.authrole, "user");
    await session.close();
  });
});

Deno.test("a YAML syntax error is one line naming the file, the line and the column", async () => {
  const cases: [string, RegExp][] = [
    ["realms:\n  - name: a\n   bad: [\n", /at line \d+, column \d+$/],
    ["realms: [1, 2\n", /at line 2, column 1$/],
    ["a: 1\na: 2\n", /Map keys must be unique at line 2, column 1$/],
  ];
  for (const [text, tail] of cases) {
    await withFile("bad.yaml", text, async (file) => {
      const line = assertUsageError(await runCli(["check", "-c", file]), tail);
      match(line, /^cloverleaf: Cannot parse config file ".*bad\.yaml": /);
    });
  }
  await withFile("list.yml", "- name: realm1\n", async (file) => {
    assertUsageError(await runCli(["check", "-c", file]), /expected a YAML mapping at the top$/);
  });
});

Deno.test("YAML 1.2: yes is a string, so a boolean key names it", async () => {
  await withFile("c.yaml", "realms:\n  - { name: r1, anonymous: yes }\n", async (file) => {
    assertUsageError(
      await runCli(["check", "-c", file]),
      /"realms\[0\]\.anonymous": expected a boolean, got "yes"$/,
    );
  });
});

Deno.test("check reports every login field that would fail at login, in one run", async () => {
  const config = {
    realms: [{
      name: "com.example.auth",
      auth: {
        wampcra: {
          users: { paul: { secret: "not the derived key", salt: "salt123", role: "backend" } },
        },
        cryptosign: {
          principals: { alice: { role: "frontend", authorizedKeys: ["00ff", 7] } },
        },
        scram: {
          users: {
            // The placeholders the README once showed.
            bob: {
              role: "backend",
              kdf: "argon2id13",
              salt: "base64…",
              iterations: 4,
              memory: 65536,
              storedKey: "base64…",
              serverKey: "base64…",
            },
            eve: {
              role: "admin",
              salt: "W22ZaJ0SNY7soEsUEjb6gQ==",
              storedKey: "AAAA",
              serverKey: "s+rNM0M7MbUlI1EDLJs+ei56p3ONXezfDdbGJoCFPAY=",
            },
          },
        },
        ticket: { authenticator: "not a uri!", authenticatorRealm: "bad realm" },
      },
      roles: [
        { name: "frontend" },
        { name: "backend", authorizer: "com.example..authorize" },
      ],
    }],
  };
  await withFile("auth.json", JSON.stringify(config), async (file) => {
    const out = await runCli(["check", "-c", file]);
    equal(out.code, 2);
    equal(out.stdout, "");
    const p = 'cloverleaf: Invalid config "realms[0]';
    deepEqual(out.stderr.trimEnd().split("\n"), [
      `${p}.auth.ticket.authenticator": expected a procedure URI or a function`,
      `${p}.auth.ticket.authenticatorRealm": "bad realm" is not a valid realm name`,
      `${p}.auth.wampcra.users.paul.secret": expected base64 of 32 bytes`,
      `${p}.auth.cryptosign.principals.alice.authorizedKeys[0]": expected an Ed25519 public key: 32 bytes of hex`,
      `${p}.auth.cryptosign.principals.alice.authorizedKeys[1]": expected an Ed25519 public key: 32 bytes of hex`,
      `${p}.auth.scram.users.bob.salt": expected base64, got "base64…"`,
      `${p}.auth.scram.users.bob.storedKey": expected base64 of 32 bytes`,
      `${p}.auth.scram.users.bob.serverKey": expected base64 of 32 bytes`,
      `${p}.auth.scram.users.eve.storedKey": expected base64 of 32 bytes, got 3 bytes`,
      `${p}.roles[1].authorizer": expected a procedure URI or a function`,
      `${p}.auth.scram.users.eve.role": "admin" is not one of the realm's roles ("frontend", "backend")`,
    ]);
  });
});

Deno.test("check names a principal whose role the realm does not declare", async () => {
  const config = {
    realms: [{
      name: "com.example.roles",
      auth: {
        ticket: { principals: { tina: { ticket: "t", role: "admin" } } },
        wampcra: { users: { peter: { secret: "s", role: "user" } } },
      },
      roles: [{ name: "user", permissions: [] }],
    }, {
      // No roles declared: every role may do everything.
      name: "com.example.open",
      auth: { ticket: { principals: { tina: { ticket: "t", role: "admin" } } } },
    }],
  };
  await withFile("roles.json", JSON.stringify(config), async (file) => {
    assertUsageError(
      await runCli(["check", "-c", file]),
      /"realms\[0\]\.auth\.ticket\.principals\.tina\.role": "admin" is not one of the realm's roles \("user"\)$/,
    );
  });
});

Deno.test("--tcp is --rawsocket (nexusd's flag): it serves RawSocket, and a bad one names --tcp", async () => {
  let out = await runCli(["check", "--tcp", "127.0.0.1:0"]);
  equal(out.stdout, "config OK: 1 realm, 1 listener\n");
  assertUsageError(
    await runCli(["check", "--tcp", "localhost"]),
    /Invalid --tcp address "localhost"/,
  );
  out = await runCli(["--help"]);
  match(out.stdout, /--rawsocket <host:port>, --tcp <host:port>/);

  await using service = await startService(Deno.execPath(), [
    ...DENO_RUN,
    "--tcp",
    "127.0.0.1:0",
  ]);
  const url = service.urls[0]!;
  ok(url.startsWith("tcp://"), url);
  const session = await within(connect(url, { realm: "realm1" }), 10_000, "rawsocket join");
  equal(session.realm, "realm1");
  await session.close();
});

Deno.test("the README's YAML example passes check, as the README says", async () => {
  const yaml = (await sectionBlocks("A config file")).find((b) => b.lang === "yaml")?.text;
  ok(yaml !== undefined, "the section has a yaml block");
  await withFile("cloverleaf.yaml", yaml, async (file) => {
    const out = await runCli(["check", "-c", file], { env: { ALICE_TICKET: "s3cret" } });
    equal(out.stderr, "");
    equal(out.stdout, "config OK: 1 realm, 2 listeners\n");
  });
});
