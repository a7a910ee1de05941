/**
 * The client commands (`call`, `publish`, `subscribe`, `register`, `meta`)
 * as subprocesses (`deno run -A cli.ts …`) against a router this test
 * starts on 127.0.0.1, over WebSocket, RawSocket and long-poll, with each
 * serializer.
 */

import { deepEqual, equal, match, ok } from "node:assert/strict";
import { ApplicationError, connect } from "../../mod.ts";
import { cryptosignKeyPair } from "../../wamp/mod.ts";
import { startRouter, within } from "../_helpers/router.ts";
import {
  jsonLines,
  readmeBlocks,
  readmeCommands,
  runClient,
  type RunningClient,
  startClient,
} from "./_client.ts";
import type { Output } from "./_service.ts";

/** Asserts a usage error: exit 2, nothing on stdout, one stderr line pointing to --help. */
function assertUsage(out: Output, pattern: RegExp): void {
  equal(out.code, 2, `exit code (stderr: ${out.stderr})`);
  equal(out.stdout, "");
  const lines = out.stderr.trimEnd().split("\n");
  equal(lines.length, 1, `one stderr line, got:\n${out.stderr}`);
  match(lines[0]!, /^cloverleaf: .*\(see cloverleaf [a-z-]+ --help\)$/);
  match(lines[0]!, pattern);
}

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

Deno.test("cli client commands exit 2 on bad usage, before connecting", async () => {
  // No router: a usage error must not need one.
  const url = "ws://127.0.0.1:9/ws";
  assertUsage(await runClient(["call", "--url", url]), /Missing <procedure>/);
  assertUsage(await runClient(["call", "a.b", "--bogus"]), /Unknown option '--bogus'/);
  assertUsage(
    await runClient(["call", "a.b", "--serializer", "xml", "--url", url]),
    /Invalid --serializer "xml"/,
  );
  assertUsage(
    await runClient(["publish", "a.b", "--kw", "novalue", "--url", url]),
    /--kw "novalue"/,
  );
  assertUsage(
    await runClient(["call", "a.b", "--repeat", "0", "--url", url]),
    /Invalid --repeat "0"/,
  );
  assertUsage(
    await runClient(["call", "a.b", "--parallel", "4", "--url", url]),
    /--parallel needs --repeat/,
  );
  assertUsage(await runClient(["subscribe", "--url", url]), /Missing <topic>/);
  assertUsage(
    await runClient(["register", "a.b", "--result", "1", "--exec", "true", "--url", url]),
    /--result or --exec/,
  );
  assertUsage(await runClient(["meta", "peers", "--url", url]), /Unknown "peers"/);
  assertUsage(
    await runClient(["call", "a.b", "--private-key", "/no/such/key", "--url", url]),
    /--private-key/,
  );
  // And a router that is not there is exit 1, not 2.
  const down = await runClient(["call", "a.b", "--url", url]);
  equal(down.code, 1);
  match(down.stderr, /^cloverleaf: Cannot connect/);
});

Deno.test("cli --help describes each client command and exits 0", async () => {
  for (const command of ["call", "publish", "subscribe", "register", "meta"]) {
    const out = await runClient([command, "--help"]);
    equal(out.code, 0, out.stderr);
    match(out.stdout, new RegExp(`^Usage: cloverleaf ${command} `));
    match(out.stdout, /--url <url>/);
    match(out.stdout, /Exit codes: 0 ok, 1 /);
  }
});

Deno.test("cli subscribe --count prints the events cli publish sends (RawSocket cbor, WebSocket msgpack)", async () => {
  await using t = await startRouter();
  await using subscriber = await startClient([
    "subscribe",
    "com.example.news",
    "--count",
    "2",
    "--url",
    t.listener.urls.rawsocket!,
    "--serializer",
    "cbor",
  ], "Subscribed to");
  const first = await runClient([
    "publish",
    "com.example.news",
    "hello",
    "--kw",
    'n={"x":1}',
    "--url",
    t.url,
    "--serializer",
    "msgpack",
  ]);
  equal(first.code, 0, first.stderr);
  equal(first.stdout, "");
  const second = await runClient([
    "publish",
    "com.example.news",
    "42",
    "--option",
    "acknowledge=true",
    "--url",
    t.url,
  ]);
  equal(second.code, 0, second.stderr);
  const [ack] = jsonLines(second) as { publication: number }[];
  ok(Number.isSafeInteger(ack!.publication));
  const out = await subscriber.finished();
  equal(out.code, 0, out.stderr);
  deepEqual(jsonLines(out), [
    { args: ["hello"], kwargs: { n: { x: 1 } }, details: {} },
    { args: [42], kwargs: {}, details: {} },
  ]);
});

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

