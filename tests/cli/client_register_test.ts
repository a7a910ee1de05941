/**
 * `cloverleaf register` as a subprocess against a router this test starts on
 * 127.0.0.1: fixed results, `--exec` answers (stdout, failures, the limit
 * of commands at once and `--exec-timeout`).
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import { ApplicationError, connect } from "../../mod.ts";
import { startRouter, within } from "../_helpers/router.ts";
import { assertUsage, jsonLines, runClient, startClient } from "./_client.ts";

Deno.test("cli register --result answers a call and prints the invocation", async () => {
  await using t = await startRouter();
  await using callee = await startClient([
    "register",
    "com.example.answer",
    "--result",
    "42",
    "--result",
    "forty-two",
    "--count",
    "1",
    "--url",
    t.listener.urls.rawsocket!,
  ], "Registered");
  const caller = await connect(t.url, { realm: "realm1" });
  const result = await within(
    caller.call("com.example.answer", { args: ["q"], kwargs: { k: 1 } }),
    10_000,
    "call",
  );
  await caller.close();
  deepEqual(result.args, [42, "forty-two"]);
  const out = await callee.finished();
  equal(out.code, 0, out.stderr);
  deepEqual(jsonLines(out), [{
    procedure: "com.example.answer",
    args: ["q"],
    kwargs: { k: 1 },
    details: {},
  }]);
});

Deno.test("cli register --exec answers with the command's stdout, and its failure as runtime_error (long-poll)", async () => {
  await using t = await startRouter();
  await using callee = await startClient([
    "register",
    "com.example.shell",
    "--exec",
    'read line; if [ "$line" = "${line#*fail}" ]; then echo "$line"; else echo boom >&2; exit 3; fi',
    "--count",
    "2",
    "--url",
    t.listener.urls.longpoll!,
  ], "Registered");
  const caller = await connect(t.url, { realm: "realm1" });
  const result = await within(caller.call("com.example.shell", { args: [1, 2] }), 10_000, "call");
  deepEqual(result.args, [{
    procedure: "com.example.shell",
    args: [1, 2],
    kwargs: {},
    details: {},
  }]);
  const failed = await within(
    caller.call("com.example.shell", { args: ["fail"] }).then(() => undefined, (e) => e),
    10_000,
    "failing call",
  );
  await caller.close();
  ok(failed instanceof ApplicationError);
  equal(failed.uri, "wamp.error.runtime_error");
  deepEqual(failed.args, ["--exec command exited with 3: boom"]);
  const out = await callee.finished();
  equal(out.code, 0, out.stderr);
  equal(jsonLines(out).length, 2);
});

Deno.test("cli register --exec runs at most 8 commands at once; calls past that get runtime_error", async () => {
  await using t = await startRouter();
  await using callee = await startClient([
    "register",
    "com.example.slow",
    "--exec",
    "sleep 1; echo done",
    "--url",
    t.url,
  ], "Registered");
  const caller = await connect(t.url, { realm: "realm1" });
  const calls = await within(
    Promise.allSettled(Array.from({ length: 10 }, () => caller.call("com.example.slow"))),
    15_000,
    "10 calls",
  );
  await caller.close();
  equal(calls.filter((c) => c.status === "fulfilled").length, 8);
  for (const c of calls) {
    if (c.status === "rejected") {
      equal((c.reason as ApplicationError).uri, "wamp.error.runtime_error");
    }
  }
  callee.kill("SIGTERM");
});

Deno.test("cli register --exec-timeout kills a command still running and answers wamp.error.timeout", async () => {
  await using t = await startRouter();
  const marker = `cloverleaf-exec-timeout-${crypto.randomUUID()}`;
  await using callee = await startClient([
    "register",
    "com.example.stuck",
    "--exec",
    `sleep 30 # ${marker}`,
    "--exec-timeout",
    "500",
    "--url",
    t.url,
  ], "Registered");
  const caller = await connect(t.url, { realm: "realm1" });
  // The caller sets no timeout of its own: only --exec-timeout ends the call.
  const failed = await within(
    caller.call("com.example.stuck").then(() => undefined, (e) => e),
    10_000,
    "the stuck call",
  );
  await caller.close();
  ok(failed instanceof ApplicationError, String(failed));
  equal(failed.uri, "wamp.error.timeout");
  deepEqual(failed.args, ["--exec command still running after 500 ms: killed"]);
  // The register process's own argv names the marker: look once it is gone.
  callee.kill("SIGTERM");
  equal((await callee.finished()).code, 0);
  const ps = await new Deno.Command("pgrep", { args: ["-f", marker] }).output();
  equal(new TextDecoder().decode(ps.stdout).trim(), "", "no process left behind");
});

Deno.test("cli register --exec-timeout is a positive integer, and only with --exec", async () => {
  const url = "ws://127.0.0.1:9/ws";
  assertUsage(
    await runClient(["register", "a.b", "--exec", "true", "--exec-timeout", "0", "--url", url]),
    /Invalid --exec-timeout "0"/,
  );
  assertUsage(
    await runClient(["register", "a.b", "--exec-timeout", "500", "--url", url]),
    /--exec-timeout: only with --exec/,
  );
});
