import { deepEqual, equal, match, ok } from "node:assert/strict";
import denoConfig from "../../deno.json" with { type: "json" };
import { connect } from "../../mod.ts";
import { within } from "../_helpers/router.ts";
import { assertUsageError, DENO_RUN, runCli, startService, withConfig } from "./_service.ts";

Deno.test("cli serves --ws and --realm, and SIGTERM sends GOODBYE system_shutdown", async () => {
  await using service = await startService(Deno.execPath(), [
    ...DENO_RUN,
    "--ws",
    "127.0.0.1:0",
    "--realm",
    "realm1",
  ]);
  equal(service.urls.length, 1);
  const url = service.urls[0]!;
  match(url, /^ws:\/\/127\.0\.0\.1:\d+\/ws$/);
  ok(!url.includes(":0/"), "the real port, not 0");
  match(service.listening[0]!, /\(realms: realm1\)( |$)/);

  const session = await within(
    connect(url, { realm: "realm1" }),
    10_000,
    "join",
  );
  try {
    await session.register("com.example.add", (args) => ({
      args: [(args[0] as number) + (args[1] as number)],
    }));
    const result = await within(
      session.call("com.example.add", { args: [2, 3] }),
      5000,
      "call",
    );
    deepEqual(result.args, [5]);
    const received: unknown[] = [];
    await session.subscribe("com.example.news", (event) => {
      received.push(event.args[0]);
    }, {});
    await session.publish("com.example.news", { args: ["hi"] }, {
      acknowledge: true,
      exclude_me: false,
    });
    const status = await service.stop("SIGTERM");
    const closed = await within(session.closed, 5000, "session close");
    equal(closed.reason, "wamp.close.system_shutdown");
    deepEqual(received, ["hi"]);
    equal(status.code, 0);
    equal(status.success, true);
    equal(await service.stderr(), "");
  } finally {
    await session.close();
  }
});