Deno.test("cli meta sessions, session and registrations show the realm", async () => {
  await using t = await startRouter();
  const other = await connect(t.url, { realm: "realm1" });
  await other.register("com.example.listed", () => {});
  const sessions = await runClient(["meta", "sessions", "--url", t.url]);
  equal(sessions.code, 0, sessions.stderr);
  const lines = jsonLines(sessions) as { session: number; authrole: string }[];
  equal(lines.length, 2, "the other session and the meta command's own");
  ok(lines.some((s) => s.session === other.id && s.authrole === "anonymous"));

  const one = await runClient(["meta", "session", String(other.id), "--url", t.url]);
  equal(one.code, 0, one.stderr);
  equal((jsonLines(one)[0] as { session: number }).session, other.id);

  const registrations = await runClient(["meta", "registrations", "--url", t.url]);
  equal(registrations.code, 0, registrations.stderr);
  const [reg] = jsonLines(registrations) as { uri: string; callees: number[] }[];
  equal(reg!.uri, "com.example.listed");
  deepEqual(reg!.callees, [other.id]);

  const gone = await runClient(["meta", "session", "1", "--url", t.url]);
  equal(gone.code, 1);
  match(gone.stderr, /^cloverleaf: wamp\.error\.no_such_session/);
  await other.close();
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

Deno.test("cli client commands over wss:// and tcps:// trust --ca, and bind a cryptosign login to the channel", async () => {
  const key = cryptosignKeyPair();
  await using t = await startRouter({
    tls: true,
    realms: [{
      name: "realm1",
      auth: {
        cryptosign: { principals: { carol: { role: "device", authorizedKeys: [key.publicKey] } } },
      },
    }],
  });
  const dir = await Deno.makeTempDir({ prefix: "cloverleaf_ca_" });
  try {
    const ca = `${dir}/ca.pem`;
    await Deno.writeTextFile(ca, t.ca!);
    const wss = t.listener.urls.websocket!;
    const tcps = t.listener.urls.rawsocket!;
    match(wss, /^wss:/);
    match(tcps, /^tcps:/);
    for (const [url, binding] of [[wss, []], [tcps, ["--channel-binding", "tls-unique"]]]) {
      const out = await runClient([
        "meta",
        "sessions",
        "--url",
        url as string,
        "--ca",
        ca,
        "--private-key",
        key.seed,
        ...binding as string[],
      ]);
      equal(out.code, 0, out.stderr);
      const [own] = jsonLines(out) as { authid: string; authmethod: string }[];
      equal(own!.authid, "carol");
      equal(own!.authmethod, "cryptosign");
    }
    const untrusted = await runClient([
      "meta",
      "sessions",
      "--url",
      wss,
      "--private-key",
      key.seed,
    ]);
    equal(untrusted.code, 1);
    match(untrusted.stderr, /^cloverleaf: Cannot connect/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli README: the command-line client's examples run as written (with --url added)", async () => {
  await using t = await startRouter();
  const [block] = await readmeBlocks("The command-line client");
  equal(block!.lang, "sh");
  const commands = readmeCommands(block!.text);
  ok(commands.length >= 8, "the block lists the commands");
  const background: RunningClient[] = [];
  let subscriber: RunningClient | undefined;
  try {
    for (const { args, background: bg, comment } of commands) {
      const full = [...args, "--url", t.url];
      if (bg) {
        const ready = args[0] === "subscribe" ? "Subscribed to" : "Registered";
        const client = await startClient(full, ready);
        background.push(client);
        if (args[0] === "subscribe") subscriber = client;
        continue;
      }
      const out = await runClient(full);
      equal(out.code, 0, `${args.join(" ")}: ${out.stderr}`);
      if (comment.startsWith("{")) equal(out.stdout, `${comment}\n`, args.join(" "));
      if (args.includes("--repeat")) match(out.stdout, /^1000 calls in /);
      if (args[0] === "meta") match(out.stdout, /"uri":"com\.example\.answer"/);
    }
    ok(subscriber, "the block has a subscriber");
    const events = await subscriber.finished();
    equal(events.code, 0, events.stderr);
    deepEqual(jsonLines(events), [{ args: ["hello"], kwargs: { from: "cli" }, details: {} }]);
  } finally {
    for (const client of background) await client[Symbol.asyncDispose]();
  }
});

Deno.test("cli subscribe and register leave on SIGTERM (exit 0), and exit 1 when the router closes the session", async () => {
  const t = await startRouter();
  try {
    await using registered = await startClient(
      ["register", "com.example.idle", "--url", t.url],
      "Registered",
    );
    registered.kill("SIGTERM");
    const left = await registered.finished();
    equal(left.code, 0, left.stderr);
    await using subscribed = await startClient(
      ["subscribe", "com.example.idle", "--url", t.listener.urls.rawsocket!],
      "Subscribed to",
    );
    await t.router.close("wamp.close.system_shutdown");
    const closed = await subscribed.finished();
    equal(closed.code, 1);
    match(closed.stderr, /cloverleaf: session closed: wamp\.close\.system_shutdown\n$/);
  } finally {
    await t[Symbol.asyncDispose]();
  }
});
