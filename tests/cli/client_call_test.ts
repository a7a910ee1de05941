/**
 * `cloverleaf call` (and `publish --repeat`) as a subprocess (`deno run -A cli.ts …`)
 * against a router this test starts on 127.0.0.1: arguments, progressive
 * results, error URIs and the load summary, over WebSocket and RawSocket.
 */

import { deepEqual, equal, match } from "node:assert/strict";
import { ApplicationError, connect } from "../../mod.ts";
import { startRouter } from "../_helpers/router.ts";
import { jsonLines, runClient } from "./_client.ts";

Deno.test("cli call passes args and kwargs as JSON and prints the result (WebSocket, json)", async () => {
  await using t = await startRouter();
  const callee = await connect(t.url, { realm: "realm1" });
  await callee.register("com.example.echo", (args, kwargs) => ({ args, kwargs }));
  const out = await runClient([
    "call",
    "com.example.echo",
    "1",
    '"two"',
    '{"a":[1,2]}',
    "text",
    "--kw",
    "flag=true",
    "--kw",
    "name=alice",
    "--url",
    t.url,
    "--serializer",
    "json",
  ]);
  await callee.close();
  equal(out.code, 0, out.stderr);
  deepEqual(jsonLines(out), [{
    args: [1, "two", { a: [1, 2] }, "text"],
    kwargs: { flag: true, name: "alice" },
    details: {},
  }]);
});

Deno.test("cli call prints progressive results as they come (RawSocket, msgpack)", async () => {
  await using t = await startRouter();
  const callee = await connect(t.url, { realm: "realm1" });
  await callee.register("com.example.count", (args, _kwargs, _details, invocation) => {
    for (let i = 1; i < (args[0] as number); i++) invocation.progress({ args: [i] });
    return { args: [args[0]], kwargs: { done: true } };
  });
  const out = await runClient([
    "call",
    "com.example.count",
    "3",
    "--option",
    "receive_progress=true",
    "--url",
    t.listener.urls.rawsocket!,
    "--serializer",
    "msgpack",
  ]);
  await callee.close();
  equal(out.code, 0, out.stderr);
  deepEqual(jsonLines(out), [
    { args: [1], kwargs: {}, details: { progress: true } },
    { args: [2], kwargs: {}, details: { progress: true } },
    { args: [3], kwargs: { done: true }, details: {} },
  ]);
});

Deno.test("cli call exits 1 with the error URI on stderr", async () => {
  await using t = await startRouter();
  const callee = await connect(t.url, { realm: "realm1" });
  await callee.register("com.example.fail", () => {
    throw new ApplicationError("com.example.oops", { args: ["bad input"], kwargs: { code: 7 } });
  });
  const failed = await runClient(["call", "com.example.fail", "--url", t.url]);
  await callee.close();
  equal(failed.code, 1);
  equal(failed.stdout, "");
  equal(failed.stderr, 'cloverleaf: com.example.oops ["bad input"] {"code":7}\n');

  const missing = await runClient(["call", "com.example.nothing", "--url", t.url]);
  equal(missing.code, 1);
  equal(missing.stderr, "cloverleaf: wamp.error.no_such_procedure\n");

  const refused = await runClient(["call", "com.example.x", "--url", t.url, "--realm", "nope"]);
  equal(refused.code, 1);
  match(refused.stderr, /^cloverleaf: .*wamp\.error\.no_such_realm/);
});

Deno.test("cli call and publish --repeat --parallel print a summary line", async () => {
  await using t = await startRouter();
  const callee = await connect(t.url, { realm: "realm1" });
  let calls = 0;
  await callee.register("com.example.inc", () => ({ args: [++calls] }));
  const summary =
    /^(\d+) (calls|publications) in \d+\.\d\d s: \d+\/s, p50 \d+\.\d\d ms, p99 \d+\.\d\d ms\n$/;
  const call = await runClient([
    "call",
    "com.example.inc",
    "--repeat",
    "200",
    "--parallel",
    "8",
    "--url",
    t.url,
  ]);
  equal(call.code, 0, call.stderr);
  match(call.stdout, summary);
  equal(summary.exec(call.stdout)![1], "200");
  equal(calls, 200);

  const publish = await runClient([
    "publish",
    "com.example.load",
    "x",
    "--repeat",
    "100",
    "--parallel",
    "4",
    "--url",
    t.listener.urls.rawsocket!,
    "--serializer",
    "cbor",
  ]);
  equal(publish.code, 0, publish.stderr);
  match(publish.stdout, /^100 publications in /);

  const failing = await runClient([
    "call",
    "com.example.missing",
    "--repeat",
    "10",
    "--url",
    t.url,
  ]);
  equal(failing.code, 1);
  equal(failing.stderr, "cloverleaf: wamp.error.no_such_procedure\n");
  await callee.close();
});
