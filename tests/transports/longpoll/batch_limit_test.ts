/**
 * A long-poll `receive` answer against the service's `maxMessageSize`, at
 * the boundary: a batched answer adds each message's framing (a 4-byte
 * length before MessagePack and CBOR, a 0x1E after JSON), counted within
 * the limit, so one message alone, the least an answer takes, must leave
 * room for it. No socket: the transport is driven directly. And our
 * client's batched `send` bodies, within its `maxMessageSize` too, against
 * a router behind `Deno.serve`.
 */

import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { Router } from "../../../router/mod.ts";
import { Session } from "../../../client/session.ts";
import { LongPollService } from "../../../transports/longpoll/server.ts";
import { connectLongPoll } from "../../../transports/longpoll/client.ts";
import { LongPollTransport, type TransportHost } from "../../../transports/longpoll/link.ts";
import { batchFraming } from "../../../transports/stream/batched.ts";
import {
  MessageTooLargeError,
  MessageType,
  type SerializerName,
  serializers,
  type WampMessage,
} from "../../../wamp/mod.ts";
import { messageOf } from "../../_helpers/sized_message.ts";

const LIMIT = 4096;

const host: TransportHost = {
  idPrefix: "",
  pollTimeout: 0,
  sessionTimeout: 0,
  maxMessageSize: LIMIT,
  log: undefined,
  gone() {},
};

/** An EVENT that encodes to exactly `size` bytes in `name`. */
function eventOf(name: SerializerName, size: number): WampMessage {
  return messageOf(name, size, (pad) => ({
    type: MessageType.EVENT,
    subscription: 1,
    publication: 2,
    details: {},
    args: [pad],
  }));
}

/** The body of the next `receive` answer. */
async function receive(transport: LongPollTransport): Promise<Uint8Array> {
  const res = await transport.receive(new Headers());
  equal(res.status, 200);
  return new Uint8Array(await res.arrayBuffer());
}

for (const name of ["json", "msgpack", "cbor"] as const) {
  const framing = batchFraming({ binary: serializers[name].binary, batched: true });

  Deno.test(`LongPollTransport (${name}.batched) answers one message of sendLimit bytes within maxMessageSize`, async () => {
    const transport = new LongPollTransport(serializers[name], true, undefined, host);
    // A message of maxMessageSize bytes would be answered in maxMessageSize + framing.
    throws(() => transport.send(eventOf(name, LIMIT)), MessageTooLargeError);
    equal(transport.queued(), 0);
    equal(transport.sendLimit, LIMIT - framing);
    transport.send(eventOf(name, LIMIT - framing));
    equal((await receive(transport)).length, LIMIT);
    transport.destroy();
  });

  Deno.test(`LongPollTransport (${name}.batched) batches messages up to maxMessageSize bytes, framing included`, async () => {
    const transport = new LongPollTransport(serializers[name], true, undefined, host);
    const half = LIMIT / 2 - framing;
    // Two whose framed answer is exactly the limit go together.
    transport.send(eventOf(name, half));
    transport.send(eventOf(name, half));
    equal((await receive(transport)).length, LIMIT);
    // One byte more and the second waits for the next answer.
    transport.send(eventOf(name, half + 1));
    transport.send(eventOf(name, half));
    const first = await receive(transport);
    ok(first.length <= LIMIT);
    equal(first.length, half + 1 + framing);
    equal((await receive(transport)).length, half + framing);
    transport.destroy();
  });
}

Deno.test("LongPollTransport (json, not batched) sends a message of maxMessageSize bytes as it is", async () => {
  const transport = new LongPollTransport(serializers.json, false, undefined, host);
  equal(transport.sendLimit, LIMIT);
  transport.send(eventOf("json", LIMIT));
  equal((await receive(transport)).length, LIMIT);
  throws(() => transport.send(eventOf("json", LIMIT + 1)), MessageTooLargeError);
  transport.destroy();
});

Deno.test("connectLongPoll (batched) posts send bodies of at most its maxMessageSize, framing included", async () => {
  const router = new Router({ realms: [{ name: "realm1" }], logger: () => {} });
  const service = new LongPollService(router, { maxMessageSize: LIMIT });
  const bodies: number[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, (req) => {
    if (req.url.endsWith("/send")) bodies.push(Number(req.headers.get("content-length")));
    return service.handle(req);
  });
  try {
    const url = `http://127.0.0.1:${server.addr.port}/lp`;
    const link = await connectLongPoll(url, { serializers: ["json"], maxMessageSize: LIMIT });
    const session = await Session.join(link, { realm: "realm1" });
    // Three publications in one turn: the first two go in one body, the third in the next
    // (all three went in one of 5,811 bytes, and the router ended the session for it).
    const sent = bodies.length;
    const publish = () => session.publish("t", { args: ["x".repeat(1900)] }, { acknowledge: true });
    const acks = await Promise.allSettled([publish(), publish(), publish()]);
    deepEqual(acks.map((a) => a.status), ["fulfilled", "fulfilled", "fulfilled"]);
    const sizes = bodies.slice(sent);
    ok(sizes.every((n) => n <= LIMIT), `send bodies of ${sizes} bytes, over ${LIMIT}`);
    equal(sizes.length, 2);
    ok(sizes[0]! > 2 * 1900, "two publications in the first body");
    await session.close();
  } finally {
    service.close();
    await router.close();
    await server.shutdown();
  }
});
