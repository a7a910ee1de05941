/**
 * A worker passes the `send`s it receives for another worker's long-poll
 * transport on one at a time per transport (`transports/longpoll/forwarder.ts`),
 * as the owner takes them: the others wait with their bodies unread, and
 * one past 64 waiting gets 429 there. Before, it read each whole at once
 * and held it until the owner's turn came: 40 concurrent 8 MiB sends to
 * one transport under `--workers 2` added 0.5-0.6 GiB to the worker that
 * passed about half of them on.
 *
 * Two "workers" in one process, each a listener with its long-poll service
 * on its relay (real TCP and Unix sockets), in front of one router.
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import { Router } from "../../../router/mod.ts";
import { listen, type Listener } from "../../../transports/listener.ts";
import { LongPollService } from "../../../transports/longpoll/server.ts";
import { LongPollRelay, ownerOf } from "../../../transports/longpoll/relay.ts";
import { Forwarder } from "../../../transports/longpoll/forwarder.ts";
import { MAX_WAITING_SENDS, SendAdmission } from "../../../transports/longpoll/send_gate.ts";
import { jsonBody, jsonMessages, RawHttp, rawJoin, rawPost } from "../../_helpers/raw_longpoll.ts";
import { until, within } from "../../_helpers/router.ts";

const SECRET = "s3cret-s3cret-s3cret";

/** Two workers' relays on Unix sockets in a private directory. */
async function relays(): Promise<{ dir: string; relays: LongPollRelay[] }> {
  const dir = await Deno.makeTempDir();
  const sockets = [`${dir}/relay-1.sock`, `${dir}/relay-2.sock`];
  return {
    dir,
    relays: [1, 2].map((worker) => new LongPollRelay({ worker, sockets, secret: SECRET })),
  };
}

/** A PUBLISH acknowledged, of about `size` bytes. */
function publish(request: number, size = 0): unknown[] {
  return [16, request, { acknowledge: true }, "com.example.t", ["x".repeat(size)]];
}

