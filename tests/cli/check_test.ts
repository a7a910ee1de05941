import { deepEqual, equal, ok } from "node:assert/strict";
import { assertUsageError, runCli, withConfig } from "./_service.ts";

const VALID = {
  logLevel: "warn",
  listeners: [{ type: "websocket", host: "127.0.0.1", port: 0, paths: ["/wamp"] }],
  realms: [
    { name: "com.example.a" },
    {
      name: "com.example.b",
      auth: {
        ticket: { principals: { alice: { ticket: "${CLOVERLEAF_CHECK_TICKET}", role: "user" } } },
      },
    },
  ],
};

/** A variable name no environment sets. */
const UNSET = `CLOVERLEAF_UNSET_${crypto.randomUUID().replaceAll("-", "_")}`;

Deno.test("cli check prints a summary for a valid config and exits 0 without listening", async () => {
  await withConfig(JSON.stringify(VALID), async (file) => {
    const out = await runCli(["check", "-c", file], {
      env: { CLOVERLEAF_CHECK_TICKET: "t0ps3cret" },
    });
    equal(out.stderr, "");
    equal(out.stdout, "config OK: 2 realms, 1 listener\n");
    equal(out.code, 0);
  });
});

Deno.test("cli check counts the flags and the defaults as startup would", async () => {
  let out = await runCli(["check"]);
  equal(out.stdout, "config OK: 1 realm, 1 listener\n");
  equal(out.code, 0);

  out = await runCli(["--ws", "127.0.0.1:0", "check", "--ws", "[::1]:0", "--realm", "r1"]);
  equal(out.stdout, "config OK: 1 realm, 2 listeners\n");
  equal(out.code, 0);

  await withConfig(JSON.stringify({ realms: [{ name: "a" }] }), async (file) => {
    out = await runCli(["check", "-c", file, "--realm", "b", "--realm", "c"]);
    equal(out.stdout, "config OK: 3 realms, 1 listener\n");
    equal(out.code, 0);
  });
});

Deno.test("cli check prints every independent error with its path, one per line, and exits 2", async () => {
  const config = {
    logLevel: "loud",
    listner: [],
    listeners: [
      { type: "websocket", port: "8080", outbound: { backlog: 1 } },
      { type: "websocket", host: "not a host" },
      { type: "websocket", port: 0 },
    ],
    realms: [
      { name: "bad uri" },
      { name: "com.example.b", anonymous: "yes", strict: true },
      {
        name: "com.example.c",
        auth: {
          ticket: {
            principals: {
              alice: { ticket: `Bearer \${CLOVERLEAF_CHECK_TICKET} \${${UNSET}}`, role: "user" },
              bob: { role: 7 },
              carol: "nope",
            },
          },
        },
      },
      { name: "com.example.b" },
      "com.example.e",
    ],
  };
  await withConfig(JSON.stringify(config), async (file) => {
    const out = await runCli(
      ["check", "-c", file, "--ws", "localhost", "--realm", "bad uri", "--log-level", "loud"],
      { env: { CLOVERLEAF_CHECK_TICKET: "t0ps3cret" } },
    );
    equal(out.stdout, "");
    equal(out.code, 2);
    deepEqual(out.stderr.trimEnd().split("\n"), [
      `cloverleaf: Invalid config "realms[2].auth.ticket.principals.alice.ticket": environment variable "${UNSET}" is not set`,
      'cloverleaf: Invalid config "logLevel": expected one of "debug", "info", "warn", "error", got "loud"',
      'cloverleaf: Invalid config "listeners[0].port": expected an integer from 0 to 65535, got "8080"',
      'cloverleaf: Invalid config "listeners[0].outbound.backlog": unknown key',
      'cloverleaf: Invalid config "listeners[1].host": expected an IPv4 or IPv6 address or a hostname, got "not a host"',
      'cloverleaf: Invalid config "listner": unknown key',
      'cloverleaf: Invalid --log-level "loud": expected one of "debug", "info", "warn", "error"',
      'cloverleaf: Invalid --ws address "localhost": expected host:port, or [ipv6]:port',
      'cloverleaf: Invalid config "realms[0].name": "bad uri" is not a valid URI',
      'cloverleaf: Invalid config "realms[1].anonymous": expected a boolean, got "yes"',
      'cloverleaf: Invalid config "realms[1].strict": unknown key',
      'cloverleaf: Invalid config "realms[2].auth.ticket.principals.bob.ticket": expected a non-empty string, got nothing',
      'cloverleaf: Invalid config "realms[2].auth.ticket.principals.bob.role": expected a non-empty string, got 7',
      'cloverleaf: Invalid config "realms[2].auth.ticket.principals.carol": expected an object, got "nope"',
      'cloverleaf: Invalid config "realms[3]": cannot add realm "com.example.b": realm already exists',
      'cloverleaf: Invalid config "realms[4]": expected an object, got "com.example.e"',
      'cloverleaf: Invalid config "--realm.name": "bad uri" is not a valid URI',
    ]);
    ok(!out.stderr.includes("t0ps3cret"), "no value from the environment");
  });
});

