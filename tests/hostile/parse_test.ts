/**
 * Hostile and interop parsing over real sockets: null options and payloads
 * as real peers send them, poison payloads refused from their sender only,
 * CBOR tags, msgpack ext types and invalid UTF-8 refused, a 256 KB CBOR
 * bignum first frame refused without freezing the router.
 */

import { deepEqual, equal } from "node:assert/strict";
import { decode as decodeMsgpack, encode as encodeMsgpack } from "@msgpack/msgpack";
import { Encoder } from "cbor-x/encode";
import { connect, type Session } from "../../mod.ts";
import { concat } from "../../transports/stream/bytes.ts";
import { rawFrames } from "../_helpers/raw_rawsocket.ts";
import { rawWebSocket } from "../_helpers/raw_websocket.ts";
import { join, startRouter, type TestRouter, until, within } from "../_helpers/router.ts";

type Ser = "json" | "msgpack" | "cbor";
const SERS: readonly Ser[] = ["json", "msgpack", "cbor"];
const RAWSOCKET_ID: Record<Ser, number> = { json: 1, msgpack: 2, cbor: 3 };
const cborx = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false });
const utf8 = new TextEncoder();

/** Encodes a wire array the way a third-party peer would, nulls and all. */
function encode(ser: Ser, wire: unknown[]): string | Uint8Array {
  if (ser === "json") return JSON.stringify(wire);
  return ser === "msgpack" ? encodeMsgpack(wire) : cborx.encode(wire);
}

function decode(ser: Ser, payload: Uint8Array): unknown[] {
  if (ser === "json") return JSON.parse(new TextDecoder().decode(payload));
  return (ser === "msgpack" ? decodeMsgpack(payload) : cborx.decode(payload)) as unknown[];
}

/** JSON for assertion messages; 64-bit CBOR integers decode as bigint here. */
function show(value: unknown): string {
  return JSON.stringify(value, (_k, v) => typeof v === "bigint" ? Number(v) : v);
}

/** Bytes joined from arrays and lists of byte values. */
function bytes(...parts: (Uint8Array | number[])[]): Uint8Array<ArrayBuffer> {
  return concat(parts.map((p) => p instanceof Uint8Array ? p : Uint8Array.from(p)));
}

/** A peer that sends and reads raw frames: WebSocket or RawSocket. */
interface RawPeer extends AsyncDisposable {
  send(frame: string | Uint8Array): Promise<void>;
  /** The next message, or "closed". */
  next(ms?: number): Promise<unknown[] | "closed">;
}

async function rawWs(t: TestRouter, ser: Ser): Promise<RawPeer> {
  const ws = await rawWebSocket(t.listener.urls.websocket!, [`wamp.2.${ser}`]);
  return {
    send: (frame) => ws.send(frame),
    async next(ms = 3000) {
      try {
        const { opcode, payload } = await within(ws.read(), ms, "read");
        return opcode === 8 ? "closed" : decode(ser, payload);
      } catch (error) {
        if (String(error).includes("timed out")) throw error;
        return "closed";
      }
    },
    [Symbol.asyncDispose]: () => ws[Symbol.asyncDispose](),
  };
}

async function rawTcp(t: TestRouter, ser: Ser): Promise<RawPeer> {
  const raw = await rawFrames(t.listener.urls.rawsocket!, RAWSOCKET_ID[ser]);
  return {
    async send(frame) {
      await raw.send(typeof frame === "string" ? utf8.encode(frame) : frame);
    },
    async next(ms = 3000) {
      const payload = await within(raw.next(), ms, "read");
      return payload === null ? "closed" : decode(ser, payload);
    },
    [Symbol.asyncDispose]() {
      raw.close();
      return Promise.resolve();
    },
  };
}

type Transport = "ws" | "tcp";

async function rawPeer(t: TestRouter, transport: Transport, ser: Ser): Promise<RawPeer> {
  return transport === "ws" ? await rawWs(t, ser) : await rawTcp(t, ser);
}

const ROLES = { publisher: {}, subscriber: {}, caller: {}, callee: {} };

/** A null in the peer's own spelling: nil over msgpack, undefined (0xf7) over CBOR. */
function nil(ser: Ser): null | undefined {
  return ser === "cbor" ? undefined : null;
}

