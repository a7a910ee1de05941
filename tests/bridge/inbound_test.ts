import { deepEqual, equal, match } from "node:assert/strict";
import { ApplicationError, type Dict } from "../../mod.ts";
import { until } from "../_helpers/router.ts";
import { resolveHttpService } from "../../bridge/config.ts";
import { provideHttpServices } from "../../bridge/services.ts";
import { portOf, post, startBridge } from "./_bridge.ts";

const AUTH = { token: "t0ken" };
const BEARER = { authorization: "Bearer t0ken" };
const BRIDGES = [
  { path: "/pub", type: "publisher", realm: "realm1", role: "app", auth: AUTH },
  { path: "/call", type: "caller", realm: "realm1", role: "app", auth: AUTH, timeout: 300 },
  { path: "/limited", type: "caller", realm: "realm1", role: "limited", auth: AUTH },
  { path: "/small", type: "publisher", realm: "realm1", role: "app", auth: AUTH, maxBodySize: 64 },
  {
    path: "/hook",
    type: "webhook",
    realm: "realm1",
    role: "app",
    auth: AUTH,
    topic: "com.example.hook",
    headers: ["X-Event-Type"],
  },
];

Deno.test("publisher: POST lands as an event; 202 with the publication id", async () => {
  await using t = await startBridge(BRIDGES);
  const got = Promise.withResolvers<{ args: unknown[]; kwargs: unknown; publication: number }>();
  await t.client.subscribe("com.example.news", (e) => got.resolve(e));
  const res = await post(`${t.base}/pub`, {
    topic: "com.example.news",
    args: [1, "two"],
    kwargs: { three: 3 },
  }, BEARER);
  equal(res.status, 202);
  const event = await got.promise;
  deepEqual(event.args, [1, "two"]);
  deepEqual(event.kwargs, { three: 3 });
  equal(res.body.id, event.publication);
});

Deno.test("caller: 200 with the result; 404, 502, 504, 403 and 400 refusals", async () => {
  await using t = await startBridge(BRIDGES);
  await t.client.register(
    "com.example.add",
    (args) => ({ args: [Number(args[0]) + Number(args[1])] }),
  );
  await t.client.register("com.example.fail", () => {
    throw new ApplicationError("com.example.error.no_stock", {
      args: ["none left"],
      kwargs: { sku: 7 },
    });
  });
  await t.client.register("com.example.slow", () => new Promise(() => {}));
  await t.client.register("com.example.allowed", () => ({ args: ["ok"] }));
  const ok = await post(`${t.base}/call`, { procedure: "com.example.add", args: [2, 3] }, BEARER);
  equal(ok.status, 200);
  deepEqual(ok.body, { args: [5], kwargs: {} });

  const missing = await post(`${t.base}/call`, { procedure: "com.example.nope" }, BEARER);
  equal(missing.status, 404);
  equal(missing.body.error, "wamp.error.no_such_procedure");

  const failed = await post(`${t.base}/call`, { procedure: "com.example.fail" }, BEARER);
  equal(failed.status, 502);
  deepEqual(failed.body, {
    error: "com.example.error.no_stock",
    args: ["none left"],
    kwargs: { sku: 7 },
  });

  const slow = await post(`${t.base}/call`, { procedure: "com.example.slow" }, BEARER);
  equal(slow.status, 504);
  equal(slow.body.error, "wamp.error.timeout");

  const denied = await post(
    `${t.base}/limited`,
    { procedure: "com.example.add", args: [1, 1] },
    BEARER,
  );
  equal(denied.status, 403);
  equal(denied.body.error, "wamp.error.not_authorized");
  const allowed = await post(`${t.base}/limited`, { procedure: "com.example.allowed" }, BEARER);
  equal(allowed.status, 200);

  const bad = await post(`${t.base}/call`, "{not json", BEARER);
  equal(bad.status, 400);
  equal(bad.body.error, "cloverleaf.error.bad_request");
  const badUri = await post(`${t.base}/call`, { procedure: "no spaces allowed" }, BEARER);
  equal(badUri.status, 400);
});

Deno.test("bearer token: missing or wrong → 401; oversize body → 413; GET on a POST path → 405", async () => {
  await using t = await startBridge(BRIDGES);
  const none = await post(`${t.base}/pub`, { topic: "com.example.x" });
  equal(none.status, 401);
  equal(none.body.error, "wamp.error.authentication_failed");
  const wrong = await post(`${t.base}/pub`, { topic: "com.example.x" }, {
    authorization: "Bearer t0keN",
  });
  equal(wrong.status, 401);
  const big = await post(
    `${t.base}/small`,
    { topic: "com.example.x", args: ["x".repeat(100)] },
    BEARER,
  );
  equal(big.status, 413);
  equal(big.body.error, "cloverleaf.error.payload_size_exceeded");
  const get = await fetch(`${t.base}/pub`, { headers: BEARER });
  equal(get.status, 405);
  await get.body?.cancel();
  const unknown = await fetch(`${t.base}/nothing-here`);
  equal(unknown.status, 404);
  await unknown.body?.cancel();
});

