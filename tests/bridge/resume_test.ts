/**
 * An SSE stream resumed with `Last-Event-ID` is bounded as a plain one:
 * live events held while its history is sent take at most `maxBacklog`
 * bytes (the rest are dropped and counted), and a reader that stops reading
 * is dropped as a slow one.
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import { connect, listen, type Listener, Router, type Session } from "../../mod.ts";
import { type HttpBridge, httpBridge } from "../../bridge/mount.ts";
import { resolveBridgeOptions } from "../../bridge/config.ts";
import type { DynamicAuthorizer } from "../../router/core/permissions.ts";
import { portOf } from "./_bridge.ts";

const TOPIC = "com.example.history";
const TOKEN = "resume-token-0123";
const HEAD = (lastEventId: number) =>
  `GET /sse?topic=${TOPIC} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\n` +
  `Last-Event-ID: ${lastEventId}\r\n\r\n`;

interface Setup extends AsyncDisposable {
  base: string;
  publisher: Session;
}

/** A router whose `/sse` path (role `reader`, `authorizer`) keeps `limit` events (32 MiB) of history. */
async function start(
  authorizer: DynamicAuthorizer,
  limit: number,
  more: Record<string, unknown> = {},
): Promise<Setup> {
  const router = new Router({
    realms: [{
      name: "realm1",
      limits: { historyBytes: 32 * 1024 * 1024 },
      eventHistory: [{ topic: TOPIC, limit }],
      roles: [{ name: "reader", authorizer }, {
        name: "anonymous",
        permissions: [{ uri: "com.", match: "prefix", allow: { publish: true } }],
      }],
    }],
    logger: () => {},
  });
  const bridge: HttpBridge = httpBridge(router, [resolveBridgeOptions({
    path: "/sse",
    type: "subscriber",
    realm: "realm1",
    role: "reader",
    auth: { token: TOKEN },
    maxBacklog: 64 * 1024,
    ...more,
  }, "bridges[0]")]);
  const listener: Listener = await listen(router, { port: 0, mounts: [bridge] });
  const publisher = await connect(listener.urls.websocket!, { realm: "realm1" });
  return {
    base: `http://127.0.0.1:${(listener.addr as { port: number }).port}`,
    publisher,
    async [Symbol.asyncDispose]() {
      await publisher.close();
      await bridge.close();
      await router.close();
      await listener.close();
    },
  };
}

/** Publishes `n` events of `size` bytes, acknowledged; returns their publication IDs. */
async function publish(session: Session, n: number, size: number): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    const id = await session.publish(TOPIC, { args: [i, "h".repeat(size)] }, { acknowledge: true });
    ids.push(id!);
  }
  return ids;
}

Deno.test("SSE: a resumed stream that stops reading while its history is sent is dropped as a slow reader", async () => {
  await using t = await start(() => true, 100, { maxInFlight: 1 });
  // 20 MiB of history: more than the kernel's buffers and the connection take while not read.
  const ids = await publish(t.publisher, 100, 200 * 1024);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: portOf(t.base) });
  try {
    await conn.write(new TextEncoder().encode(HEAD(ids[0]!)));
    // Not read from here on: its place (maxInFlight 1) is freed once the stream is dropped.
    let status = 0;
    const deadline = Date.now() + 15_000;
    while (status !== 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      const next = await fetch(`${t.base}/sse?topic=${TOPIC}`, {
        headers: { authorization: `Bearer ${TOKEN}` },
        signal: AbortSignal.timeout(5000),
      });
      status = next.status;
      await next.body?.cancel();
    }
    equal(status, 200, "the stalled stream's place was not freed in 15 s");
    // The stalled reader's connection ends once it reads what its buffers held.
    const buffer = new Uint8Array(1024 * 1024);
    const read = async () => {
      while (await conn.read(buffer) !== null) { /* drain */ }
    };
    const closed = await Promise.race([
      read().then(() => true, () => true),
      new Promise<false>((r) => setTimeout(() => r(false), 10_000)),
    ]);
    ok(closed, "the stalled stream's connection did not end");
  } finally {
    conn.close();
  }
});