async function joinRaw(t: TestRouter, transport: Transport, ser: Ser): Promise<RawPeer> {
  const peer = await rawPeer(t, transport, ser);
  await peer.send(encode(ser, [1, "realm1", { roles: ROLES, authid: nil(ser) }]));
  const welcome = await peer.next();
  equal((welcome as unknown[])[0], 2, `WELCOME expected, got ${show(welcome)}`);
  return peer;
}

/** Reads until a message of `type` (skipping others), or "closed". */
async function expect(peer: RawPeer, type: number): Promise<unknown[]> {
  for (let i = 0; i < 20; i++) {
    const msg = await peer.next();
    if (msg === "closed") throw new Error(`closed while waiting for ${type}`);
    if (msg[0] === type) return msg;
  }
  throw new Error(`no message ${type}`);
}

/** Reads until ABORT protocol_violation then the close; fails on anything else. */
async function expectAbort(peer: RawPeer): Promise<void> {
  const msg = await peer.next();
  equal(Array.isArray(msg) && msg[0], 3, `ABORT expected, got ${show(msg)}`);
  equal((msg as unknown[])[2], "wamp.error.protocol_violation");
  equal(await peer.next(), "closed");
}

/** Healthy subscribers on every serializer, each recording what it gets. */
async function bystanders(t: TestRouter, topic: string, options = {}) {
  const sessions: Session[] = [];
  const got: Record<Ser, unknown[]> = { json: [], msgpack: [], cbor: [] };
  for (const ser of SERS) {
    const s = await join(t, ser);
    sessions.push(s);
    await s.subscribe(topic, (e) => void got[ser].push(e.args[0]), options);
  }
  return {
    got,
    /** A healthy event reaches all three, and none of them was closed. */
    async stillServed(marker: string): Promise<void> {
      const pub = await join(t, "json");
      await pub.publish(topic, { args: [marker] }, { acknowledge: true });
      await pub.close();
      await until(
        () => SERS.every((ser) => got[ser].includes(marker)),
        3000,
        `${marker} delivered`,
      );
      for (const s of sessions) equal(s.isOpen, true);
    },
    async [Symbol.asyncDispose]() {
      for (const s of sessions) await s.close().catch(() => {});
    },
  };
}

for (const [transport, ser] of [...SERS.map((s) => ["ws", s] as const), ["tcp", "cbor"] as const]) {
  Deno.test(`${transport}:${ser}: null options, details and arguments are read as absent`, async () => {
    await using t = await startRouter();
    const callee = await join(t, "json");
    const calls: unknown[] = [];
    await callee.register("com.p", (args, kwargs) => {
      calls.push({ args, kwargs });
      return { kwargs: { echoed: kwargs.a } };
    });
    const watcher = await join(t, "msgpack");
    const events: unknown[] = [];
    await watcher.subscribe("com.t", (e) => void events.push({ args: e.args, kwargs: e.kwargs }));

    await using peer = await joinRaw(t, transport, ser);
    const n = nil(ser);
    await peer.send(encode(ser, [32, 1, { match: n, get_retained: n }, "com.t"]));
    await expect(peer, 33);
    await peer.send(
      encode(ser, [16, 2, { acknowledge: true, exclude_me: n }, "com.t", n, { k: 1 }]),
    );
    await expect(peer, 17);
    await until(() => events.length === 1, 3000, "event");
    deepEqual(events[0], { args: [], kwargs: { k: 1 } });
    await peer.send(encode(ser, [48, 3, { timeout: n, disclose_me: n }, "com.p", n, { a: 1 }]));
    const result = await expect(peer, 50);
    deepEqual(result[4], { echoed: 1 });
    deepEqual(calls, [{ args: [], kwargs: { a: 1 } }]);
  });
}

/** Deep nesting, spelled out per serializer (JSON 10,000 levels, binary 1,000). */
function deepPublish(ser: Ser, request: number, options = "{}"): string | Uint8Array {
  if (ser === "json") {
    return `[16,${request},${options},"com.t",[${"[".repeat(10_000)}${"]".repeat(10_000)}]]`;
  }
  const head = encode(ser, [16, request, JSON.parse(options), "com.t"]) as Uint8Array;
  const list = ser === "msgpack" ? 0x95 : 0x85; // five elements instead of four
  return bytes(
    [list],
    head.subarray(1),
    new Uint8Array(1000).fill(ser === "msgpack" ? 0x91 : 0x81),
    [0],
  );
}