Deno.test("webhook: any body lands as an event with the body and the selected headers", async () => {
  await using t = await startBridge(BRIDGES);
  const got = Promise.withResolvers<{ kwargs: Record<string, unknown> }>();
  await t.client.subscribe("com.example.hook", (e) => got.resolve(e));
  const response = await fetch(`${t.base}/hook`, {
    method: "POST",
    headers: {
      ...BEARER,
      "content-type": "application/json",
      "x-event-type": "push",
      "x-other": "no",
    },
    body: '{"ref":"main"}',
  });
  equal(response.status, 202);
  await response.body?.cancel();
  const { kwargs } = await got.promise;
  equal(kwargs.body, '{"ref":"main"}');
  deepEqual(kwargs.json, { ref: "main" });
  deepEqual(kwargs.headers, { "x-event-type": "push" });

  // A body that is not UTF-8 comes as Base64.
  const binary = Promise.withResolvers<{ kwargs: Record<string, unknown> }>();
  await t.client.subscribe("com.example.hook", (e) => binary.resolve(e));
  const raw = await fetch(`${t.base}/hook`, {
    method: "POST",
    headers: BEARER,
    body: new Uint8Array([0xff, 0x00, 0x80]),
  });
  equal(raw.status, 202);
  await raw.body?.cancel();
  const event = await binary.promise;
  equal(event.kwargs.body, "/wCA");
  equal(event.kwargs.encoding, "base64");
});

Deno.test("a body the router would refuse gets 400 for its sender; the path's session lives on", async () => {
  await using t = await startBridge(BRIDGES);
  await t.client.register("com.example.add", (args) => ({ args: [Number(args[0]) + 1] }));
  const lone = await post(
    `${t.base}/call`,
    { procedure: "com.example.add", args: ["\ud800"] },
    BEARER,
  );
  equal(lone.status, 400);
  equal(lone.body.error, "cloverleaf.error.bad_request");
  let deep: unknown = [];
  for (let i = 0; i < 70; i++) deep = [deep];
  const nested = await post(`${t.base}/pub`, { topic: "com.example.x", args: [deep] }, BEARER);
  equal(nested.status, 400);
  // An option of the wrong type, which a socket peer's PUBLISH or CALL is aborted for: refused
  // here, and never passed on (a subscriber or callee would be sent what it must refuse).
  const events: unknown[] = [];
  await t.client.subscribe("com.example.x", (e) => void events.push(e));
  const options = { ppt_scheme: "x_a", ppt_serializer: 5 };
  const typed = await post(`${t.base}/pub`, { topic: "com.example.x", options }, BEARER);
  equal(typed.status, 400);
  equal(typed.body.error, "cloverleaf.error.bad_request");
  const typedCall = await post(
    `${t.base}/call`,
    { procedure: "com.example.add", args: [1], options },
    BEARER,
  );
  equal(typedCall.status, 400);
  const ok = await post(`${t.base}/call`, { procedure: "com.example.add", args: [1] }, BEARER);
  equal(ok.status, 200);
  deepEqual(ok.body, { args: [2], kwargs: {} });
  deepEqual(events, []);
});

Deno.test("binary as WAMP's JSON spells it; what another serializer cannot carry gets 400", async () => {
  await using t = await startBridge(BRIDGES);
  const events: unknown[][] = [];
  await t.client.subscribe("com.example.bin", (e) => void events.push(e.args));
  const raw = async (path: string, body: string, type = "application/json") => {
    const response = await fetch(`${t.base}${path}`, {
      method: "POST",
      headers: { ...BEARER, "content-type": type },
      body,
    });
    return { status: response.status, text: await response.text() };
  };
  // "\u0000" and Base64 is bytes, as over WAMP's JSON (and as the bridge writes them).
  const bytes = await raw("/pub", '{"topic":"com.example.bin","args":["\\u0000AQI="]}');
  equal(bytes.status, 202);
  await until(() => events.length === 1);
  deepEqual(events[0], [new Uint8Array([1, 2])]);
  // Not Base64: no serializer could carry it as sent (JSON subscribers were closed).
  const bad = await raw("/pub", '{"topic":"com.example.bin","args":["\\u0000!!"]}');
  equal(bad.status, 400);
  match(bad.text, /Base64/);
  // An own __proto__ key, which MessagePack subscribers refused (and were closed for).
  const proto = await raw("/pub", '{"topic":"com.example.bin","kwargs":{"__proto__":{"a":1}}}');
  equal(proto.status, 400);
  match(proto.text, /__proto__/);
  // A webhook's sender cannot change its body: its text goes, without "json".
  const hooked = Promise.withResolvers<Record<string, unknown>>();
  await t.client.subscribe("com.example.hook", (e) => hooked.resolve(e.kwargs), {
    match: "prefix",
  });
  equal((await raw("/hook", '{"__proto__":1}')).status, 202);
  deepEqual([(await hooked.promise).body, "json" in (await hooked.promise)], [
    '{"__proto__":1}',
    false,
  ]);
  // A webhook's text that starts with U+0000 comes as Base64.
  const got = Promise.withResolvers<Record<string, unknown>>();
  await t.client.subscribe("com.example.hook", (e) => got.resolve(e.kwargs));
  equal((await raw("/hook", "\0ab", "text/plain")).status, 202);
  deepEqual([(await got.promise).body, (await got.promise).encoding], ["AGFi", "base64"]);
  deepEqual(events.length, 1);
});

