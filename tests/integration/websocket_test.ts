/** WebSocket-specific behaviour: negotiation, bad input, slow consumers. */

import { deepEqual, equal, match, ok } from "node:assert/strict";
import { connect, connectLocal, type LogLevel, Router } from "../../mod.ts";
import { serveWebSocket, type ServeWebSocketOptions } from "../../transports/mod.ts";
import { MessageType, msgpack } from "../../wamp/mod.ts";
import { rawWebSocket } from "../_helpers/raw_websocket.ts";
import { until, within } from "../_helpers/router.ts";
import { realmOf } from "../../router/router.ts";

/** A router behind Deno's native WebSocket server (`serveWebSocket`), on port 0. */
function startRouter(listener: ServeWebSocketOptions = {}) {
  const logs: string[] = [];
  const router = new Router({
    realms: [{ name: "realm1" }],
    logger: (level: LogLevel, message: string) => logs.push(`${level} ${message}`),
  });
  const server = serveWebSocket(router, { port: 0, ...listener });
  return {
    router,
    url: server.url,
    logs,
    async [Symbol.asyncDispose]() {
      await router.close();
      await server.close();
    },
  };
}

const decoder = new TextDecoder();

Deno.test("webSocketHandler() answers 400 when no WAMP subprotocol is offered", async () => {
  await using t = startRouter();
  await using raw = await rawWebSocket(t.url, ["wamp.2.bogus", "chat"]);
  match(raw.head, /^HTTP\/1\.1 400/);
  // The body names what we do support.
  const res = await fetch(t.url.replace("ws:", "http:"), {
    headers: {
      upgrade: "websocket",
      connection: "upgrade",
      "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
      "sec-websocket-version": "13",
      "sec-websocket-protocol": "wamp.2.bogus",
    },
  });
  equal(res.status, 400);
  match(await res.text(), /wamp\.2\.json, wamp\.2\.msgpack, wamp\.2\.cbor/);
});

Deno.test("webSocketHandler() picks the client's first supported subprotocol", async () => {
  await using t = startRouter();
  await using raw = await rawWebSocket(t.url, ["wamp.2.bogus", "wamp.2.cbor", "wamp.2.json"]);
  match(raw.head, /^HTTP\/1\.1 101/);
  match(raw.head, /sec-websocket-protocol: wamp\.2\.cbor/i);
});

Deno.test("webSocketHandler() answers 426 to plain HTTP and 404 off its paths", async () => {
  await using t = startRouter();
  const plain = await fetch(t.url.replace("ws:", "http:"));
  equal(plain.status, 426);
  await plain.body?.cancel();
  const off = await fetch(t.url.replace("ws:", "http:").replace("/ws", "/nope"));
  equal(off.status, 404);
  await off.body?.cancel();
});

Deno.test("a malformed message gets ABORT protocol_violation and a close; others go on", async () => {
  await using t = startRouter();
  const healthy = await connect(t.url, { realm: "realm1", serializers: ["json"] });
  await healthy.register("com.example.ping", () => ({ args: ["pong"] }));
  const cases = [
    "not json at all",
    "[]",
    '"a string"',
    "[1]",
    '[1, "realm1"]',
    '[16, 1, {}, "com.topic"]', // PUBLISH before HELLO
    "[999, 1]",
  ];
  for (const text of cases) {
    await using raw = await rawWebSocket(t.url, ["wamp.2.json"]);
    await raw.send(text);
    const frame = await within(raw.read(), 2000, `reply to ${text}`);
    const abort = JSON.parse(decoder.decode(frame.payload));
    equal(abort[0], 3, `ABORT for ${text}`);
    equal(abort[2], "wamp.error.protocol_violation");
    equal(typeof abort[1].message, "string");
    const close = await within(raw.read(), 2000, "close frame");
    equal(close.opcode, 8);
  }
  // A violation after joining: a second HELLO.
  {
    await using raw = await rawWebSocket(t.url, ["wamp.2.json"]);
    await raw.send('[1, "realm1", {"roles": {"caller": {}}}]');
    equal(JSON.parse(decoder.decode((await raw.read()).payload))[0], 2);
    await raw.send('[1, "realm1", {"roles": {"caller": {}}}]');
    const abort = JSON.parse(decoder.decode((await within(raw.read())).payload));
    deepEqual([abort[0], abort[2]], [3, "wamp.error.protocol_violation"]);
  }
  // A binary frame of garbage on a msgpack connection.
  {
    await using raw = await rawWebSocket(t.url, ["wamp.2.msgpack"]);
    await raw.send(new Uint8Array([0xc1, 0xff, 0x00]));
    const abort = msgpack.decode((await within(raw.read())).payload);
    equal(abort.type, MessageType.ABORT);
    equal((abort as { reason: string }).reason, "wamp.error.protocol_violation");
  }
  deepEqual((await healthy.call("com.example.ping")).args, ["pong"]);
  await healthy.close();
});