Deno.test("cli check refuses the trusted role to anyone without credentials", async () => {
  const config = {
    trustedRole: "backend",
    realms: [{ name: "auth", anonymousRole: "backend" }, { name: "app" }],
    bridges: [{ path: "/call", type: "caller", realm: "app", role: "backend", auth: "none" }],
  };
  await withConfig(JSON.stringify(config), async (file) => {
    const out = await runCli(["check", "-c", file]);
    equal(out.code, 2);
    deepEqual(out.stderr.trimEnd().split("\n"), [
      'cloverleaf: Invalid config "bridges[0].role": an open path ("auth": "none") may not have the trusted role "backend"',
      'cloverleaf: Invalid config "realms[0].anonymousRole": anonymous sessions may not get the trusted role "backend" (it registers authenticators and authorizers): give the backend a principal with that role',
    ]);
  });
});

Deno.test("cli check and startup refuse two listeners, or the admin listener, on one address", async () => {
  // Ports nothing listens on: check listens on none, and startup stops before listening.
  const config = {
    listeners: [
      { type: "universal", host: "0.0.0.0", port: 18_811 },
      { type: "websocket", host: "127.0.0.1", port: 18_811 },
      { type: "rawsocket", host: "::", port: 18_812 },
      { type: "websocket", host: "127.0.0.1", port: 18_812 },
      { type: "universal", host: "127.0.0.1", port: 0 },
      { type: "universal", host: "127.0.0.1", port: 0 },
      { type: "universal", host: "0.0.0.0", port: 18_813 },
      { type: "universal", host: "::1", port: 18_813 },
    ],
    admin: { host: "127.0.0.1", port: 18_811 },
  };
  await withConfig(JSON.stringify(config), async (file) => {
    const out = await runCli(["check", "-c", file, "--ws", "127.0.0.1:18813"]);
    equal(out.stdout, "");
    equal(out.code, 2);
    deepEqual(out.stderr.trimEnd().split("\n"), [
      'cloverleaf: Invalid config "listeners[1].port": 127.0.0.1:18811 is already taken by listeners[0] (0.0.0.0:18811)',
      'cloverleaf: Invalid config "listeners[3].port": 127.0.0.1:18812 is already taken by listeners[2] ([::]:18812)',
      'cloverleaf: Invalid --ws "127.0.0.1:18813": 127.0.0.1:18813 is already taken by listeners[6] (0.0.0.0:18813)',
      'cloverleaf: Invalid config "admin.port": 127.0.0.1:18811 is already taken by listeners[0] (0.0.0.0:18811)',
    ]);
    const start = await runCli(["-c", file]);
    equal(start.code, 2);
    equal(
      start.stderr,
      'cloverleaf: Invalid config "listeners[1].port": 127.0.0.1:18811 is already taken by listeners[0] (0.0.0.0:18811)\n',
    );
  });
  const admin = { admin: { host: "not a host!", port: 0 } };
  await withConfig(JSON.stringify(admin), async (file) => {
    await refusedAtCheckAndStart(
      file,
      'cloverleaf: Invalid config "admin.host": expected an IPv4 or IPv6 address or a hostname, got "not a host!"',
    );
  });
  // A Unix socket listener takes no port (its resolved host and port are defaults, unused).
  const unix = {
    listeners: [{ type: "universal", unix: "/tmp/cloverleaf-check.sock" }, { type: "universal" }],
  };
  await withConfig(JSON.stringify(unix), async (file) => {
    const out = await runCli(["check", "-c", file, "--admin", "127.0.0.1:18814"]);
    equal(out.stderr, "");
    equal(out.code, 0);
  });
  const out = await runCli(["check", "--admin", "127.0.0.1:8080"]);
  equal(out.code, 2);
  equal(
    out.stderr,
    'cloverleaf: Invalid --admin "127.0.0.1:8080": 127.0.0.1:8080 is already taken by the default listener (127.0.0.1:8080)\n',
  );
});

