/**
 * The slow-consumer bound of `router/delivery.ts` over a real socket whose
 * other end never reads: what a {@linkcode Target} lets wait for one
 * connection is bounded in messages (`maxBacklogMessages`, within a turn)
 * and in bytes (`maxBacklog`, in the wire and the socket); past either,
 * EVENTs are dropped (policy `drop`) or the session is closed (policy
 * `close`, or a message that cannot be dropped).
 *
 * @module
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import net from "node:net";
import { Target } from "../../router/target.ts";
import { RawSocketConnection } from "../../transports/rawsocket/link.ts";
import { Wire } from "../../transports/stream/wire.ts";
import {
  type ErrorMessage,
  type EventMessage,
  json,
  MessageType,
  type ResultMessage,
  type SlowConsumerPolicy,
  type WampMessage,
} from "../../wamp/mod.ts";

/** A router-side connection to a client that never reads, and its target. */
interface Stalled extends AsyncDisposable {
  target: Target;
  peer: RawSocketConnection;
  logs: string[];
  closes: number;
}

async function stalled(
  limits: { maxBacklog: number; maxBacklogMessages: number; slowConsumer: SlowConsumerPolicy },
): Promise<Stalled> {
  const accepted = Promise.withResolvers<net.Socket>();
  const server = net.createServer((socket) => accepted.resolve(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  const client = net.connect(port, "127.0.0.1");
  client.pause(); // never reads
  const socket = await accepted.promise;
  const wire = new Wire(socket, { maxBacklog: limits.maxBacklog });
  const peer = new RawSocketConnection(wire, {
    info: { type: "rawsocket", serializer: "json" },
    serializer: json,
    receiveLimit: 1 << 24,
    sendLimit: 1 << 24,
    pingInterval: 0,
    pingTimeout: 1000,
  });
  const logs: string[] = [];
  const out: Stalled = {
    target: new Target(peer, limits, (_level, message) => logs.push(message), {
      close: () => {
        out.closes++;
        wire.destroy();
      },
      shutdown: () => {},
      violate: () => {},
      handle: () => {},
    }),
    peer,
    logs,
    closes: 0,
    async [Symbol.asyncDispose]() {
      wire.destroy();
      client.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  return out;
}

let publication = 0;
function event(bytes: number): EventMessage {
  return {
    type: MessageType.EVENT,
    subscription: 1,
    publication: ++publication,
    details: {},
    args: ["x".repeat(bytes)],
  };
}

const turn = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));

Deno.test("a target queues EVENTs up to half of maxBacklogMessages in one turn, drops the rest, and sends again once they are written", async () => {
  await using s = await stalled({
    maxBacklog: 1 << 20,
    maxBacklogMessages: 100,
    slowConsumer: "drop",
  });
  for (let i = 0; i < 1000; i++) s.target.send(event(10));
  equal(s.peer.queued(), 50);
  equal(s.target.droppedEvents, 950);
  ok(s.logs.some((l) => l.includes("dropping events")), s.logs.join("\n"));
  await turn(); // the wire hands the 50 to the socket
  equal(s.peer.queued(), 0);
  s.target.send(event(10));
  equal(s.peer.queued(), 1);
  equal(s.target.droppedEvents, 950);
  ok(s.logs.some((l) => l.includes("caught up, 950 events dropped")), s.logs.join("\n"));
  equal(s.closes, 0);
});

Deno.test("a target whose client never reads holds at most half of maxBacklog in EVENTs (plus one) across turns", async () => {
  const maxBacklog = 64 * 1024;
  await using s = await stalled({ maxBacklog, maxBacklogMessages: 16384, slowConsumer: "drop" });
  let sent = 0;
  // Up to 16 MiB admitted, far past what the kernel's buffers take for a client that never reads.
  let full = false;
  for (let round = 0; round < 512 && !full; round++) {
    for (let i = 0; i < 64; i++, sent++) s.target.send(event(1000));
    ok(s.peer.backlog() <= maxBacklog / 2 + 1100, `backlog ${s.peer.backlog()} bytes`);
    await turn();
    full = s.peer.backlog() > 0;
  }
  ok(full, `the kernel took all of ${sent} events`);
  ok(s.target.droppedEvents > 0, `nothing dropped after ${sent} events`);
  for (let round = 0; round < 20; round++) {
    for (let i = 0; i < 64; i++) s.target.send(event(1000));
    ok(s.peer.backlog() <= maxBacklog / 2 + 1100, `backlog ${s.peer.backlog()} bytes`);
    await turn();
  }
  ok(
    s.peer.backlog() > maxBacklog / 2 - 1100,
    `backlog ${s.peer.backlog()}: the bound was reached`,
  );
  equal(s.closes, 0);
});

Deno.test("EVENTs take half the bound; past all of it, a message that cannot be dropped closes the session under the drop policy", async () => {
  await using s = await stalled({
    maxBacklog: 1 << 20,
    maxBacklogMessages: 10,
    slowConsumer: "drop",
  });
  for (let i = 0; i < 20; i++) s.target.send(event(10));
  equal(s.target.droppedEvents, 15);
  equal(s.closes, 0);
  // The other half is the session's own answers': another session's EVENTs cannot make them close it.
  const result: ResultMessage = { type: MessageType.RESULT, request: 1, details: {} };
  for (let i = 0; i < 5; i++) s.target.send(result);
  equal(s.closes, 0);
  equal(s.peer.queued(), 10);
  s.target.send(result);
  equal(s.closes, 1);
  ok(s.logs.some((l) => l.includes("closing session")), s.logs.join("\n"));
});

Deno.test("past the bound, an EVENT closes the session under the close policy", async () => {
  await using s = await stalled({
    maxBacklog: 1 << 20,
    maxBacklogMessages: 10,
    slowConsumer: "close",
  });
  for (let i = 0; i < 10; i++) s.target.send(event(10));
  equal(s.closes, 0);
  s.target.send(event(10));
  equal(s.closes, 1);
  equal(s.target.droppedEvents, 0);
});

Deno.test("one message larger than maxBacklog is no sign of a slow consumer: what follows goes out, up to the limit past it", async () => {
  const maxBacklog = 64 * 1024;
  await using s = await stalled({ maxBacklog, maxBacklogMessages: 16384, slowConsumer: "drop" });
  s.target.send(event(12 << 20)); // more than the kernel's buffers take for a client not reading
  const left = s.peer.backlog();
  ok(left > maxBacklog, `backlog ${left} bytes`);
  const result: ResultMessage = { type: MessageType.RESULT, request: 1, details: {} };
  s.target.send(result); // a reader at full speed could be writing the large one out still
  equal(s.closes, 0);
  for (let i = 0; i < 200 && s.target.droppedEvents === 0; i++) s.target.send(event(1000));
  ok(
    s.target.droppedEvents > 0,
    "past half the limit beyond the large message, EVENTs are dropped",
  );
  ok(s.peer.backlog() <= left + maxBacklog / 2 + 2200, `backlog ${s.peer.backlog()} bytes`);
  const answer = { ...result, args: ["x".repeat(1000)] };
  let before = 0;
  for (let i = 0; i < 200 && s.closes === 0; i++) {
    before = s.peer.backlog();
    s.target.send(answer);
  }
  equal(s.closes, 1, "and a message that cannot be dropped closes the session past all of it");
  ok(before > left + maxBacklog - 2200, `closed at ${before} bytes`);
});

/**
 * A target with `maxBacklog` 1000 over a fake peer whose backlog the test
 * moves (`fake.backlog`): a message sent adds its first argument's length.
 */
function fakeTarget(backlog = 0) {
  const fake = { backlog, closes: 0, sent: [] as WampMessage[] };
  const peer = {
    info: { type: "fake" },
    send: (msg: WampMessage) => {
      fake.sent.push(msg);
      fake.backlog += String((msg as { args?: unknown[] }).args?.[0] ?? "").length;
    },
    backlog: () => fake.backlog,
    queued: () => 0,
    close: () => {},
  };
  const target = new Target(
    peer as unknown as ConstructorParameters<typeof Target>[0],
    { maxBacklog: 1000, maxBacklogMessages: 16384, slowConsumer: "drop" },
    () => {},
    { close: () => void fake.closes++, shutdown: () => {}, violate: () => {}, handle: () => {} },
  );
  return { target, fake };
}

Deno.test("the allowance for a large message shrinks as it goes out: a peer that reads it and stops is held to maxBacklog", () => {
  const { target, fake } = fakeTarget();
  target.send(event(10_000));
  equal(fake.backlog, 10_000);
  // The peer reads the large message only, while events of 100 bytes keep coming.
  let sent = 0;
  for (let i = 0; i < 200 && target.droppedEvents === 0; i++) {
    const before = fake.backlog;
    target.send(event(100));
    if (fake.backlog > before) sent++;
    fake.backlog -= Math.min(100, Math.max(0, 10_000 - 100 * i)); // 100 bytes of the large one read
  }
  ok(target.droppedEvents > 0, "dropped once the small ones pass the limit");
  ok(sent * 100 <= 1000 + 100 + 100, `${sent} small events held`);
  equal(fake.closes, 0);
});

Deno.test("a message larger than half of maxBacklog, where EVENTs stop, is no sign of a slow consumer either", () => {
  const { target, fake } = fakeTarget();
  target.send(event(700)); // past half of 1000, within it
  for (let i = 0; i < 4; i++) target.send(event(100));
  equal(fake.sent.length, 5);
  equal(target.droppedEvents, 0);
  equal(target.busy(), false); // new calls still reach it
  for (let i = 0; i < 10; i++) target.send(event(100));
  ok(target.droppedEvents > 0, "past half the limit beyond it, EVENTs are dropped");
  equal(target.busy(), true);
  equal(fake.closes, 0);
});

Deno.test("past the limit, an ERROR that ends a call goes out only when small: no payload, no details, a URI of at most 4096", () => {
  const { target, fake } = fakeTarget(10_000); // over the limit
  const error = (uri: string, extra: Record<string, unknown> = {}) => ({
    type: MessageType.ERROR,
    requestType: MessageType.CALL,
    request: 1,
    details: {},
    error: uri,
    ...extra,
  } as ErrorMessage);
  target.send(error("wamp.error.canceled"));
  equal(fake.closes, 0);
  target.send(error(`a.${"x".repeat(4096)}`));
  target.send(error("a.b", { args: ["x"] }));
  target.send(error("a.b", { details: { x: 1 } }));
  deepEqual(fake.sent.map((m) => (m as ErrorMessage).error), ["wamp.error.canceled"]);
  equal(fake.closes, 3);
});

Deno.test("the allowance counts from the large message on: what was queued ahead of it going out leaves it whole", () => {
  const { target, fake } = fakeTarget(900); // small messages queued ahead
  const result = (n: number): ResultMessage => ({
    type: MessageType.RESULT,
    request: 1,
    details: {},
    args: ["r".repeat(n)],
  });
  target.send(result(10_000));
  fake.backlog -= 1000; // the 900 ahead, and 100 of the large one, read
  target.send(result(200));
  fake.backlog -= 100;
  target.send(result(200));
  equal(fake.closes, 0, "400 bytes behind the large message are within the limit");
});
