import { equal, match, ok } from "node:assert/strict";
import { connect } from "../../mod.ts";
import { within } from "../_helpers/router.ts";
import { assertUsageError, DENO_RUN, runCli, startService, withConfig } from "./_service.ts";

/** A variable name no environment sets. */
const UNSET = `CLOVERLEAF_UNSET_${crypto.randomUUID().replaceAll("-", "_")}`;

Deno.test("cli expands ${NAME} in the config file, whole and embedded, and $${ stays literal", async () => {
  const config = {
    listeners: [{ type: "websocket", host: "127.0.0.1", port: 0, paths: ["${CLOVERLEAF_PATH}"] }],
    realms: [{
      name: "${CLOVERLEAF_REALM}",
      auth: {
        ticket: {
          principals: {
            alice: { ticket: "Bearer ${CLOVERLEAF_TOKEN}", role: "user" },
            bob: { ticket: "$${CLOVERLEAF_TOKEN}", role: "user" },
          },
        },
      },
    }],
  };
  await withConfig(JSON.stringify(config), async (file) => {
    await using service = await startService(Deno.execPath(), [...DENO_RUN, "-c", file], {
      env: {
        CLOVERLEAF_PATH: "/secret-ws",
        CLOVERLEAF_REALM: "com.example.env",
        CLOVERLEAF_TOKEN: "t0ps3cret",
      },
    });
    const url = service.urls[0]!;
    match(url, /^ws:\/\/127\.0\.0\.1:\d+\/secret-ws$/);
    match(service.listening[0]!, /\(realms: com\.example\.env\)( |$)/);

    const alice = await within(
      connect(url, { realm: "com.example.env", authid: "alice", ticket: "Bearer t0ps3cret" }),
      10_000,
      "alice joins",
    );
    const bob = await within(
      connect(url, { realm: "com.example.env", authid: "bob", ticket: "${CLOVERLEAF_TOKEN}" }),
      10_000,
      "bob joins",
    );
    try {
      equal(alice.details.authrole, "user");
      equal(bob.details.authid, "bob");
      await within(
        connect(url, { realm: "com.example.env", authid: "alice", ticket: "t0ps3cret" }).then(
          () => {
            throw new Error("joined with the unexpanded ticket");
          },
          () => {},
        ),
        10_000,
        "wrong ticket",
      );
      equal((await service.stop("SIGTERM")).code, 0);
      ok(!(await service.stderr()).includes("t0ps3cret"));
    } finally {
      await alice.close();
      await bob.close();
    }
  });
});

Deno.test("cli names the path and the variable of an unset ${NAME}, never a value", async () => {
  const config = {
    realms: [{
      name: "${CLOVERLEAF_REALM}",
      auth: {
        ticket: {
          principals: {
            alice: { ticket: "Bearer ${CLOVERLEAF_TOKEN}:${" + UNSET + "}", role: "user" },
          },
        },
      },
    }],
  };
  await withConfig(JSON.stringify(config), async (file) => {
    const out = await runCli(["-c", file], {
      env: { CLOVERLEAF_REALM: "com.example.env", CLOVERLEAF_TOKEN: "t0ps3cret" },
    });
    const line = assertUsageError(out, /environment variable/);
    equal(
      line,
      `cloverleaf: Invalid config "realms[0].auth.ticket.principals.alice.ticket": ` +
        `environment variable "${UNSET}" is not set`,
    );
    ok(!line.includes("t0ps3cret"), "no value of another variable");
    ok(!line.includes("Bearer"), "not the string around the reference");
  });
});

Deno.test("cli rejects a ${ that starts no variable reference, naming the path", async () => {
  await withConfig(
    JSON.stringify({ realms: [{ name: "realm1", anonymousRole: "a${b-c}" }] }),
    async (file) => {
      assertUsageError(
        await runCli(["-c", file]),
        /^cloverleaf: Invalid config "realms\[0\]\.anonymousRole": expected \$\{NAME\} after "\$\{"/,
      );
    },
  );
});

Deno.test("cli leaves strings without ${ alone and does not expand keys", async () => {
  await withConfig(
    JSON.stringify({ realms: [{ name: "realm1", anonymousRole: "pa$$word$" }], "${X}": 1 }),
    async (file) => {
      // The top-level key is not expanded, so it is an unknown key.
      assertUsageError(
        await runCli(["check", "-c", file]),
        /^cloverleaf: Invalid config "\$\{X\}": unknown key$/,
      );
    },
  );
});

Deno.test("cli check never echoes an expanded ${NAME} value in a type error", async () => {
  const config = {
    realms: [{
      name: "realm1",
      auth: {
        ticket: { principals: { alice: "${CLOVERLEAF_TOKEN}", bob: { ticket: "x", role: 7 } } },
        wampcra: {
          users: { carl: { secret: "s", role: "r", iterations: "${CLOVERLEAF_TOKEN}" } },
        },
      },
    }],
  };
  await withConfig(JSON.stringify(config), async (file) => {
    for (const args of [["check", "-c", file], ["-c", file]]) {
      const out = await runCli(args, { env: { CLOVERLEAF_TOKEN: "t0ps3cret-v4lue" } });
      const all = out.stdout + out.stderr;
      ok(!all.includes("t0ps3cret"), `${args[0]}: the value is echoed:\n${all}`);
      match(all, /principals\.alice": expected an object, got "\$\{CLOVERLEAF_TOKEN\}"/);
    }
  });
});

Deno.test("cli check never echoes an expanded ${NAME} value in the workers key", async () => {
  await withConfig(JSON.stringify({ workers: "${CLOVERLEAF_TOKEN}" }), async (file) => {
    const out = await runCli(["check", "-c", file], {
      env: { CLOVERLEAF_TOKEN: "t0ps3cret-v4lue" },
    });
    const all = out.stdout + out.stderr;
    ok(!all.includes("t0ps3cret"), `the value is echoed:\n${all}`);
    match(
      all,
      /"workers": expected an integer from 1 to 256 or "auto", got "\$\{CLOVERLEAF_TOKEN\}"/,
    );
  });
});

Deno.test("cli check never echoes an expanded ${NAME} value in cluster.name", async () => {
  const config = { cluster: { servers: ["nats://127.0.0.1:4222"], name: "${CLOVERLEAF_TOKEN}" } };
  await withConfig(JSON.stringify(config), async (file) => {
    const out = await runCli(["check", "-c", file], { env: { CLOVERLEAF_TOKEN: "t0p s3cret" } });
    const all = out.stdout + out.stderr;
    ok(!all.includes("t0p s3cret"), `the value is echoed:\n${all}`);
    match(all, /"cluster\.name": "\$\{CLOVERLEAF_TOKEN\}" must be letters, digits, _ or -/);
  });
});

Deno.test("cli refuses a CLOVERLEAF_DECOY_SECRET under 16 characters, naming it, never the value", async () => {
  const line = assertUsageError(
    await runCli(["--listen", "127.0.0.1:0"], { env: { CLOVERLEAF_DECOY_SECRET: "tiny-secret" } }),
    /^cloverleaf: Invalid CLOVERLEAF_DECOY_SECRET: give at least 16 characters$/,
  );
  equal(line.includes("tiny-secret"), false);
});