Deno.test("cli check and startup refuse a bridge path that a listener's WebSocket or long-poll serves", async () => {
  const bridge = (path: string) => ({
    path,
    type: "publisher",
    realm: "realm1",
    role: "anonymous",
    auth: "none",
  });
  const config = {
    listeners: [
      { type: "universal", port: 0 },
      { type: "websocket", port: 0, paths: ["/wamp"] },
      { type: "longpoll", port: 0, longpoll: { path: "/poll/" } },
      { type: "rawsocket", port: 0 },
    ],
    realms: [{ name: "realm1" }],
    bridges: ["/ws", "/", "/lp", "/lp/x", "/wamp", "/poll/open", "/lpx", "/ws/x", "/api"].map(
      bridge,
    ),
  };
  await withConfig(JSON.stringify(config), async (file) => {
    const out = await runCli(["check", "-c", file]);
    equal(out.code, 2);
    deepEqual(out.stderr.trimEnd().split("\n"), [
      'cloverleaf: Invalid config "bridges[0].path": /ws is a WebSocket path of listeners[0]: choose another path',
      'cloverleaf: Invalid config "bridges[1].path": / is a WebSocket path of listeners[0]: choose another path',
      'cloverleaf: Invalid config "bridges[2].path": /lp is the long-poll path /lp of listeners[0]: choose another path',
      'cloverleaf: Invalid config "bridges[3].path": /lp/x is under the long-poll path /lp of listeners[0]: choose another path',
      'cloverleaf: Invalid config "bridges[4].path": /wamp is a WebSocket path of listeners[1]: choose another path',
      'cloverleaf: Invalid config "bridges[5].path": /poll/open is under the long-poll path /poll of listeners[2]: choose another path',
    ]);
    const start = await runCli(["-c", file]);
    equal(start.code, 2);
    equal(start.stderr.split("\n")[0], out.stderr.split("\n")[0]);
  });
  const out = await runCli([
    "check",
    "--http-bridge",
    "/lp",
    "--http-token",
    "t0ps3cret-t0ps3cret",
  ]);
  equal(out.code, 2);
  equal(
    out.stderr,
    'cloverleaf: Invalid --http-bridge "/lp/publish": /lp/publish is under the long-poll path /lp of the default listener: choose another path\n',
  );
});

Deno.test("cli check and startup refuse two httpServices for one procedure", async () => {
  const config = {
    realms: [{ name: "realm1" }, { name: "realm2" }],
    httpServices: [
      { procedure: "com.example.get", url: "http://127.0.0.1:9/first" },
      { procedure: "com.example.other", url: "http://127.0.0.1:9/other" },
      // The same procedure in another realm is another procedure.
      { procedure: "com.example.get", realm: "realm2", url: "http://127.0.0.1:9/two" },
      { procedure: "com.example.get", realm: "realm1", url: "http://127.0.0.1:9/second" },
    ],
  };
  await withConfig(JSON.stringify(config), async (file) => {
    await refusedAtCheckAndStart(
      file,
      'cloverleaf: Invalid config "httpServices[3].procedure": "com.example.get" is already served by httpServices[0]',
    );
  });
  // Every fault, each named by its own key (the service that failed to resolve keeps its index).
  const many = {
    httpServices: [
      { procedure: "com.example.a", url: "ftp://bad" },
      { procedure: "com.example.get", url: "http://127.0.0.1:9/a" },
      { procedure: "com.example.x", realm: "nope", url: "http://127.0.0.1:9/b" },
      { procedure: "com.example.get", url: "http://127.0.0.1:9/c" },
    ],
  };
  await withConfig(JSON.stringify(many), async (file) => {
    const out = await runCli(["check", "-c", file]);
    equal(out.code, 2);
    deepEqual(out.stderr.trimEnd().split("\n").slice(1), [
      'cloverleaf: Invalid config "httpServices[2].realm": no realm "nope"',
      'cloverleaf: Invalid config "httpServices[3].procedure": "com.example.get" is already served by httpServices[1]',
    ]);
  });
  // Without realms in the file, the default realm (realm1) is the first.
  const implicit = {
    httpServices: [
      { procedure: "com.example.get", realm: "realm1", url: "http://127.0.0.1:9/a" },
      { procedure: "com.example.get", url: "http://127.0.0.1:9/b" },
    ],
  };
  await withConfig(JSON.stringify(implicit), async (file) => {
    const out = await runCli(["check", "-c", file]);
    equal(out.code, 2);
    equal(
      out.stderr,
      'cloverleaf: Invalid config "httpServices[1].procedure": "com.example.get" is already served by httpServices[0]\n',
    );
  });
});