Deno.test("caller: client-only options in a request (cancelMode) cannot abort the path's session", async () => {
  // An upstream the dealer arms no timer for: only the bridge's own bound (timeout + 1 s) ends a
  // call to it: 1001 ms for the attacker's, 3 s for the victim's.
  const upstream = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, async () => {
    await new Promise((r) => setTimeout(r, 1500));
    return Response.json({ ok: true });
  });
  try {
    const slow = { path: "/slow", type: "caller", realm: "realm1", role: "app", auth: AUTH };
    await using t = await startBridge([...BRIDGES, { ...slow, timeout: 2000 }]);
    provideHttpServices(t.router, [
      resolveHttpService(
        { procedure: "com.example.report", url: `http://127.0.0.1:${upstream.addr.port}/r` },
        "httpServices[0]",
      ),
    ]);
    const victim = post(`${t.base}/slow`, { procedure: "com.example.report" }, BEARER);
    const attacker = await post(`${t.base}/slow`, {
      procedure: "com.example.report",
      options: { timeout: 1, cancelMode: "x", onProgress: null },
    }, BEARER);
    equal(attacker.status, 504);
    const answered = await victim;
    equal(answered.status, 200, JSON.stringify(answered.body));
    deepEqual(answered.body.args, [{ ok: true }]);
  } finally {
    await upstream.shutdown();
  }
});

Deno.test("a body over 64 KiB is scanned as a JSON frame is: too many values, too deep → 400, and no publication", async () => {
  const big = { maxBodySize: 16 * 1024 * 1024 };
  await using t = await startBridge([
    { path: "/pub", type: "publisher", realm: "realm1", role: "app", auth: AUTH, ...big },
    { ...BRIDGES[4], ...big },
  ]);
  const events: unknown[] = [];
  await t.client.subscribe("com.example.x", (e) => void events.push(e.args.length));
  // 2,000,000 values: twice what any one message may hold.
  const many = `{"topic":"com.example.x","args":[${"0,".repeat(2_000_000)}0]}`;
  const refused = await post(`${t.base}/pub`, many, BEARER);
  equal(refused.status, 400);
  match(String((refused.body.args as string[])[0]), /the body must be a JSON object.*values/);
  const deep = await post(`${t.base}/pub`, "[".repeat(1 << 20), BEARER);
  equal(deep.status, 400);
  // A webhook takes the text, not the JSON, of such a body.
  const hooked: Dict[] = [];
  await t.client.subscribe("com.example.hook", (e) => void hooked.push(e.kwargs));
  const hook = await post(`${t.base}/hook`, `[${"0,".repeat(2_000_000)}0]`, BEARER);
  equal(hook.status, 202);
  await until(() => hooked.length === 1, 5000, "the hook's event");
  equal(hooked[0]!.json, undefined);
  equal(typeof hooked[0]!.body, "string");
  deepEqual(events, []);
});

Deno.test("caller: a client that hangs up gives its call up: the callee gets INTERRUPT, the path's slot is free", async () => {
  await using t = await startBridge([
    { path: "/call", type: "caller", realm: "realm1", role: "app", auth: AUTH, maxInFlight: 2 },
  ]);
  let interrupted = 0;
  await t.client.register(
    "com.example.never",
    (_args, _kwargs, _details, invocation) =>
      new Promise((_, reject) => {
        invocation.signal.addEventListener("abort", () => {
          interrupted++;
          reject(invocation.signal.reason);
        });
      }),
  );
  await t.client.register("com.example.now", () => ({ args: ["now"] }));
  const body = JSON.stringify({ procedure: "com.example.never" });
  for (let i = 0; i < 2; i++) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: portOf(t.base) });
    await conn.write(new TextEncoder().encode(
      `POST /call HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t0ken\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    ));
    await new Promise((resolve) => setTimeout(resolve, 100)); // the call is under way
    conn.close();
  }
  await until(() => interrupted === 2, 3000, "both calls interrupted");
  const answer = await post(`${t.base}/call`, { procedure: "com.example.now" }, BEARER);
  equal(answer.status, 200);
  deepEqual(answer.body.args, ["now"]);
});
