import { deepEqual, equal } from "node:assert/strict";
import { startBridge } from "./_bridge.ts";
import { until } from "../_helpers/router.ts";

/** A subscriber path of role `app` with token `t`, and `more` settings. */
const subscriber = (path: string, more: Record<string, unknown> = {}) => ({
  path,
  type: "subscriber",
  realm: "realm1",
  role: "app",
  auth: { token: "t" },
  ...more,
});

const BRIDGES = [subscriber("/sse", { heartbeat: 200 }), subscriber("/sse2", { maxInFlight: 1 })];
const BEARER = { authorization: "Bearer t" };

/** Reads SSE records (id + data) off a response until `n` arrived. */
async function records(response: Response, n: number): Promise<{ id: string; data: unknown }[]> {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const out: { id: string; data: unknown }[] = [];
  let buffer = "";
  const deadline = AbortSignal.timeout(5000);
  while (out.length < n) {
    if (deadline.aborted) throw new Error(`only ${out.length} of ${n} records in 5 s`);
    const { done, value } = await reader.read();
    if (done) break;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const id = /^id: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (id !== undefined && data !== undefined) out.push({ id, data: JSON.parse(data) });
    }
  }
  await reader.cancel();
  return out;
}

/** Opens a stream and waits for its first comment (subscribed). */
async function open(url: string, headers: Record<string, string> = {}): Promise<Response> {
  const response = await fetch(url, {
    headers: { ...BEARER, ...headers },
    signal: AbortSignal.timeout(10_000),
  });
  equal(response.status, 200);
  equal(response.headers.get("content-type"), "text/event-stream");
  return response;
}

Deno.test("SSE: events stream with the publication id; prefix match", async () => {
  await using t = await startBridge(BRIDGES);
  const response = await open(`${t.base}/sse?topic=com.example.&match=prefix`);
  await new Promise((r) => setTimeout(r, 50));
  const a = await t.client.publish("com.example.a", { args: [1] }, { acknowledge: true });
  const b = await t.client.publish("com.example.b", { kwargs: { x: 2 } }, { acknowledge: true });
  const got = await records(response, 2);
  deepEqual(got, [
    { id: String(a), data: { topic: "com.example.a", args: [1], kwargs: {} } },
    { id: String(b), data: { topic: "com.example.b", args: [], kwargs: { x: 2 } } },
  ]);
});

Deno.test('SSE and call results carry binary as WAMP\'s JSON does: "\\0" + Base64', async () => {
  await using t = await startBridge([...BRIDGES, {
    path: "/call",
    type: "caller",
    realm: "realm1",
    role: "app",
    auth: { token: "t" },
  }]);
  const bytes = new Uint8Array([1, 2, 255]);
  const response = await open(`${t.base}/sse?topic=com.example.bin`);
  await new Promise((r) => setTimeout(r, 50));
  const id = await t.client.publish("com.example.bin", { args: [bytes], kwargs: { b: bytes } }, {
    acknowledge: true,
  });
  deepEqual(await records(response, 1), [
    {
      id: String(id),
      data: { topic: "com.example.bin", args: ["\0AQL/"], kwargs: { b: "\0AQL/" } },
    },
  ]);
  await t.client.register("com.example.bytes", () => ({ args: [bytes] }));
  const called = await fetch(`${t.base}/call`, {
    method: "POST",
    headers: BEARER,
    body: JSON.stringify({ procedure: "com.example.bytes" }),
  });
  deepEqual(await called.json(), { args: ["\0AQL/"], kwargs: {} });
});