Deno.test("cli serves a config file with two realms and a listener, and stops on SIGINT", async () => {
  const config = {
    logLevel: "info",
    listeners: [{
      type: "websocket",
      host: "127.0.0.1",
      port: 0,
      paths: ["/wamp"],
      serializers: ["cbor", "json"],
      outbound: { maxBacklog: 65536, slowConsumer: "close" },
    }],
    realms: [
      { name: "com.example.a" },
      { name: "com.example.b", anonymousRole: "guest", strictUris: true },
    ],
  };
  await withConfig(JSON.stringify(config), async (file) => {
    await using service = await startService(Deno.execPath(), [
      ...DENO_RUN,
      "-c",
      file,
    ]);
    const url = service.urls[0]!;
    match(url, /^ws:\/\/127\.0\.0\.1:\d+\/wamp$/);
    match(
      service.listening[0]!,
      /\(realms: com\.example\.a, com\.example\.b\)( |$)/,
    );

    const a = await within(
      connect(url, { realm: "com.example.a" }),
      10_000,
      "join a",
    );
    const b = await within(
      connect(url, { realm: "com.example.b", serializers: ["cbor"] }),
      10_000,
      "join b",
    );
    try {
      equal(a.details.authrole, "anonymous");
      equal(b.details.authrole, "guest");
      await b.register("com.example.echo", (args) => ({ args }));
      deepEqual(
        (await within(b.call("com.example.echo", { args: [1] }), 5000)).args,
        [1],
      );
      const status = await service.stop("SIGINT");
      equal(
        (await within(a.closed, 5000)).reason,
        "wamp.close.system_shutdown",
      );
      equal(
        (await within(b.closed, 5000)).reason,
        "wamp.close.system_shutdown",
      );
      equal(status.code, 0);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

Deno.test("cli serves the defaults with no listener and no realm: realm1 on 127.0.0.1:8080", async () => {
  let service;
  try {
    service = await startService(Deno.execPath(), [...DENO_RUN]);
  } catch (error) {
    // Port 8080 is taken on this machine: the service must say so and exit 1.
    match((error as Error).message, /\(exit code 1\)/);
    match(
      (error as Error).message,
      /\ncloverleaf: Cannot listen on 127\.0\.0\.1:8080: /,
    );
    return;
  }
  await using _ = service;
  match(
    service.listening[0]!,
    /Listening on ws:\/\/127\.0\.0\.1:8080\/ws, tcp:\/\/127\.0\.0\.1:8080, http:\/\/127\.0\.0\.1:8080\/lp \(realms: realm1\)( |$)/,
  );
  const session = await within(
    connect(service.urls[0]!, { realm: "realm1" }),
    10_000,
    "join",
  );
  try {
    equal((await service.stop("SIGTERM")).code, 0);
    equal(
      (await within(session.closed, 5000)).reason,
      "wamp.close.system_shutdown",
    );
  } finally {
    await session.close();
  }
});

Deno.test("cli rejects an unknown key in the config file, naming its path", async () => {
  await withConfig(
    JSON.stringify({ realms: [{ name: "realm1", foo: 1 }] }),
    async (file) => {
      const line = assertUsageError(
        await runCli(["--config", file]),
        /realms\[0\]\.foo/,
      );
      equal(line, 'cloverleaf: Invalid config "realms[0].foo": unknown key');
    },
  );
  await withConfig(JSON.stringify({ realm: [] }), async (file) => {
    assertUsageError(await runCli(["-c", file]), /"realm": unknown key/);
  });
  await withConfig(
    JSON.stringify({
      listeners: [{ type: "websocket", outbound: { backlog: 1 } }],
    }),
    async (file) => {
      assertUsageError(
        await runCli(["-c", file]),
        /listeners\[0\]\.outbound\.backlog/,
      );
    },
  );
});

Deno.test("cli rejects wrong types and values in the config file, naming the key", async () => {
  const cases: [unknown, RegExp][] = [
    [
      { listeners: [{ type: "websocket", port: "8080" }] },
      /"listeners\[0\]\.port": expected an integer/,
    ],
    [
      { listeners: [{ type: "websocket", port: 65536 }] },
      /"listeners\[0\]\.port"/,
    ],
    [{ listeners: [{ type: "mqtt" }] }, /"listeners\[0\]\.type"/],
    [{ listeners: [{ port: 1 }] }, /"listeners\[0\]\.type"/],
    [
      { listeners: [{ type: "websocket", host: "not a host" }] },
      /"listeners\[0\]\.host"/,
    ],
    [
      { listeners: [{ type: "websocket", serializers: ["xml"] }] },
      /"listeners\[0\]\.serializers\[0\]"/,
    ],
    [
      { listeners: [{ type: "websocket", paths: ["ws"] }] },
      /"listeners\[0\]\.paths\[0\]"/,
    ],
    [{ listeners: {} }, /"listeners": expected an array/],
    [
      { realms: [{ name: "realm1", anonymous: "yes" }] },
      /"realms\[0\]\.anonymous": expected a boolean/,
    ],
    [
      { realms: [{ name: "realm1" }, { name: "bad uri" }] },
      /"realms\[1\]\.name"/,
    ],
    [{ realms: ["realm1"] }, /"realms\[0\]": expected an object/],
    [{ logLevel: "loud" }, /"logLevel"/],
    [[], /expected a JSON object/],
  ];
  for (const [config, pattern] of cases) {
    await withConfig(JSON.stringify(config), async (file) => {
      assertUsageError(await runCli(["-c", file]), pattern);
    });
  }
});

Deno.test("cli rejects an unreadable or non-JSON config file", async () => {
  await withConfig("{ realms: [] }", async (file) => {
    assertUsageError(
      await runCli(["-c", file]),
      /Cannot parse config file ".*": /,
    );
  });
  const dir = await Deno.makeTempDir();
  try {
    assertUsageError(
      await runCli(["-c", `${dir}/missing.json`]),
      /Cannot read config file ".*missing\.json": No such file/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli rejects a bad --ws address, naming the flag", async () => {
  for (
    const address of [
      "localhost",
      "127.0.0.1:99999",
      "::1:8080",
      "[::1]",
      "1.2.3:80",
      ":8080",
    ]
  ) {
    assertUsageError(await runCli(["--ws", address]), /--ws/);
  }
});

Deno.test("cli rejects unknown flags, missing values and bad flag values", async () => {
  assertUsageError(await runCli(["--port", "8080"]), /Unknown option '--port'/);
  assertUsageError(
    await runCli(["extra"]),
    /^cloverleaf: Unknown command "extra": expected "check",? [^\n]*or none \(see --help\)$/,
  );
  assertUsageError(await runCli(["--ws"]), /--ws/);
  assertUsageError(await runCli(["--log-level", "loud"]), /--log-level "loud"/);
  assertUsageError(await runCli(["--realm", "bad uri"]), /--realm/);
  assertUsageError(
    await runCli(["--realm", "realm1", "--realm", "realm1"]),
    /Cannot add realm "realm1": realm already exists/,
  );
});

Deno.test("cli --help prints usage to stdout and exits 0", async () => {
  for (const flag of ["--help", "-h"]) {
    const out = await runCli([flag]);
    equal(out.code, 0);
    equal(out.stderr, "");
    match(out.stdout, /^Cloverleaf .*\n\nUsage: cloverleaf \[options\]/);
    for (
      const option of [
        "--ws",
        "--realm",
        "--config",
        "--log-level",
        "--help",
        "--version",
        "check",
        "${NAME}",
        "$${",
      ]
    ) {
      ok(out.stdout.includes(option), `usage mentions ${option}`);
    }
  }
});

Deno.test("cli --version prints the deno.json version and exits 0", async () => {
  const out = await runCli(["--version"]);
  equal(out.code, 0);
  equal(out.stderr, "");
  equal(out.stdout, `cloverleaf ${denoConfig.version}\n`);
});

Deno.test("cli trustedRole: that role registers the authenticator, and a ticket login works through it", async () => {
  const config = {
    listeners: [{ type: "websocket", host: "127.0.0.1", port: 0 }],
    trustedRole: "backend",
    realms: [
      { name: "auth", auth: { ticket: { principals: { svc: { ticket: "s", role: "backend" } } } } },
      {
        name: "app",
        auth: { ticket: { authenticator: "com.example.authenticate", authenticatorRealm: "auth" } },
      },
    ],
  };
  await withConfig(JSON.stringify(config), async (file) => {
    await using service = await startService(Deno.execPath(), [...DENO_RUN, "-c", file]);
    const url = service.urls[0]!;
    const backend = await within(
      connect(url, { realm: "auth", authid: "svc", ticket: "s" }),
      10_000,
      "join auth",
    );
    equal(backend.details.authrole, "backend");
    // Refused (wamp.error.not_authorized) unless the config's trustedRole reaches the router.
    await backend.register("com.example.authenticate", (args) => {
      const details = args[2] as { ticket?: string };
      if (details.ticket !== "open sesame") throw new Error("wrong ticket");
      return { args: ["user"] };
    });
    const user = await within(
      connect(url, { realm: "app", authid: "joe", ticket: "open sesame" }),
      10_000,
      "ticket login",
    );
    equal(user.details.authrole, "user");
    await user.close();
    await backend.close();
  });
});