Deno.test("cli check reports one error for a file it cannot read or parse", async () => {
  await withConfig("{ realms: [] }", async (file) => {
    assertUsageError(await runCli(["check", "-c", file]), /Cannot parse config file ".*": /);
  });
  await withConfig("[]", async (file) => {
    assertUsageError(await runCli(["check", "-c", file]), /expected a JSON object at the top/);
  });
  const dir = await Deno.makeTempDir();
  try {
    assertUsageError(
      await runCli(["check", "-c", `${dir}/missing.json`]),
      /Cannot read config file ".*missing\.json": No such file/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli check names the file of a config nested too deep, and shows .inf and .nan as given", async () => {
  const deep = `{"realms":${"[".repeat(100_000)}${"]".repeat(100_000)}}`;
  await withConfig(deep, async (file) => {
    assertUsageError(
      await runCli(["check", "-c", file]),
      /^cloverleaf: Invalid config file ".*": nested deeper than 64 levels$/,
    );
  });
  const yaml =
    "realms:\n  - name: realm1\n    limits: { callsPerSession: .inf, historyBytes: .nan }\n";
  const file = await Deno.makeTempFile({ suffix: ".yaml" });
  try {
    await Deno.writeTextFile(file, yaml);
    const out = await runCli(["check", "-c", file]);
    equal(out.code, 2);
    deepEqual(out.stderr.trimEnd().split("\n"), [
      `cloverleaf: Invalid config "realms[0].limits.callsPerSession": expected an integer from 1 to ${Number.MAX_SAFE_INTEGER}, got Infinity`,
      `cloverleaf: Invalid config "realms[0].limits.historyBytes": expected an integer from 1 to ${Number.MAX_SAFE_INTEGER}, got NaN`,
    ]);
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("cli rejects an unknown command or an extra argument with one line", async () => {
  assertUsageError(
    await runCli(["chekc", "-c", "x.json"]),
    /^cloverleaf: Unknown command "chekc": expected "check",? [^\n]*or none \(see --help\)$/,
  );
  assertUsageError(
    await runCli(["check", "extra"]),
    /^cloverleaf: Unexpected argument "extra" after "check" \(see --help\)$/,
  );
  assertUsageError(await runCli(["check", "--port", "1"]), /Unknown option '--port'/);
});

Deno.test("cli check and startup refuse a bad failedLogins: one line naming the key, exit 2", async () => {
  const config = { failedLogins: { perSource: -1, window: 60_000 } };
  await withConfig(JSON.stringify(config), async (file) => {
    await refusedAtCheckAndStart(
      file,
      'cloverleaf: Invalid config "failedLogins.perSource": expected an integer from 0 to 1000, got -1',
    );
  });
  const both = { failedLogins: { perSource: 5, window: "1m", every: 1 } };
  await withConfig(JSON.stringify(both), async (file) => {
    const out = await runCli(["check", "-c", file]);
    equal(out.code, 2);
    deepEqual(out.stderr.trimEnd().split("\n"), [
      'cloverleaf: Invalid config "failedLogins.window": expected an integer from 1 to 86400000, got "1m"',
      'cloverleaf: Invalid config "failedLogins.every": unknown key',
    ]);
  });
});

/** `check` and startup both refuse the config in `file` with exactly this one line, exit 2. */
async function refusedAtCheckAndStart(file: string, line: string): Promise<void> {
  for (const args of [["check", "-c", file], ["-c", file]]) {
    const out = await runCli(args);
    equal(out.code, 2);
    equal(out.stderr, `${line}\n`);
  }
}