Deno.test("SSE: live events held while a resume waits for history take at most maxBacklog; the rest are dropped and counted", async () => {
  const gate = Promise.withResolvers<void>();
  // The history's call waits behind the gate: meanwhile every live event is held. The topic
  // keeps the last 2 events, which come from history: the other 38 only from what was held.
  await using t = await start(
    (_session, uri) =>
      uri === "wamp.subscription.get_events" ? gate.promise.then(() => true) : true,
    2,
    { heartbeat: 100 },
  );
  const ids = await publish(t.publisher, 3, 10);
  const response = await fetch(`${t.base}/sse?topic=${TOPIC}`, {
    headers: { authorization: `Bearer ${TOKEN}`, "last-event-id": String(ids[0]) },
    signal: AbortSignal.timeout(15_000),
  });
  equal(response.status, 200);
  const { reader, reading, text } = readAll(response);
  try {
    const records = () =>
      text().split("\n\n").slice(0, -1).flatMap((block) => {
        const data = /^data: (.*)$/m.exec(block)?.[1];
        return data === undefined ? [] : [JSON.parse(data) as { args: unknown[] }];
      });
    // Each within 5 s: well before the authorizer's own 10 s (no answer denies the history).
    const wait = async (check: () => boolean, what: string) => {
      const deadline = Date.now() + 5000;
      while (!check()) {
        if (Date.now() > deadline) throw new Error(`${what} not seen; got ${text().slice(0, 400)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    await wait(() => text().includes(": subscribed"), "the subscribed comment");
    // 40 live events of 16 KiB (640 KiB) while the path's maxBacklog is 64 KiB.
    await publish(t.publisher, 40, 16 * 1024);
    const dropped = () =>
      [...text().matchAll(/^: (\d+) records dropped$/gm)].reduce((n, m) => n + Number(m[1]), 0);
    // Dropped as they come, not held; counted once history shows which of them it carries.
    await new Promise((r) => setTimeout(r, 300));
    equal(dropped(), 0, "not counted before history is read");
    gate.resolve();
    const live = () => records().filter((r) => (r.args[1] as string).length > 10).length;
    // Without a bound, all 38 come; within 64 KiB, 4 (and 34 or so are counted as dropped).
    await wait(() => live() >= 2 && live() + dropped() >= 40, "the 40 events, or their count");
    ok(live() <= 2 + 5, `${live() - 2} live events of 16 KiB held past a maxBacklog of 64 KiB`);
    ok(dropped() >= 38 - 5, `${dropped()} counted as dropped`);
    // The last 2 came from history, not counted as dropped (they were dropped from what was held).
    equal(live() + dropped(), 40, "each live event received or counted once");
    // In the order they were published: the held ones, older than history's window, first.
    const order = records().filter((r) => (r.args[1] as string).length > 10).map((r) => r.args[0]);
    deepEqual(order, [...order].sort((a, b) => Number(a) - Number(b)), "in order");
    // The stream goes on.
    await t.publisher.publish(TOPIC, { args: ["after", "x"] }, { acknowledge: true });
    await wait(() => records().some((r) => r.args[0] === "after"), "an event after the resume");
  } finally {
    await reader.cancel().catch(() => {});
    await reading.catch(() => {});
  }
});

Deno.test("SSE: more than 1,024 live events while a resume waits for history: the stream goes on, the ones past maxBacklog counted", async () => {
  const gate = Promise.withResolvers<void>();
  await using t = await start(
    (_session, uri) =>
      uri === "wamp.subscription.get_events" ? gate.promise.then(() => true) : true,
    2,
  );
  const ids = await publish(t.publisher, 1, 10);
  const response = await fetch(`${t.base}/sse?topic=${TOPIC}`, {
    headers: { authorization: `Bearer ${TOKEN}`, "last-event-id": String(ids[0]) },
    signal: AbortSignal.timeout(15_000),
  });
  const { reader, reading, text } = readAll(response);
  try {
    // 1,100 events of about 100 bytes: 110 KB, past both MAX_HELD and the 64 KiB maxBacklog.
    for (let i = 0; i < 1100; i++) t.publisher.publish(TOPIC, { args: [i, "x"] });
    await t.publisher.publish(TOPIC, { args: ["last", "x"] }, { acknowledge: true });
    await new Promise((r) => setTimeout(r, 200));
    gate.resolve();
    await t.publisher.publish(TOPIC, { args: ["after", "x"] }, { acknowledge: true });
    const deadline = Date.now() + 10_000;
    while (!text().includes('"after"')) {
      if (Date.now() > deadline) throw new Error(`the stream ended: ${text().slice(-300)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    ok(/^: \d+ records dropped$/m.test(text()), "the count of those dropped");
  } finally {
    await reader.cancel().catch(() => {});
    await reading.catch(() => {});
  }
});

Deno.test("SSE: a resume whose history is more than one get_events answer holds gets every event, in order", async () => {
  await using t = await start(() => true, 100);
  // 30 events of 5,000 keys: 13 fit in one answer (the decoders' 65,535 dict keys).
  const kwargs = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, 0]));
  const ids: number[] = [];
  for (let i = 0; i < 31; i++) {
    ids.push((await t.publisher.publish(TOPIC, { args: [i], kwargs }, { acknowledge: true }))!);
  }
  const { ids: seen, text } = await resumed(t.base, ids[0]!, 30);
  deepEqual(seen, ids.slice(1)); // each once, in the order published
  ok(!text.includes("no history"), text.slice(0, 300));
});

Deno.test("SSE: a resume reads past an event no get_events answer can hold, and sends what it read if a page fails", async () => {
  // The 4th get_events call is refused: the 1st was refused as too large, the 2nd asked for the
  // newest event, the 3rd read 14.
  let calls = 0;
  await using t = await start(
    (_s, uri, action) =>
      uri !== "wamp.subscription.get_events" || action !== "call" || ++calls !== 4,
    100,
  );
  const publish = async (args: unknown[], kwargs: Record<string, unknown> = {}) =>
    (await t.publisher.publish(TOPIC, { args, kwargs }, { acknowledge: true }))!;
  // 65,490 keys: a PUBLISH may carry 65,535, an answer 65,471. It made every answer reading it a
  // refusal ("the first 0 fit"): the resume sent nothing ("no history to resume from").
  const big = Object.fromEntries(Array.from({ length: 65_490 }, (_, i) => [`k${i}`, 0]));
  const kwargs = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, 0]));
  const ids = [await publish(["e0"]), await publish(["e1"]), await publish(["big"], big)];
  for (let i = 0; i < 30; i++) ids.push(await publish([i], kwargs));
  const resumed = async (after: number, until: RegExp) => {
    const response = await fetch(`${t.base}/sse?topic=${TOPIC}`, {
      headers: { authorization: `Bearer ${TOKEN}`, "last-event-id": String(after) },
      signal: AbortSignal.timeout(15_000),
    });
    const { reader, reading, text } = readAll(response);
    try {
      const deadline = Date.now() + 10_000;
      while (!until.test(text())) {
        if (Date.now() > deadline) throw new Error(`not seen: ${text().slice(-300)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      return text();
    } finally {
      await reader.cancel().catch(() => {});
      await reading.catch(() => {});
    }
  };
  const seen = (text: string) => [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
  // Read in pages of 14 (after e0: e1 and 13, then 14, then 3): the 2nd page is refused.
  const failed = await resumed(ids[0]!, /history to resume from/);
  ok(/^: no more history to resume from: .*not/m.test(failed), failed.slice(-300));
  deepEqual(seen(failed), [ids[1]!, ...ids.slice(3, 3 + 13)]);
  // Asked again: the big one left out, the rest sent whole.
  const whole = await resumed(ids[0]!, new RegExp(`^id: ${ids.at(-1)}$`, "m"));
  deepEqual(seen(whole), [ids[1]!, ...ids.slice(3)]);
  ok(!whole.includes("history to resume from"), whole.slice(0, 300));
});

Deno.test("SSE: a resume pages through at most what history held when it began, sending each page as it comes", async () => {
  // A busy topic keeping 31 events of 5,000 keys (13 to an answer): 14 more are published with
  // each get_events call of the resume after the first, so each page's last event has left the
  // history when the next page is asked, and that page starts at the oldest kept. Paging went on
  // as long as publications did (here until the 51st call, refused), sending nothing meanwhile.
  const kwargs = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, 0]));
  const ids: number[] = [];
  let calls = 0;
  let text = () => "";
  const seen = () => [...text().matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
  /** Waits (up to 10 s) for `check`; whether it held. */
  const until = async (check: () => boolean) => {
    for (const deadline = Date.now() + 10_000; !check() && Date.now() < deadline;) {
      await new Promise((r) => setTimeout(r, 10));
    }
    return check();
  };
  let streamed: boolean | undefined; // the first page on the stream when the 2nd was asked
  await using t = await start(async (_s, uri, action) => {
    if (uri !== "wamp.subscription.get_events" || action !== "call") return true;
    if (++calls > 50) return false;
    if (calls > 1) {
      for (let i = 0; i < 14; i++) {
        ids.push(
          (await t.publisher.publish(TOPIC, { args: [ids.length], kwargs }, {
            acknowledge: true,
          }))!,
        );
      }
    }
    // Refused as too large, the newest asked for, the 1st page: the 4th asks for the 2nd page.
    if (calls === 4) streamed = await until(() => seen().length >= 13);
    return true;
  }, 31);
  for (let i = 0; i < 31; i++) {
    ids.push((await t.publisher.publish(TOPIC, { args: [i], kwargs }, { acknowledge: true }))!);
  }
  const response = await fetch(`${t.base}/sse?topic=${TOPIC}`, {
    headers: { authorization: `Bearer ${TOKEN}`, "last-event-id": String(ids[0]) },
    signal: AbortSignal.timeout(30_000),
  });
  const all = readAll(response);
  text = all.text;
  try {
    // History and the live events held meanwhile are out, the others counted as dropped.
    ok(await until(() => /^: \d+ records dropped$/m.test(text())), text().slice(-300));
    equal(calls, 4, "get_events calls");
    equal(streamed, true, "the 1st page sent before the 2nd was asked");
    const order = seen().map((id) => ids.indexOf(id));
    ok(order.every((i, n) => i > 0 && (n === 0 || i > order[n - 1]!)), `in order, once: ${order}`);
    await t.publisher.publish(TOPIC, { args: ["after"] }, { acknowledge: true });
    ok(await until(() => text().includes('"args":["after"]')), "the stream goes on");
  } finally {
    await all.reader.cancel().catch(() => {});
    await all.reading.catch(() => {});
  }
});

/** Reads a stream's text as it comes: `text()` is what arrived so far. */
function readAll(response: Response) {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let received = "";
  const reading = (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      received += value;
    }
  })();
  return { reader, reading, text: () => received };
}

/**
 * Resumes an SSE stream after `after` and reads it until it carried `count`
 * event IDs (10 s at most): the IDs, in the order sent, and the whole text.
 */
async function resumed(
  base: string,
  after: number,
  count: number,
): Promise<{ ids: number[]; text: string }> {
  const response = await fetch(`${base}/sse?topic=${TOPIC}`, {
    headers: { authorization: `Bearer ${TOKEN}`, "last-event-id": String(after) },
    signal: AbortSignal.timeout(15_000),
  });
  const { reader, reading, text } = readAll(response);
  try {
    const seen = () => [...text().matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    const deadline = Date.now() + 10_000;
    while (seen().length < count) {
      if (Date.now() > deadline) throw new Error(`got ${seen().length}: ${text().slice(-300)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return { ids: seen(), text: text() };
  } finally {
    await reader.cancel().catch(() => {});
    await reading.catch(() => {});
  }
}

Deno.test("SSE: a refusal's fit limits the refused page only: two events that fit an answer only one at a time do not make the rest one call each", async () => {
  let calls = 0;
  await using t = await start((_s, uri, action) => {
    if (uri === "wamp.subscription.get_events" && action === "call") calls++;
    return true;
  }, 1000);
  const publish = async (args: unknown[], kwargs: Record<string, unknown> = {}) =>
    (await t.publisher.publish(TOPIC, { args, kwargs }, { acknowledge: true }))!;
  // 40,000 keys each: one fits an answer (65,471 keys), two do not: the fit is 1.
  const big = Object.fromEntries(Array.from({ length: 40_000 }, (_, i) => [`k${i}`, 0]));
  const ids = [await publish(["e0"]), await publish(["b1"], big), await publish(["b2"], big)];
  for (let i = 0; i < 200; i++) ids.push(await publish([i]));
  deepEqual((await resumed(t.base, ids[0]!, ids.length - 1)).ids, ids.slice(1));
  // Refused, the newest asked, b1 alone, then pages doubling (2, 4, ... 128): the fit kept for
  // every page made it one call per event (204).
  ok(calls <= 12, `${calls} get_events calls`);
});

Deno.test("SSE: a resume of events that each fit an answer only alone takes about one call each", async () => {
  let calls = 0;
  await using t = await start((_s, uri, action) => {
    if (uri === "wamp.subscription.get_events" && action === "call") calls++;
    return true;
  }, 1000);
  const big = Object.fromEntries(Array.from({ length: 40_000 }, (_, i) => [`k${i}`, 0]));
  const ids = [(await t.publisher.publish(TOPIC, { args: [0] }, { acknowledge: true }))!];
  for (let i = 0; i < 30; i++) {
    ids.push((await t.publisher.publish(TOPIC, { kwargs: big }, { acknowledge: true }))!);
  }
  deepEqual((await resumed(t.base, ids[0]!, 30)).ids, ids.slice(1));
  // 30 pages of one, the newest asked, and a refusal per doubling (log2 30): a refusal before
  // each page (every page asked for all its history holds) took 60.
  ok(calls <= 30 + 1 + 1 + 5, `${calls} get_events calls`);
});