Deno.test("deep nesting in PUBLISH aborts the publisher only; subscribers on every serializer go on", async () => {
  await using t = await startRouter();
  await using subs = await bystanders(t, "com.t");
  for (const ser of SERS) {
    await using peer = await joinRaw(t, "ws", ser);
    await peer.send(deepPublish(ser, 1, '{"acknowledge":true}'));
    await expectAbort(peer);
    await subs.stillServed(`after-${ser}`);
  }
  for (const ser of SERS) equal(subs.got[ser].length, 3);
});

Deno.test("poison CBOR (tags 2, 28/29) and msgpack (ext) payloads are refused at arrival", async () => {
  await using t = await startRouter();
  await using subs = await bystanders(t, "com.t");
  const head = (ser: Ser) =>
    (encode(ser, [16, 1, { acknowledge: true }, "com.t"]) as Uint8Array).subarray(1);
  const frames: [Ser, Uint8Array][] = [
    ["cbor", bytes([0x85], head("cbor"), [0x81, 0xc2, 0x42, 0x01, 0x00])], // bignum
    ["cbor", bytes([0x85], head("cbor"), [0xd8, 0x1c, 0x81, 0xd8, 0x1d, 0x00])], // a cycle
    ["msgpack", bytes([0x95], head("msgpack"), [0x91, 0xd6, 0xff, 0, 0, 0, 1])], // a Date
    ["msgpack", bytes([0x95], head("msgpack"), [0x91, 0xd4, 0x05, 0x01])], // ExtData
  ];
  for (const [ser, frame] of frames) {
    await using peer = await joinRaw(t, "ws", ser);
    await peer.send(frame);
    await expectAbort(peer);
  }
  await subs.stillServed("healthy");
  for (const ser of SERS) deepEqual(subs.got[ser], ["healthy"]);
});

Deno.test("payloads another serializer cannot carry are refused from their sender: NUL-led text, __proto__ keys", async () => {
  await using t = await startRouter();
  await using subs = await bystanders(t, "com.t");
  const publish = (kwargs: unknown) => [16, 1, { acknowledge: true }, "com.t", [], kwargs];
  // MessagePack and CBOR text that JSON peers would read as binary ("\0" + Base64, here not
  // Base64 at all), and the own __proto__ key JSON.parse makes, which MessagePack peers refuse.
  const frames: [Ser, string | Uint8Array][] = [
    ["msgpack", encode("msgpack", publish({ a: "\0!!" }))],
    ["cbor", encode("cbor", publish({ a: ["x", "\0AQI="] }))],
    ["json", '[16,1,{"acknowledge":true},"com.t",[],{"__proto__":{"a":1}}]'],
    ["json", '[16,1,{"acknowledge":true},"com.t",[],{"\\u005f_proto__":1}]'],
  ];
  for (const [ser, frame] of frames) {
    await using peer = await joinRaw(t, "ws", ser);
    await peer.send(frame);
    await expectAbort(peer);
  }
  // Keys are not converted: a NUL-led key travels, as does binary over every serializer.
  await using peer = await joinRaw(t, "tcp", "msgpack");
  await peer.send(
    encode("msgpack", [16, 1, { acknowledge: true }, "com.t", [new Uint8Array([1, 2])], {
      "\0k": 1,
    }]),
  );
  equal((await expect(peer, 17))[0], 17);
  await subs.stillServed("healthy");
  for (const ser of SERS) deepEqual(subs.got[ser], [new Uint8Array([1, 2]), "healthy"]);
});

Deno.test("a poison event is never retained for a later get_retained subscriber", async () => {
  await using t = await startRouter();
  await using peer = await joinRaw(t, "ws", "json");
  await peer.send(deepPublish("json", 1, '{"retain":true,"acknowledge":true}'));
  await expectAbort(peer);
  await using subs = await bystanders(t, "com.t", { get_retained: true });
  await subs.stillServed("fresh");
  for (const ser of SERS) deepEqual(subs.got[ser], ["fresh"]);
});

Deno.test("a 256 KB CBOR bignum as the first frame is refused fast; others stay responsive", async () => {
  await using t = await startRouter();
  const healthy = await join(t, "cbor");
  await healthy.register("com.ping", () => ({ args: ["pong"] }));
  await using peer = await rawTcp(t, "cbor");
  const bignum = new Uint8Array(262144).fill(0xab);
  const start = Date.now();
  // [1, 2(h'abab…'), {}]
  await peer.send(bytes([0x83, 0x01, 0xc2, 0x5a, 0x00, 0x04, 0x00, 0x00], bignum, [0xa0]));
  const answer = await peer.next(5000);
  equal(answer === "closed" || answer[0] === 3, true);
  const other = await join(t, "json");
  deepEqual((await within(other.call("com.ping"), 2000, "call")).args, ["pong"]);
  // Generous bound: cbor-x alone needs ~20 s for this frame.
  equal(Date.now() - start < 2000, true, `took ${Date.now() - start} ms`);
});