Deno.test("SSE: Last-Event-ID resumes from the topic's event history", async () => {
  await using t = await startBridge(BRIDGES);
  // A first reader keeps the subscription (and so its history) alive.
  const first = await open(`${t.base}/sse?topic=com.example.history`);
  await new Promise((r) => setTimeout(r, 50));
  const ids: number[] = [];
  for (let i = 0; i < 4; i++) {
    ids.push(
      (await t.client.publish("com.example.history", { args: [i] }, { acknowledge: true }))!,
    );
  }
  const seen = await records(first, 4);
  deepEqual(seen.map((r) => r.id), ids.map(String));
  // Reconnect after the second event: the third and fourth come from history, then live ones.
  const again = await open(`${t.base}/sse?topic=com.example.history`, {
    "last-event-id": String(ids[1]),
  });
  await new Promise((r) => setTimeout(r, 100));
  const live = await t.client.publish("com.example.history", { args: [4] }, { acknowledge: true });
  const resumed = await records(again, 3);
  deepEqual(resumed.map((r) => r.id), [ids[2], ids[3], live].map(String));
  deepEqual(resumed.map((r) => (r.data as { args: unknown[] }).args[0]), [2, 3, 4]);
});

Deno.test("SSE: a reader resuming after more history than maxBacklog gets all of it", async () => {
  await using t = await startBridge(BRIDGES);
  const first = await open(`${t.base}/sse?topic=com.example.history`);
  await new Promise((r) => setTimeout(r, 50));
  // 8 events of 60 KB: 480 KB of history, over the path's 256 KiB maxBacklog.
  const ids: number[] = [];
  for (let i = 0; i < 8; i++) {
    ids.push(
      (await t.client.publish("com.example.history", { args: [String(i).repeat(60_000)] }, {
        acknowledge: true,
      }))!,
    );
  }
  await first.body?.cancel();
  const again = await open(`${t.base}/sse?topic=com.example.history`, {
    "last-event-id": String(ids[0]),
  });
  const resumed = await records(again, 7);
  deepEqual(resumed.map((r) => r.id), ids.slice(1).map(String));
});

Deno.test("SSE: refusals (401, bad match 400, 403 for a topic the role may not subscribe, stream cap 429); heartbeats", async () => {
  await using t = await startBridge(BRIDGES);
  const noAuth = await fetch(`${t.base}/sse?topic=com.example.a`);
  equal(noAuth.status, 401);
  await noAuth.body?.cancel();
  const badMatch = await fetch(`${t.base}/sse?topic=com.example.a&match=regex`, {
    headers: BEARER,
  });
  equal(badMatch.status, 400);
  await badMatch.body?.cancel();
  // A topic that starts with U+0000: refused here, never sent on the path's shared session.
  const nul = await fetch(`${t.base}/sse?topic=%00abc`, { headers: BEARER });
  equal(nul.status, 400);
  await nul.body?.cancel();
  const still = await open(`${t.base}/sse?topic=com.example.a`);
  await still.body?.cancel();
  const denied = await fetch(`${t.base}/sse?topic=org.other.topic`, { headers: BEARER });
  equal(denied.status, 403);
  equal((await denied.json()).error, "wamp.error.not_authorized");

  const one = await open(`${t.base}/sse2?topic=com.example.a`);
  const two = await fetch(`${t.base}/sse2?topic=com.example.a`, { headers: BEARER });
  equal(two.status, 429);
  await two.body?.cancel();
  await one.body?.cancel();
  // The closed stream frees its place.
  await new Promise((r) => setTimeout(r, 100));
  const three = await open(`${t.base}/sse2?topic=com.example.a`);
  await three.body?.cancel();

  const beat = await open(`${t.base}/sse?topic=com.example.quiet`);
  const reader = beat.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const until = Date.now() + 3000;
  while (!text.includes(": heartbeat") && Date.now() < until) {
    text += (await reader.read()).value ?? "";
  }
  equal(text.includes(": heartbeat"), true);
  await reader.cancel();
});