Deno.test("HELLO for an unknown realm gets ABORT wamp.error.no_such_realm", async () => {
  await using t = startRouter();
  await using raw = await rawWebSocket(t.url, ["wamp.2.json"]);
  await raw.send('[1, "nope", {"roles": {"caller": {}}}]');
  const abort = JSON.parse(decoder.decode((await within(raw.read())).payload));
  deepEqual([abort[0], abort[2]], [3, "wamp.error.no_such_realm"]);
});

Deno.test("binary arguments cross serializers: msgpack bin <-> json \\0base64 <-> cbor", async () => {
  await using t = startRouter();
  const viaJson = await connect(t.url, { realm: "realm1", serializers: ["json"] });
  const viaMsgpack = await connect(t.url, { realm: "realm1", serializers: ["msgpack"] });
  const viaCbor = await connect(t.url, { realm: "realm1", serializers: ["cbor"] });
  const bytes = new Uint8Array([0x10, 0xe3, 0xff, 0x90, 0, 1, 2]);
  const got: Record<string, unknown[]> = { json: [], msgpack: [], cbor: [] };
  for (
    const [name, s] of [["json", viaJson], ["msgpack", viaMsgpack], ["cbor", viaCbor]] as const
  ) {
    await s.subscribe("com.example.bin", (e) => {
      got[name]!.push(e.args[0], e.kwargs.b);
    });
  }
  await viaMsgpack.publish("com.example.bin", { args: [bytes], kwargs: { b: bytes } }, {
    acknowledge: true,
  });
  await viaJson.publish("com.example.bin", { args: [bytes], kwargs: { b: bytes } }, {
    acknowledge: true,
  });
  // Publishers are excluded from their own events: cbor gets both publications.
  await until(() => got.json!.length === 2 && got.msgpack!.length === 2 && got.cbor!.length === 4);
  for (const values of Object.values(got)) {
    for (const v of values) deepEqual(new Uint8Array(v as Uint8Array), bytes);
  }
  // And raw: a JSON subscriber sees the \0 + base64 string on the wire.
  await using raw = await rawWebSocket(t.url, ["wamp.2.json"]);
  await raw.send('[1, "realm1", {"roles": {"subscriber": {}}}]');
  await raw.read();
  await raw.send('[32, 1, {}, "com.example.bin"]');
  await raw.read();
  await viaCbor.publish("com.example.bin", { args: [bytes] }, { acknowledge: true });
  const event = decoder.decode((await within(raw.read())).payload);
  ok(event.includes('"\\u0000EOP/kAABAg=="'), event);
  await viaJson.close();
  await viaMsgpack.close();
  await viaCbor.close();
});

Deno.test("a subscriber that stops reading is bounded and costs healthy subscribers nothing", async () => {
  // Bursts of 200 KB: under half of it, where EVENTs stop.
  await using t = startRouter({ outbound: { maxBacklog: 512 * 1024 } });
  const healthy = await connect(t.url, { realm: "realm1", serializers: ["json"] });
  let received = 0;
  await healthy.subscribe("com.example.flood", () => {
    received++;
  });
  // The slow one joins and subscribes over a raw socket, then never reads again.
  await using stalled = await rawWebSocket(t.url, ["wamp.2.json"]);
  await stalled.send('[1, "realm1", {"roles": {"subscriber": {}}}]');
  await stalled.read();
  await stalled.send('[32, 1, {}, "com.example.flood"]');
  await stalled.read();
  const publisher = await connectLocal(t.router, "realm1");
  const payload = "x".repeat(1000);
  const total = 20_000;
  for (let i = 0; i < total; i += 200) {
    for (let j = 0; j < 200; j++) {
      await publisher.publish("com.example.flood", { args: [i + j, payload] }, {
        acknowledge: j === 199,
      });
    }
    // A publisher at a rate the healthy subscriber can take: wait for it.
    await until(() => received >= i + 200, 5000, `healthy subscriber at ${i + 200}`);
  }
  await until(() => received === total, 20_000, `all ${total} events at the healthy subscriber`);
  const stalledSession = [...realmOf(t.router, "realm1")!.members()].find((m) =>
    (m as { peer?: { info: { type: string } } }).peer?.info.type === "websocket" &&
    (m as { droppedEvents?: number }).droppedEvents! > 0
  ) as { droppedEvents: number; peer: { backlog(): number } } | undefined;
  ok(stalledSession !== undefined, "the stalled subscriber had events dropped");
  ok(stalledSession.droppedEvents > 0);
  ok(stalledSession.peer.backlog() < 2 * 1024 * 1024, `backlog ${stalledSession.peer.backlog()}`);
  ok(t.logs.some((l) => l.includes("slow consumer")));
  await publisher.close();
  await healthy.close();
});
