/**
 * `cloverleaf subscribe` and `publish` as subprocesses against a router this
 * test starts on 127.0.0.1, and how the long-running commands (`subscribe`,
 * `register`) end: SIGTERM, or the router closing the session.
 */

import { deepEqual, equal, match, ok } from "node:assert/strict";
import { startRouter } from "../_helpers/router.ts";
import { jsonLines, runClient, startClient } from "./_client.ts";

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
