/**
 * A long-poll transport takes one `send` at a time (`send_gate.ts`): the
 * others wait for its turn with their bodies unread, and past 64 waiting
 * one is refused with 429 at once. Before, each concurrent `send` read its
 * whole body (up to 16 MiB) at once: 24 of them on one session added
 * 0.6-1.3 GiB to the router's memory.
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import { Router } from "../../router/mod.ts";
import { LongPollService } from "../../transports/longpoll/server.ts";
import { MAX_WAITING_SENDS } from "../../transports/longpoll/send_gate.ts";
import { jsonBody, jsonMessages, RawHttp, rawJoin, rawPost } from "../_helpers/raw_longpoll.ts";
import { startRouter, until, within } from "../_helpers/router.ts";

const publish = (id: number) => [16, id, { acknowledge: true }, "com.example.t"];

Deno.test("long-poll over a listener: sends wait for the transport's turn; one past 64 waiting gets 429 at once", async () => {
  // Request IDs in the order the sends arrive, whichever that is.
  await using t = await startRouter({
    realms: [{ name: "realm1", strictRequestIds: false }],
    listener: { websocket: false, rawsocket: false },
  });
  const { port } = t.listener.addr as Deno.NetAddr;
  const id = await rawJoin(port, { publisher: {} }, true);
  const path = `/lp/${id}/send`;
  // The turn is held by a send whose body is not all there.
  using holder = await RawHttp.open(port);
  const held = jsonBody(publish(1000), true);
  await holder.post(path, held.length, held.subarray(0, 5));
  // 8 more sends than may wait, each whole: the 8 over the bound are refused, whichever they are.
  const conns = await Promise.all(
    Array.from({ length: MAX_WAITING_SENDS + 8 }, () => RawHttp.open(port)),
  );
  try {
    await Promise.all(conns.map((c, i) => {
      const body = jsonBody(publish(i + 1), true);
      return c.post(path, body.length, body);
    }));
    const refused: number[] = [];
    const answers = conns.map((c, i) =>
      c.answer(20_000).then((answer) => {
        if (answer?.status === 429) refused.push(i);
        return answer;
      })
    );
    // The refusals are answered without waiting for the turn; nothing else is.
    await until(() => refused.length >= 8, 10_000, "eight 429s");
    await new Promise((resolve) => setTimeout(resolve, 100));
    equal(refused.length, 8, `${refused.length} answered 429`);
    let answered = 0;
    for (const answer of answers) void answer.then(() => answered++);
    await new Promise((resolve) => setTimeout(resolve, 100));
    equal(answered, 8, "a waiting send was answered while the turn is held");
    for (const i of refused) equal((await answers[i]!)?.status, 429);
    // The holder finishes its body: it goes first, then every waiting send.
    await holder.write(held.subarray(5));
    equal((await within(holder.answer(10_000), 10_000, "the holder's answer"))?.status, 204);
    const waited = answers.filter((_, i) => !refused.includes(i));
    const statuses = await within(Promise.all(waited), 20_000, "the waiting sends' answers");
    deepEqual(new Set(statuses.map((a) => a?.status)), new Set([204]));
    // Every waiting send was delivered after the holder's: PUBLISHED 1000 comes first.
    const acks: number[] = [];
    while (acks.length < MAX_WAITING_SENDS + 1) {
      const { status, body } = await rawPost(port, `/lp/${id}/receive`);
      equal(status, 200);
      for (const msg of jsonMessages(body, true) as number[][]) acks.push(msg[1]!);
    }
    equal(acks[0], 1000);
    equal(new Set(acks).size, MAX_WAITING_SENDS + 1);
  } finally {
    for (const c of conns) c[Symbol.dispose]();
  }
});

Deno.test("long-poll over a listener: a send whose connection closes mid-body passes the turn on", async () => {
  await using t = await startRouter({ listener: { websocket: false, rawsocket: false } });
  const { port } = t.listener.addr as Deno.NetAddr;
  const id = await rawJoin(port, { publisher: {} });
  const path = `/lp/${id}/send`;
  const holder = await RawHttp.open(port);
  await holder.post(path, 1000, "[16,");
  using next = await RawHttp.open(port);
  const body = JSON.stringify(publish(2));
  await next.post(path, body.length, body);
  holder[Symbol.dispose]();
  equal((await within(next.answer(10_000), 10_000, "the next send"))?.status, 204);
});

Deno.test("LongPollService.handle(): a send waits for its turn without reading its body stream", async () => {
  const router = new Router({ realms: [{ name: "realm1" }], logger: () => {} });
  const service = new LongPollService(router);
  try {
    const post = (path: string, body: BodyInit | null) =>
      service.handle(new Request(`http://localhost/lp${path}`, { method: "POST", body }));
    const opened = await post("/open", JSON.stringify({ protocols: ["wamp.2.json"] }));
    const { transport } = await opened.json();
    const hello = [1, "realm1", { roles: { publisher: {} } }];
    equal((await post(`/${transport}/send`, JSON.stringify(hello))).status, 204);
    equal((await post(`/${transport}/receive`, null)).status, 200);
    // The first send's body comes slowly: it holds the turn.
    let finish = (_: Uint8Array) => {};
    const slow = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode("[16,1,{},"));
        finish = (rest) => (controller.enqueue(rest), controller.close());
      },
    });
    const first = post(`/${transport}/send`, slow);
    // The next ones' bodies are never pulled while they wait; one past 64 is refused.
    let pulled = 0;
    const waiting = Array.from({ length: MAX_WAITING_SENDS }, (_, i) => {
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          pulled++;
          controller.enqueue(new TextEncoder().encode(JSON.stringify(publish(i + 2))));
          controller.close();
        },
      }, { highWaterMark: 0 });
      return post(`/${transport}/send`, body);
    });
    const refused = await within(post(`/${transport}/send`, '[16,99,{},"a"]'), 5000, "a 429");
    equal(refused.status, 429);
    await refused.body?.cancel();
    await new Promise((resolve) => setTimeout(resolve, 50));
    equal(pulled, 0, "a waiting send's body was read");
    finish(new TextEncoder().encode('"com.example.t"]'));
    equal((await within(first, 5000, "the first send")).status, 204);
    const answers = await within(Promise.all(waiting), 10_000, "the waiting sends");
    ok(answers.every((a) => a.status === 204));
    equal(pulled, MAX_WAITING_SENDS);
  } finally {
    service.close();
    await router.close();
  }
});
