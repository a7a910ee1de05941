/**
 * Batched transports (attack review A, finding 3): a batch is handed to the
 * router in one synchronous loop, so one carrying 850,000 messages held
 * every other session for seconds. A batch holds at most
 * MAX_BATCH_MESSAGES; past it the sender's transport is failed. Our own
 * senders (the router's WebSocket link and long-poll receive answers) split
 * what they send at the same count, so a subscriber on a batched transport
 * still gets an EVENT burst of any size.
 */

import { equal, ok } from "node:assert/strict";
import { connect } from "../../mod.ts";
import { MAX_BATCH_MESSAGES } from "../../transports/stream/batched.ts";
import { rawWebSocket } from "../_helpers/raw_websocket.ts";
import { startRouter, until, within } from "../_helpers/router.ts";

const RS = "\u001e";

/** `n` PUBLISHes to topic `a.b`, requests from `first`, as one JSON batch. */
function publishes(n: number, first: number, acknowledge: boolean): string {
  const options = acknowledge ? '{"acknowledge":true}' : "{}";
  let out = "";
  for (let i = 0; i < n; i++) out += `[16,${first + i},${options},"a.b"]${RS}`;
  return out;
}

Deno.test(`WebSocket: a batch of ${MAX_BATCH_MESSAGES} is taken, one more message fails the transport`, async () => {
  await using t = await startRouter();
  await using ws = await rawWebSocket(t.url, ["wamp.2.json.batched"]);
  ok(ws.head.includes("wamp.2.json.batched"), ws.head);
  await ws.send(`[1,"realm1",{"roles":{"publisher":{}}}]${RS}`);
  equal(new TextDecoder().decode((await within(ws.read())).payload).slice(0, 3), "[2,");
  await ws.send(publishes(MAX_BATCH_MESSAGES, 1, true));
  let acknowledged = 0;
  while (acknowledged < MAX_BATCH_MESSAGES) {
    const { opcode, payload } = await within(ws.read(), 5000, "PUBLISHED");
    equal(opcode, 1);
    acknowledged += new TextDecoder().decode(payload).split(RS).length - 1;
  }
  equal(acknowledged, MAX_BATCH_MESSAGES);
  await ws.send(publishes(MAX_BATCH_MESSAGES + 1, MAX_BATCH_MESSAGES + 1, true));
  // Nothing of the batch is taken: the next frame is the close, 1002 protocol error.
  const { opcode, payload } = await within(ws.read(), 5000, "close");
  equal(opcode, 8, new TextDecoder().decode(payload));
  equal((payload[0]! << 8) | payload[1]!, 1002);
  ok(new TextDecoder().decode(payload.subarray(2)).includes(`${MAX_BATCH_MESSAGES} messages`));
});

Deno.test("WebSocket: a batched subscriber gets 2048 EVENTs sent in one turn (batches split)", async () => {
  await using t = await startRouter();
  const sub = await connect(t.url, { realm: "realm1", serializers: ["json"], batched: true });
  let events = 0;
  await sub.subscribe("a.b", () => void events++);
  await sub.subscribe("a", () => void events++, { match: "prefix" });
  await using ws = await rawWebSocket(t.url, ["wamp.2.json.batched"]);
  await ws.send(`[1,"realm1",{"roles":{"publisher":{}}}]${RS}`);
  await within(ws.read());
  // One batch of 1024 PUBLISHes, two subscriptions: 2048 small EVENTs queued in one turn,
  // about 1,600 of them before the 64 KiB flush (one batch the subscriber would refuse).
  await ws.send(publishes(MAX_BATCH_MESSAGES, 1, false));
  await until(() => events === 2 * MAX_BATCH_MESSAGES, 10_000, `2048 events (got ${events})`);
  ok(sub.isOpen, "the subscriber's session is still open");
  await sub.close();
});

async function post(url: string, body?: string): Promise<{ status: number; text: string }> {
  const res = await within(fetch(url, { method: "POST", body: body ?? null }), 5000, url);
  return { status: res.status, text: await res.text() };
}

Deno.test(`long-poll: a send of ${MAX_BATCH_MESSAGES} is taken, receives are split, one more message is refused`, async () => {
  await using t = await startRouter();
  const base = t.listener.urls.longpoll!;
  const opened = await post(`${base}/open`, '{"protocols":["wamp.2.json.batched"]}');
  equal(opened.status, 200, opened.text);
  const url = `${base}/${JSON.parse(opened.text).transport}`;
  equal((await post(`${url}/send`, `[1,"realm1",{"roles":{"publisher":{}}}]${RS}`)).status, 204);
  ok((await post(`${url}/receive`)).text.startsWith("[2,"));
  // Two full sends queue 2048 PUBLISHED; each receive answers with at most one batch's worth.
  equal((await post(`${url}/send`, publishes(MAX_BATCH_MESSAGES, 1, true))).status, 204);
  equal(
    (await post(`${url}/send`, publishes(MAX_BATCH_MESSAGES, MAX_BATCH_MESSAGES + 1, true))).status,
    204,
  );
  await new Promise((resolve) => setTimeout(resolve, 200)); // the router queues them all
  let received = 0;
  while (received < 2 * MAX_BATCH_MESSAGES) {
    const got = await post(`${url}/receive`);
    equal(got.status, 200, t.logs.join("\n"));
    const n = got.text.split(RS).length - 1;
    ok(n <= MAX_BATCH_MESSAGES, `a receive answered ${n} messages`);
    received += n;
  }
  equal(received, 2 * MAX_BATCH_MESSAGES);
  const refused = await post(
    `${url}/send`,
    publishes(MAX_BATCH_MESSAGES + 1, 2 * MAX_BATCH_MESSAGES + 1, true),
  );
  equal(refused.status, 400);
  // The session is failed: its ABORT says why.
  const abort = await post(`${url}/receive`);
  ok(abort.text.includes("protocol_violation") && abort.text.includes("1024 messages"), abort.text);
});
