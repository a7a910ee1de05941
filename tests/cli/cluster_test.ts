/**
 * The service in cluster mode: `--cluster` and the `cluster` config key,
 * `check` validating them without connecting, an unreachable NATS as one
 * line and exit 1, and two processes serving one realm through NATS.
 */

import { deepEqual, equal, match } from "node:assert/strict";
import { connect, type Event } from "../../mod.ts";
import { startNats } from "../_helpers/nats.ts";
import { until } from "../_helpers/router.ts";
import { assertUsageError, DENO_RUN, runCli, startService, withConfig } from "./_service.ts";

Deno.test("cli check validates the cluster config and flags without connecting", async () => {
  const config = {
    cluster: { servers: ["nats://127.0.0.1:1"], name: "prod", heartbeat: 500, nodeTimeout: 3000 },
  };
  await withConfig(JSON.stringify(config), async (file) => {
    const out = await runCli(["check", "-c", file, "--cluster", "nats://127.0.0.1:2"]);
    equal(out.stderr, "");
    equal(out.stdout, 'config OK: 1 realm, 1 listener, cluster "prod" through 2 NATS servers\n');
    equal(out.code, 0);
  });
  await withConfig(
    JSON.stringify({ cluster: { servers: ["nats://x:1"], nme: "a" } }),
    async (f) => {
      assertUsageError(await runCli(["check", "-c", f]), /"cluster\.nme": unknown key/);
    },
  );
  await withConfig(JSON.stringify({ cluster: { servers: [], name: "a b" } }), async (f) => {
    const out = await runCli(["check", "-c", f]);
    equal(out.code, 2);
    const lines = out.stderr.trimEnd().split("\n");
    match(lines[0]!, /"cluster\.name": "a b" must be letters, digits, _ or -/);
  });
  assertUsageError(
    await runCli(["--cluster", "localhost:4222"]),
    /Invalid --cluster "localhost:4222"/,
  );
});

Deno.test("cli exits 1 with one line when NATS cannot be reached", async () => {
  const out = await runCli(["--ws", "127.0.0.1:0", "--cluster", "nats://127.0.0.1:1"]);
  equal(out.code, 1);
  const lines = out.stderr.trimEnd().split("\n").filter((l) => l.startsWith("cloverleaf:"));
  equal(lines.length, 1);
  match(lines[0]!, /^cloverleaf: Cannot join cluster through nats:\/\/127\.0\.0\.1:1: /);
});

Deno.test("cli --cluster: two processes serve one realm, publish on one, receive on the other", async () => {
  const nats = await startNats();
  const args = [...DENO_RUN, "--ws", "127.0.0.1:0", "--cluster", nats.url];
  try {
    await using a = await startService(Deno.execPath(), args);
    await using b = await startService(Deno.execPath(), args);
    const sub = await connect(b.urls[0]!, { realm: "realm1" });
    const pub = await connect(a.urls[0]!, { realm: "realm1", serializers: ["msgpack"] });
    const got: Event[] = [];
    await sub.subscribe("com.example.cli", (e) => {
      got.push(e);
    });
    const id = await pub.publish("com.example.cli", { args: ["across"] }, { acknowledge: true });
    await until(() => got.length === 1, 5000, "the event on B");
    deepEqual(got[0]!.args, ["across"]);
    equal(got[0]!.publication, id);
    await sub.close();
    await pub.close();
    equal((await a.stop("SIGTERM")).code, 0);
    equal((await b.stop("SIGTERM")).code, 0);
  } finally {
    await nats.stop();
  }
});