Deno.test("invalid UTF-8 in a msgpack or CBOR topic is refused", async () => {
  await using t = await startRouter();
  // SUBSCRIBE [32, 1, {}, "com." 0xff]
  const frames: [Ser, Uint8Array][] = [
    ["msgpack", Uint8Array.of(0x94, 0x20, 0x01, 0x80, 0xa5, 0x63, 0x6f, 0x6d, 0x2e, 0xff)],
    ["msgpack", Uint8Array.of(0x94, 0x20, 0x01, 0x80, 0xa6, 0x63, 0x6f, 0x6d, 0x2e, 0xc0, 0xaf)],
    ["cbor", Uint8Array.of(0x84, 0x18, 0x20, 0x01, 0xa0, 0x65, 0x63, 0x6f, 0x6d, 0x2e, 0xff)],
  ];
  for (const [ser, frame] of frames) {
    await using peer = await joinRaw(t, "ws", ser);
    await peer.send(frame);
    await expectAbort(peer);
  }
  // JSON cannot carry invalid UTF-8, but it can carry a lone surrogate escape.
  await using peer = await joinRaw(t, "ws", "json");
  await peer.send('[32,1,{},"com.\\ud800"]');
  await expectAbort(peer);
});

Deno.test("our client takes INVOCATION with null args and EVENT with null kwargs from a router", async () => {
  const sent: unknown[][] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req, { protocol: "wamp.2.json" });
    const send = (wire: unknown[]) => socket.send(JSON.stringify(wire));
    socket.onmessage = (e) => {
      const msg = JSON.parse(e.data as string) as unknown[];
      sent.push(msg);
      if (msg[0] === 1) send([2, 77, { roles: { broker: {}, dealer: {} } }]);
      if (msg[0] === 32) {
        send([33, msg[1], 5]);
        send([36, 5, 900, {}, [1], null]); // fox-wamp: null kwargs
        send([36, 5, 901, null, null, { k: 2 }]); // null details and args
      }
      if (msg[0] === 64) {
        send([65, msg[1], 6]);
        // Right behind REGISTERED: the client must already know the endpoint.
        send([68, 1, 6, {}, null]); // fox-wamp: null args
        send([68, 2, 6, { caller: null }, null, { a: 1 }]); // nexus: kwargs only
      }
      if (msg[0] === 6) socket.close();
    };
    return response;
  });
  try {
    const session = await connect(`ws://127.0.0.1:${server.addr.port}/`, {
      realm: "realm1",
      serializers: ["json"],
    });
    const events: unknown[] = [];
    const invocations: unknown[] = [];
    await session.subscribe("com.t", (e) => void events.push([e.args, e.kwargs]));
    await session.register("com.p", (args, kwargs) => {
      invocations.push([args, kwargs]);
      return { args: ["ok"] };
    });
    await until(
      () => sent.filter((m) => m[0] === 70).length === 2,
      3000,
      `two YIELDs in ${show(sent)}`,
    );
    deepEqual(events, [[[1], {}], [[], { k: 2 }]]);
    deepEqual(invocations, [[[], {}], [[], { a: 1 }]]);
    equal(session.isOpen, true);
    await session.close();
  } finally {
    await server.shutdown();
  }
});

Deno.test("an in-process client that publishes what no serializer carries is aborted; remote subscribers are not", async () => {
  await using t = await startRouter();
  const remote = await join(t, "msgpack");
  const got: unknown[] = [];
  await remote.subscribe("com.poison", (e) => void got.push(e.args[0]));
  const local = await join(t, "local");
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  for (const bad of [new Date(0), cyclic]) {
    const publisher = await join(t, "local");
    await publisher.publish("com.poison", { args: [bad] }).catch(() => {});
    const closed = await within(publisher.closed, 3000, "abort");
    equal(closed.reason, "wamp.error.protocol_violation");
  }
  await local.publish("com.poison", { args: ["fine"] });
  await until(() => got.length === 1, 3000, "the healthy event");
  deepEqual(got, ["fine"]);
  equal(remote.isOpen, true);
  await local.close();
  await remote.close();
});