Deno.test("long-poll under a relay: a worker reads and passes on one send of another worker's transport at a time; one past 64 waiting gets 429 there", async () => {
  const router = new Router({
    realms: [{ name: "realm1", strictRequestIds: false }],
    logger: () => {},
  });
  const { dir, relays: [one, two] } = await relays();
  const listeners: Listener[] = [];
  const holders: RawHttp[] = [];
  try {
    for (const via of [one!, two!]) {
      listeners.push(
        await listen(router, {
          port: 0,
          websocket: false,
          rawsocket: false,
          longpoll: { relay: { via, name: "0" } },
        }),
      );
    }
    const [port1, port2] = listeners.map((l) => (l.addr as Deno.NetAddr).port);
    const id = await rawJoin(port1!, { publisher: {} }, true);
    equal(ownerOf(id), 1);
    const path = `/lp/${id}/send`;
    // Worker 1 gives the transport's turn to a send whose body is not all there.
    const holder = await RawHttp.open(port1!);
    holders.push(holder);
    const held = jsonBody(publish(1000), true);
    await holder.post(path, held.length, held.subarray(0, 5));
    await new Promise((resolve) => setTimeout(resolve, 100));
    // 8 more sends than may wait reach worker 2, each of 256 KiB, whole.
    const conns = await Promise.all(
      Array.from({ length: MAX_WAITING_SENDS + 8 }, () => RawHttp.open(port2!)),
    );
    holders.push(...conns);
    await Promise.all(conns.map((c, i) => {
      const body = jsonBody(publish(i + 1, 256 * 1024), true);
      return c.post(path, body.length, body);
    }));
    const refused: number[] = [];
    const answers = conns.map((c, i) =>
      c.answer(20_000).then((answer) => {
        if (answer?.status === 429) refused.push(i);
        return answer;
      })
    );
    // One was passed on and waits on worker 1, 64 wait on worker 2, unread; 7 are refused there.
    await until(() => one!.counts.served > 0, 10_000, "a send passed on");
    await until(() => refused.length >= 7, 10_000, "seven 429s");
    await new Promise((resolve) => setTimeout(resolve, 200));
    equal(one!.counts.served, 1, "sends passed on to worker 1 while its turn is held");
    equal(refused.length, 7, `${refused.length} answered 429`);
    const text = new TextDecoder().decode((await answers[refused[0]!]!)!.body);
    equal(text, "Too many sends waiting for this WAMP transport\n");
    // The holder finishes its body: then every waiting send, passed on one by one.
    await holder.write(held.subarray(5));
    equal((await within(holder.answer(10_000), 10_000, "the holder's answer"))?.status, 204);
    const waited = answers.filter((_, i) => !refused.includes(i));
    const statuses = await within(Promise.all(waited), 20_000, "the waiting sends' answers");
    deepEqual(new Set(statuses.map((a) => a?.status)), new Set([204]));
    equal(one!.counts.served, MAX_WAITING_SENDS + 1);
    const acks: number[] = [];
    while (acks.length < MAX_WAITING_SENDS + 2) {
      const { status, body } = await rawPost(port1!, `/lp/${id}/receive`);
      equal(status, 200);
      for (const msg of jsonMessages(body, true) as number[][]) acks.push(msg[1]!);
    }
    equal(acks[0], 1000);
    equal(new Set(acks).size, MAX_WAITING_SENDS + 2);
  } finally {
    for (const conn of holders) conn[Symbol.dispose]();
    await router.close();
    for (const listener of listeners) await listener.close();
    for (const relay of [one!, two!]) await relay.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("LongPollService.handle() under a relay: a send for another worker's transport waits for the one passed on before it, its body stream unread", async () => {
  const router = new Router({ realms: [{ name: "realm1" }], logger: () => {} });
  const { dir, relays: vias } = await relays();
  const [owner, other] = vias.map((via) =>
    new LongPollService(router, { relay: { via, name: "0" } })
  );
  try {
    const post = (service: LongPollService, path: string, body: BodyInit | null) =>
      service.handle(new Request(`http://localhost/lp${path}`, { method: "POST", body }));
    const opened = await post(
      owner!,
      "/open",
      JSON.stringify({ protocols: ["wamp.2.json.batched"] }),
    );
    const { transport } = await opened.json();
    const hello = jsonBody([1, "realm1", { roles: { publisher: {} } }], true) as BodyInit;
    equal((await post(owner!, `/${transport}/send`, hello)).status, 204);
    equal((await post(owner!, `/${transport}/receive`, null)).status, 200);
    // The owner's turn is held by a send whose body comes slowly.
    let finish = () => {};
    const slow = new ReadableStream<Uint8Array>({
      start(controller) {
        const body = jsonBody(publish(1), true);
        controller.enqueue(body.subarray(0, 5));
        finish = () => (controller.enqueue(body.subarray(5)), controller.close());
      },
    });
    const first = post(owner!, `/${transport}/send`, slow);
    // Two sends reach the other worker: the first is passed on, the second waits unread.
    const pulled = [0, 0];
    const sends = [2, 3].map((request, i) =>
      post(
        other!,
        `/${transport}/send`,
        new ReadableStream<Uint8Array>({
          pull(controller) {
            pulled[i]!++;
            controller.enqueue(jsonBody(publish(request), true));
            controller.close();
          },
        }, { highWaterMark: 0 }),
      )
    );
    await until(() => pulled[0]! > 0, 5000, "the first send passed on");
    await new Promise((resolve) => setTimeout(resolve, 100));
    equal(pulled[1], 0, "the second send's body was read while the first waits");
    finish();
    equal((await within(first, 5000, "the holder")).status, 204);
    for (const send of sends) equal((await within(send, 5000, "a send")).status, 204);
    const got = await post(owner!, `/${transport}/receive`, null);
    const acks = jsonMessages(await got.bytes(), true) as number[][];
    deepEqual(acks.map((msg) => msg[1]), [1, 2, 3]);
  } finally {
    for (const service of [owner!, other!]) service.close();
    await router.close();
    for (const via of vias) await via.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Forwarder.admit(): one send per transport holds the turn, 64 wait, one more is refused; an idle transport's gate goes", async () => {
  const { dir, relays: vias } = await relays();
  try {
    const forwarder = new Forwarder({ via: vias[1]!, name: "0" }, {
      pollTimeout: 0,
      maxMessageSize: 1024,
    });
    const refuse = (status: number) => new Response(null, { status });
    const route = (id: string) => ({ id, op: "send", owner: 1 });
    const first = forwarder.admit(route("w1-a"), 10, refuse);
    ok(first instanceof SendAdmission);
    equal(first.maxBodySize, 1024);
    const waiting = Array.from(
      { length: MAX_WAITING_SENDS },
      () => forwarder.admit(route("w1-a"), 10, refuse),
    );
    ok(waiting.every((admitted) => admitted instanceof Promise));
    equal((forwarder.admit(route("w1-a"), 10, refuse) as Response).status, 429);
    // Another transport's sends do not wait for this one's.
    const other = forwarder.admit(route("w1-b"), 10, refuse);
    ok(other instanceof SendAdmission);
    equal(forwarder.size, 2);
    other.abandon();
    equal(forwarder.size, 1);
    first.abandon();
    for (const admitted of waiting) ((await admitted) as SendAdmission).abandon();
    equal(forwarder.size, 0);
  } finally {
    for (const via of vias) await via.close();
    await Deno.remove(dir, { recursive: true });
  }
});