Deno.test("SSE: a reader that stays more than maxBacklog behind is dropped", async () => {
  await using t = await startBridge([
    subscriber("/slow", { maxBacklog: 64 * 1024, maxInFlight: 1 }),
  ]);
  const slow = await open(`${t.base}/slow?topic=com.example.flood`);
  await new Promise((r) => setTimeout(r, 50));
  const chunk = "x".repeat(64 * 1024);
  // Published on, never read: once the socket and the connection's queue are full, the stream
  // stays behind, and SLOW_READER_MS later it is dropped: its place is freed (maxInFlight 1).
  let status = 0;
  const started = Date.now();
  while (status !== 200 && Date.now() - started < 15_000) {
    for (let i = 0; i < 20; i++) t.client.publish("com.example.flood", { args: [chunk] });
    await new Promise((r) => setTimeout(r, 5));
    if ((Date.now() - started) % 200 < 10) {
      const next = await fetch(`${t.base}/slow?topic=com.example.flood`, { headers: BEARER });
      status = next.status;
      await next.body?.cancel();
    }
  }
  equal(status, 200);
  await slow.body?.cancel().catch(() => {});
});

Deno.test("SSE: a burst past maxBacklog in one turn reaches a reader at full speed in part, with a count of what was dropped; the stream goes on", async () => {
  await using t = await startBridge([subscriber("/burst", { maxBacklog: 64 * 1024 })]);
  const reader = await open(`${t.base}/burst?topic=com.example.burst`);
  const text = reader.body!.pipeThrough(new TextDecoderStream()).getReader();
  let got = "";
  const reading = (async () => {
    for (;;) {
      const { done, value } = await text.read();
      if (done) return;
      got += value;
    }
  })();
  await new Promise((r) => setTimeout(r, 50));
  const chunk = "y".repeat(16 * 1024);
  for (let i = 0; i < 40; i++) t.client.publish("com.example.burst", { args: [chunk] });
  await until(() => /records dropped/.test(got), 3000, "the count of what was dropped");
  await new Promise((r) => setTimeout(r, 2500)); // past SLOW_READER_MS: still open
  t.client.publish("com.example.burst", { args: ["after"] });
  await until(() => got.includes('"after"'), 3000, "an event after the burst");
  await text.cancel();
  await reading.catch(() => {});
});

Deno.test("SSE: an event larger than maxBacklog, while another is read, reaches the reader; the stream goes on", async () => {
  await using t = await startBridge([subscriber("/big", { maxBacklog: 64 * 1024 })]);
  const response = await open(`${t.base}/big?topic=com.example.big`);
  await new Promise((r) => setTimeout(r, 50));
  const big = "x".repeat(200 * 1024);
  // Back to back: the second is queued while the first is still being written.
  t.client.publish("com.example.big", { args: [big] });
  t.client.publish("com.example.big", { args: [big] });
  for (let i = 0; i < 3; i++) {
    await t.client.publish("com.example.big", { args: [i] }, { acknowledge: true });
  }
  const got = await records(response, 5);
  deepEqual(got.map((r) => (r.data as { args: unknown[] }).args[0]), [big, big, 0, 1, 2]);
});

Deno.test("SSE: an event's record is made once for all the streams it goes to", async () => {
  await using t = await startBridge(BRIDGES);
  const responses = [
    await open(`${t.base}/sse?topic=com.example.shared`),
    await open(`${t.base}/sse?topic=com.example.shared`),
    await open(`${t.base}/sse?topic=com.example.shared`),
  ];
  await new Promise((r) => setTimeout(r, 50));
  const big = "x".repeat(100_000);
  const stringify = JSON.stringify;
  let made = 0;
  JSON.stringify = ((value: unknown, ...rest: []) => {
    const text = stringify(value, ...rest);
    if (text.length >= big.length && text.includes('"topic"')) made++;
    return text;
  }) as typeof JSON.stringify;
  try {
    await t.client.publish("com.example.shared", { args: [big] }, { acknowledge: true });
    for (const response of responses) {
      deepEqual((await records(response, 1))[0]!.data, {
        topic: "com.example.shared",
        args: [big],
        kwargs: {},
      });
    }
  } finally {
    JSON.stringify = stringify;
  }
  equal(made, 1);
});
